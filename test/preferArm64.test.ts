// placement=prefer-arm64 (Graviton's price-performance): pods may run on both architectures, with a
// preferred (weight 100) node affinity for arm64 and no required arch term; under Pulumi mocks, the
// Deployment the App applies carries exactly that.
import { fakeDigest, one, resetMocks, settle } from "./support/mocks";
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { App } from "../infra/app";
import { parseLabConfig } from "../infra/config";
import { effectivePlacement, placementProblems, scheduling } from "../infra/placement";

const IMAGE = `127.0.0.1:5000/lab-alice/hello@${fakeDigest("p")}`;
const SELECTOR = { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "lab-alice" };
const PREFER = {
  weight: 100,
  preference: { matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["arm64"] }] },
};

describe("placement prefer-arm64", () => {
  it("scheduling: a preferred arm64 term of weight 100, no required term, no spread constraint", () => {
    assert.deepStrictEqual(scheduling("prefer-arm64", false, SELECTOR), {
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [PREFER] } },
    });
    // With the arm taint on, the pods tolerate it (they may land on arm64).
    const tainted = scheduling("prefer-arm64", true, SELECTOR);
    assert.deepStrictEqual(tainted.tolerations, [
      { key: "arch", operator: "Equal", value: "arm64", effect: "NoSchedule" },
    ]);
  });

  it("effective placement: both where the cluster has both; amd64 alone is schedulable, said so", () => {
    assert.deepStrictEqual(effectivePlacement("prefer-arm64"), {
      archs: ["amd64", "arm64"],
      spread: false,
      schedulable: true,
      summary: "prefer-arm64",
    });
    const x86 = effectivePlacement("prefer-arm64", ["amd64"]);
    assert.strictEqual(x86.schedulable, true);
    assert.strictEqual(x86.summary, "prefer-arm64 (the cluster has no arm64 node: amd64)");
    assert.strictEqual(x86.warning, undefined);
  });

  it("config: accepted with one replica; the image must have both platforms", () => {
    const base = { attendee: "alice", target: "local" as const, placement: "prefer-arm64" };
    assert.strictEqual(parseLabConfig({ ...base, replicas: "1" }).placement, "prefer-arm64");
    assert.deepStrictEqual(placementProblems("prefer-arm64", 1), []);
    assert.throws(
      () => parseLabConfig({ ...base, platforms: "linux/amd64" }),
      /lab:platforms "linux\/amd64" lacks linux\/arm64, which placement prefer-arm64 needs/,
    );
  });

  describe("the App under mocks", () => {
    beforeEach(async () => {
      await settle();
      resetMocks();
    });

    it("the Deployment's pods prefer arm64 and keep the host anti-affinity", async () => {
      const provider = new k8s.Provider("test-k8s", { kubeconfig: "{}" });
      new App("app", {
        provider,
        image: IMAGE,
        attendee: "alice",
        workshop: "lab",
        placement: "prefer-arm64",
        replicas: 3,
      });
      await settle();
      const pod = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
      assert.deepStrictEqual(pod.affinity.nodeAffinity, {
        preferredDuringSchedulingIgnoredDuringExecution: [PREFER],
      });
      assert.strictEqual(pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined);
      assert.strictEqual(pod.topologySpreadConstraints, undefined);
      assert.strictEqual(
        pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm
          .topologyKey,
        "kubernetes.io/hostname",
      );
    });
  });
});
