// End to end, for real: `lab up` is killed with SIGKILL mid-update, as a CI runner ends a job —
// the whole process group at once (GitLab's runner and GitHub Actions kill the job's process
// tree; the driver and its Pulumi CLI share the group). The CLI dies with its lock still on the
// stack, and the language host and plugins, each in a process group of their own, live on as
// orphans. Then one `lab reap --leftovers` must end with no stack, no lock, no namespace (the lab's
// cluster stops only when no lab namespace is left) and no process of that run.
// Needs `npm run setup:local` first; run it under the machine-wide e2e lock.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterProcesses } from "../../automation/local/cluster";
import { processTable } from "../../automation/local/orphans";
import { labCacheDir } from "../../automation/local/toolchain";
import { ROOT, fromAStoppedCluster } from "./support";

const PREFIX = "signals";
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function labEnv(): NodeJS.ProcessEnv {
  return { ...process.env, PULUMI_CONFIG_PASSPHRASE: "e2e", CI: "true" };
}

/** Files under a directory, relative (empty when it does not exist). */
function filesUnder(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true }).map(String) : [];
}

/** Every process whose environment names this backend: the driver's CLI, language host, plugins. */
function processesOf(backendUrl: string): string[] {
  return processTable()
    .filter((p) => p.env?.PULUMI_BACKEND_URL === backendUrl)
    .map((p) => `${p.pid} ${p.argv.join(" ")}`);
}

describe("e2e: a driver killed mid-update, then one reap --leftovers", function () {
  const attendee = `kill-${Math.random().toString(36).slice(2, 6)}`;
  const stack = `${PREFIX}-${attendee}`;
  let dir: string;
  let backend: string;

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-e2e-kill-"));
    backend = `file://${dir}/state`;
  });
  after(() => {
    for (const line of processesOf(backend)) {
      try {
        process.kill(Number(line.split(" ")[0]), "SIGKILL");
      } catch {
        // gone
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  // After the killed run's processes are gone.
  fromAStoppedCluster();

  // Where the kill lands decides whether the namespace's create reached the state: when it lands
  // between the create and its checkpoint, the refresh before destroy clears the pending create, and
  // the sweep after the destroy (#9 point 5) finds the namespace by its labels and removes it.
  // A kill can also land while the CLI writes a blob's `.attrs` sidecar, leaving it empty: then
  // every `pulumi stack ls` fails with "EOF" until the driver removes it (lifecycle/halfWritten.ts).
  it("SIGKILL of `lab up`'s process group leaves a lock and orphans; `reap --leftovers` clears it all", async () => {
    const engineLog = path.join(ROOT, ".lab-logs", `${stack}.log`);
    const args = ["--target", "local", "--stack-prefix", PREFIX, "--backend", backend];
    const up = spawn(
      process.execPath,
      [path.join(ROOT, "bin/lab.js"), "up", ...args, "--attendees", attendee, "--no-preview"],
      {
        cwd: ROOT,
        env: labEnv(),
        detached: true, // a process group of its own, as a CI job's
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let upOut = "";
    up.stdout?.on("data", (b) => (upOut += b));
    up.stderr?.on("data", (b) => (upOut += b));
    const upExit = new Promise<string | null>((r) => up.on("exit", (_c, sig) => r(sig)));
    // Mid-update: the namespace exists in the cluster and the Deployment is rolling out (the
    // workshop's image was built before, by its foundation).
    const midUpdate = () => {
      const log = fs.existsSync(engineLog) ? fs.readFileSync(engineLog, "utf8") : "";
      return /Namespace \S+ created/.test(log) && /Deployment \S+ creating/.test(log);
    };
    for (let i = 0; i < 3000 && !midUpdate() && up.exitCode === null; i++) await sleep(200);
    assert.ok(midUpdate(), `the update never reached the Deployment:\n${upOut}`);
    process.kill(-(up.pid as number), "SIGKILL");
    assert.equal(await upExit, "SIGKILL");
    await sleep(2000);

    // What the kill left: the CLI's lock, orphaned engine processes, the leftovers record.
    const locks = path.join(dir, "state", ".pulumi", "locks");
    assert.ok(
      filesUnder(locks).some((f) => f.endsWith(".json")),
      "the dead CLI's lock is on the stack",
    );
    const orphans = processesOf(backend);
    assert.ok(orphans.length > 0, "engine processes outlive the CLI");
    const tags = fs.readFileSync(
      path.join(dir, "state", ".pulumi", "stacks", "lab", `${stack}.pulumi-tags`),
      "utf8",
    );
    assert.match(tags, /"multiarch-lab:unfinished":"up since /);

    const reap = spawnSync(
      process.execPath,
      [path.join(ROOT, "bin/lab.js"), "reap", "--leftovers", ...args],
      {
        cwd: ROOT,
        env: labEnv(),
        encoding: "utf8",
        timeout: 15 * 60_000,
      },
    );
    const out = `${reap.stdout}${reap.stderr}`;
    assert.equal(reap.status, 0, out);
    assert.match(
      out,
      new RegExp(`destroying 1 leftover stack\\(s\\) recorded as unfinished:\\n  ${stack}: up since `),
    );
    assert.match(out, new RegExp(`${stack}: lock of pid \\d+ of .*: that process is gone: broken`));
    assert.match(out, /ended \d+ orphaned engine process\(es\) of a dead run/);
    // The cluster stops only when no lab namespace is left in it (kube-stop.sh --if-unused).
    assert.match(out, /local cluster: stopped in /);

    // The engine keeps `.bak` copies of removed stacks; a stack is its `.json`.
    const stacks = filesUnder(path.join(dir, "state", ".pulumi", "stacks")).filter((f) =>
      f.endsWith(".json"),
    );
    assert.deepEqual(stacks, [], "no stack left");
    assert.deepEqual(
      filesUnder(locks).filter((f) => f.endsWith(".json")),
      [],
      "no lock left",
    );
    assert.deepEqual(processesOf(backend), [], "no process of the killed run left");
    assert.deepEqual(clusterProcesses(process.env), [], "no cluster process left");
    const ns = spawnSync("sh", [
      "-c",
      `grep -rl "${attendee}" ${path.join(labCacheDir(process.env), "kube", "leases")} 2>/dev/null`,
    ]);
    assert.notEqual(ns.status, 0, "no lease of the killed driver is left");
  });
});
