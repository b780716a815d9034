import assert from "node:assert/strict";
import { parseLabConfig, RawLabConfig } from "../infra/config";
import {
  sharedClusterNodes,
  sharedClusterScaling,
  stackPlan,
  ATTENDEES_PER_SHARED_NODE,
} from "../infra/topology";
import { workshopShape } from "../automation/aws/topology";
import { problemsOf, validConfig } from "./support/config";

const valid = validConfig;
const attendee: RawLabConfig = { ...valid, workshop: "ws1", foundation: "ws1.foundation" };

describe("infra/workshopConfig: lab:role, lab:foundation, lab:topology, lab:attendees, lab:attendeePrincipal", () => {
  it("accepts a foundation and its attendees of every topology", () => {
    for (const topology of ["dedicated", "shared-network", "shared-cluster"]) {
      const f = parseLabConfig({
        ...valid,
        attendee: "foundation",
        role: "foundation",
        topology,
        attendees: "12",
      });
      assert.deepStrictEqual(
        [f.role, f.topology, f.attendees, f.foundation],
        ["foundation", topology, 12, ""],
      );
      const a = parseLabConfig({ ...attendee, topology });
      assert.deepStrictEqual([a.role, a.topology, a.foundation], ["attendee", topology, "ws1.foundation"]);
    }
    const p = parseLabConfig({ ...attendee, attendeePrincipal: "arn:aws:iam::123456789012:role/team/alice" });
    assert.strictEqual(p.attendeePrincipal, "arn:aws:iam::123456789012:role/team/alice");
  });

  it("rejects bad values, naming the key and the fix", () => {
    assert.deepStrictEqual(problemsOf({ ...valid, role: "leader" }), [
      'lab:role "leader" is not one of attendee, foundation',
    ]);
    assert.deepStrictEqual(problemsOf({ ...attendee, topology: "shared" }), [
      'lab:topology "shared" is not one of dedicated, shared-network, shared-cluster',
    ]);
    for (const n of ["0", "-3", "2.5", "many"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, attendees: n }), [
        `lab:attendees "${n}" is not a positive whole number: give the workshop's attendee count, e.g. 12`,
      ]);
    }
    assert.match(
      problemsOf({ ...valid, foundation: "acme/lab/ws1.foundation" })[0],
      /lab:foundation "acme\/lab\/ws1.foundation" is not a stack name: give the foundation stack's own name .*e\.g\. ws1\.foundation/,
    );
    for (const arn of [
      "alice",
      "arn:aws:sts::123456789012:assumed-role/alice/session",
      "arn:aws:iam::12345:role/alice",
    ]) {
      assert.match(
        problemsOf({ ...valid, attendeePrincipal: arn })[0],
        new RegExp(`lab:attendeePrincipal "${arn.replace(/[/.]/g, "\\$&")}" is not an IAM role or user ARN`),
      );
    }
  });

  it("rejects contradictions: keys a foundation has no use for, a shared topology without a foundation", () => {
    const f = { ...valid, attendee: "foundation", role: "foundation" };
    assert.match(
      problemsOf({ ...f, foundation: "ws1.foundation" })[0],
      /lab:foundation is set on a foundation stack/,
    );
    assert.match(
      problemsOf({ ...f, attendeePrincipal: "arn:aws:iam::123456789012:role/a" })[0],
      /lab:attendeePrincipal is set on a foundation stack: it belongs to one attendee's stack/,
    );
    assert.deepStrictEqual(problemsOf({ ...valid, topology: "shared-cluster" }), [
      "lab:topology shared-cluster shares the foundation's cluster: set lab:foundation to the foundation " +
        "stack's name, or lab:topology dedicated for a self-contained lab",
    ]);
    assert.match(problemsOf({ ...valid, topology: "shared-network" })[0], /shares the foundation's VPC/);
    assert.match(
      problemsOf({ ...attendee, attendee: "foundation" })[0],
      /lab:attendee "foundation" is the foundation's own name: give this attendee another name/,
    );
  });

  it("local target: always shared-cluster; a tenant needs lab:kubeconfig; no IAM principal", () => {
    const local = { attendee: "alice", target: "local" };
    assert.strictEqual(parseLabConfig(local).topology, "shared-cluster");
    assert.strictEqual(parseLabConfig({ ...local, topology: "dedicated" }).topology, "shared-cluster");
    assert.strictEqual(
      parseLabConfig({ ...local, foundation: "ws1.foundation", kubeconfig: "/k" }).foundation,
      "ws1.foundation",
    );
    assert.match(problemsOf({ ...local, foundation: "ws1.foundation" })[0], /set lab:kubeconfig/);
    assert.match(
      problemsOf({ ...local, attendeePrincipal: "arn:aws:iam::123456789012:role/a" })[0],
      /the local target hands out a kubeconfig \(the handoutKubeconfig output\) instead/,
    );
  });
});

describe("infra/topology: what each stack creates, and the shared cluster's size", () => {
  it("sharedClusterNodes: a node per ATTENDEES_PER_SHARED_NODE attendees, never below nodesDesired", () => {
    assert.strictEqual(ATTENDEES_PER_SHARED_NODE, 4);
    assert.deepStrictEqual(
      [1, 4, 5, 8, 9, 30].map((n) => sharedClusterNodes(n, 1)),
      [1, 1, 2, 2, 3, 8],
    );
    assert.strictEqual(sharedClusterNodes(5, 3), 3);
    const sizing = {
      x86InstanceTypes: [],
      armInstanceTypes: [],
      nodesDesired: 3,
      capacityType: "SPOT" as const,
    };
    for (const n of [1, 4, 5, 9, 30])
      assert.strictEqual(
        workshopShape("shared-cluster", n, sizing).nodeGroups[0].nodes,
        sharedClusterNodes(n, 3),
        "the driver's preflight sizes with the same function",
      );
  });

  it("sharedClusterScaling: raises nodesMax to the desired size, keeps nodesMin", () => {
    assert.deepStrictEqual(
      sharedClusterScaling({ attendees: 20, nodesMin: 1, nodesDesired: 1, nodesMax: 3 }),
      {
        nodesMin: 1,
        nodesDesired: 5,
        nodesMax: 5,
      },
    );
    assert.deepStrictEqual(
      sharedClusterScaling({ attendees: 2, nodesMin: 0, nodesDesired: 2, nodesMax: 6 }),
      {
        nodesMin: 0,
        nodesDesired: 2,
        nodesMax: 6,
      },
    );
  });

  it("stackPlan: per role, target and topology", () => {
    const plan = (raw: RawLabConfig) => {
      const p = stackPlan(parseLabConfig(raw));
      return [p.kind, p.image, p.network, p.cluster, p.app].join(" ");
    };
    const f = { ...valid, attendee: "foundation", role: "foundation" };
    assert.strictEqual(plan(valid), "self-contained own own own cluster");
    assert.strictEqual(plan({ attendee: "a", target: "local" }), "self-contained own none none none");
    assert.strictEqual(
      plan({ attendee: "a", target: "local", kubeconfig: "/k" }),
      "self-contained own none kubeconfig cluster",
    );
    assert.strictEqual(plan({ ...f, topology: "dedicated" }), "foundation own none none none");
    assert.strictEqual(plan({ ...f, topology: "shared-network" }), "foundation own own none none");
    assert.strictEqual(plan({ ...f, topology: "shared-cluster" }), "foundation own own own none");
    assert.strictEqual(
      plan({ attendee: "foundation", role: "foundation", target: "local" }),
      "foundation own none none none",
    );
    assert.strictEqual(plan({ ...attendee, topology: "dedicated" }), "attendee foundation own own cluster");
    assert.strictEqual(
      plan({ ...attendee, topology: "shared-network" }),
      "attendee foundation foundation own cluster",
    );
    assert.strictEqual(
      plan({ ...attendee, topology: "shared-cluster" }),
      "attendee foundation foundation foundation tenant",
    );
    assert.strictEqual(
      plan({ attendee: "a", target: "local", foundation: "ws1.foundation", kubeconfig: "/k" }),
      "attendee foundation none kubeconfig tenant",
    );
  });
});
