// End to end, for real (#10 point 3 and 4): the local target takes the shared-cluster route. The
// foundation builds and pushes ONE index; three attendees deploy it in their own namespaces; the
// run ends with no stack, tag, namespace or cluster process left. Then the hand-out kubeconfig of
// one attendee acts in its own namespace and is refused everywhere else.
// Needs `npm run setup:local` first; run it under the machine-wide e2e lock.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { labNames } from "../../infra/names";
import {
  fromAStoppedCluster,
  KUBE_DIR,
  ROOT,
  assertNothingLeft,
  clusterProcesses,
  lab,
  labPlain,
} from "./support";

/**
 * How many image builds the engine ran, over these stacks' logs since `marks` (their sizes then).
 * One build is one Image resource that reached "created"; the engine tags each line of the build's
 * streamed output with that status too, so resources are counted, not lines.
 */
function builds(stacks: string[], marks: Record<string, number>): number {
  let n = 0;
  for (const s of stacks) {
    const file = path.join(ROOT, ".lab-logs", `${s}.log`);
    if (!fs.existsSync(file)) continue;
    const text = fs.readFileSync(file, "utf8").slice(marks[s] ?? 0);
    n += new Set([...text.matchAll(/docker-build:index:Image (\S+) created/g)].map((m) => m[1])).size;
  }
  return n;
}

function sizes(stacks: string[]): Record<string, number> {
  return Object.fromEntries(
    stacks.map((s) => {
      const file = path.join(ROOT, ".lab-logs", `${s}.log`);
      return [s, fs.existsSync(file) ? fs.statSync(file).size : 0];
    }),
  );
}

/** Namespaces labelled with this workshop, if the cluster runs (none when it is stopped). */
function labNamespacesOf(workshop: string): string[] {
  if (clusterProcesses().length === 0) return [];
  const r = spawnSync(
    path.join(KUBE_DIR, "bin", "kubectl"),
    [
      "--kubeconfig",
      path.join(KUBE_DIR, "admin.kubeconfig"),
      "get",
      "ns",
      "-l",
      `workshop=${workshop}`,
      "-o",
      "name",
    ],
    { encoding: "utf8" },
  );
  return r.stdout.split("\n").filter(Boolean);
}

function kubectlAs(kubeconfig: string, ...args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(path.join(KUBE_DIR, "bin", "kubectl"), ["--kubeconfig", kubeconfig, ...args], {
    encoding: "utf8",
  });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}` };
}

describe("e2e: a local workshop (one foundation, attendees as tenants)", function () {
  const suffix = Math.random().toString(36).slice(2, 6);
  const prefix = `ws${suffix}`;
  let dir: string;

  fromAStoppedCluster();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-e2e-ws-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("one attendee, then three: one image build each time, every lab passes, nothing left", async () => {
    const figures: string[] = [];
    for (const attendees of [["solo"], ["a", "b", "c"]]) {
      const stacks = [`${prefix}.foundation`, ...attendees.map((a) => `${prefix}-${a}`)];
      const marks = sizes(stacks);
      const t0 = Date.now();
      const { code, out, report } = await lab(
        [
          "run",
          "--target",
          "local",
          "--stack-prefix",
          prefix,
          "--attendees",
          attendees.join(","),
          "--config",
          "placement=amd64",
          "--config",
          "replicas=1",
        ],
        dir,
      );
      const seconds = Math.round((Date.now() - t0) / 1000);
      assert.equal(code, 0, out);
      assert.equal(report.foundation?.up?.status, "passed", out);
      assert.equal(report.foundation?.destroy?.status, "passed", out);
      assert.deepEqual(
        report.labs.map((l) => l.passed),
        attendees.map(() => true),
      );
      const refs = report.labs.map((l) => l.verify?.checks.find((c) => c.name === "image")?.evidence.ref);
      assert.equal(new Set(refs).size, 1, `every lab runs the foundation's one image: ${refs.join(", ")}`);
      assert.equal(builds(stacks, marks), 1, "one image build for the whole workshop");
      figures.push(`${attendees.length} attendee(s): ${seconds} s, 1 image build`);
      await assertNothingLeft(dir, [], "stopped", prefix);
      assert.deepEqual(labNamespacesOf(prefix), [], "no namespace of the workshop left");
    }
    // The figures the closing note quotes (docs/BENCHMARKS.md).
    console.log(`      [figures] local workshop run: ${figures.join("; ")}`);
  });

  it("the hand-out kubeconfig acts in its attendee's namespace only", async () => {
    const args = [
      "--target",
      "local",
      "--stack-prefix",
      prefix,
      "--config",
      "placement=amd64",
      "--config",
      "replicas=1",
    ];
    const up = await lab(["up", ...args, "--attendees", "a,b"], dir);
    assert.equal(up.code, 0, up.out);
    try {
      const out = path.join(dir, "handouts");
      const h = labPlain(["handout", "--stack-prefix", prefix, "--attendees", "a", "--out", out], dir);
      assert.equal(h.code, 0, h.out);
      const kc = path.join(out, "a", "kubeconfig");
      assert.equal(fs.statSync(kc).mode & 0o777, 0o600);
      const own = kubectlAs(kc, "get", "pods", "-n", labNames({ workshop: prefix, attendee: "a" }).namespace);
      assert.ok(own.ok, own.out);
      const other = kubectlAs(
        kc,
        "get",
        "pods",
        "-n",
        labNames({ workshop: prefix, attendee: "b" }).namespace,
      );
      assert.ok(!other.ok && /forbidden/i.test(other.out), other.out);
      const nodes = kubectlAs(kc, "get", "nodes");
      assert.ok(!nodes.ok && /forbidden/i.test(nodes.out), nodes.out);
    } finally {
      const destroy = await lab(["destroy", ...args, "--attendees", "a,b"], dir);
      assert.equal(destroy.code, 0, destroy.out);
    }
  });
});
