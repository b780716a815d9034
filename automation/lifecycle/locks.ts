/**
 * Stale stack locks. A Pulumi CLI killed mid-update (kill -9, a CI runner ending the job) leaves
 * its DIY lock behind, and every later update, refresh or destroy of the stack fails with
 * "locked by another update". The lock is a JSON file (pulumi/pulumi pkg/backend/diy/lock.go):
 * `<backend>/.pulumi/locks/organization/<project>/<stack>/<uuid>.json` (project mode) or
 * `.pulumi/locks/<stack>/<uuid>.json` (older non-project layout), holding
 * `{"pid","username","hostname","timestamp"}` of the CLI that took it.
 *
 * A lock is broken only when its owner is provably gone: taken on this host, and that pid is not
 * alive (or is a zombie, or is a newer process that reused the pid). Anything else is kept and
 * reported. Only the stale lock files are deleted (`pulumi cancel` would delete live ones too).
 * Read here for file:// backends; for s3/gs/azblob the CLI's own error names the lock
 * (docs/LOCAL.md: "A killed driver").
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface LockContent {
  pid: number;
  username: string;
  hostname: string;
  timestamp: string;
}

export interface LockReport {
  file: string;
  lock?: LockContent;
  broken: boolean;
  /** One line for the person running the command. */
  text: string;
}

/** The directory of a file:// backend URL; undefined for any other backend. */
export function fileBackendDir(url: string): string | undefined {
  if (!url.startsWith("file://")) return undefined;
  const p = url.slice("file://".length).replace(/\?.*$/, "");
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

/** The lock directories a stack may have (project mode first). */
export function lockDirs(backendDir: string, project: string, stack: string): string[] {
  const locks = path.join(backendDir, ".pulumi", "locks");
  return [path.join(locks, "organization", project, stack), path.join(locks, stack)];
}

// Linux's USER_HZ: /proc/<pid>/stat counts start times in these ticks (100 on every mainstream arch).
const CLOCK_TICKS = 100;

function bootTimeMs(): number | undefined {
  try {
    const m = /^btime (\d+)$/m.exec(fs.readFileSync("/proc/stat", "utf8"));
    return m ? Number(m[1]) * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` may still be the process that took a lock at `since`: false when it does not
 * exist, is a zombie, or started after `since` (the pid was reused). On systems without /proc,
 * only existence is checked.
 */
export function mayBeAlive(pid: number, since?: Date): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
    // EPERM: it exists, owned by someone else.
  }
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return fs.existsSync("/proc/self") ? false : true;
  }
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return false;
  const boot = bootTimeMs();
  if (since && boot !== undefined) {
    const startedAt = boot + (Number(fields[19]) / CLOCK_TICKS) * 1000;
    // A CLI takes its lock after it started; a process started later cannot be its owner (2 s of slack).
    if (startedAt > since.getTime() + 2000) return false;
  }
  return true;
}

export interface LockHost {
  hostname: string;
  mayBeAlive: (pid: number, since?: Date) => boolean;
}

const thisHost: LockHost = { hostname: os.hostname(), mayBeAlive };

/** The decision for one lock: break it only if its owner is provably gone. */
export function judgeLock(lock: LockContent, host: LockHost = thisHost): { stale: boolean; why: string } {
  const owner = `pid ${lock.pid} of ${lock.username}@${lock.hostname}, since ${lock.timestamp}`;
  if (lock.hostname !== host.hostname)
    return { stale: false, why: `${owner}: another host, cannot tell whether it still runs` };
  const since = new Date(lock.timestamp);
  if (host.mayBeAlive(lock.pid, Number.isNaN(since.getTime()) ? undefined : since))
    return { stale: false, why: `${owner}: that process still runs` };
  return { stale: true, why: `${owner}: that process is gone` };
}

/** Deletes the stale locks of one stack of a file:// backend; reports every lock seen. */
export function breakStaleLocks(
  backendUrl: string,
  project: string,
  stack: string,
  host: LockHost = thisHost,
): LockReport[] {
  const dir = fileBackendDir(backendUrl);
  if (!dir) return [];
  const reports: LockReport[] = [];
  for (const d of lockDirs(dir, project, stack)) {
    let names: string[];
    try {
      names = fs.readdirSync(d).filter((n) => n.endsWith(".json"));
    } catch {
      continue;
    }
    for (const name of names) {
      const file = path.join(d, name);
      let lock: LockContent;
      try {
        lock = JSON.parse(fs.readFileSync(file, "utf8")) as LockContent;
      } catch (e) {
        // Unreadable or half-written: not provably stale.
        reports.push({ file, broken: false, text: `lock ${file} kept: unreadable (${String(e)})` });
        continue;
      }
      const { stale, why } = judgeLock(lock, host);
      if (stale) {
        fs.rmSync(file, { force: true });
        fs.rmSync(`${file}.attrs`, { force: true });
      }
      reports.push({ file, lock, broken: stale, text: `lock of ${why}: ${stale ? "broken" : "kept"}` });
    }
  }
  return reports;
}
