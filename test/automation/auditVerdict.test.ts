// Verdicts per image and workload, the table and the JSON report, over plain cluster lists and
// manifests handed in (the registry side is tested against a real registry in auditRegistry.test.ts).
import assert from "node:assert/strict";
import { auditCluster } from "../../automation/audit";
import { ManifestDeps } from "../../automation/audit/manifest";
import { auditExitCode, auditReport, auditTable } from "../../automation/audit/report";
import { ImageManifest, PodPlacement, emptyCounts } from "../../automation/audit/types";
import { judge } from "../../automation/audit/verdict";
import { ManifestResponse } from "../../automation/verify/registry";
import { AMD, archAffinity, lists, node, pod, replicaSet } from "./support/auditFixtures";

const multi: ImageManifest = {
  image: "r.test/app:1",
  index: true,
  platforms: ["linux/amd64", "linux/arm64/v8"],
};
const amdOnly: ImageManifest = { image: "r.test/app:amd", index: false, platforms: ["linux/amd64"] };
const at = (platform: string | undefined, schedulable: string[], name = "p"): PodPlacement => ({
  name,
  node: platform ? `${platform.split("/")[1]}-node` : undefined,
  platform,
  schedulable,
  excluded: [],
});

describe("audit: verdicts", () => {
  it("ok: the image has every platform the pods run on or can land on (variants ignored)", () => {
    const j = judge(multi, [at("linux/arm64", ["linux/amd64", "linux/arm64"])]);
    assert.equal(j.verdict, "ok");
    assert.equal(j.reason, "the index has every platform it can land on (amd64, arm64)");
    assert.equal(judge(amdOnly, [at("linux/amd64", ["linux/amd64"])]).verdict, "ok");
  });

  it("at risk: a pod can be scheduled on a platform the image lacks, though none runs there", () => {
    const j = judge(amdOnly, [at("linux/amd64", ["linux/amd64", "linux/arm64"])]);
    assert.equal(j.verdict, "at risk");
    assert.equal(j.reason, "can be scheduled on arm64, but the single-platform image is amd64");
    assert.deepEqual([j.runsOn, j.canRunOn], [["linux/amd64"], ["linux/amd64", "linux/arm64"]]);
  });

  it("broken: a pod runs on a platform the image lacks (even when its spec pins it there)", () => {
    const j = judge(amdOnly, [
      at("linux/amd64", ["linux/amd64"], "a"),
      at("linux/arm64", ["linux/arm64"], "b"),
    ]);
    assert.equal(j.verdict, "broken");
    assert.equal(j.reason, "runs on arm64 (b on arm64-node), but the single-platform image is amd64");
  });

  it("a pending pod that could land on the missing platform is at risk, not broken", () => {
    assert.equal(judge(amdOnly, [at(undefined, ["linux/arm64"])]).verdict, "at risk");
  });

  it("unknown when the registry did not say; ok (with why) when no node can take the pods", () => {
    const j = judge({ image: "x", error: "registry unreachable: ECONNREFUSED" }, [at("linux/amd64", [])]);
    assert.deepEqual(
      [j.verdict, j.reason],
      ["unknown", "platforms unknown: registry unreachable: ECONNREFUSED"],
    );
    const none = judge(amdOnly, [at(undefined, [])]);
    assert.deepEqual(
      [none.verdict, none.reason],
      ["ok", "no node can take its pods (not an architecture problem)"],
    );
  });
});

/** Manifests from a table instead of a registry: what inspectImage would have made of them. */
function registryOf(images: Record<string, { index: boolean; archs: string[] } | "down">): ManifestDeps {
  return {
    credentialsFor: async () => ({ source: "anonymous" }),
    fetchManifest: async (name, reference): Promise<ManifestResponse> => {
      const img = images[`${name.registry}/${name.repository}:${reference}`];
      const url = `http://${name.registry}/v2/${name.repository}/manifests/${reference}`;
      if (img === "down" || !img) return { url, auth: "none", error: "ECONNREFUSED: connect ECONNREFUSED" };
      const body = img.index
        ? {
            mediaType: "application/vnd.oci.image.index.v1+json",
            manifests: img.archs.map((a) => ({ platform: { os: "linux", architecture: a } })),
          }
        : {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            config: { digest: `sha256:${img.archs[0]}` },
          };
      return { url, auth: "none", status: 200, body: JSON.stringify(body), digest: "sha256:d" };
    },
    fetchBlob: async (_name, digest) => ({
      url: "blob",
      auth: "none",
      status: 200,
      body: JSON.stringify({ os: "linux", architecture: digest.slice(7) }),
    }),
  };
}

describe("audit: one cluster, table and report", () => {
  const cluster = lists(
    [
      pod("multi-1-a", { owner: "multi-1", image: "r.test/multi:1", nodeName: "arm-1" }),
      pod("pinned-1-a", {
        owner: "pinned-1",
        image: "r.test/amd:1",
        nodeName: "amd-1",
        spec: { nodeSelector: { "kubernetes.io/arch": "amd64" } },
      }),
      pod("loose-1-a", { owner: "loose-1", image: "r.test/amd:1", nodeName: "amd-1" }),
      pod("wrong-1-a", {
        owner: "wrong-1",
        image: "r.test/amd:1",
        nodeName: "arm-1",
        spec: archAffinity("In", ["arm64"]),
      }),
      pod("gone", { namespace: "other", image: "down.test/x:1", nodeName: "amd-1" }),
    ],
    { replicaSets: ["multi", "pinned", "loose", "wrong"].map((n) => replicaSet(`${n}-1`, n)) },
  );
  const deps = registryOf({
    "r.test/multi:1": { index: true, archs: ["amd64", "arm64"] },
    "r.test/amd:1": { index: false, archs: ["amd64"] },
    "down.test/x:1": "down",
  });

  it("gives each workload its verdict, and reports an unreachable registry on its image only", async () => {
    const a = await auditCluster("kc.yaml", cluster, deps);
    assert.deepEqual(
      a.workloads.map((w) => `${w.namespace}/${w.name}=${w.verdict}`),
      ["apps/loose=at risk", "apps/multi=ok", "apps/pinned=ok", "apps/wrong=broken", "other/gone=unknown"],
    );
    assert.deepEqual(a.counts, { broken: 1, "at risk": 1, unknown: 1, ok: 2 });
    const down = a.images.find((i) => i.image === "down.test/x:1");
    assert.match(down?.error ?? "", /^registry unreachable: ECONNREFUSED/);
    const amd = a.images.find((i) => i.image === "r.test/amd:1");
    assert.deepEqual([amd?.index, amd?.platforms], [false, ["linux/amd64"]]);
    assert.equal(auditExitCode([a]), 1);
  });

  it("prints one row per image and workload, then why for each that is not ok", async () => {
    const a = await auditCluster("kc.yaml", cluster, deps);
    assert.equal(
      auditTable(a),
      [
        "cluster kc.yaml: 2 nodes (1 amd64, 1 arm64)",
        "image           index   platforms    workload                pods  runs on  can run on   verdict",
        "down.test/x:1   ?       unknown      other/Pod/gone          1     amd64    amd64,arm64  unknown",
        "r.test/amd:1    single  amd64        apps/Deployment/loose   1     amd64    amd64,arm64  at risk",
        "                                     apps/Deployment/pinned  1     amd64    amd64        ok",
        "                                     apps/Deployment/wrong   1     arm64    arm64        broken",
        "r.test/multi:1  index   amd64,arm64  apps/Deployment/multi   1     arm64    amd64,arm64  ok",
        "  unknown: other/Pod/gone (down.test/x:1): platforms unknown: registry unreachable: ECONNREFUSED: connect ECONNREFUSED",
        "  at risk: apps/Deployment/loose (r.test/amd:1): can be scheduled on arm64, but the single-platform image is amd64",
        "  broken: apps/Deployment/wrong (r.test/amd:1): runs on arm64 (wrong-1-a on arm-1), but the single-platform image is amd64",
        "5 workloads: 2 ok, 1 at risk, 1 broken, 1 unknown",
      ].join("\n"),
    );
  });

  it("the JSON report carries every image, pod placement and verdict, and the exit code", async () => {
    const a = await auditCluster("kc.yaml", cluster, deps);
    const r = JSON.parse(JSON.stringify(auditReport([a], new Date("2026-01-02T03:04:05Z"))));
    assert.equal(r.command, "audit");
    assert.equal(r.generatedAt, "2026-01-02T03:04:05.000Z");
    assert.equal(r.exitCode, 1);
    assert.deepEqual(r.counts, { broken: 1, "at risk": 1, unknown: 1, ok: 2 });
    const wrong = r.clusters[0].images
      .find((i: { image: string }) => i.image === "r.test/amd:1")
      .workloads.find((w: { name: string }) => w.name === "wrong");
    assert.equal(wrong.verdict, "broken");
    assert.deepEqual(wrong.pods[0].excluded, [
      { node: "amd-1", reason: "required node affinity matches no term" },
    ]);
    assert.deepEqual(r.clusters[0].nodes, [
      { name: "amd-1", platform: "linux/amd64", taints: [], ready: true },
      { name: "arm-1", platform: "linux/arm64", taints: [], ready: true },
    ]);
  });

  it("exit 0 only when every workload is ok; a cluster that could not be read is a failure", async () => {
    const ok = await auditCluster(
      "kc",
      lists([pod("m", { image: "r.test/multi:1", nodeName: "amd-1" })]),
      deps,
    );
    assert.equal(auditExitCode([ok]), 0);
    const unread = {
      source: "s",
      error: "down",
      nodes: [],
      images: [],
      workloads: [],
      counts: emptyCounts(),
    };
    assert.equal(auditExitCode([ok, unread]), 1);
    assert.equal(auditTable(unread), "cluster s: not audited: down");
  });

  it("a tainted arm64 node keeps an untolerating single-arch workload ok", async () => {
    const tainted = node("arm-t", "arm64", [{ key: "arch", value: "arm64", effect: "NoSchedule" }]);
    const a = await auditCluster(
      "kc",
      lists([pod("loose", { image: "r.test/amd:1", nodeName: "amd-1" })], { nodes: [AMD, tainted] }),
      deps,
    );
    assert.equal(a.workloads[0].verdict, "ok");
    assert.deepEqual(
      a.nodes.map((n) => n.taints),
      [[], ["arch=arm64:NoSchedule"]],
    );
  });
});
