// What a killed run leaves, with real processes: a stale DIY lock (broken only when its owner is
// provably gone), orphaned engine processes (ended only when they are this project's and this
// backend's, and no live `pulumi` is above them), and a signal before the handlers (the cluster
// is still released).
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { breakStaleLocks, judgeLock, lockDirs, mayBeAlive } from "../../automation/lifecycle/locks";
import { endOrphans, processTable, selectOrphans } from "../../automation/local/orphans";

const ROOT = path.resolve(__dirname, "../..");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-dead-runs-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The pid of a process that has ended (and was reaped). */
function deadPid(): number {
  const r = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(r.stdout.trim());
}

function writeLock(dir: string, lock: object): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(lock));
  fs.writeFileSync(`${file}.attrs`, "{}");
  return file;
}

describe("stale locks (real processes, a file backend)", () => {
  const host = os.hostname();
  const user = os.userInfo().username;

  it("mayBeAlive: false for an ended pid, true for a live one, false for a process newer than the lock", () => {
    assert.equal(mayBeAlive(deadPid()), false);
    assert.equal(mayBeAlive(process.pid, new Date()), true);
    // This process started seconds ago: it cannot own a lock taken an hour ago (a reused pid).
    assert.equal(mayBeAlive(process.pid, new Date(Date.now() - 3600_000)), false);
  });

  it("judgeLock: another host is never stale", () => {
    const j = judgeLock({
      pid: deadPid(),
      username: user,
      hostname: `${host}-other`,
      timestamp: new Date().toISOString(),
    });
    assert.equal(j.stale, false);
    assert.match(j.why, /another host/);
  });

  it("breaks only the dead owner's lock of that stack, and says which", () => {
    const backend = path.join(tmp, "state");
    const [dir] = lockDirs(backend, "lab", "sig-a");
    const now = new Date().toISOString();
    const dead = writeLock(dir, { pid: deadPid(), username: user, hostname: host, timestamp: now });
    const live = writeLock(dir, { pid: process.pid, username: user, hostname: host, timestamp: now });
    const other = writeLock(lockDirs(backend, "lab", "sig-b")[0], {
      pid: deadPid(),
      username: user,
      hostname: host,
      timestamp: now,
    });
    const reports = breakStaleLocks(`file://${backend}`, "lab", "sig-a");
    assert.equal(fs.existsSync(dead), false, "the dead owner's lock is gone");
    assert.equal(fs.existsSync(`${dead}.attrs`), false);
    assert.equal(fs.existsSync(live), true, "a live owner's lock is kept");
    assert.equal(fs.existsSync(other), true, "another stack's lock is not touched");
    assert.deepEqual(reports.map((r) => r.broken).sort(), [false, true]);
    assert.match(reports.find((r) => r.broken)?.text ?? "", /that process is gone: broken$/);
    assert.match(
      reports.find((r) => !r.broken)?.text ?? "",
      new RegExp(`pid ${process.pid} .*still runs: kept$`),
    );
  });

  it("other backends: nothing read, nothing deleted", () => {
    assert.deepEqual(breakStaleLocks("s3://bucket/state", "lab", "sig-a"), []);
  });
});

describe("orphaned engine processes (real processes)", function () {
  this.timeout(20_000);
  const project = path.join(tmp, "project");
  const bin = path.join(tmp, "bin");
  const backend = `file://${tmp}/state-orphans`;
  const started: number[] = [];

  /** Starts `argv` detached from this process (parent gone: it is re-parented), in `cwd` with `env`. */
  function orphan(argv: string[], cwd: string, env: Record<string, string>): number {
    const r = spawnSync("sh", ["-c", `"$@" >/dev/null 2>&1 & echo $!`, "sh", ...argv], {
      cwd,
      env: { PATH: process.env.PATH ?? "", ...env },
      encoding: "utf8",
    });
    const pid = Number(r.stdout.trim());
    started.push(pid);
    return pid;
  }

  let live: ChildProcess | undefined;
  before(() => {
    fs.mkdirSync(path.join(project, "infra"), { recursive: true });
    fs.mkdirSync(bin, { recursive: true });
    // Stand-ins with the names the engine's processes have (argv[0] is what selection reads).
    fs.symlinkSync("/bin/sleep", path.join(bin, "pulumi-resource-kubernetes"));
    fs.symlinkSync("/bin/sleep", path.join(bin, "pulumi-language-nodejs"));
    fs.symlinkSync("/bin/sh", path.join(bin, "pulumi"));
  });
  after(() => {
    live?.kill("SIGKILL");
    for (const pid of started) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
  });

  it("ends only this project's and backend's engine processes that no live pulumi runs", async () => {
    const env = { PULUMI_BACKEND_URL: backend };
    const plugin = orphan(
      [path.join(bin, "pulumi-resource-kubernetes"), "300"],
      path.join(project, "infra"),
      env,
    );
    const host = orphan([path.join(bin, "pulumi-language-nodejs"), "301"], project, env);
    const otherBackend = orphan([path.join(bin, "pulumi-resource-kubernetes"), "302"], project, {
      PULUMI_BACKEND_URL: `${backend}-other`,
    });
    const otherDir = orphan([path.join(bin, "pulumi-resource-kubernetes"), "303"], tmp, env);
    const notEngine = orphan(["sleep", "304"], project, env);
    // A live engine run: its plugin has a `pulumi` parent.
    live = spawn(
      path.join(bin, "pulumi"),
      ["-c", `${path.join(bin, "pulumi-resource-kubernetes")} 305 & wait`],
      {
        cwd: project,
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: "ignore",
      },
    );
    await sleep(300);
    const underLive = processTable().find((p) => p.ppid === live?.pid)?.pid;
    assert.ok(underLive, "the live run's plugin started");
    started.push(underLive);

    const selected = selectOrphans(processTable(), { projectDir: project, backendUrl: backend }).map(
      (p) => p.pid,
    );
    assert.deepEqual(selected.sort(), [plugin, host].sort());

    const ended = await endOrphans({ projectDir: project, backendUrl: backend });
    assert.equal(ended.length, 2);
    assert.match(ended.join("\n"), new RegExp(`pid ${plugin} pulumi-resource-kubernetes 300`));
    await sleep(200);
    const alive = new Set(processTable().map((p) => p.pid));
    assert.equal(alive.has(plugin), false);
    assert.equal(alive.has(host), false);
    for (const pid of [otherBackend, otherDir, notEngine, underLive])
      assert.equal(alive.has(pid), true, `pid ${pid} must not be touched`);
  });

  it("selects nothing without a backend to match", () => {
    assert.deepEqual(selectOrphans(processTable(), { projectDir: project }), []);
  });
});

describe("a signal before the runner listens (a real process)", function () {
  this.timeout(60_000);
  it("SIGINT after the local cluster started: the cluster is released, exit 1", async () => {
    const marks = path.join(tmp, "marks");
    const projectDir = fs.mkdtempSync(path.join(tmp, "p-"));
    const child = spawn(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        path.join(__dirname, "support", "earlySignal.ts"),
        marks,
        projectDir,
      ],
      { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    child.stdout.on("data", (b) => (out += b));
    child.stderr.on("data", (b) => (out += b));
    const read = () => (fs.existsSync(marks) ? fs.readFileSync(marks, "utf8") : "");
    const exited = new Promise<{ code: number | null; signal: string | null }>((r) =>
      child.on("exit", (code, signal) => r({ code, signal })),
    );
    for (let i = 0; i < 400 && !read().includes("nodes"); i++) await sleep(100);
    assert.match(read(), /start\nnodes/, out);
    child.kill("SIGINT");
    const { code, signal } = await exited;
    assert.equal(signal, null, `the process was killed by ${signal}:\n${out}`);
    assert.equal(code, 1, out);
    assert.match(read(), /release\nexit 1/);
    assert.match(out, /SIGINT before any lab started: nothing was created/);
  });
});
