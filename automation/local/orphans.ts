/**
 * Orphaned engine processes. The Pulumi CLI starts the language host and each provider plugin in
 * a process group of its own, so when a CI runner kills the driver's group (or `kill -9` hits the
 * CLI), they outlive it: `pulumi-language-nodejs`, `pulumi-resource-kubernetes`,
 * `pulumi-resource-docker-build`, the dynamic provider (`node …/@pulumi/pulumi/cmd/dynamic-provider`).
 *
 * One is ended only when all of these hold (Linux /proc; elsewhere nothing is selected):
 * - its command line is a Pulumi language host, plugin or the SDK's program/dynamic-provider runner;
 * - no ancestor is a running `pulumi` CLI (a live engine run always has one);
 * - its working directory is inside this project directory;
 * - its environment names this command's backend (PULUMI_BACKEND_URL, which the driver sets).
 * Never this process or one of its ancestors.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface ProcInfo {
  pid: number;
  ppid: number;
  /** argv, NUL-split. */
  argv: string[];
  cwd?: string;
  /** Undefined when unreadable (another user's process). */
  env?: Record<string, string>;
}

const PLUGIN = /^pulumi-(language|resource|analyzer|converter|tool)-/;
const SDK_RUNNER = /[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/](run|dynamic-provider|run-plugin|run-policy-pack)\b/;

/** A language host, plugin, or a node process the SDK runs for the engine. */
export function isEngineProcess(argv: string[]): boolean {
  if (argv.length === 0) return false;
  if (PLUGIN.test(path.basename(argv[0]))) return true;
  return /(^|[\\/])node(js)?$/.test(argv[0]) && argv.slice(1).some((a) => SDK_RUNNER.test(a));
}

const isPulumiCli = (argv: string[]): boolean => argv.length > 0 && path.basename(argv[0]) === "pulumi";

export interface OrphanScope {
  projectDir: string;
  backendUrl?: string;
  /** This process and its ancestors are never selected (default: process.pid). */
  self?: number;
}

/** The processes to end, from a snapshot of the process table. */
export function selectOrphans(procs: ProcInfo[], scope: OrphanScope): ProcInfo[] {
  if (!scope.backendUrl) return [];
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const ancestors = (pid: number): ProcInfo[] => {
    const chain: ProcInfo[] = [];
    for (let p = byPid.get(pid); p && p.ppid > 0 && chain.length < 64; p = byPid.get(p.ppid)) {
      const parent = byPid.get(p.ppid);
      if (parent) chain.push(parent);
    }
    return chain;
  };
  const self = scope.self ?? process.pid;
  const protectedPids = new Set([self, ...ancestors(self).map((p) => p.pid)]);
  const root = path.resolve(scope.projectDir) + path.sep;
  return procs.filter(
    (p) =>
      !protectedPids.has(p.pid) &&
      isEngineProcess(p.argv) &&
      !ancestors(p.pid).some((a) => isPulumiCli(a.argv)) &&
      p.cwd !== undefined &&
      (p.cwd + path.sep).startsWith(root) &&
      p.env?.PULUMI_BACKEND_URL === scope.backendUrl,
  );
}

function readProc(pid: number): ProcInfo | undefined {
  const read = (f: string): string | undefined => {
    try {
      return fs.readFileSync(`/proc/${pid}/${f}`, "utf8");
    } catch {
      return undefined;
    }
  };
  const stat = read("stat");
  const cmdline = read("cmdline");
  if (stat === undefined || !cmdline) return undefined; // gone, a zombie or a kernel thread
  const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  let cwd: string | undefined;
  try {
    cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
  } catch {
    cwd = undefined;
  }
  const environ = read("environ");
  const env = environ
    ? Object.fromEntries(
        environ
          .split("\0")
          .filter((kv) => kv.includes("="))
          .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
      )
    : undefined;
  return { pid, ppid, argv: cmdline.split("\0").filter(Boolean), cwd, env };
}

/** The process table from /proc (empty where there is none). */
export function processTable(): ProcInfo[] {
  let names: string[];
  try {
    names = fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  return names.map((n) => readProc(Number(n))).filter((p): p is ProcInfo => p !== undefined);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3));
  } catch {
    return false;
  }
};

/** Ends the orphans (SIGTERM, then SIGKILL after `graceMs`); one line per process ended. */
export async function endOrphans(scope: OrphanScope, graceMs = 3000): Promise<string[]> {
  const orphans = selectOrphans(processTable(), scope);
  const signal = (p: ProcInfo, sig: NodeJS.Signals): void => {
    try {
      process.kill(p.pid, sig);
    } catch {
      // already gone
    }
  };
  for (const p of orphans) signal(p, "SIGTERM");
  for (let waited = 0; waited < graceMs && orphans.some((p) => alive(p.pid)); waited += 100) await sleep(100);
  for (const p of orphans.filter((o) => alive(o.pid))) signal(p, "SIGKILL");
  return orphans.map(
    (p) =>
      `pid ${p.pid} ${p.argv
        .map((a) => path.basename(a))
        .join(" ")
        .slice(0, 120)}`,
  );
}
