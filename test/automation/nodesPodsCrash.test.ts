// The pods check on crashing pods (an image without the node's platform: exec format error) and on
// placement prefer-arm64 (any split, but arm64 wherever an arm64 node has room).
import assert from "node:assert/strict";
import { crashText, withPreviousLogs } from "../../automation/verify/crash";
import { toPodInfo } from "../../automation/verify/kube";
import { checkPods, nodesWithRoom } from "../../automation/verify/pods";
import { NodeInfo, PodInfo } from "../../automation/verify/types";
import { fakeCluster } from "./support/verifyFakeCluster";

const x86: NodeInfo = { name: "node-x86", arch: "amd64", ready: true, schedulable: true, taints: [] };
const arm: NodeInfo = { name: "node-arm", arch: "arm64", ready: true, schedulable: true, taints: [] };
const NODES = [x86, arm];
const ready = (name: string, nodeName: string): PodInfo => ({
  name,
  nodeName,
  phase: "Running",
  ready: true,
});

/** A pod as the API reports one whose container the kernel refuses (wrong-architecture binary). */
const crashLooping = (name: string, nodeName: string, message?: string): PodInfo =>
  toPodInfo({
    metadata: { name },
    spec: { nodeName, containers: [] },
    status: {
      phase: "Running",
      conditions: [{ type: "Ready", status: "False" }],
      containerStatuses: [
        {
          name: "hello",
          ready: false,
          restartCount: 4,
          image: "x",
          imageID: "x",
          state: {
            waiting: { reason: "CrashLoopBackOff", message: "back-off 1m20s restarting failed container" },
          },
          lastState: { terminated: { reason: "Error", exitCode: 255, message } },
        },
      ],
    },
  } as never);

describe("verify pods: crashes", () => {
  it("exec format error in the previous log: 'image has no linux/arm64 variant', not a crash loop", async () => {
    const pods = [ready("web-1", "node-x86"), crashLooping("web-2", "node-arm")];
    const cluster = fakeCluster({
      nodes: NODES,
      pods,
      logs: { "web-2/hello": "exec /usr/local/bin/docker-entrypoint.sh: exec format error\n" },
    });
    const withLogs = await withPreviousLogs(cluster, "lab-alice", pods);
    const r = checkPods(withLogs, NODES, "spread", 2);
    assert.equal(r.status, "failed");
    assert.equal(
      r.summary,
      'image has no linux/arm64 variant: container hello of web-2 on node-arm fails with "exec format error"; ' +
        "1 of 2 replicas Ready; placement spread, but no Ready pod runs on an arm64 node",
    );
    assert.doesNotMatch(r.summary, /CrashLoopBackOff/);
  });

  it("exec format error in the runtime's termination message (StartError) is recognised too", () => {
    const p = crashLooping(
      "web-2",
      "node-arm",
      'failed to create containerd task: exec: "/usr/local/bin/node": exec format error',
    );
    assert.match(crashText(p, "arm64"), /^image has no linux\/arm64 variant: container hello of web-2/);
  });

  it("an index without the node's platform (ImagePullBackOff, no match for platform) is named too", () => {
    const p: PodInfo = {
      name: "web-2",
      nodeName: "node-arm",
      ready: false,
      phase: "Pending",
      containers: [
        {
          name: "hello",
          ready: false,
          restartCount: 0,
          waiting: {
            reason: "ImagePullBackOff",
            message: 'Back-off pulling image "r/x@sha256:…": no match for platform in manifest: not found',
          },
        },
      ],
    };
    const r = checkPods([ready("web-1", "node-x86"), p], NODES, "spread", 2);
    assert.match(
      r.summary,
      /^image has no linux\/arm64 variant: container hello of web-2 on node-arm cannot pull it \(no match for platform in manifest\)/,
    );
  });

  it("any other crash is named with its reason, exit code, restarts and last log line", async () => {
    const pods = [ready("web-1", "node-x86"), crashLooping("web-2", "node-x86")];
    const cluster = fakeCluster({
      nodes: NODES,
      pods,
      logs: { "web-2/hello": "starting\nError: EADDRINUSE\n" },
    });
    const r = checkPods(await withPreviousLogs(cluster, "ns", pods), NODES, "amd64", 2);
    assert.equal(r.status, "failed");
    assert.equal(
      r.summary,
      "1 of 2 replicas Ready; not Ready: web-2 (container hello of web-2 crashing " +
        "(CrashLoopBackOff, Error, exit 255, 4 restarts): Error: EADDRINUSE)",
    );
  });

  it("a crashing pod without a previous log is still named from its status", async () => {
    const pods = [crashLooping("web-2", "node-arm")];
    const withLogs = await withPreviousLogs(fakeCluster({ nodes: NODES, pods }), "ns", pods);
    assert.equal(withLogs[0].containers?.[0].previousLog, undefined);
    assert.match(
      crashText(withLogs[0], "arm64"),
      /crashing \(CrashLoopBackOff, Error, exit 255, 4 restarts\)$/,
    );
  });
});

describe("verify pods: placement prefer-arm64", () => {
  const tainted: NodeInfo = { ...arm, taints: [{ key: "arch", value: "arm64", effect: "NoSchedule" }] };
  const TOLERATES = [{ key: "arch", operator: "Equal", value: "arm64", effect: "NoSchedule" }];

  it("accepts any split and reports it, arm64 first", () => {
    const pods = [
      ready("a", "node-arm"),
      ready("b", "node-arm"),
      ready("c", "node-arm"),
      ready("d", "node-x86"),
    ];
    const r = checkPods(pods, NODES, "prefer-arm64", 4);
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.summary, "4/4 Ready, 3 on arm64, 1 on amd64 (placement prefer-arm64)");
    const allArm = checkPods([ready("a", "node-arm")], NODES, "prefer-arm64", 1);
    assert.equal(allArm.summary, "1/1 Ready, 1 on arm64 (placement prefer-arm64)");
  });

  it("fails when every pod is on amd64 although an arm64 node has room", () => {
    const r = checkPods([ready("a", "node-x86"), ready("b", "node-x86")], NODES, "prefer-arm64", 2);
    assert.equal(r.status, "failed");
    assert.equal(
      r.summary,
      "placement prefer-arm64, but no Ready pod runs on arm64 although node-arm (arm64) is Ready, " +
        "schedulable and untainted for the pods",
    );
    assert.deepEqual(r.evidence.arm64NodesWithRoom, ["node-arm"]);
  });

  it("passes all on amd64 when no arm64 node has room: tainted, cordoned, NotReady or none", () => {
    const onX86 = [ready("a", "node-x86"), ready("b", "node-x86")];
    for (const nodes of [
      [x86, tainted],
      [x86, { ...arm, schedulable: false }],
      [x86, { ...arm, ready: false }],
      [x86],
    ]) {
      const r = checkPods(onX86, nodes, "prefer-arm64", 2);
      assert.equal(r.status, "passed", r.summary);
      assert.equal(
        r.summary,
        "2/2 Ready, 2 on amd64 (placement prefer-arm64; no arm64 node has room (none Ready, schedulable and untainted for the pods))",
      );
    }
    // Pods that tolerate the taint could have gone there: then all-amd64 fails.
    const tolerant = onX86.map((p) => ({ ...p, tolerations: TOLERATES }));
    assert.equal(checkPods(tolerant, [x86, tainted], "prefer-arm64", 2).status, "failed");
  });

  it("nodesWithRoom: a NoSchedule taint needs a matching toleration; Exists tolerates any value", () => {
    assert.deepEqual(nodesWithRoom([tainted], "arm64"), []);
    assert.deepEqual(nodesWithRoom([tainted], "arm64", TOLERATES), [tainted]);
    assert.deepEqual(nodesWithRoom([tainted], "arm64", [{ key: "arch", operator: "Exists" }]), [tainted]);
    assert.deepEqual(nodesWithRoom([tainted], "arm64", [{ key: "other", operator: "Exists" }]), []);
    // A PreferNoSchedule taint does not keep pods off.
    const soft = { ...arm, taints: [{ key: "arch", value: "arm64", effect: "PreferNoSchedule" }] };
    assert.deepEqual(nodesWithRoom([soft], "arm64"), [soft]);
  });
});
