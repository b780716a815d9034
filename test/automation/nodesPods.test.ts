// The node and pod checks on their inputs, both verdicts each.
import assert from "node:assert/strict";
import { toNodeInfo, toPodInfo } from "../../automation/verify/kube";
import { checkNodes } from "../../automation/verify/nodes";
import { checkPods, podsSettling } from "../../automation/verify/pods";
import { NodeInfo, PodInfo } from "../../automation/verify/types";

const x86: NodeInfo = {
  name: "ip-10-0-1-5",
  arch: "amd64",
  ready: true,
  instanceType: "m7i.large",
  nodeGroup: "lab-alice-x86",
};
const arm: NodeInfo = {
  name: "ip-10-0-2-7",
  arch: "arm64",
  ready: true,
  instanceType: "m6g.large",
  nodeGroup: "lab-alice-arm64",
};
const GROUPS = [
  { name: "lab-alice-x86", arch: "amd64" },
  { name: "lab-alice-arm64", arch: "arm64" },
];
const pod = (name: string, node: string, ready = true): PodInfo => ({
  name,
  nodeName: node,
  phase: "Running",
  ready,
});

describe("verify nodes", () => {
  it("passes with a Ready node of each architecture", () => {
    const r = checkNodes([x86, arm], undefined, GROUPS);
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.summary, "Ready nodes: 1 amd64, 1 arm64");
    assert.equal((r.evidence.nodes as unknown[]).length, 2);
  });

  it("fails when an architecture has no node, or only NotReady ones", () => {
    assert.match(checkNodes([x86]).summary, /no arm64 node in the cluster/);
    const r = checkNodes([x86, { ...arm, ready: false }]);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /no Ready arm64 node \(1 arm64 node\(s\) not Ready\)/);
  });

  it("fails when a Graviton node group booted x86 nodes (pulumi-eks #738)", () => {
    const wrong = { ...x86, name: "ip-10-0-2-9", nodeGroup: "lab-alice-arm64" };
    const r = checkNodes([x86, arm, wrong], undefined, GROUPS);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /node ip-10-0-2-9 of node group lab-alice-arm64 \(declared arm64\) runs amd64/);
  });

  it("reads arch, readiness, instance type and node group from the Kubernetes objects", () => {
    const n = toNodeInfo({
      metadata: {
        name: "n1",
        labels: {
          "kubernetes.io/arch": "arm64",
          "node.kubernetes.io/instance-type": "m6g.large",
          "eks.amazonaws.com/nodegroup": "g",
        },
      },
      status: { conditions: [{ type: "Ready", status: "True" }] },
    } as never);
    assert.deepEqual(n, {
      name: "n1",
      arch: "arm64",
      ready: true,
      instanceType: "m6g.large",
      nodeGroup: "g",
      schedulable: true,
      taints: [],
    });
    const p = toPodInfo({
      metadata: { name: "p1", deletionTimestamp: new Date() },
      spec: { nodeName: "n1" },
      status: { phase: "Running", conditions: [{ type: "Ready", status: "True" }] },
    } as never);
    assert.deepEqual(p, {
      name: "p1",
      nodeName: "n1",
      phase: "Terminating",
      ready: false,
      containers: [],
      tolerations: [],
    });
  });
});

describe("verify pods", () => {
  const nodes = [x86, arm];

  it("spread: passes with all replicas Ready on both architectures", () => {
    const pods = [
      pod("web-1", x86.name),
      pod("web-2", arm.name),
      pod("web-3", x86.name),
      pod("web-4", arm.name),
    ];
    const r = checkPods(pods, nodes, "spread", 4);
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.summary, "4/4 Ready, 2 on amd64, 2 on arm64 (placement spread)");
  });

  it("spread: fails when every pod landed on one architecture", () => {
    const r = checkPods([pod("web-1", x86.name), pod("web-2", x86.name)], nodes, "spread", 2);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /placement spread, but no Ready pod runs on an arm64 node/);
  });

  it("fails when fewer replicas than wanted are Ready, naming the others", () => {
    const r = checkPods(
      [pod("web-1", x86.name), pod("web-2", arm.name), pod("web-3", arm.name, false)],
      nodes,
      "spread",
      3,
    );
    assert.equal(r.status, "failed");
    assert.match(r.summary, /2 of 3 replicas Ready; not Ready: web-3 \(Running\)/);
  });

  it("pinned arm64: passes with every pod on arm64", () => {
    const r = checkPods([pod("web-1", arm.name), pod("web-2", arm.name)], nodes, "arm64", 2);
    assert.equal(r.status, "passed", r.summary);
  });

  it("pinned arm64: fails when a pod runs on amd64", () => {
    const r = checkPods([pod("web-1", arm.name), pod("web-2", x86.name)], nodes, "arm64", 2);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /placement arm64, but web-2 runs on ip-10-0-1-5 \(amd64\)/);
  });

  it("pinned amd64: fails when a pod runs on an unknown node", () => {
    const r = checkPods([pod("web-1", "ghost")], nodes, "amd64", 1);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /no architecture known for the node of web-1/);
  });
});

describe("verify nodes and pods on a cluster that lacks an architecture (local target)", () => {
  const local: NodeInfo = { name: "vm", arch: "amd64", ready: true };

  it("nodes: a missing arm64 is skipped with the reason; a NotReady amd64 node still fails", () => {
    const r = checkNodes([local], undefined, [], { skipMissingArchs: true });
    assert.equal(r.status, "skipped");
    assert.equal(r.summary, "the cluster has no arm64 node (Ready nodes: 1 amd64)");
    assert.deepEqual(r.evidence.missingArchs, ["arm64"]);
    const down = checkNodes([{ ...local, ready: false }], undefined, [], { skipMissingArchs: true });
    assert.equal(down.status, "failed");
    assert.match(down.summary, /no Ready amd64 node \(1 amd64 node\(s\) not Ready\)/);
    // An arm64 node that exists but is NotReady is a failure, not a missing architecture.
    const armDown = checkNodes([local, { ...arm, ready: false }], undefined, [], { skipMissingArchs: true });
    assert.equal(armDown.status, "failed");
    // Without the option (aws) a missing architecture fails as before.
    assert.equal(checkNodes([local]).status, "failed");
  });

  it("pods: spread with every replica Ready on amd64 is skipped (never passed); not Ready still fails", () => {
    const pods = [pod("a", "vm"), pod("b", "vm")];
    const r = checkPods(pods, [local], "spread", 2, ["amd64"]);
    assert.equal(r.status, "skipped", r.summary);
    assert.match(r.summary, /^2\/2 Ready, 2 on amd64; placement spread also needs arm64/);
    const short = checkPods([pod("a", "vm"), pod("b", "vm", false)], [local], "spread", 2, ["amd64"]);
    assert.equal(short.status, "failed");
    assert.match(short.summary, /1 of 2 replicas Ready/);
    // Without the cluster's architectures (aws) the same list fails.
    assert.equal(checkPods(pods, [local], "spread", 2).status, "failed");
  });

  it("pods: pinned arm64 on an amd64-only cluster fails (Pending), naming the missing architecture", () => {
    const pending: PodInfo = { name: "a", phase: "Pending", ready: false };
    const r = checkPods([pending], [local], "arm64", 1, ["amd64"]);
    assert.equal(r.status, "failed");
    assert.equal(r.summary, "0 of 1 replicas Ready; not Ready: a (Pending) (the cluster has no arm64 node)");
    // Pinned amd64 on that cluster is judged in full and passes.
    assert.equal(checkPods([pod("a", "vm")], [local], "amd64", 1, ["amd64"]).status, "passed");
  });
});

describe("verify pods: waiting while they settle", () => {
  const p = (name: string, phase: string, ready: boolean, extra: Partial<PodInfo> = {}): PodInfo => ({
    name,
    nodeName: "vm",
    phase,
    ready,
    ...extra,
  });
  it("waits for a pod that is scheduled and starting, or for pods not yet created", () => {
    const ok = [p("a", "Running", true), p("b", "Running", true), p("c", "Running", true)];
    assert.equal(podsSettling([...ok, p("d", "Running", false)], 4), true, "Running, not yet Ready");
    assert.equal(podsSettling([...ok, p("d", "Pending", false)], 4), true, "Pending on a node (pulling)");
    assert.equal(podsSettling(ok, 4), true, "fewer pods than replicas");
    assert.equal(podsSettling([...ok, p("d", "Running", true)], 4), false, "all Ready");
  });
  it("judges at once a pod that cannot be scheduled or that crashes", () => {
    const ok = [p("a", "Running", true)];
    assert.equal(podsSettling([...ok, p("b", "Pending", false, { nodeName: undefined })], 2), false);
    const crash = { name: "hello", ready: false, restartCount: 3, waiting: { reason: "CrashLoopBackOff" } };
    assert.equal(podsSettling([...ok, p("b", "Running", false, { containers: [crash] })], 2), false);
  });
});
