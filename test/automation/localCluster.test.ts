// The driver's local cluster config: LAB_KUBECONFIG (from env.json) and the live nodes' archs.
import assert from "node:assert/strict";
import { clusterArchsOf, localClusterConfig } from "../../automation/localCluster";
import { FakeEngine } from "./fake-engine";
import { runCli } from "./harness";
import { NodeInfo } from "../../automation/verify/types";

const amd: NodeInfo = { name: "vm", arch: "amd64", ready: true };
const armNode: NodeInfo = { name: "pi", arch: "arm64", ready: false };

describe("local cluster config (driver)", () => {
  it("orders the architectures the nodes have, ignoring unknown labels", () => {
    assert.deepEqual(clusterArchsOf([armNode, amd, { name: "x", ready: true }]), ["amd64", "arm64"]);
    assert.deepEqual(clusterArchsOf([{ name: "r", arch: "riscv64", ready: true }]), []);
  });

  it("passes LAB_KUBECONFIG and the live cluster's archs unless the user set them", async () => {
    const seen: string[] = [];
    const list = async (f: string) => (seen.push(f), [amd]);
    const env = { LAB_KUBECONFIG: "/c/admin.kubeconfig" };
    assert.deepEqual(await localClusterConfig({}, env, list), {
      config: { "lab:kubeconfig": "/c/admin.kubeconfig", "lab:clusterArchs": "amd64" },
      problems: [],
    });
    assert.deepEqual(seen, ["/c/admin.kubeconfig"]);
    // The user's kubeconfig wins (its archs are still read); their clusterArchs too.
    assert.deepEqual(await localClusterConfig({ "lab:kubeconfig": "/mine" }, env, list), {
      config: { "lab:clusterArchs": "amd64" },
      problems: [],
    });
    assert.deepEqual(await localClusterConfig({ "lab:clusterArchs": "amd64,arm64" }, env, list), {
      config: { "lab:kubeconfig": "/c/admin.kubeconfig" },
      problems: [],
    });
    // An explicitly empty kubeconfig, or none at all: no cluster, nothing asked.
    const never = async (): Promise<NodeInfo[]> => assert.fail("no cluster to ask");
    assert.deepEqual(await localClusterConfig({ "lab:kubeconfig": "" }, env, never), {
      config: {},
      problems: [],
    });
    assert.deepEqual(await localClusterConfig({}, {}, never), { config: {}, problems: [] });
  });

  it("a cluster that does not answer, or has no known node, is a problem saying what to do", async () => {
    const env = { LAB_KUBECONFIG: "/c/admin.kubeconfig" };
    const down = await localClusterConfig({}, env, async () => Promise.reject(new Error("ECONNREFUSED")));
    assert.equal(down.problems.length, 1);
    assert.match(
      down.problems[0],
      /\/c\/admin.kubeconfig does not answer \(ECONNREFUSED\): start it with `npm run setup:local`/,
    );
    const empty = await localClusterConfig({}, env, async () => []);
    assert.deepEqual(empty.problems, ["the cluster of /c/admin.kubeconfig has no amd64 or arm64 node"]);
  });

  it("lab run --target local sets both keys on the stack before up; a dead cluster is exit 2", async () => {
    const env = { HOME: "/nonexistent", PATH: process.env.PATH, LAB_KUBECONFIG: "/c/admin.kubeconfig" };
    const engine = new FakeEngine();
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], {
      engine,
      env,
      listNodes: async () => [amd],
    });
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(engine.lastConfig["lab-alice"], {
      "lab:target": "local",
      "lab:kubeconfig": "/c/admin.kubeconfig",
      "lab:clusterArchs": "amd64",
      "lab:attendee": "alice",
    });
    const dead = new FakeEngine();
    const d = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine: dead,
      env,
      listNodes: async () => Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6443")),
    });
    assert.equal(d.code, 2);
    assert.match(d.err, /does not answer \(connect ECONNREFUSED 127.0.0.1:6443\)/);
    assert.deepEqual(dead.lastConfig, {});
  });
});
