// End to end, for real: the `lab` driver starts the lab's own cluster that setup:local built (an
// amd64 node and an emulated arm64 node), runs the Pulumi engine (file backend), the docker-build provider builds app/
// for linux/amd64 + linux/arm64 with BuildKit and pushes the index to the loopback registry, the
// kubernetes provider runs the app on the cluster, verify runs each variant (arm64 under QEMU) and
// checks nodes, pods and real HTTP through the NodePort, destroy removes it all (namespace
// included), and the driver stops the cluster once no lab is left in it.
// Needs `npm run setup:local` first (CI runs it); nothing here is mocked.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  fromAStoppedCluster,
  CACHE,
  REGISTRY,
  ROOT,
  assertNothingLeft,
  clusterProcesses,
  kubeconfigPath,
  kubectl,
  lab,
  labNamespaces,
  setupScript,
} from "./support";

describe("e2e: the local target through the real engine", function () {
  const suffix = Math.random().toString(36).slice(2, 6);
  let dir: string;

  fromAStoppedCluster();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-e2e-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("run: two attendees build, push, run on the cluster, verify and leave nothing", async () => {
    const attendees = [`e2e-${suffix}-a`, `e2e-${suffix}-b`];
    const { code, out, report } = await lab(
      ["run", "--target", "local", "--attendees", attendees.join(",")],
      dir,
    );
    assert.equal(code, 0, out);
    assert.equal(report.passed, true);
    assert.deepEqual(report.labs.map((l) => l.attendee).sort(), attendees);
    for (const l of report.labs) {
      assert.equal(l.up?.status, "passed", `${l.attendee} up`);
      assert.equal(l.destroy?.status, "passed", `${l.attendee} destroy`);
      assert.equal(l.holdsResources, false);
      const checks = Object.fromEntries((l.verify?.checks ?? []).map((c) => [c.name, c]));
      assert.equal(checks.image.status, "passed", checks.image.summary);
      assert.deepEqual(checks.image.evidence.platforms, ["linux/amd64", "linux/arm64"]);
      assert.equal(checks.variants.status, "passed", checks.variants.summary);
      const answers = (
        checks.variants.evidence.variants as { platform: string; answer: { arch: string } }[]
      ).map((v) => [v.platform, v.answer.arch]);
      assert.deepEqual(answers, [
        ["linux/amd64", "x86_64"],
        ["linux/arm64", "aarch64"],
      ]);
      // The cluster has an amd64 node and an (emulated) arm64 node: spread lands on both, and
      // the answers through the NodePort come from both architectures.
      assert.equal(checks.nodes.status, "passed", checks.nodes.summary);
      assert.equal(checks.nodes.summary, "Ready nodes: 1 amd64, 1 arm64");
      assert.equal(checks.pods.status, "passed", checks.pods.summary);
      assert.equal(checks.pods.summary, "4/4 Ready, 2 on amd64, 2 on arm64 (placement spread)");
      assert.equal(checks.traffic.status, "passed", checks.traffic.summary);
      assert.match(
        checks.traffic.summary,
        /^40 answers: \d+ x86_64, \d+ aarch64, each matching its pod's node$/,
      );
      assert.match(String(checks.traffic.evidence.url), /^http:\/\/127\.0\.0\.1:3\d{4}\/hello$/);
      assert.equal(checks.traffic.evidence.mappedToNodes, true);
    }
    const urls = report.labs.map((l) => l.verify?.checks.find((c) => c.name === "traffic")?.evidence.url);
    assert.equal(new Set(urls).size, 2, "each lab has its own NodePort");
    await assertNothingLeft(dir, attendees);
  });

  it("joins a cluster it is given (placement=amd64): pods and traffic pass; the cluster is left running", async () => {
    const attendee = `e2e-${suffix}-x`;
    // A cluster the user runs: the lab deploys to it but must neither start nor stop it.
    setupScript("kube.sh");
    try {
      const { code, out, report } = await lab(
        [
          "run",
          "--target",
          "local",
          "--attendees",
          attendee,
          "--config",
          `kubeconfig=${kubeconfigPath()}`,
          "--config",
          "placement=amd64",
          "--config",
          "replicas=2",
        ],
        dir,
      );
      assert.equal(code, 0, out);
      assert.doesNotMatch(out, /local cluster:/);
      const [l] = report.labs;
      const checks = Object.fromEntries((l.verify?.checks ?? []).map((c) => [c.name, c]));
      assert.equal(checks.nodes.status, "passed", checks.nodes.summary);
      assert.equal(checks.pods.status, "passed", checks.pods.summary);
      assert.match(checks.pods.summary, /^2\/2 Ready, 2 on amd64 \(placement amd64\)$/);
      assert.equal(checks.traffic.status, "passed", checks.traffic.summary);
      assert.match(checks.traffic.summary, /^40 answers: 40 x86_64, each matching its pod's node$/);
      assert.equal(l.destroy?.status, "passed");
      assert.notDeepEqual(clusterProcesses(), [], "the lab stopped a cluster it did not start");
      await assertNothingLeft(dir, [attendee], "joined");
    } finally {
      setupScript("kube-stop.sh");
    }
  });

  it("up keeps the cluster for its lab (verify still passes), destroy stops it", async () => {
    const attendee = `e2e-${suffix}-u`;
    const args = ["--target", "local", "--attendees", attendee, "--config", "placement=amd64"];
    const up = await lab(["up", ...args], dir);
    assert.equal(up.code, 0, up.out);
    assert.match(up.out, /local cluster: kept running: labs still in it: lab-e2e-/);
    assert.deepEqual(labNamespaces([attendee]), [`lab-${attendee}`]);
    // kube-score on the live objects (#11): no critical finding (the deliberate ones are warnings).
    const objects = kubectl("-n", `lab-${attendee}`, "get", "deploy,svc,pdb,networkpolicy", "-o", "yaml");
    const score = spawnSync(path.join(CACHE, "bin", "kube-score"), ["score", "--output-format", "ci", "-"], {
      input: objects,
      encoding: "utf8",
    });
    const critical = score.stdout.split("\n").filter((l) => l.startsWith("[CRITICAL]"));
    assert.deepEqual(critical, [], score.stdout + score.stderr);
    const verify = await lab(["verify", ...args], dir);
    assert.equal(verify.code, 0, verify.out);
    assert.match(verify.out, /local cluster: already running/);
    const destroy = await lab(["destroy", ...args], dir);
    assert.equal(destroy.code, 0, destroy.out);
    assert.match(destroy.out, /local cluster: stopped in /);
    await assertNothingLeft(dir, [attendee]);
  });

  it("placement=arm64 on an amd64-only cluster: pods cannot schedule, verify fails, destroy leaves nothing", async () => {
    const attendee = `e2e-${suffix}-p`;
    // The cluster without its arm64 node (kube.sh, started by the driver, reads this).
    const { code, out, report } = await lab(
      ["run", "--target", "local", "--attendees", attendee, "--config", "placement=arm64"],
      dir,
      undefined,
      { LAB_KUBE_ARM64_NODE: "0" },
    );
    assert.equal(code, 1, out);
    assert.equal(report.passed, false);
    const [l] = report.labs;
    assert.equal(l.up?.status, "passed");
    assert.equal(l.verify?.status, "failed");
    const checks = Object.fromEntries((l.verify?.checks ?? []).map((c) => [c.name, c]));
    assert.equal(checks.nodes.status, "skipped", checks.nodes.summary);
    assert.match(checks.nodes.summary, /^the cluster has no arm64 node \(Ready nodes: 1 amd64\)$/);
    assert.equal(checks.pods.status, "failed");
    assert.match(
      checks.pods.summary,
      /^0 of 4 replicas Ready; not Ready: .*\(Pending\).*\(the cluster has no arm64 node\)$/,
    );
    assert.equal(checks.traffic.status, "skipped");
    assert.equal(l.destroy?.status, "passed");
    assert.equal(l.holdsResources, false);
    await assertNothingLeft(dir, [attendee]);
  });

  it("a build that fails mid-way still ends with no stack and no resources", async () => {
    const attendee = `e2e-${suffix}-f`;
    // The runtime base image has no npm, so the build stage's `npm ci` fails after the pull.
    const noNpm = `${REGISTRY}/lab/node:18-bookworm`;
    const { code, out, report } = await lab(
      ["run", "--target", "local", "--attendees", attendee, "--config", `buildImage=${noNpm}`],
      dir,
    );
    assert.equal(code, 1, out);
    // The build is the foundation's: it fails there, the lab never starts, the foundation goes.
    assert.equal(report.foundation?.up?.status, "failed");
    assert.match(report.foundation?.up?.error ?? "", /npm/);
    assert.equal(report.foundation?.destroy?.status, "passed");
    const [l] = report.labs;
    assert.equal(l.up?.status, "skipped");
    assert.equal(l.holdsResources, false);
    await assertNothingLeft(dir, [attendee]);
  });

  it("SIGINT during up cancels the update, destroys, exits 1 and leaves nothing", async () => {
    const attendee = `e2e-${suffix}-s`;
    // The workshop's image is the foundation's (built once, before any attendee's lab).
    const engineLog = path.join(ROOT, ".lab-logs", "lab.foundation.log");
    const mark = fs.existsSync(engineLog) ? fs.statSync(engineLog).size : 0;
    let sent = false;
    // As a user pressing Ctrl+C while the engine is building the image.
    const poll = setInterval(() => {
      if (
        !sent &&
        fs.existsSync(engineLog) &&
        /image-build creating/.test(fs.readFileSync(engineLog, "utf8").slice(mark))
      ) {
        sent = true;
        child?.kill("SIGINT");
      }
    }, 50);
    let child: ReturnType<typeof spawn> | undefined;
    try {
      const { code, out, report } = await lab(
        ["run", "--target", "local", "--attendees", attendee, "--no-preview"],
        dir,
        (_text, c) => (child = c),
      );
      assert.ok(sent, `the build never started:\n${out}`);
      assert.equal(code, 1, out);
      assert.equal(report.interrupted, true);
      const [l] = report.labs;
      // The cancel came during the foundation's build: it is destroyed (it is new), and the lab
      // never started; whatever the engine did with the build, nothing is verified or kept.
      assert.equal(report.foundation?.destroy?.status, "passed", out);
      assert.notEqual(l.verify?.status, "passed");
      assert.equal(l.passed, false);
      assert.equal(l.holdsResources, false);
      await assertNothingLeft(dir, [attendee]);
    } finally {
      clearInterval(poll);
    }
  });
});
