// The real app, compiled and run as its own process on 127.0.0.1 with PORT=0.
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { unameArch } from "../src/arch";
import {
  APP_DIR,
  type AppProcess,
  buildApp,
  connect,
  request,
  spawnApp,
  startApp,
  tryConnect,
  type Exit,
} from "./support/appProcess";

// What `uname -m` prints on the lab's two architectures, written out here rather than taken from the code.
const UNAME: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };
const realArch = UNAME[process.arch] ?? unameArch(process.arch);
// An architecture this machine is not, so the override test means something on either kind of CPU.
const otherArch = realArch === "aarch64" ? "x86_64" : "aarch64";
const appVersion = (
  JSON.parse(fs.readFileSync(path.join(APP_DIR, "package.json"), "utf8")) as { version: string }
).version;

function exitOf(child: ReturnType<typeof spawnApp>): Promise<Exit> {
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve({ code, signal })));
}

async function collect(stream: NodeJS.ReadableStream | null): Promise<string> {
  let text = "";
  if (stream === null) return text;
  for await (const chunk of stream) text += String(chunk);
  return text;
}

/** Races a promise against a timer; rejects with `what` when the timer wins. */
function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

describe("app (real process)", function () {
  this.timeout(20_000);
  const started: AppProcess[] = [];
  const start = async (env: Record<string, string> = {}) => {
    const app = await startApp(env);
    started.push(app);
    return app;
  };

  before(function () {
    this.timeout(60_000);
    buildApp();
  });

  afterEach(async () => {
    await Promise.all(started.splice(0).map((app) => app.stop()));
  });

  describe("start-up", () => {
    it("prints one start line with the port it actually bound and the architecture it reports", async () => {
      const app = await start();
      const first = app.entries()[0];
      assert.equal(first.event, "listening");
      assert.equal(first.host, "127.0.0.1");
      assert.ok(Number.isInteger(first.port) && (first.port as number) > 0, "a real port, not 0");
      assert.equal(first.url, `http://127.0.0.1:${app.port}`);
      assert.match(String(first.msg), new RegExp(`:${app.port}$`));
      assert.equal(first.arch, realArch);
      assert.equal(first.archSource, "process");
      assert.equal(app.entries().filter((e) => e.event === "listening").length, 1);
      // The port is live.
      assert.equal((await request(app.port, "/healthz")).status, 200);
    });

    for (const [name, env, message] of [
      ["a PORT that is not a number", { PORT: "eighty" }, /PORT must be a whole number/],
      ["a PORT out of range", { PORT: "70000" }, /PORT must be between 0 and 65535/],
      [
        "an APP_ARCH_OVERRIDE that is not a plain name",
        { APP_ARCH_OVERRIDE: "arm 64;" },
        /APP_ARCH_OVERRIDE/,
      ],
    ] as const) {
      it(`refuses ${name}: exit code 2, a message on stderr, nothing bound`, async () => {
        const child = spawnApp({ ...env });
        const [exit, stdout, stderr] = await Promise.all([
          exitOf(child),
          collect(child.stdout),
          collect(child.stderr),
        ]);
        assert.deepEqual(exit, { code: 2, signal: null });
        assert.match(stderr, message);
        assert.equal(stdout, "");
      });
    }

    it("exits 1 with a message when the port is taken", async () => {
      const first = await start();
      const child = spawnApp({ PORT: String(first.port) });
      const [exit, stderr] = await Promise.all([exitOf(child), collect(child.stderr)]);
      assert.deepEqual(exit, { code: 1, signal: null });
      assert.match(stderr, /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    });
  });

  describe("GET /hello", () => {
    it("answers JSON with this CPU's architecture in uname -m spelling, the kernel and the host", async () => {
      const app = await start();
      const reply = await request(app.port, "/hello");
      assert.equal(reply.status, 200);
      assert.equal(reply.headers["content-type"], "application/json; charset=utf-8");
      assert.equal(reply.headers["cache-control"], "no-store");
      const body = JSON.parse(reply.body) as Record<string, unknown>;
      assert.deepEqual(body, {
        arch: realArch,
        archSource: "process",
        message: "Hello, there!",
        os: `${os.type()} ${os.release()}`,
        hostname: os.hostname(),
        version: appVersion,
      });
      if (process.platform === "linux") assert.match(String(body.os), /^Linux \d/);
    });

    it("ignores the query string", async () => {
      const app = await start();
      const reply = await request(app.port, "/hello?from=test");
      assert.equal(reply.status, 200);
      assert.equal((JSON.parse(reply.body) as { arch: string }).arch, realArch);
    });

    it("names the node, pod and namespace that Kubernetes passes in through the downward API", async () => {
      const app = await start({
        NODE_NAME: "ip-10-0-12-34.ec2.internal",
        POD_NAME: "hello-7d9f-abcde",
        POD_NAMESPACE: "lab",
      });
      const body = JSON.parse((await request(app.port, "/hello")).body) as Record<string, unknown>;
      assert.equal(body.node, "ip-10-0-12-34.ec2.internal");
      assert.equal(body.pod, "hello-7d9f-abcde");
      assert.equal(body.namespace, "lab");
      assert.equal(body.arch, realArch);
      assert.equal(app.entries()[0].node, "ip-10-0-12-34.ec2.internal");
    });

    it("serves the overridden architecture (tests only) and flags it as such", async () => {
      const app = await start({ APP_ARCH_OVERRIDE: otherArch });
      const body = JSON.parse((await request(app.port, "/hello")).body) as Record<string, unknown>;
      assert.equal(body.arch, otherArch);
      assert.equal(body.archSource, "override");
      assert.equal(app.entries()[0].arch, otherArch);
      assert.equal(app.entries()[0].archSource, "override");
    });

    it("accepts the Docker spelling in the override and answers in uname -m spelling", async () => {
      const app = await start({ APP_ARCH_OVERRIDE: "arm64" });
      const body = JSON.parse((await request(app.port, "/hello")).body) as Record<string, unknown>;
      assert.equal(body.arch, "aarch64");
      assert.equal(body.archSource, "override");
    });

    it("answers HEAD with the headers only, and other methods with 405", async () => {
      const app = await start();
      const head = await request(app.port, "/hello", "HEAD");
      assert.equal(head.status, 200);
      assert.equal(head.body, "");
      assert.ok(Number(head.headers["content-length"]) > 0);
      const post = await request(app.port, "/hello", "POST");
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, "GET, HEAD");
      assert.deepEqual(JSON.parse(post.body), { error: "method not allowed", method: "POST" });
    });
  });

  describe("GET /healthz and unknown paths", () => {
    it("answers /healthz with 200 {status: ok}", async () => {
      const app = await start();
      const reply = await request(app.port, "/healthz");
      assert.equal(reply.status, 200);
      assert.deepEqual(JSON.parse(reply.body), { status: "ok" });
    });

    it("answers unknown paths with a 404 JSON body", async () => {
      const app = await start();
      for (const target of ["/", "/hello/extra", "/HELLO", "/metrics?x=1"]) {
        const reply = await request(app.port, target);
        assert.equal(reply.status, 404, target);
        assert.equal(reply.headers["content-type"], "application/json; charset=utf-8");
        assert.deepEqual(JSON.parse(reply.body), { error: "not found", path: target.split("?")[0] });
      }
    });
  });

  describe("access log", () => {
    it("writes one line per request with method, path, status and duration", async () => {
      const app = await start();
      await request(app.port, "/hello");
      await request(app.port, "/nowhere?secret=1");
      await request(app.port, "/healthz", "DELETE");
      await app.waitForEntry((e) => e.event === "request" && e.method === "DELETE");
      const logged = app.entries().filter((e) => e.event === "request");
      assert.deepEqual(
        logged.map(({ method, path, status }) => ({ method, path, status })),
        [
          { method: "GET", path: "/hello", status: 200 },
          { method: "GET", path: "/nowhere", status: 404 },
          { method: "DELETE", path: "/healthz", status: 405 },
        ],
      );
      for (const entry of logged) {
        assert.equal(typeof entry.durationMs, "number");
        assert.ok((entry.durationMs as number) >= 0 && (entry.durationMs as number) < 5_000);
        assert.equal(entry.aborted, undefined);
        assert.ok(!Number.isNaN(Date.parse(String(entry.ts))));
      }
    });
  });

  describe("graceful shutdown", () => {
    it("on SIGTERM refuses new connections, finishes a request whose body is still uploading, exits 0", async () => {
      const app = await start({ SHUTDOWN_GRACE_MS: "15000" });
      const upload = await connect(app.port);
      upload.send(
        "GET /hello HTTP/1.1\r\nHost: lab\r\nContent-Type: text/plain\r\nContent-Length: 10\r\n\r\nhello",
      );
      // The server has the headers and half the body: the request is in flight.
      await new Promise((r) => setTimeout(r, 150));
      const signalled = Date.now();
      app.child.kill("SIGTERM");

      const draining = await app.waitForEntry((e) => e.event === "draining");
      assert.equal(draining.reason, "SIGTERM");
      assert.equal(draining.inFlight, 1);
      assert.equal(await tryConnect(app.port), "ECONNREFUSED");
      // Still waiting for the body: the process must not have left.
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(app.child.exitCode, null, "the app must wait for the in-flight request");

      upload.send("world");
      const reply = await upload.readResponse();
      assert.equal(reply.status, 200);
      assert.equal(reply.headers.connection, "close");
      assert.equal((JSON.parse(reply.body) as { arch: string }).arch, realArch);
      await within(2_000, "server closes the drained connection", upload.closed);

      const exit = await within(3_000, "app exits after draining", app.exited);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - signalled < 5_000, "exit came from draining, not from the 15 s grace timer");
      const stopped = app.entries().find((e) => e.event === "stopped");
      assert.equal(stopped?.forced, false);
      const logged = app.entries().filter((e) => e.event === "request");
      assert.deepEqual(
        logged.map(({ method, path, status }) => ({ method, path, status })),
        [{ method: "GET", path: "/hello", status: 200 }],
      );
    });

    it("closes idle keep-alive connections at once and exits 0 promptly", async () => {
      const app = await start({ SHUTDOWN_GRACE_MS: "15000" });
      const keepAlive = await connect(app.port);
      keepAlive.send("GET /hello HTTP/1.1\r\nHost: lab\r\n\r\n");
      const first = await keepAlive.readResponse();
      assert.equal(first.status, 200);
      assert.equal(first.headers.connection, "keep-alive");

      const signalled = Date.now();
      app.child.kill("SIGTERM");
      await within(2_000, "server closes the idle keep-alive connection", keepAlive.closed);
      const exit = await within(2_000, "app exits", app.exited);
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - signalled < 2_000);
    });

    it("answers a request that arrives on an open connection while draining with 503 on /healthz and closes it", async () => {
      const app = await start({ SHUTDOWN_GRACE_MS: "15000" });
      const probe = await connect(app.port);
      // Headers begun but not finished: the request is under way when the signal comes.
      probe.send("GET /healthz HTTP/1.1\r\nHost: lab\r\n");
      await new Promise((r) => setTimeout(r, 150));
      app.child.kill("SIGTERM");
      await app.waitForEntry((e) => e.event === "draining");
      probe.send("\r\n");
      const reply = await probe.readResponse();
      assert.equal(reply.status, 503);
      assert.deepEqual(JSON.parse(reply.body), { status: "draining" });
      assert.equal(reply.headers.connection, "close");
      await within(2_000, "server closes the connection", probe.closed);
      assert.deepEqual(await within(3_000, "app exits", app.exited), { code: 0, signal: null });
    });

    it("cuts a request that never completes when the grace time runs out, and exits 1", async () => {
      const app = await start({ SHUTDOWN_GRACE_MS: "400" });
      const stuck = await connect(app.port);
      stuck.send("GET /hello HTTP/1.1\r\nHost: lab\r\nContent-Length: 100\r\n\r\nnot all of it");
      await new Promise((r) => setTimeout(r, 150));
      const signalled = Date.now();
      app.child.kill("SIGTERM");
      await within(3_000, "server cuts the stuck connection", stuck.closed);
      const exit = await within(3_000, "app exits", app.exited);
      const waited = Date.now() - signalled;
      assert.deepEqual(exit, { code: 1, signal: null });
      assert.ok(waited >= 350, `waited the grace time first (${waited} ms)`);
      const stopped = app.entries().find((e) => e.event === "stopped");
      assert.equal(stopped?.forced, true);
      const logged = app.entries().find((e) => e.event === "request");
      assert.equal(logged?.aborted, true);
      assert.equal(logged?.status, null);
    });

    it("drains the same way on SIGINT", async () => {
      const app = await start();
      assert.equal((await request(app.port, "/hello")).status, 200);
      app.child.kill("SIGINT");
      assert.deepEqual(await within(3_000, "app exits", app.exited), { code: 0, signal: null });
      assert.equal(app.entries().find((e) => e.event === "draining")?.reason, "SIGINT");
    });
  });
});
