// Runs the real app as a child process: compiled from app/src with app/tsconfig.json (as `npm run build`
// does for the image) into a temporary folder, started with plain `node <out>/main.js` on 127.0.0.1 and
// PORT=0, its bound port read from its start line. Other suites (e.g. tests of the traffic check) can use
// `startApp({ APP_ARCH_OVERRIDE: "aarch64" })` to serve either architecture's answer on one machine.
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import ts from "typescript";
import { parseListeningLine } from "../../src/log";

export const APP_DIR = path.resolve(__dirname, "..", "..");

let built: string | undefined;

/** Compiles app/src once per test run; returns the folder holding main.js. Throws on any diagnostic. */
export function buildApp(): string {
  if (built !== undefined) return built;
  const configPath = path.join(APP_DIR, "tsconfig.json");
  const read = ts.readConfigFile(configPath, (file) => ts.sys.readFile(file));
  if (read.error) throw new Error(ts.flattenDiagnosticMessageText(read.error.messageText, "\n"));
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "multiarch-app-"));
  process.once("exit", () => fs.rmSync(outDir, { recursive: true, force: true }));
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, APP_DIR, { outDir, noEmit: false });
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const emitted = program.emit();
  const diagnostics = [...parsed.errors, ...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => APP_DIR,
      getNewLine: () => "\n",
    };
    throw new Error(ts.formatDiagnostics(diagnostics, host));
  }
  if (!fs.existsSync(path.join(outDir, "main.js"))) {
    throw new Error(
      `compiling app/ did not produce main.js at the top of outDir (the image runs dist/main.js)`,
    );
  }
  built = outDir;
  return outDir;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AppProcess {
  child: ChildProcess;
  port: number;
  /** Every stdout line so far, in order. */
  lines: string[];
  stderr(): string;
  /** Stdout lines parsed as JSON (lines that are not JSON are skipped). */
  entries(): Record<string, unknown>[];
  /** Resolves with the first JSON log entry (past or future) that matches. */
  waitForEntry(
    match: (entry: Record<string, unknown>) => boolean,
    timeoutMs?: number,
  ): Promise<Record<string, unknown>>;
  exited: Promise<Exit>;
  /** Kills the process if it still runs. */
  stop(): Promise<Exit>;
}

const running = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Spawns the compiled app and waits for its start line. The child's environment is only `env` plus PATH. */
export function spawnApp(env: Record<string, string> = {}): ChildProcess {
  const out = buildApp();
  const child = spawn(process.execPath, [path.join(out, "main.js")], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

export async function startApp(env: Record<string, string> = {}, timeoutMs = 10_000): Promise<AppProcess> {
  const child = spawnApp(env);
  const lines: string[] = [];
  let stderr = "";
  const waiters: Array<() => void> = [];
  const notify = () => waiters.splice(0).forEach((w) => w());

  let partial = "";
  child.stdout!.setEncoding("utf8");
  child.stdout!.on("data", (chunk: string) => {
    partial += chunk;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    notify();
  });
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<Exit>((resolve) =>
    child.once("exit", (code, signal) => {
      notify();
      resolve({ code, signal });
    }),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const entries = () =>
    lines.flatMap((line) => {
      try {
        const value: unknown = JSON.parse(line);
        return typeof value === "object" && value !== null ? [value as Record<string, unknown>] : [];
      } catch {
        return [];
      }
    });

  const waitForEntry = (match: (entry: Record<string, unknown>) => boolean, waitMs = 5_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching log line within ${waitMs} ms; stdout:\n${lines.join("\n")}`)),
        waitMs,
      );
      const check = () => {
        const found = entries().find(match);
        if (found !== undefined) {
          clearTimeout(timer);
          resolve(found);
        } else if (hasExited) {
          clearTimeout(timer);
          reject(
            new Error(`app exited without a matching log line; stdout:\n${lines.join("\n")}\n${stderr}`),
          );
        } else {
          waiters.push(check);
        }
      };
      check();
    });

  const stop = async () => {
    if (!hasExited && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    return exited;
  };

  let port: number;
  try {
    const start = await waitForEntry((e) => e.event === "listening", timeoutMs);
    const info = parseListeningLine(JSON.stringify(start));
    if (info === undefined) throw new Error(`unreadable start line: ${JSON.stringify(start)}`);
    port = info.port;
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, port, lines, stderr: () => stderr, entries, waitForEntry, exited, stop };
}

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request on a fresh connection (no keep-alive agent). */
export function request(port: number, urlPath: string, method = "GET"): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path: urlPath, method, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
}

/** A raw TCP connection, for requests sent piece by piece and for watching the server close it. */
export interface RawConnection {
  socket: net.Socket;
  send(text: string): void;
  /** The next complete response (status line, headers, Content-Length body) read from the connection. */
  readResponse(timeoutMs?: number): Promise<Reply>;
  /** Resolves when the server has closed the connection. */
  closed: Promise<void>;
}

export function connect(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    let buffer = Buffer.alloc(0);
    let ended = false;
    const waiters: Array<() => void> = [];
    const notify = () => waiters.splice(0).forEach((w) => w());
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      notify();
    });
    const closed = new Promise<void>((done) =>
      socket.once("close", () => {
        ended = true;
        notify();
        done();
      }),
    );

    const parse = (): Reply | undefined => {
      const headerEnd = buffer.indexOf("\r\n\r\n");
      if (headerEnd === -1) return undefined;
      const [statusLine, ...headerLines] = buffer.subarray(0, headerEnd).toString("latin1").split("\r\n");
      const headers: http.IncomingHttpHeaders = {};
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers["content-length"] ?? 0);
      if (buffer.length < headerEnd + 4 + length) return undefined;
      const body = buffer.subarray(headerEnd + 4, headerEnd + 4 + length).toString("utf8");
      buffer = buffer.subarray(headerEnd + 4 + length);
      return { status: Number(statusLine.split(" ")[1]), headers, body };
    };

    const readResponse = (timeoutMs = 5_000) =>
      new Promise<Reply>((done, fail) => {
        const timer = setTimeout(() => fail(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
        const check = () => {
          const reply = parse();
          if (reply !== undefined) {
            clearTimeout(timer);
            done(reply);
          } else if (ended) {
            clearTimeout(timer);
            fail(new Error(`connection closed before a full response (${buffer.length} bytes buffered)`));
          } else {
            waiters.push(check);
          }
        };
        check();
      });

    socket.once("connect", () =>
      resolve({ socket, send: (text) => socket.write(text), readResponse, closed }),
    );
    // Before "connect" this fails the attempt; after it, the "close" that follows ends any reads.
    socket.on("error", reject);
  });
}

/** Resolves with the error code of a connection attempt that fails (e.g. ECONNREFUSED), "connected" otherwise. */
export function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
  });
}
