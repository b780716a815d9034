// The driver's local cluster config: LAB_KUBECONFIG (from env.json) and the live nodes' archs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  ClusterControl,
  clusterArchsOf,
  clusterProcesses,
  localClusterConfig,
  ownedCluster,
  scriptCluster,
} from "../../automation/local/cluster";
import { Toolchain, emptyToolchain } from "../../automation/local/toolchain";
import { FakeEngine } from "./support/fakeEngine";
import { AWS_ENV, FakeSignals, runCli } from "./support/harness";
import { NodeInfo } from "../../automation/verify/types";

const amd: NodeInfo = { name: "vm", arch: "amd64", ready: true };
const armNode: NodeInfo = { name: "pi", arch: "arm64", ready: false };

describe("local cluster config (driver)", () => {
  it("orders the architectures the nodes have, ignoring unknown labels", () => {
    assert.deepEqual(clusterArchsOf([armNode, amd, { name: "x", ready: true }]), ["amd64", "arm64"]);
    assert.deepEqual(clusterArchsOf([{ name: "r", arch: "riscv64", ready: true }]), []);
  });

  it("passes LAB_KUBECONFIG and the live cluster's archs unless the user set them", async () => {
    const seen: string[] = [];
    const list = async (f: string) => (seen.push(f), [amd]);
    const env = { LAB_KUBECONFIG: "/c/admin.kubeconfig" };
    assert.deepEqual(await localClusterConfig({}, env, list), {
      config: { "lab:kubeconfig": "/c/admin.kubeconfig", "lab:clusterArchs": "amd64" },
      problems: [],
    });
    assert.deepEqual(seen, ["/c/admin.kubeconfig"]);
    // The user's kubeconfig wins (its archs are still read); their clusterArchs too.
    assert.deepEqual(await localClusterConfig({ "lab:kubeconfig": "/mine" }, env, list), {
      config: { "lab:clusterArchs": "amd64" },
      problems: [],
    });
    assert.deepEqual(await localClusterConfig({ "lab:clusterArchs": "amd64,arm64" }, env, list), {
      config: { "lab:kubeconfig": "/c/admin.kubeconfig" },
      problems: [],
    });
    // An explicitly empty kubeconfig, or none at all: no cluster, nothing asked.
    const never = async (): Promise<NodeInfo[]> => assert.fail("no cluster to ask");
    assert.deepEqual(await localClusterConfig({ "lab:kubeconfig": "" }, env, never), {
      config: {},
      problems: [],
    });
    assert.deepEqual(await localClusterConfig({}, {}, never), { config: {}, problems: [] });
  });

  it("a cluster that does not answer, or has no known node, is a problem saying what to do", async () => {
    const env = { LAB_KUBECONFIG: "/c/admin.kubeconfig" };
    const down = await localClusterConfig({}, env, async () => Promise.reject(new Error("ECONNREFUSED")));
    assert.equal(down.problems.length, 1);
    assert.match(
      down.problems[0],
      /\/c\/admin.kubeconfig does not answer \(ECONNREFUSED\): start that cluster/,
    );
    const empty = await localClusterConfig({}, env, async () => []);
    assert.deepEqual(empty.problems, ["the cluster of /c/admin.kubeconfig has no amd64 or arm64 node"]);
  });

  it("lab run --target local sets both keys on the stack before up; a dead cluster is exit 2", async () => {
    const env = { HOME: "/nonexistent", PATH: process.env.PATH, LAB_KUBECONFIG: "/c/admin.kubeconfig" };
    const engine = new FakeEngine();
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], {
      engine,
      env,
      listNodes: async () => [amd],
    });
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(engine.lastConfig["lab-alice"], {
      "lab:target": "local",
      "lab:kubeconfig": "/c/admin.kubeconfig",
      "lab:clusterArchs": "amd64",
      "lab:workshop": "lab",
      "lab:attendee": "alice",
      "lab:foundation": "lab.foundation",
    });
    const dead = new FakeEngine();
    const d = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine: dead,
      env,
      listNodes: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6443")),
    });
    assert.equal(d.code, 2);
    assert.match(d.err, /does not answer \(connect ECONNREFUSED 127.0.0.1:6443\)/);
    assert.deepEqual(dead.lastConfig, {});
  });
});

/** A ClusterControl that logs its calls into the engine's call list, to check the order. */
function fakeCluster(
  engine: FakeEngine,
  o: { startFails?: string; stopFails?: string; duringStart?: () => void } = {},
): ClusterControl {
  return {
    async start() {
      engine.calls.push("cluster-start");
      o.duringStart?.();
      if (o.startFails) throw new Error(o.startFails);
      return "started in 4.2 s";
    },
    async release() {
      engine.calls.push("cluster-release");
      if (o.stopFails) throw new Error(o.stopFails);
      return "stopped in 3.1 s";
    },
  };
}

describe("the lab's own local cluster (driver)", () => {
  const env = { HOME: "/nonexistent", PATH: process.env.PATH, LAB_KUBECONFIG: "/c/admin.kubeconfig" };
  const listNodes = async () => [amd];

  it("run starts it before anything else and releases it after destroy, before the summary", async () => {
    const engine = new FakeEngine();
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine,
      env,
      listNodes,
      localCluster: fakeCluster(engine),
    });
    assert.equal(r.code, 0, r.out + r.err);
    const ops = engine.calls.filter((c) => !/^(check|list|history|outputs|preview)\b/.test(c));
    assert.equal(ops[0], "cluster-start");
    assert.equal(ops.at(-1), "cluster-release");
    assert.ok(ops.indexOf("destroy lab-alice") < ops.indexOf("cluster-release"));
    assert.equal(ops.filter((c) => c.startsWith("cluster-")).length, 2);
    assert.ok(r.out.indexOf("local cluster: stopped in 3.1 s") < r.out.indexOf("1 of 1 labs passed"));
  });

  it("is released whatever happened: failed up, bad cluster, interrupted", async () => {
    const failing = new FakeEngine({ "lab-alice": { upFails: "boom" } });
    const f = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine: failing,
      env,
      listNodes,
      localCluster: fakeCluster(failing),
    });
    assert.equal(f.code, 1);
    assert.equal(failing.calls.at(-1), "cluster-release");

    const empty = new FakeEngine();
    const e = await runCli(["up", "--target", "local", "--attendees", "alice"], {
      engine: empty,
      env,
      listNodes: async () => [],
      localCluster: fakeCluster(empty),
    });
    assert.equal(e.code, 2);
    assert.deepEqual(empty.mutating, ["cluster-start", "cluster-release"]);
  });

  it("a cluster that will not start is exit 2 with the cause and the fix; nothing created", async () => {
    const engine = new FakeEngine();
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine,
      env,
      listNodes,
      localCluster: fakeCluster(engine, { startFails: "kube.sh exited 1: must run as root" }),
    });
    assert.equal(r.code, 2);
    assert.match(r.err, /the local cluster did not start \(kube.sh exited 1: must run as root\)/);
    assert.match(r.err, /npm run setup:local.*--config kubeconfig=<file>/);
    assert.deepEqual(engine.mutating, ["cluster-start", "cluster-release"]);
  });

  it("Ctrl+C while the cluster starts: the start finishes, no lab is touched, the cluster is released, exit 1", async () => {
    const engine = new FakeEngine();
    const signals = new FakeSignals();
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine,
      env,
      listNodes,
      signals,
      localCluster: fakeCluster(engine, { duringStart: () => signals.send("SIGINT") }),
    });
    assert.equal(r.code, 1);
    assert.match(r.err, /interrupted while the local cluster started; stopping it/);
    assert.deepEqual(engine.mutating, ["cluster-start", "cluster-release"]);
    assert.deepEqual(r.exits, []);
  });

  it("a cluster that does not stop fails a run that otherwise passed", async () => {
    const engine = new FakeEngine();
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine,
      env,
      listNodes,
      localCluster: fakeCluster(engine, { stopFails: "kube-stop.sh exited 1" }),
    });
    assert.equal(r.code, 1);
    assert.match(r.err, /the local cluster did not stop \(kube-stop.sh exited 1\)/);
  });

  it("is not touched for a cluster the user names, nor for the aws target", async () => {
    const mine = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lab-mine-")), "kubeconfig");
    fs.writeFileSync(mine, "apiVersion: v1\nkind: Config\n");
    for (const argv of [
      ["run", "--target", "local", "--attendees", "alice", "--config", `kubeconfig=${mine}`],
      ["destroy", "--attendees", "alice"],
    ]) {
      const engine = new FakeEngine();
      const r = await runCli(argv, {
        engine,
        env: { ...AWS_ENV, ...env },
        listNodes,
        localCluster: fakeCluster(engine),
      });
      assert.equal(r.code, 0, r.out + r.err);
      assert.ok(!engine.calls.some((c) => c.startsWith("cluster-")), engine.calls.join(", "));
    }
  });
});

describe("ownedCluster: which cluster the lab may start and stop", () => {
  const own = "/c/kube/admin.kubeconfig";
  const toolchain = (fileEnv: Record<string, string>): Toolchain => ({
    ...emptyToolchain("/c/env.json"),
    loaded: true,
    fileEnv,
  });
  const owned = (t: Toolchain | undefined, env: NodeJS.ProcessEnv) =>
    ownedCluster(t, env, "/repo", "/repo/.lab-logs") !== undefined;

  it("the cluster env.json records, whoever put LAB_KUBECONFIG in the environment", () => {
    // Loaded by this process, or already exported by a parent that loaded env.json (bench, a shell).
    assert.equal(owned(toolchain({ LAB_KUBECONFIG: own }), { LAB_KUBECONFIG: own }), true);
  });

  it("not another cluster, nor none", () => {
    assert.equal(owned(toolchain({ LAB_KUBECONFIG: own }), { LAB_KUBECONFIG: "/home/me/.kube/kind" }), false);
    assert.equal(owned(toolchain({}), { LAB_KUBECONFIG: own }), false);
    assert.equal(owned(undefined, { LAB_KUBECONFIG: own }), false);
  });
});

describe("clusterProcesses: what of the lab's own cluster still runs", () => {
  it("finds daemons by their pid files and others by the cluster's dirs in their command line", async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), "lab-procs-"));
    const env = { LAB_CACHE_DIR: cache, LAB_KUBE_RUN_DIR: path.join(cache, "kube-run") };
    // A holder-like daemon (`sleep infinity` names nothing of ours), a shim-like process naming
    // the run dir, and a bystander.
    const holder = spawn("sleep", ["30"]);
    const shim = spawn("sh", ["-c", "sleep 30; : ", `${env.LAB_KUBE_RUN_DIR}/containerd.sock`]);
    const bystander = spawn("sleep", ["30"]);
    try {
      fs.mkdirSync(path.join(cache, "run"));
      fs.writeFileSync(path.join(cache, "run", "kube-arm64-ns.pid"), `${holder.pid}\n`);
      fs.writeFileSync(path.join(cache, "run", "dockerd.pid"), `${bystander.pid}\n`);
      // A stale record: the pid is alive but started at another time (reused).
      fs.writeFileSync(path.join(cache, "run", "kube-etcd.pid"), `${bystander.pid}\n`);
      fs.writeFileSync(path.join(cache, "run", "kube-etcd.start"), "1\n");
      await new Promise((r) => setTimeout(r, 200)); // the children exec'd
      const pids = clusterProcesses(env).map((p) => p.pid);
      assert.ok(pids.includes(holder.pid as number), "the daemon with a kube pid file");
      assert.ok(pids.includes(shim.pid as number), "the process naming the run dir");
      assert.ok(!pids.includes(bystander.pid as number), "not another daemon, nor a reused pid");
    } finally {
      for (const c of [holder, shim, bystander]) c.kill("SIGKILL");
      fs.rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe("scriptCluster: the real start/stop through scripts/setup (stand-in scripts)", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cluster-"));
    fs.mkdirSync(path.join(dir, "scripts"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Writes a stand-in script that records the leases it sees, then prints `lines` and exits `code`. */
  const script = (name: string, lines: string[], code = 0) =>
    fs.writeFileSync(
      path.join(dir, "scripts", name),
      `ls "$LAB_KUBE_DIR/leases" > "${dir}/${name}.leases"; echo "verify=$LAB_SETUP_VERIFY" > "${dir}/${name}.env"\n` +
        lines.map((l) => `echo '${l}'`).join("\n") +
        `\nexit ${code}\n`,
    );
  const control = (pid: number) =>
    scriptCluster({
      scriptsDir: path.join(dir, "scripts"),
      env: { ...process.env, LAB_KUBE_DIR: path.join(dir, "kube") },
      logFile: path.join(dir, "logs", "local-cluster.log"),
      pid,
    });
  const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8").trim();

  it("holds a lease named by its pid while the scripts run, and summarises what they did", async () => {
    script("kube.sh", [
      "[setup/kube] etcd                started (pid 42) 3.6.4",
      "[setup/kube] cluster ready in 4 s",
    ]);
    script("kube-stop.sh", ["[setup/kube] state  wiped", "[setup/kube] stopped in 3 s"]);
    const c = control(4242);
    assert.match(await c.start(), /^started in \d+\.\d s \(log: .*local-cluster\.log\)$/);
    assert.equal(read("kube.sh.leases"), "4242");
    assert.equal(read("kube.sh.env"), "verify=0", "the driver skips setup's smoke test");
    assert.match(await c.release(), /^stopped in \d+\.\d s$/);
    assert.equal(read("kube-stop.sh.leases"), "", "the lease is dropped before the stop decides");
    const log = read("logs/local-cluster.log");
    assert.match(
      log,
      /kube\.sh[\s\S]*started \(pid 42\)[\s\S]*kube-stop\.sh --if-unused[\s\S]*stopped in 3 s/,
    );
  });

  it("says when the cluster already ran or stays for a lab", async () => {
    script("kube.sh", [
      "[setup/kube] etcd                running (pid 42)",
      "[setup/kube] cluster ready in 0 s",
    ]);
    script("kube-stop.sh", ["[setup/kube] kept running: labs still in it: lab-alice"]);
    const c = control(7);
    assert.equal(await c.start(), "already running");
    assert.equal(await c.release(), "kept running: labs still in it: lab-alice");
  });

  it("a failing script rejects with its exit code and last lines", async () => {
    script("kube.sh", ["step one", "scripts/setup/kube*.sh must run as root"], 1);
    await assert.rejects(
      control(7).start(),
      /kube\.sh exited 1: step one \| scripts\/setup\/kube\*\.sh must run as root/,
    );
  });
});
