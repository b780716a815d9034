// End to end, for real: `lab audit --kubeconfig` on the cluster setup:local built (an amd64 node
// and an emulated arm64 node). The test copies the setup's multi-arch base image into a repository
// of its own in the loopback registry (as an index, and its amd64 manifest alone as a
// single-platform image), runs four Deployments in a fresh namespace, then audits:
//   multi   the index, no constraint                                  → ok
//   pinned  the amd64-only image, nodeSelector kubernetes.io/arch=amd64 → ok
//   loose   the amd64-only image, only preferring amd64               → at risk (can land on arm64)
//   wrong   the amd64-only image, nodeSelector kubernetes.io/arch=arm64 → broken (it is there now)
// The namespace and the copied images are deleted at the end; a cluster the test started is stopped.
// Needs `npm run setup:local` first; nothing here is mocked.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LOCAL_BASE_IMAGE } from "../../infra/config";
import { clusterProcesses, kubeDir } from "../../automation/local/cluster";
import { labCacheDir } from "../../automation/local/toolchain";
import { MANIFEST_TYPES } from "../../automation/verify/registry";

const ROOT = path.resolve(__dirname, "../..");
const CACHE = labCacheDir(process.env);
const REGISTRY = "127.0.0.1:5000";
const ACCEPT = Object.values(MANIFEST_TYPES).join(", ");

function kubeconfigPath(): string {
  const env = JSON.parse(fs.readFileSync(path.join(CACHE, "env.json"), "utf8")).env as Record<string, string>;
  const file = process.env.LAB_KUBECONFIG ?? env.LAB_KUBECONFIG;
  if (!file) throw new Error("env.json has no LAB_KUBECONFIG: run `npm run setup:local` first");
  return file;
}

function kubectlRun(args: string[], input?: string): ReturnType<typeof spawnSync> {
  const bin = path.join(kubeDir(process.env), "bin", "kubectl");
  return spawnSync(fs.existsSync(bin) ? bin : "kubectl", ["--kubeconfig", kubeconfigPath(), ...args], {
    encoding: "utf8",
    input,
  });
}

function kubectl(args: string[], input?: string): string {
  const r = kubectlRun(args, input);
  assert.equal(r.status, 0, `kubectl ${args.join(" ")}: ${r.stderr}`);
  return String(r.stdout);
}

function setupScript(name: string, ...args: string[]): void {
  const r = spawnSync("bash", [path.join(ROOT, "scripts", "setup", name), ...args], {
    encoding: "utf8",
    env: { ...process.env, LAB_SETUP_VERIFY: "0" },
  });
  assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
}

interface Manifest {
  mediaType: string;
  body: Buffer;
  digest: string;
}

async function getManifest(repo: string, ref: string): Promise<Manifest> {
  const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${ref}`, { headers: { accept: ACCEPT } });
  assert.equal(res.status, 200, `GET ${repo}:${ref}: HTTP ${res.status}`);
  const body = Buffer.from(await res.arrayBuffer());
  const mediaType = (res.headers.get("content-type") ?? "").split(";")[0];
  return { mediaType, body, digest: `sha256:${createHash("sha256").update(body).digest("hex")}` };
}

async function putManifest(repo: string, ref: string, m: Manifest): Promise<void> {
  const res = await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${ref}`, {
    method: "PUT",
    headers: { "content-type": m.mediaType },
    body: m.body,
  });
  assert.equal(res.status, 201, `PUT ${repo}:${ref}: HTTP ${res.status} ${await res.text()}`);
}

/** Copies one platform manifest and its blobs (cross-repository mounts: no data moves). */
async function copyPlatform(from: string, digest: string, to: string): Promise<Manifest> {
  const m = await getManifest(from, digest);
  const parsed = JSON.parse(m.body.toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  for (const blob of [parsed.config, ...parsed.layers]) {
    const res = await fetch(`http://${REGISTRY}/v2/${to}/blobs/uploads/?mount=${blob.digest}&from=${from}`, {
      method: "POST",
    });
    assert.equal(res.status, 201, `mount ${blob.digest} from ${from} into ${to}: HTTP ${res.status}`);
  }
  await putManifest(to, digest, m);
  return m;
}

interface Report {
  exitCode: number;
  clusters: {
    error?: string;
    images: {
      image: string;
      index?: boolean;
      platforms?: string[];
      error?: string;
      workloads: { namespace: string; name: string; verdict: string; runsOn: string[]; canRunOn: string[] }[];
    }[];
    workloads: { namespace: string; kind: string; name: string; verdict: string }[];
  }[];
}

function audit(dir: string, ...args: string[]): { code: number; out: string; report: Report } {
  const reportFile = path.join(dir, `audit-${args.length}.json`);
  const r = spawnSync(
    process.execPath,
    [
      path.join(ROOT, "bin/lab.js"),
      "audit",
      "--kubeconfig",
      kubeconfigPath(),
      ...args,
      "--report",
      reportFile,
    ],
    { cwd: ROOT, encoding: "utf8", env: { ...process.env, CI: "true" } },
  );
  const out = `${r.stdout}${r.stderr}`;
  assert.ok(fs.existsSync(reportFile), `lab audit exited ${r.status} without a report:\n${out}`);
  return { code: r.status ?? -1, out, report: JSON.parse(fs.readFileSync(reportFile, "utf8")) };
}

function deployment(name: string, image: string, spec: Record<string, unknown>): object {
  const labels = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 0,
          containers: [{ name: "main", image, command: ["sleep", "infinity"] }],
          ...spec,
        },
      },
    },
  };
}

describe("e2e: lab audit on the local cluster", function () {
  const suffix = Math.random().toString(36).slice(2, 6);
  const ns = `audit-e2e-${suffix}`;
  const repo = `audit-e2e-${suffix}/node`;
  const copied: string[] = [];
  let startedCluster = false;
  let dir: string;

  before(async function () {
    const envJson = path.join(CACHE, "env.json");
    if (!fs.existsSync(envJson)) throw new Error(`${envJson} is missing: run \`npm run setup:local\` first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-e2e-audit-"));
    // A cluster someone runs is joined and left running; otherwise the test runs it, as a user would.
    startedCluster = clusterProcesses(process.env).length === 0;
    setupScript("kube.sh");
  });

  after(async function () {
    try {
      if (dir) fs.rmSync(dir, { recursive: true, force: true });
      // Cleanup goes on whatever happened: the namespace (its pods with it), then the copies.
      const del = kubectlRun([
        "delete",
        "namespace",
        ns,
        "--ignore-not-found",
        "--wait=true",
        "--timeout=120s",
      ]);
      if (del.status !== 0) console.error(`could not delete namespace ${ns}: ${del.stderr}`);
      for (const digest of copied.reverse()) {
        await fetch(`http://${REGISTRY}/v2/${repo}/manifests/${digest}`, { method: "DELETE" });
      }
    } finally {
      // It started the cluster, so it stops it, whatever a failure left in it.
      if (startedCluster) setupScript("kube-stop.sh");
    }
  });

  it("multi-arch ok, pinned ok, can-land-on-arm64 at risk, running-on-arm64 broken; exit 1", async () => {
    // The setup's base image: an index with linux/amd64 and linux/arm64.
    const [baseRepo, baseTag] = LOCAL_BASE_IMAGE.split(":");
    const base = await getManifest(baseRepo, baseTag);
    const entries = (
      JSON.parse(base.body.toString()) as {
        manifests: { digest: string; platform?: { os: string; architecture: string } }[];
      }
    ).manifests;
    for (const e of entries) copied.push((await copyPlatform(baseRepo, e.digest, repo)).digest);
    await putManifest(repo, "multi", base);
    copied.push(base.digest);
    const amd = entries.find((e) => e.platform?.os === "linux" && e.platform.architecture === "amd64");
    assert.ok(amd, `${LOCAL_BASE_IMAGE} has no linux/amd64 manifest`);
    await putManifest(repo, "amd64-only", await getManifest(repo, amd.digest));
    const multi = `${REGISTRY}/${repo}:multi`;
    const single = `${REGISTRY}/${repo}:amd64-only`;

    kubectl(["create", "namespace", ns]);
    const arch = (a: string) => ({ nodeSelector: { "kubernetes.io/arch": a } });
    const preferAmd = {
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              preference: {
                matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }],
              },
            },
          ],
        },
      },
    };
    const items = [
      deployment("multi", multi, {}),
      deployment("pinned", single, arch("amd64")),
      deployment("loose", single, preferAmd),
      deployment("wrong", single, arch("arm64")),
    ];
    kubectl(["apply", "-n", ns, "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items }));

    // Scheduled is enough: the verdicts rest on where pods are and can be, not on their start.
    const deadline = Date.now() + 180_000;
    let placed: Record<string, string> = {};
    for (;;) {
      const pods = JSON.parse(kubectl(["get", "pods", "-n", ns, "-o", "json"])) as {
        items: { metadata: { labels: { app: string } }; spec: { nodeName?: string } }[];
      };
      placed = Object.fromEntries(
        pods.items
          .filter((p) => p.spec.nodeName)
          .map((p) => [p.metadata.labels.app, p.spec.nodeName as string]),
      );
      if (Object.keys(placed).length === 4 && pods.items.length === 4) break;
      assert.ok(Date.now() < deadline, `pods not all scheduled after 180 s: ${JSON.stringify(placed)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const nodes = JSON.parse(kubectl(["get", "nodes", "-o", "json"])) as {
      items: { metadata: { name: string; labels: Record<string, string> } }[];
    };
    const archOf = (n: string) =>
      nodes.items.find((x) => x.metadata.name === n)?.metadata.labels["kubernetes.io/arch"];
    assert.equal(archOf(placed.wrong), "arm64");
    assert.equal(
      archOf(placed.loose),
      "amd64",
      "the scheduler did not follow the amd64 preference; `loose` would be broken",
    );

    const { code, out, report } = audit(dir, "--namespace", ns);
    assert.equal(code, 1, out);
    assert.equal(report.exitCode, 1);
    const [c] = report.clusters;
    assert.equal(c.error, undefined, c.error);
    const verdicts = Object.fromEntries(c.workloads.map((w) => [`${w.kind}/${w.name}`, w.verdict]));
    assert.deepEqual(verdicts, {
      "Deployment/loose": "at risk",
      "Deployment/multi": "ok",
      "Deployment/pinned": "ok",
      "Deployment/wrong": "broken",
    });
    const img = Object.fromEntries(c.images.map((i) => [i.image, i]));
    assert.equal(img[multi].error, undefined, img[multi].error);
    assert.equal(img[multi].index, true);
    assert.deepEqual([...(img[multi].platforms ?? [])].sort(), ["linux/amd64", "linux/arm64"]);
    assert.equal(img[single].error, undefined, img[single].error);
    assert.equal(img[single].index, false);
    assert.deepEqual(img[single].platforms, ["linux/amd64"]);
    const use = Object.fromEntries(img[single].workloads.map((w) => [w.name, w]));
    assert.deepEqual(
      [use.loose.runsOn, use.loose.canRunOn],
      [["linux/amd64"], ["linux/amd64", "linux/arm64"]],
    );
    assert.deepEqual([use.wrong.runsOn, use.wrong.canRunOn], [["linux/arm64"], ["linux/arm64"]]);
    assert.deepEqual([use.pinned.runsOn, use.pinned.canRunOn], [["linux/amd64"], ["linux/amd64"]]);
    assert.match(out, /^cluster .*: 2 nodes \(1 amd64, 1 arm64\)/m);
    assert.match(
      out,
      new RegExp(`broken: ${ns}/Deployment/wrong \\(${single.replace(/[.]/g, "\\.")}\\): runs on arm64`),
    );
    assert.match(out, /^4 workloads: 2 ok, 1 at risk, 1 broken, 0 unknown$/m);

    // The whole cluster: the same verdicts for these workloads among everything else that runs.
    const all = audit(dir);
    assert.equal(all.code, 1, all.out);
    const ours = all.report.clusters[0].workloads.filter((w) => w.namespace === ns);
    assert.deepEqual(Object.fromEntries(ours.map((w) => [w.name, w.verdict])), {
      loose: "at risk",
      multi: "ok",
      pinned: "ok",
      wrong: "broken",
    });
  });
});
