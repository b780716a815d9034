// Where a pod spec can land among the cluster's nodes (the scheduler's node rules), and how pods
// are grouped by image and owning workload.
import assert from "node:assert/strict";
import type { V1PodSpec } from "@kubernetes/client-node";
import { groupByImage, workloadOf } from "../../automation/audit/images";
import { exclusion, schedulablePlatforms, tolerates } from "../../automation/audit/schedulable";
import { AMD, ARM, archAffinity, job, lists, node, pod, replicaSet } from "./support/auditFixtures";

const spec = (extra: Partial<V1PodSpec> = {}): V1PodSpec => ({
  containers: [{ name: "c", image: "x" }],
  ...extra,
});
const where = (s: V1PodSpec, nodes = [AMD, ARM]): string[] => schedulablePlatforms(s, nodes).platforms;

describe("audit: schedulable platforms", () => {
  it("no constraint: every node's platform", () => {
    assert.deepEqual(where(spec()), ["linux/amd64", "linux/arm64"]);
  });

  it("nodeSelector kubernetes.io/arch keeps the pod to that architecture, and says why a node is out", () => {
    const s = spec({ nodeSelector: { "kubernetes.io/arch": "amd64" } });
    assert.deepEqual(where(s), ["linux/amd64"]);
    assert.equal(
      exclusion(s, ARM),
      "nodeSelector kubernetes.io/arch=amd64 (node has kubernetes.io/arch=arm64)",
    );
    assert.equal(
      exclusion(spec({ nodeSelector: { pool: "gpu" } }), AMD),
      "nodeSelector pool=gpu (node has no pool)",
    );
  });

  it("required affinity In / NotIn on kubernetes.io/arch and beta.kubernetes.io/arch", () => {
    assert.deepEqual(where(spec(archAffinity("In", ["arm64"]))), ["linux/arm64"]);
    assert.deepEqual(where(spec(archAffinity("In", ["amd64", "arm64"]))), ["linux/amd64", "linux/arm64"]);
    assert.deepEqual(where(spec(archAffinity("NotIn", ["arm64"]))), ["linux/amd64"]);
    assert.deepEqual(where(spec(archAffinity("In", ["amd64"], "beta.kubernetes.io/arch"))), ["linux/amd64"]);
    assert.equal(
      exclusion(spec(archAffinity("In", ["arm64"])), AMD),
      "required node affinity matches no term",
    );
  });

  it("Exists / DoesNotExist, and NotIn matching a node without the label", () => {
    const bare = node("bare", "arm64");
    delete bare.metadata?.labels?.["kubernetes.io/arch"];
    bare.status = { ...bare.status, nodeInfo: { architecture: "arm64", operatingSystem: "linux" } as never };
    const nodes = [AMD, bare];
    assert.deepEqual(where(spec(archAffinity("Exists")), nodes), ["linux/amd64"]);
    assert.deepEqual(
      where(spec(archAffinity("DoesNotExist")), nodes),
      ["linux/arm64"],
      "platform from nodeInfo",
    );
    assert.deepEqual(where(spec(archAffinity("NotIn", ["amd64"])), nodes), ["linux/arm64"]);
  });

  it("Gt / Lt compare integers; terms are ORed, expressions ANDed; an empty term matches nothing", () => {
    const big = node("big", "arm64", [], { cores: "64" });
    const small = node("small", "amd64", [], { cores: "4" });
    const gt = spec({
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [{ matchExpressions: [{ key: "cores", operator: "Gt", values: ["8"] }] }],
          },
        },
      },
    });
    assert.deepEqual(where(gt, [big, small]), ["linux/arm64"]);
    const terms = (t: object[]): V1PodSpec =>
      spec({
        affinity: {
          nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: t } },
        },
      });
    const amdTerm = { matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }] };
    const lt = { matchExpressions: [{ key: "cores", operator: "Lt", values: ["8"] }] };
    assert.deepEqual(
      where(terms([amdTerm, { matchExpressions: [{ key: "cores", operator: "Gt", values: ["8"] }] }]), [
        big,
        small,
      ]),
      ["linux/amd64", "linux/arm64"],
    );
    const both = { matchExpressions: [...amdTerm.matchExpressions, ...lt.matchExpressions] };
    assert.deepEqual(where(terms([both]), [big, small]), ["linux/amd64"]);
    assert.deepEqual(where(terms([{}]), [big, small]), []);
    const byName = { matchFields: [{ key: "metadata.name", operator: "In", values: ["big"] }] };
    assert.deepEqual(where(terms([byName]), [big, small]), ["linux/arm64"]);
  });

  it("preferred affinity does not narrow the set", () => {
    const s = spec({
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
    });
    assert.deepEqual(where(s), ["linux/amd64", "linux/arm64"]);
  });

  it("NoSchedule / NoExecute taints need a toleration; PreferNoSchedule does not", () => {
    const tainted = (effect: string) => node("arm-t", "arm64", [{ key: "arch", value: "arm64", effect }]);
    assert.deepEqual(where(spec(), [AMD, tainted("NoSchedule")]), ["linux/amd64"]);
    assert.deepEqual(where(spec(), [AMD, tainted("NoExecute")]), ["linux/amd64"]);
    assert.deepEqual(where(spec(), [AMD, tainted("PreferNoSchedule")]), ["linux/amd64", "linux/arm64"]);
    assert.equal(exclusion(spec(), tainted("NoSchedule")), "taint arch=arm64:NoSchedule not tolerated");
    const tol = spec({
      tolerations: [{ key: "arch", operator: "Equal", value: "arm64", effect: "NoSchedule" }],
    });
    assert.deepEqual(where(tol, [AMD, tainted("NoSchedule")]), ["linux/amd64", "linux/arm64"]);
    assert.deepEqual(where(tol, [AMD, tainted("NoExecute")]), ["linux/amd64"], "the effect must match");
  });

  it("toleration rules: Equal compares values, Exists ignores them, an empty key with Exists tolerates all", () => {
    const taint = { key: "arch", value: "arm64", effect: "NoSchedule" };
    assert.equal(tolerates({ key: "arch", value: "arm64" }, taint), true, "operator defaults to Equal");
    assert.equal(tolerates({ key: "arch", operator: "Equal", value: "amd64" }, taint), false);
    assert.equal(tolerates({ key: "arch", operator: "Exists" }, taint), true);
    assert.equal(tolerates({ key: "other", operator: "Exists" }, taint), false);
    assert.equal(tolerates({ operator: "Exists" }, taint), true);
    assert.equal(tolerates({ operator: "Exists", effect: "NoExecute" }, taint), false);
    assert.equal(tolerates({ operator: "Equal", value: "arm64" }, taint), false, "empty key needs Exists");
    assert.equal(
      tolerates({ key: "k", operator: "Equal" }, { key: "k", effect: "NoSchedule" }),
      true,
      "both values empty",
    );
  });

  it("a cordoned node takes no new pods unless the pod tolerates node.kubernetes.io/unschedulable", () => {
    const cordoned = node("arm-c", "arm64");
    cordoned.spec = { unschedulable: true };
    assert.deepEqual(where(spec(), [AMD, cordoned]), ["linux/amd64"]);
    const tol = spec({ tolerations: [{ key: "node.kubernetes.io/unschedulable", operator: "Exists" }] });
    assert.deepEqual(where(tol, [AMD, cordoned]), ["linux/amd64", "linux/arm64"]);
  });
});

describe("audit: pods by image and workload", () => {
  it("a ReplicaSet's pods belong to its Deployment, a Job's to its CronJob, others to their owner or themselves", () => {
    const l = lists([], {
      replicaSets: [replicaSet("web-5d8f", "web")],
      jobs: [job("nightly-290", "nightly")],
    });
    assert.deepEqual(workloadOf(pod("web-5d8f-a", { owner: "web-5d8f" }), l), {
      namespace: "apps",
      kind: "Deployment",
      name: "web",
    });
    assert.deepEqual(workloadOf(pod("n-x", { owner: "nightly-290", ownerKind: "Job" }), l), {
      namespace: "apps",
      kind: "CronJob",
      name: "nightly",
    });
    assert.deepEqual(workloadOf(pod("agent-x", { owner: "agent", ownerKind: "DaemonSet" }), l), {
      namespace: "apps",
      kind: "DaemonSet",
      name: "agent",
    });
    assert.deepEqual(workloadOf(pod("orphan-rs", { owner: "gone-1" }), l), {
      namespace: "apps",
      kind: "ReplicaSet",
      name: "gone-1",
    });
    assert.deepEqual(workloadOf(pod("solo"), l), { namespace: "apps", kind: "Pod", name: "solo" });
  });

  it("groups each distinct image (init containers too) with its workloads and where their pods are", () => {
    const l = lists(
      [
        pod("web-1-a", { owner: "web-1", image: "r.test/web:1", nodeName: "amd-1" }),
        pod("web-1-b", {
          owner: "web-1",
          image: "r.test/web:1",
          nodeName: "arm-1",
          initImage: "r.test/init:1",
        }),
        pod("job-x", { image: "r.test/web:1", spec: { nodeSelector: { "kubernetes.io/arch": "arm64" } } }),
      ],
      { replicaSets: [replicaSet("web-1", "web")] },
    );
    const g = groupByImage(l);
    assert.deepEqual(
      g.map((i) => [
        i.image,
        i.workloads.map((w) => `${w.kind}/${w.name}:${w.pods.map((p) => p.name).join("+")}`),
      ]),
      [
        ["r.test/init:1", ["Deployment/web:web-1-b"]],
        ["r.test/web:1", ["Pod/job-x:job-x", "Deployment/web:web-1-a+web-1-b"]],
      ],
    );
    const pending = g[1].workloads[0].pods[0];
    assert.equal(pending.node, undefined);
    assert.equal(pending.platform, undefined);
    assert.deepEqual(pending.schedulable, ["linux/arm64"]);
    assert.deepEqual(
      g[1].workloads[1].pods.map((p) => p.platform),
      ["linux/amd64", "linux/arm64"],
    );
  });
});
