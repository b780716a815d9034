// What the end-to-end tests share: the real CLI run as a user runs it, and the checks that nothing
// of a lab is left (stack, registry tag, namespace, cluster process, verify container).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { clusterProcesses as ownClusterProcesses, kubeDir } from "../../automation/local/cluster";
import { labCacheDir } from "../../automation/local/toolchain";
import { labRepositories, registryTags } from "../../automation/local/sweep";
import { FOUNDATION } from "../../automation/lifecycle/foundation";
import { labNames } from "../../infra/names";

export const ROOT = path.resolve(__dirname, "../..");
export const CACHE = labCacheDir(process.env);
export const REGISTRY = "127.0.0.1:5000";

export const KUBE_DIR = kubeDir(process.env);

/** The cluster setup:local built, as env.json records it. */
export function kubeconfigPath(): string {
  const env = JSON.parse(fs.readFileSync(path.join(CACHE, "env.json"), "utf8")).env as Record<string, string>;
  const file = process.env.LAB_KUBECONFIG ?? env.LAB_KUBECONFIG;
  if (!file) throw new Error("env.json has no LAB_KUBECONFIG: run `npm run setup:local` first");
  return file;
}

export function kubectl(...args: string[]): string {
  const bin = path.join(KUBE_DIR, "bin", "kubectl");
  const r = spawnSync(fs.existsSync(bin) ? bin : "kubectl", ["--kubeconfig", kubeconfigPath(), ...args], {
    encoding: "utf8",
  });
  assert.equal(r.status, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The lab's own cluster's processes still running, as "<pid> <command line>". */
export function clusterProcesses(): string[] {
  return ownClusterProcesses(process.env).map((p) => `${p.pid} ${p.cmd}`);
}

/** The setup scripts, as a user would run them (the joined-cluster test runs the cluster itself). */
export function setupScript(name: string, ...args: string[]): void {
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "setup", name), ...args], {
    encoding: "utf8",
    env: { ...process.env, LAB_SETUP_VERIFY: "0" },
  });
  assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
}

/**
 * Each e2e file starts from a stopped cluster, as setup:local leaves it, and leaves it stopped
 * whatever failed: a cluster that one file's failure left running (a lab namespace keeps
 * `kube-stop.sh --if-unused` from stopping it) would otherwise fail every file after it.
 */
export function fromAStoppedCluster(): void {
  before(function () {
    const envJson = path.join(CACHE, "env.json");
    if (!fs.existsSync(envJson)) throw new Error(`${envJson} is missing: run \`npm run setup:local\` first`);
    kubeconfigPath();
    assert.deepEqual(clusterProcesses(), [], "the cluster runs before the tests: stop it with kube-stop.sh");
  });
  after(function () {
    if (clusterProcesses().length === 0) return;
    console.error(
      "      the cluster was left running: stopping it (kube-stop.sh), so the next file starts clean",
    );
    setupScript("kube-stop.sh");
  });
}

/** Namespaces of these labs still in the cluster (any phase, Terminating included). */
export function labNamespaces(attendees: string[]): string[] {
  const names = kubectl("get", "ns", "-o", "jsonpath={.items[*].metadata.name}").split(/\s+/);
  return attendees.map((a) => `lab-${a}`).filter((n) => names.includes(n));
}

export interface Check {
  name: string;
  status: string;
  summary: string;
  evidence: Record<string, unknown>;
}
export interface Report {
  passed: boolean;
  interrupted: boolean;
  exitCode: number;
  labs: {
    attendee: string;
    stack: string;
    passed: boolean;
    holdsResources: boolean;
    up?: { status: string; error?: string };
    verify?: { status: string; checks: Check[] };
    destroy?: { status: string; attempts?: number };
  }[];
  /** The workshop foundation's steps (up before the labs, destroy after them). */
  foundation?: {
    stack: string;
    passed: boolean;
    up?: { status: string; error?: string };
    destroy?: { status: string };
  };
}

/** A fresh temporary directory for each test (its backend and report), removed after it. */
export function freshDirEach(prefix: string): () => string {
  let dir = "";
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  return () => dir;
}

/** One lab's verify checks in a report, by name. */
export function checksOf(report: Report, attendee: string): Record<string, Check> {
  const l = report.labs.find((x) => x.attendee === attendee);
  assert.ok(l, `no lab ${attendee} in the report`);
  return Object.fromEntries((l.verify?.checks ?? []).map((c) => [c.name, c]));
}

/**
 * Runs the real CLI; resolves with its exit code, output and JSON report. `onOutput` sees the
 * output so far (and the child), e.g. to send a signal at a given phase.
 */
export function lab(
  args: string[],
  dir: string,
  onOutput?: (out: string, child: ReturnType<typeof spawn>) => void,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; out: string; report: Report }> {
  const reportFile = path.join(dir, "report.json");
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "bin/lab.js"), ...args, "--backend", `file://${dir}/state`, "--report", reportFile],
    { cwd: ROOT, env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "e2e", CI: "true", ...env } },
  );
  let out = "";
  const collect = (c: Buffer) => {
    out += String(c);
    onOutput?.(out, child);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      try {
        resolve({ code: code ?? -1, out, report: JSON.parse(fs.readFileSync(reportFile, "utf8")) });
      } catch (err) {
        reject(new Error(`lab exited ${code} without a report: ${err}\n${out}`));
      }
    });
  });
}

/** Runs the real CLI without a report (commands that write none, e.g. handout). */
export function labPlain(args: string[], dir: string): { code: number; out: string } {
  const r = spawnSync(
    process.execPath,
    [path.join(ROOT, "bin/lab.js"), ...args, "--backend", `file://${dir}/state`],
    {
      cwd: ROOT,
      env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "e2e", CI: "true" },
      encoding: "utf8",
    },
  );
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

/** Stacks the file backend still has (the engine keeps `.bak` copies of removed ones). */
export function stacksIn(dir: string): string[] {
  const stacks = path.join(dir, "state", ".pulumi", "stacks");
  if (!fs.existsSync(stacks)) return [];
  return fs
    .readdirSync(stacks, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".json"));
}

/** Image tags left in the repositories of a lab or a foundation (`<base>/<service>`, any service). */
export async function imageTagsLeft(workshop: string, attendee: string): Promise<string[]> {
  const left: string[] = [];
  for (const repo of await labRepositories(REGISTRY, labNames({ workshop, attendee }).base))
    for (const tag of await registryTags(REGISTRY, repo)) left.push(`${repo}:${tag}`);
  return left;
}

export function verifyContainers(): string[] {
  const ps = spawnSync("docker", ["ps", "-aq", "--filter", "name=lab-verify-"], { encoding: "utf8" });
  assert.equal(ps.status, 0, ps.stderr);
  return ps.stdout.split("\n").filter(Boolean);
}

/**
 * Nothing of these labs is left: no stack, no image in the registry, no verify container, and
 * either no cluster process at all (the lab's own cluster, `stopped`) or, in a cluster the lab
 * only joined, no namespace (hence no pod) of theirs.
 */
export async function assertNothingLeft(
  dir: string,
  attendees: string[],
  cluster: "stopped" | "joined" = "stopped",
  workshop = "lab",
): Promise<void> {
  assert.deepEqual(stacksIn(dir), [], "stacks left in the backend");
  // The workshop's one image lives in its foundation's repository (the build cache tag stays).
  assert.deepEqual(
    await imageTagsLeft(workshop, FOUNDATION),
    [],
    "image tags left in the foundation's repositories",
  );
  if (cluster === "stopped") assert.deepEqual(clusterProcesses(), [], "cluster processes left");
  else assert.deepEqual(labNamespaces(attendees), [], "lab namespaces left in the cluster");
  for (const a of attendees)
    assert.deepEqual(await imageTagsLeft(workshop, a), [], `image tags of ${a} still in the registry`);
  assert.deepEqual(verifyContainers(), [], "verify containers left");
}
