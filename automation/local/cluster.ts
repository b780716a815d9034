/**
 * The local target's cluster: `npm run setup:local` builds a Kubernetes cluster and records its
 * admin kubeconfig as LAB_KUBECONFIG (env.json); the driver starts and stops it (ClusterControl
 * below). For `up` and `run`, unless the user set
 * `lab:kubeconfig`, the driver passes that path, and `lab:clusterArchs` as the live cluster's nodes
 * report them (`kubernetes.io/arch`), so the program places pods only where nodes exist.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ARCHS } from "../../infra/arch";
import { Toolchain, labCacheDir } from "./toolchain";
import { clusterFromKubeconfig } from "../verify/kube";
import { NodeInfo } from "../verify/types";
import { errorMessage } from "../errors";

/** Lists the nodes of the cluster a kubeconfig file names. */
export type NodeLister = (kubeconfigFile: string) => Promise<NodeInfo[]>;

export const listNodesOf: NodeLister = async (file) =>
  (await clusterFromKubeconfig(fs.readFileSync(file, "utf8"))).nodes();

/** The architectures nodes have, in a stable order (amd64, arm64); unknown labels are ignored. */
export function clusterArchsOf(nodes: NodeInfo[]): string[] {
  const seen = new Set(nodes.map((n) => n.arch).filter((a): a is string => !!a));
  return ARCHS.filter((a) => seen.has(a));
}

export interface LocalClusterPlan {
  /** Keys to add to the stack config (none when there is no cluster or the user set them). */
  config: Record<string, string>;
  problems: string[];
}

/** The cluster keys for a local lab; `config` is the stack config as the user gave it. */
export async function localClusterConfig(
  config: Record<string, string>,
  env: NodeJS.ProcessEnv,
  listNodes: NodeLister = listNodesOf,
): Promise<LocalClusterPlan> {
  const add: Record<string, string> = {};
  const given = config["lab:kubeconfig"];
  const kubeconfig = given ?? env.LAB_KUBECONFIG ?? "";
  if (given === undefined && kubeconfig !== "") add["lab:kubeconfig"] = kubeconfig;
  if (kubeconfig === "" || config["lab:clusterArchs"] !== undefined) return { config: add, problems: [] };
  let nodes: NodeInfo[];
  try {
    nodes = await listNodes(kubeconfig);
  } catch (e) {
    const why = errorMessage(e);
    return {
      config: {},
      problems: [
        `the cluster of ${kubeconfig} does not answer (${why}): start that cluster, ` +
          `or run without one: --config kubeconfig=`,
      ],
    };
  }
  const archs = clusterArchsOf(nodes);
  if (archs.length === 0) {
    return { config: {}, problems: [`the cluster of ${kubeconfig} has no amd64 or arm64 node`] };
  }
  add["lab:clusterArchs"] = archs.join(",");
  return { config: add, problems: [] };
}

/**
 * The lab's own cluster, the one `npm run setup:local` built (LAB_KUBECONFIG from env.json): the
 * driver starts it for a local lab and stops it once no lab is left in it, so a destroyed lab
 * leaves no cluster processes. A cluster the user names (`lab:kubeconfig`, or LAB_KUBECONFIG set
 * by hand) is only joined, never started or stopped.
 */
export interface ClusterControl {
  /** Takes this process's lease and starts the cluster unless it runs; a one-line summary. */
  start(): Promise<string>;
  /** Drops the lease; stops the cluster unless a lab namespace or another lab process remains. */
  release(): Promise<string>;
}

/** `$LAB_KUBE_DIR`, by default `$LAB_CACHE_DIR/kube`: the cluster's binaries, certs and state. */
export function kubeDir(env: NodeJS.ProcessEnv): string {
  return env.LAB_KUBE_DIR || path.join(labCacheDir(env), "kube");
}

/**
 * The processes of the lab's own cluster, from /proc: every daemon kube.sh recorded a pid file for
 * (`$LAB_CACHE_DIR/run/kube*.pid` with its `.start` time, as scripts/setup/docker-lib.sh's
 * lab_daemon_pid reads them; this covers the arm64 node's `sleep infinity` namespace holder) and every process whose command line names the cluster's directories (shims, binaries
 * run by QEMU). For the end-to-end test ("nothing left") and the benchmark (its memory).
 */
export function clusterProcesses(env: NodeJS.ProcessEnv): { pid: number; cmd: string }[] {
  const runDir = path.join(labCacheDir(env), "run");
  const recorded = new Set<number>();
  const read = (f: string): string | undefined => {
    try {
      return fs.readFileSync(f, "utf8").trim();
    } catch {
      return undefined;
    }
  };
  for (const f of fs.existsSync(runDir) ? fs.readdirSync(runDir) : []) {
    if (!/^kube.*\.pid$/.test(f)) continue;
    const pid = Number(read(path.join(runDir, f)));
    // Pid files outlive a session and pids are reused: the recorded start time must match.
    const start = read(path.join(runDir, f.replace(/\.pid$/, ".start")));
    const stat = read(`/proc/${pid}/stat`);
    const now = stat?.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
    if (Number.isInteger(pid) && pid > 0 && (start === undefined || start === now)) recorded.add(pid);
  }
  // The run dirs' common prefix covers the arm64 node's ($LAB_KUBE_ARM64_RUN_DIR) too.
  const marks = [`${kubeDir(env)}/`, env.LAB_KUBE_RUN_DIR || "/run/multiarch-lab-kube"];
  if (env.LAB_KUBE_ARM64_RUN_DIR) marks.push(env.LAB_KUBE_ARM64_RUN_DIR);
  const found: { pid: number; cmd: string }[] = [];
  for (const d of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${d}/cmdline`, "utf8").replace(/\0/g, " ").trim();
    } catch {
      continue; // ended meanwhile
    }
    if (cmd === "") continue; // a zombie or a kernel thread
    if (recorded.has(Number(d)) || marks.some((m) => cmd.includes(m))) found.push({ pid: Number(d), cmd });
  }
  return found;
}

export interface ScriptClusterOptions {
  /** scripts/setup of this checkout (kube.sh, kube-stop.sh). */
  scriptsDir: string;
  env: NodeJS.ProcessEnv;
  /** The scripts' full output goes here (appended). */
  logFile: string;
  pid?: number;
  now?: () => number;
}

/** Runs scripts/setup/kube.sh and kube-stop.sh --if-unused, which share a lock and the lease dir. */
export function scriptCluster(o: ScriptClusterOptions): ClusterControl {
  const lease = path.join(kubeDir(o.env), "leases", String(o.pid ?? process.pid));
  const now = o.now ?? Date.now;
  const run = (script: string, args: string[]): Promise<string[]> =>
    new Promise((resolve, reject) => {
      fs.mkdirSync(path.dirname(o.logFile), { recursive: true });
      const log = fs.createWriteStream(o.logFile, { flags: "a" });
      log.write(`--- ${new Date(now()).toISOString()} ${script} ${args.join(" ")}\n`);
      // The driver's start never runs setup's smoke test (that is setup:local's job). A process
      // group of its own: a terminal's Ctrl+C must not cut a start or stop in half (the driver
      // notes the signal and stops the cluster properly).
      const child = spawn("bash", [path.join(o.scriptsDir, script), ...args], {
        env: { ...o.env, LAB_SETUP_VERIFY: "0" },
        stdio: ["ignore", "pipe", "pipe"],
        detached: true,
      });
      const lines: string[] = [];
      const take = (b: Buffer) => {
        log.write(b);
        lines.push(...b.toString().split("\n").filter(Boolean));
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      child.on("error", (e) => log.end(() => reject(e)));
      child.on("close", (code) =>
        log.end(() => {
          if (code === 0) resolve(lines);
          else reject(new Error(`${script} exited ${code}: ${lines.slice(-3).join(" | ")}`));
        }),
      );
    });
  const strip = (line: string | undefined) => (line ?? "").replace(/^\[setup\/kube\]\s*/, "");
  return {
    async start() {
      fs.mkdirSync(path.dirname(lease), { recursive: true });
      fs.writeFileSync(lease, `${process.argv.slice(1).join(" ")}\n`);
      const t0 = now();
      const lines = await run("kube.sh", []);
      const started = lines.some((l) => /\s(started|restarted) \(pid/.test(l));
      const secs = ((now() - t0) / 1000).toFixed(1);
      return started ? `started in ${secs} s (log: ${o.logFile})` : "already running";
    },
    async release() {
      fs.rmSync(lease, { force: true });
      const t0 = now();
      const last = strip((await run("kube-stop.sh", ["--if-unused"])).at(-1));
      return /^stopped in/.test(last) ? `stopped in ${((now() - t0) / 1000).toFixed(1)} s` : last;
    },
  };
}

/**
 * The lab's own cluster for this environment, or undefined when there is none to own: setup:local
 * recorded no cluster (env.json without LAB_KUBECONFIG), or LAB_KUBECONFIG names another one.
 */
export function ownedCluster(
  toolchain: Toolchain | undefined,
  env: NodeJS.ProcessEnv,
  projectDir: string,
  logDir: string,
): ClusterControl | undefined {
  const own = toolchain?.fileEnv.LAB_KUBECONFIG;
  if (!own || env.LAB_KUBECONFIG !== own) return undefined;
  return scriptCluster({
    scriptsDir: path.join(projectDir, "scripts", "setup"),
    env,
    logFile: path.join(logDir, "local-cluster.log"),
  });
}
