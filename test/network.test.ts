import { NOT_OFFERED, ofType, one, recordedCalls, resetMocks, settle, ZONES } from "./support/mocks";
import { pickZones } from "../infra/zones";
import assert from "node:assert/strict";
import { Network, subnetPlan } from "../infra/network";
import { valueOf } from "./support/outputs";

describe("infra/network: subnetPlan", () => {
  it("plans a /20 public and a /18 private subnet per AZ, tagged for load balancers", () => {
    const plan = subnetPlan("lab-alice", 2);
    assert.deepStrictEqual(
      plan.map((s) => [s.kind, s.az, s.cidrBlock]),
      [
        ["public", 0, "10.0.0.0/20"],
        ["public", 1, "10.0.16.0/20"],
        ["private", 0, "10.0.64.0/18"],
        ["private", 1, "10.0.128.0/18"],
      ],
    );
    assert.deepStrictEqual(plan[0].tags, {
      "kubernetes.io/cluster/lab-alice": "shared",
      "kubernetes.io/role/elb": "1",
    });
    assert.deepStrictEqual(plan[2].tags, {
      "kubernetes.io/cluster/lab-alice": "shared",
      "kubernetes.io/role/internal-elb": "1",
    });
  });

  it("a VPC several clusters share (no cluster name): the role tags only, no cluster's tag", () => {
    const plan = subnetPlan(undefined, 2);
    assert.deepStrictEqual(
      plan.map((s) => s.tags),
      [
        { "kubernetes.io/role/elb": "1" },
        { "kubernetes.io/role/elb": "1" },
        { "kubernetes.io/role/internal-elb": "1" },
        { "kubernetes.io/role/internal-elb": "1" },
      ],
    );
    assert.deepStrictEqual(
      plan.map((s) => s.cidrBlock),
      subnetPlan("lab-alice", 2).map((s) => s.cidrBlock),
    );
  });

  it("fits three AZs without overlap and refuses one", () => {
    assert.deepStrictEqual(
      subnetPlan("c", 3, "10.8.0.0/16").map((s) => s.cidrBlock),
      ["10.8.0.0/20", "10.8.16.0/20", "10.8.32.0/20", "10.8.64.0/18", "10.8.128.0/18", "10.8.192.0/18"],
    );
    assert.throws(() => subnetPlan("c", 1), /at least 2 AZs/);
    assert.throws(() => subnetPlan("c", 2, "10.0.0.0/8"), /must be a \/16/);
  });
});

describe("infra/network: Network", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  it("uses the first two AZs offering every node-group type, never an AZ ID EKS refuses", async () => {
    NOT_OFFERED[ZONES[0]] = ["m6g.large"];
    try {
      new Network("net", { clusterName: "c", namePrefix: "p", instanceTypes: ["m7i.large", "m6g.large"] });
      await settle();
      const zones = ofType("aws:ec2/subnet:Subnet").map((s) => s.inputs.availabilityZone);
      assert.deepStrictEqual([...new Set(zones)].sort(), [ZONES[1], ZONES[2]]);
      const azCall = recordedCalls().find(
        (c) => c.token === "aws:index/getAvailabilityZones:getAvailabilityZones",
      );
      assert.deepStrictEqual(azCall?.inputs.excludeZoneIds, ["use1-az3", "usw1-az2", "cac1-az3"]);
    } finally {
      delete NOT_OFFERED[ZONES[0]];
    }
  });

  it("names the types when fewer than two AZs offer them all", () => {
    assert.throws(
      () => pickZones(ZONES, [{ location: ZONES[0], instanceType: "m6g.large" }], ["m6g.large"], 2),
      /only 1 AZ\(s\) of .* offer every node-group instance type \(m6g\.large\); the lab needs 2/,
    );
  });

  it("spreads subnets over two AZs behind one NAT gateway", async () => {
    const net = new Network("net", { clusterName: "lab-alice", namePrefix: "lab-alice" });
    const privateIds = await valueOf(net.privateSubnetIds);
    await settle();
    const subnets = ofType("aws:ec2/subnet:Subnet");
    assert.strictEqual(subnets.length, 4);
    const byName = Object.fromEntries(subnets.map((s) => [s.name, s.inputs]));
    assert.deepStrictEqual(
      ["net-public-0", "net-public-1", "net-private-0", "net-private-1"].map(
        (n) => byName[n].availabilityZone,
      ),
      [ZONES[0], ZONES[1], ZONES[0], ZONES[1]],
    );
    assert.strictEqual(byName["net-public-0"].tags["kubernetes.io/role/elb"], "1");
    assert.strictEqual(byName["net-private-1"].tags["kubernetes.io/role/internal-elb"], "1");
    assert.strictEqual(byName["net-private-1"].tags["kubernetes.io/cluster/lab-alice"], "shared");
    assert.strictEqual(byName["net-public-0"].mapPublicIpOnLaunch, true);
    assert.strictEqual(byName["net-private-0"].mapPublicIpOnLaunch, false);
    assert.deepStrictEqual(privateIds, ["net-private-0-id", "net-private-1-id"]);

    assert.strictEqual(ofType("aws:ec2/natGateway:NatGateway").length, 1);
    assert.strictEqual(ofType("aws:ec2/eip:Eip").length, 1);
    assert.strictEqual(one("aws:ec2/natGateway:NatGateway").inputs.subnetId, "net-public-0-id");
    assert.deepStrictEqual(one("aws:ec2/routeTable:RouteTable", "net-private-rt").inputs.routes, [
      { cidrBlock: "0.0.0.0/0", natGatewayId: "net-nat-id" },
    ]);
    assert.deepStrictEqual(one("aws:ec2/routeTable:RouteTable", "net-public-rt").inputs.routes, [
      { cidrBlock: "0.0.0.0/0", gatewayId: "net-igw-id" },
    ]);
    const associations = ofType("aws:ec2/routeTableAssociation:RouteTableAssociation").map((a) => [
      a.inputs.subnetId,
      a.inputs.routeTableId,
    ]);
    assert.deepStrictEqual(associations.sort(), [
      ["net-private-0-id", "net-private-rt-id"],
      ["net-private-1-id", "net-private-rt-id"],
      ["net-public-0-id", "net-public-rt-id"],
      ["net-public-1-id", "net-public-rt-id"],
    ]);
    const vpc = one("aws:ec2/vpc:Vpc").inputs;
    assert.strictEqual(vpc.enableDnsHostnames, true);
    assert.strictEqual(vpc.tags.Name, "lab-alice-vpc");
    assert.strictEqual(
      subnets.every((s) => s.parent.endsWith("lab:index:Network::net")),
      true,
    );
  });
});
