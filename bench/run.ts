/**
 * `npm run bench [-- --repeat N] [--cold-setup] [--dry-run]`: timings of the local toolchain and of
 * the lab driver (docs/BENCHMARKS.md). Table to stderr; JSON to stdout and bench/results/<time>.json.
 * It only measures (no timed assertions). What it creates (registry manifests, the stack, temporary
 * directories, --cold-setup's buildkitd) is removed in `finally`, on failure and Ctrl+C too.
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { clusterProcesses } from "../automation/local/cluster";
import type { RunReport } from "../automation/reports/report";
import { labCacheDir, loadToolchain } from "../automation/local/toolchain";
import type { StepResult } from "../automation/lifecycle/types";
import { errorMessage } from "../automation/errors";

const ROOT = path.resolve(__dirname, "..");
const PAGE_MIB = Number(spawnSync("getconf", ["PAGESIZE"]).stdout.toString().trim() || 4096) / 2 ** 20;
const ACCEPT = ["oci.image.index.v1", "docker.distribution.manifest.list.v2", "oci.image.manifest.v1"]
  .map((t) => `application/vnd.${t}+json`)
  .join(", ");

type Figures = Record<string, number>;
type Pushed = { repo: string; digest: string };
/**
 * RSS sampled every 250 ms: peak of the command's tree, the largest process in it, peak of the lab's
 * cluster, and peak of both together (the whole run).
 */
type Exec = {
  code: number;
  wallS: number;
  out: string;
  peakTreeRssMiB: number;
  maxProcRssMiB: number;
  peakClusterRssMiB: number;
  peakTotalRssMiB: number;
};
/** cleanup: run even after Ctrl+C. */
type ExecOpts = { env?: NodeJS.ProcessEnv; echo?: boolean; rss?: boolean; cleanup?: boolean };
/** live: the stack may hold resources, so `finally` destroys it. */
type LabCtx = { attendee: string; dir: string; live: boolean };

const warn = (s: string) => process.stderr.write(`bench: ${s}\n`);
let current: ChildProcess | undefined;
let interrupted = false;
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.on(sig, () => {
    warn(`${sig}: stopping the current step, then cleaning up`);
    interrupted = true;
    // Ctrl+C reaches the child already (same process group): a second SIGINT would make lab quit at once.
    if (sig === "SIGTERM") current?.kill(sig); // lab cancels and destroys what it created
  });
}

/**
 * RSS (MiB) from /proc/<pid>/stat (ppid, rss in pages): [sum over `root` and its descendants, the
 * largest of those, sum over the lab's own cluster (its daemons, containerd shims, pods)]. The
 * cluster's daemons are not the driver's descendants (kube.sh detaches them): `clusterProcesses`
 * finds them, as test/e2e does.
 */
function treeRss(root: number): [number, number, number] {
  const kids = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const d of fs.readdirSync("/proc").filter((n) => /^\d+$/.test(n))) {
    let stat = "";
    try {
      stat = fs.readFileSync(`/proc/${d}/stat`, "utf8");
    } catch {
      continue; // ended meanwhile
    }
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    kids.set(Number(f[1]), [...(kids.get(Number(f[1])) ?? []), Number(d)]);
    rss.set(Number(d), Number(f[21]));
  }
  const cluster = clusterProcesses(process.env).map((p) => p.pid);
  const walk = (roots: number[], seen = new Set<number>()): [number, number] => {
    let [sum, max] = [0, 0];
    for (const todo = [...roots]; todo.length > 0;) {
      const pid = todo.pop() as number;
      if (seen.has(pid)) continue;
      seen.add(pid);
      [sum, max] = [sum + (rss.get(pid) ?? 0), Math.max(max, rss.get(pid) ?? 0)];
      todo.push(...(kids.get(pid) ?? []));
    }
    return [sum, max];
  };
  const seen = new Set<number>();
  const [sum, max] = walk([root], seen);
  const [clusterSum] = walk(cluster, seen);
  return [sum * PAGE_MIB, max * PAGE_MIB, clusterSum * PAGE_MIB];
}

function exec(cmd: string, args: string[], o: ExecOpts = {}): Promise<Exec> {
  if (interrupted && !o.cleanup) return Promise.reject(new Error("interrupted"));
  const t0 = process.hrtime.bigint();
  const child = spawn(cmd, args, { cwd: ROOT, env: o.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  if (!o.cleanup) current = child;
  let out = "";
  const peak = [0, 0, 0, 0];
  const take = (d: Buffer) => ((out += d.toString()), o.echo && process.stderr.write(d));
  child.stdout.on("data", take);
  child.stderr.on("data", take);
  const sample = () => {
    const now = treeRss(child.pid ?? -1);
    [...now, now[0] + now[2]].forEach((v, i) => (peak[i] = Math.max(peak[i], v)));
  };
  const timer = o.rss ? setInterval(sample, 250) : undefined;
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearInterval(timer);
      if (current === child) current = undefined;
      const wallS = Number(process.hrtime.bigint() - t0) / 1e9;
      const [peakTreeRssMiB, maxProcRssMiB, peakClusterRssMiB, peakTotalRssMiB] = peak;
      resolve({
        code: code ?? 1,
        wallS,
        out,
        peakTreeRssMiB,
        maxProcRssMiB,
        peakClusterRssMiB,
        peakTotalRssMiB,
      });
    });
  });
}

function must(e: Exec, what: string): Exec {
  if (e.code === 0) return e;
  throw new Error(`${what} exited ${e.code}:\n${e.out.trim().split("\n").slice(-15).join("\n")}`);
}

// Each measurement fills in `f` as it goes, so a failure keeps the figures measured before it.
async function setupWarm(f: Figures): Promise<void> {
  f["setup.warm"] = must(await exec("bash", ["scripts/setup-local.sh"]), "setup").wallS;
}

/**
 * setup-local.sh with empty LAB_CACHE_DIR, GOCACHE, GOMODCACHE, PULUMI_HOME, DOCKER_CONFIG (apt stays),
 * base images pushed to `bench-<id>/node`, so the shared lab/node tags stay as they are.
 */
async function setupCold(f: Figures, pristine: NodeJS.ProcessEnv, ctx: LabCtx, pushed: Pushed[]) {
  const [repo, bin] = [`${ctx.attendee}/node`, path.join(labCacheDir(pristine), "bin")];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cold-"));
  const registry = process.env.LAB_REGISTRY ?? "127.0.0.1:5000";
  const tags = ["18-bookworm", "18-bookworm-npm"];
  const env: NodeJS.ProcessEnv = { ...pristine, LAB_REGISTRY: registry };
  [env.LAB_BASE_IMAGE, env.LAB_BUILD_IMAGE] = tags.map((t) => `${registry}/${repo}:${t}`);
  const entries = (pristine.PATH ?? "").split(":");
  env.PATH = entries.filter((p) => p !== bin).join(":");
  for (const k of ["BUILDKIT_HOST", "BUILDX_BUILDER", "BUILDX_CONFIG", "LAB_BUILDER"]) delete env[k];
  for (const k of ["LAB_CACHE_DIR", "GOCACHE", "GOMODCACHE", "PULUMI_HOME", "DOCKER_CONFIG"])
    env[k] = `${dir}/${k}`;
  try {
    const e = await exec("bash", ["scripts/setup-local.sh"], { env, echo: true });
    f["setup.cold"] = must(e, "cold setup").wallS;
  } finally {
    // dockerd and the registry were up already, so reused; only this run's buildkitd has a pid file.
    await exec("bash", ["scripts/setup/docker-stop.sh"], { env, cleanup: true });
    fs.rmSync(dir, { recursive: true, force: true });
    for (const t of tags) {
      const url = `http://${registry}/v2/${repo}/manifests/${t}`;
      const got = await fetch(url, { headers: { Accept: ACCEPT } });
      const digest = got.headers.get("docker-content-digest");
      if (got.ok && digest) pushed.push({ repo, digest }); // deleted by deletePushed
    }
  }
}

/** app/ built and pushed like the local target: BuildKit cache pruned, then unchanged; multi vs single. */
async function images(f: Figures, id: string, tmp: string, pushed: Pushed[]): Promise<void> {
  const { LAB_REGISTRY, LAB_BASE_IMAGE, LAB_BUILD_IMAGE, BUILDX_BUILDER } = process.env;
  const repo = `bench-${id}/hello`;
  const build = async (tag: string, platforms: string): Promise<number> => {
    const meta = path.join(tmp, `${tag}.json`);
    const output = `type=image,name=${LAB_REGISTRY}/${repo}:${tag},push=true,registry.insecure=true`;
    const args = ["buildx", "build", "--builder", BUILDX_BUILDER ?? "lab", "--platform", platforms];
    args.push("--build-arg", `BASE_IMAGE=${LAB_BASE_IMAGE}`, "--build-arg", `BUILD_IMAGE=${LAB_BUILD_IMAGE}`);
    args.push("--provenance=false", "--metadata-file", meta, "--output", output, "app");
    const e = must(await exec("docker", args), `docker buildx build (${platforms})`);
    pushed.push({ repo, digest: JSON.parse(fs.readFileSync(meta, "utf8"))["containerimage.digest"] });
    return e.wallS;
  };
  const variants = { multi: "linux/amd64,linux/arm64", single: "linux/amd64" };
  for (const [name, platforms] of Object.entries(variants)) {
    must(await exec("buildctl", ["prune", "--all"]), "buildctl prune --all");
    f[`image.${name}.cold`] = await build(name, platforms);
    f[`image.${name}.nochange`] = await build(name, platforms);
  }
}

/** Deletes each pushed manifest and those its index lists (404: gone already). */
async function deletePushed(registry: string, pushed: Pushed[]): Promise<void> {
  for (const p of pushed.filter((p, i) => pushed.findIndex((q) => q.digest === p.digest) === i)) {
    const base = `http://${registry}/v2/${p.repo}/manifests/`;
    const got = await fetch(base + p.digest, { headers: { Accept: ACCEPT } });
    const body = got.ok ? ((await got.json()) as { manifests?: { digest: string }[] }) : {};
    for (const d of [p.digest, ...(body.manifests ?? []).map((m) => m.digest)]) {
      const del = await fetch(base + d, { method: "DELETE" });
      if (![202, 404].includes(del.status)) warn(`DELETE ${p.repo}@${d}: HTTP ${del.status}`);
    }
  }
}

function labArgs(cmd: string, c: LabCtx): string[] {
  const backend = `--backend=file://${c.dir}/state`;
  return ["bin/lab.js", cmd, "--target=local", `--attendees=${c.attendee}`, backend];
}

/**
 * One driver command; figures `<name>.`: wall, the step(s) from --report, preview and the cluster's
 * start and stop (progress lines), RSS.
 */
async function lab(step: string, ctx: LabCtx): Promise<Figures> {
  const [name, cmd] = [`lab.${step}`, step === "upNoChange" ? "up" : (step as "up" | "destroy" | "run")];
  const file = path.join(ctx.dir, `${step}.json`);
  ctx.live = true;
  const args = [...labArgs(cmd, ctx), "--report", file];
  const e = must(await exec(process.execPath, args, { rss: true }), `lab ${cmd}`);
  const r = (JSON.parse(fs.readFileSync(file, "utf8")) as RunReport).labs[0];
  ctx.live = r.holdsResources;
  const f: Figures = { [`${name}.wall`]: e.wallS };
  for (const k of ["peakTreeRssMiB", "maxProcRssMiB", "peakClusterRssMiB", "peakTotalRssMiB"] as const)
    f[`${name}.${k}`] = e[k];
  const preview = /preview took (\d+)s/.exec(e.out); // 1 s resolution
  if (preview) f[`${name}.preview`] = Number(preview[1]);
  const start = /local cluster: started in ([\d.]+) s/.exec(e.out);
  if (start) f[`${name}.clusterStart`] = Number(start[1]);
  const stop = /local cluster: stopped in ([\d.]+) s/.exec(e.out);
  if (stop) f[`${name}.clusterStop`] = Number(stop[1]);
  for (const s of cmd === "run" ? (["up", "verify", "destroy"] as const) : [cmd])
    f[`${name}.${s}`] = ((r[s] as StepResult | undefined)?.durationMs ?? NaN) / 1000;
  return f;
}

/** `lab run` (up, verify, destroy), then `lab up` twice (the second changes nothing) and `lab destroy`. */
async function lifecycle(f: Figures, ctx: LabCtx): Promise<void> {
  for (const name of ["run", "up", "upNoChange", "destroy"]) Object.assign(f, await lab(name, ctx));
}

type Summary = { unit: string; values: number[]; min: number; median: number; max: number };
function summarize(all: Figures[]): Record<string, Summary> {
  const out: Record<string, Summary> = {};
  for (const k of [...new Set(all.flatMap((f) => Object.keys(f)))]) {
    const values = all.filter((f) => k in f).map((f) => Math.round(f[k] * 100) / 100);
    const s = [...values].sort((a, b) => a - b);
    const mid = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    const median = Math.round(mid * 100) / 100;
    out[k] = { unit: k.endsWith("MiB") ? "MiB" : "s", values, min: s[0], median, max: s[s.length - 1] };
  }
  return out;
}

async function main(): Promise<number> {
  const flags = { repeat: { type: "string", default: "1" }, "cold-setup": { type: "boolean" } } as const;
  const { values: o } = parseArgs({ options: { ...flags, "dry-run": { type: "boolean" } } });
  const repeat = Number(o.repeat);
  if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`--repeat ${o.repeat}: not a count`);
  const pristine = { ...process.env };
  const t = loadToolchain(process.env);
  if (!t.loaded) throw new Error(`${t.file} not found: run npm run setup:local first`);
  process.env.PULUMI_CONFIG_PASSPHRASE ??= "bench";
  warn(`${repeat} × [setup warm, images (BuildKit cache pruned), lab run + up + up (no change) + destroy]`);
  if (o["cold-setup"]) warn("then setup cold, once. WARNING: it takes ~25 min and ~11 GB in $TMPDIR");
  if (o["dry-run"]) return 0;

  const id = Math.random().toString(36).slice(2, 8);
  const dir = fs.mkdtempSync(`${os.tmpdir()}/lab-bench-`);
  const ctx: LabCtx = { attendee: `bench-${id}`, dir, live: false };
  fs.mkdirSync(path.join(ctx.dir, "state"));
  const pushed: Pushed[] = [];
  const runs: Figures[] = [];
  const startedAt = new Date().toISOString();
  const load = [os.loadavg()[0]];
  let failed = false;
  try {
    for (let i = 0; i < repeat; i++) {
      warn(`run ${i + 1}/${repeat}`);
      const f: Figures = {};
      runs.push(f);
      await setupWarm(f);
      await images(f, id, dir, pushed);
      await lifecycle(f, ctx);
    }
    if (o["cold-setup"]) await setupCold(runs[0], pristine, ctx, pushed);
  } catch (e) {
    failed = true;
    warn(errorMessage(e));
  } finally {
    if (ctx.live) await exec(process.execPath, labArgs("destroy", ctx), { cleanup: true, echo: true });
    const registry = process.env.LAB_REGISTRY ?? "127.0.0.1:5000";
    await deletePushed(registry, pushed).catch((e) => warn(`registry cleanup: ${e}`));
    fs.rmSync(dir, { recursive: true, force: true });
    const log = path.join(ROOT, ".lab-logs", `lab-${ctx.attendee}.log`);
    if (failed) warn(`the driver's log is kept: ${log}`);
    else fs.rmSync(log, { force: true });
  }
  load.push(os.loadavg()[0]);

  const figures = summarize(runs);
  const result = {
    startedAt,
    finishedAt: new Date().toISOString(),
    commit: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).stdout.toString().trim(),
    machine: { cpus: os.cpus().length, memGiB: Math.round(os.totalmem() / 2 ** 30), kernel: os.release() },
    loadavg1: load,
    repeat,
    complete: !failed,
    figures,
  };
  const rows = Object.entries(figures).map(([k, v]) => [k, v.unit, v.median, v.min, v.max].map(String));
  const line = (r: string[]) => r[0].padEnd(34) + r.map((c, i) => (i ? c.padStart(9) : "")).join("");
  process.stderr.write([["figure", "unit", "median", "min", "max"], ...rows].map(line).join("\n") + "\n");
  const json = `${JSON.stringify(result, null, 2)}\n`;
  fs.mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
  fs.writeFileSync(path.join(ROOT, "bench/results", `${startedAt.replace(/[:.]/g, "-")}.json`), json);
  process.stdout.write(json);
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => (warn(errorMessage(e)), process.exit(2)),
);
