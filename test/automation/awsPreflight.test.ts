/**
 * Preflight against moto over real HTTP: usage counted from Describe calls, the VPC limit from
 * Service Quotas, every other limit from AWS's documented defaults (moto answers NoSuchResource),
 * the AZ choice, and the command's table, report and exit codes.
 */
import * as ec2 from "@aws-sdk/client-ec2";
import { CreateClusterCommand } from "@aws-sdk/client-eks";
import { CreateLoadBalancerCommand } from "@aws-sdk/client-elastic-load-balancing-v2";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PreflightInput, preflight } from "../../automation/aws/preflight";
import { chooseZones } from "../../automation/aws/zones";
import { main } from "../../automation/cli/cli";
import { Moto, REGION, startMoto } from "./support/awsMoto";

const CONFIG = {
  x86InstanceTypes: ["m7i.large"],
  armInstanceTypes: ["m6g.large"],
  nodesDesired: 1,
  capacityType: "ON_DEMAND" as const,
};
const input = (
  topology: PreflightInput["topology"],
  n: number,
  more: Partial<PreflightInput> = {},
): PreflightInput => ({
  region: REGION,
  topology,
  attendees: Array.from({ length: n }, (_, i) => `a${i}`),
  config: CONFIG,
  ...more,
});

/** A busy account: a second VPC (with its IGW) with NAT gateways in two AZs, an NLB and an ALB, a cluster, instances. */
async function busyAccount(m: Moto): Promise<void> {
  const c = m.clients.ec2;
  const vpc = await c.send(new ec2.CreateVpcCommand({ CidrBlock: "10.9.0.0/16" }));
  const igw = await c.send(new ec2.CreateInternetGatewayCommand({}));
  await c.send(
    new ec2.AttachInternetGatewayCommand({
      InternetGatewayId: igw.InternetGateway?.InternetGatewayId,
      VpcId: vpc.Vpc?.VpcId,
    }),
  );
  const subnets: string[] = [];
  for (const [i, az] of ["us-east-1a", "us-east-1b"].entries()) {
    const s = await c.send(
      new ec2.CreateSubnetCommand({
        VpcId: vpc.Vpc?.VpcId,
        CidrBlock: `10.9.${i * 16}.0/20`,
        AvailabilityZone: az,
      }),
    );
    subnets.push(String(s.Subnet?.SubnetId));
    const eip = await c.send(new ec2.AllocateAddressCommand({ Domain: "vpc" }));
    await c.send(
      new ec2.CreateNatGatewayCommand({ SubnetId: s.Subnet?.SubnetId, AllocationId: eip.AllocationId }),
    );
  }
  for (const Type of ["network", "application"] as const)
    await m.clients.elbv2.send(
      new CreateLoadBalancerCommand({ Name: `busy-${Type}`, Type, Subnets: subnets }),
    );
  await m.clients.eks.send(
    new CreateClusterCommand({
      name: "busy",
      roleArn: "arn:aws:iam::123456789012:role/x",
      resourcesVpcConfig: { subnetIds: subnets },
    }),
  );
  // Standard families count (2 + 4 vCPUs); a G family instance has its own quota.
  for (const InstanceType of ["m5.large", "c5.xlarge", "g4dn.xlarge"] as const)
    await c.send(
      new ec2.RunInstancesCommand({ ImageId: "ami-12c6146b", MinCount: 1, MaxCount: 1, InstanceType }),
    );
}

describe("aws preflight (moto)", function () {
  let moto: Moto;
  let dir: string;
  before(async function () {
    moto = await startMoto(this);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-preflight-"));
  });
  after(async () => {
    await moto?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(async () => moto.reset());

  it("counts what the account uses, and takes each limit from Service Quotas or the documented default", async () => {
    await busyAccount(moto);
    const r = await preflight(input("dedicated", 2), moto.clients);
    const rows = Object.fromEntries(r.rows.map((row) => [row.resource, row]));
    const view = (k: string) => [
      rows[k].needed,
      rows[k].inUse,
      rows[k].limit,
      rows[k].limitSource,
      rows[k].fits,
    ];
    assert.deepEqual(view("vpcs"), [2, 2, 5, "service-quotas", true]);
    assert.deepEqual(view("elasticIps"), [2, 2, 5, "default", true]);
    // Per AZ: only the NAT gateway in us-east-1a (the lab's first AZ) counts.
    assert.deepEqual(view("natGateways"), [2, 1, 5, "service-quotas", true]);
    assert.deepEqual(view("internetGateways"), [2, 1, 5, "service-quotas", true]);
    assert.deepEqual(view("eksClusters"), [2, 1, 100, "default", true]);
    assert.deepEqual(view("networkLoadBalancers"), [2, 1, 50, "default", true]);
    // 2 attendees × 2 groups × 1 node × 2 vCPUs = 8, on top of 6 in use, against 5.
    assert.deepEqual(view("onDemandVcpus"), [8, 6, 5, "default", false]);
    assert.match(String(rows.elasticIps.note), /NoSuchResource/);
    assert.equal(r.fits, false);
  });

  it("a fifth dedicated lab does not fit the 5-VPC region; shared-network and shared-cluster do", async () => {
    const spot = { config: { ...CONFIG, capacityType: "SPOT" as const } };
    const r = await preflight(input("dedicated", 5, spot), moto.clients);
    const bad = r.rows.filter((row) => !row.fits).map((row) => row.resource);
    // moto has no IGW on its default VPC, so the fifth IGW still fits there.
    assert.deepEqual(bad, ["vpcs"]);
    assert.deepEqual(r.topologies, { dedicated: false, "shared-network": true, "shared-cluster": true });
    assert.equal((await preflight(input("shared-network", 5, spot), moto.clients)).fits, true);
    // Labs that already exist are in the usage: only the new ones are needed.
    const again = await preflight(input("dedicated", 5, { ...spot, existing: ["a0", "a1"] }), moto.clients);
    assert.equal(again.rows.find((row) => row.resource === "vpcs")?.needed, 3);
  });

  it("shared-cluster sizes one cluster's node groups for the attendees", async () => {
    const r = await preflight(input("shared-cluster", 9), moto.clients);
    const row = (k: string) => r.rows.find((x) => x.resource === k);
    assert.equal(row("eksClusters")?.needed, 1);
    assert.equal(row("networkLoadBalancers")?.needed, 9);
    // ceil(9 / 4) = 3 nodes per group × 2 groups × 2 vCPUs.
    assert.equal(row("onDemandVcpus")?.needed, 12);
  });

  it("picks two AZs offering both types, never an AZ ID where EKS cannot place a control plane", async () => {
    const r = await chooseZones(moto.clients, ["m7i.large", "m6g.large"]);
    assert.deepEqual(r.chosen, [
      { name: "us-east-1a", id: "use1-az6" },
      { name: "us-east-1b", id: "use1-az1" },
    ]);
    assert.deepEqual(
      r.skipped.map((s) => [s.zone.id, s.reason]),
      [["use1-az3", "EKS cannot place a control plane in use1-az3"]],
    );
    const none = await chooseZones(moto.clients, ["m7i.large", "m6g.nosuch"]);
    assert.deepEqual(none.chosen, []);
    assert.ok(none.skipped.every((s) => /m6g\.nosuch not offered|EKS/.test(s.reason)));
  });

  it("lab preflight: exit 1 with the table naming the topologies that fit, and a --report row per resource", async () => {
    const out: string[] = [];
    const report = path.join(dir, "preflight.json");
    const argv = [
      "preflight",
      "--attendees",
      "a,b,c,d,e",
      "--config",
      "capacityType=SPOT",
      "--report",
      report,
    ];
    const code = await main(argv, { out: (t) => out.push(t), err: (t) => out.push(t) });
    assert.equal(code, 1, out.join("\n"));
    assert.match(out.join("\n"), /would fit: --topology shared-network, --topology shared-cluster/);
    const rows = JSON.parse(fs.readFileSync(report, "utf8")).rows as Record<string, unknown>[];
    assert.deepEqual(
      rows.map((r) => r.resource),
      [
        "vpcs",
        "elasticIps",
        "natGateways",
        "internetGateways",
        "eksClusters",
        "networkLoadBalancers",
        "onDemandVcpus",
      ],
    );
    assert.deepEqual(rows[0], {
      ...rows[0],
      needed: 5,
      inUse: 1,
      limit: 5,
      limitSource: "service-quotas",
      fits: false,
    });
    const ok = await main([...argv.slice(0, 5), "--topology", "shared-network"], {
      out: () => undefined,
      err: () => undefined,
    });
    assert.equal(ok, 0);
  });

  it("lab preflight: bad input exits 2 and names it", async () => {
    for (const [argv, expected] of [
      [
        ["preflight", "--attendees", "a", "--topology", "mesh"],
        /--topology "mesh" is not one of dedicated, shared-network, shared-cluster/,
      ],
      [["preflight", "--attendees", "Bad_Name"], /Bad_Name/],
      [["preflight", "--attendees", "a", "--config", "nodesDesired=zero"], /nodesDesired/],
    ] as const) {
      const err: string[] = [];
      const code = await main([...argv], { out: () => undefined, err: (t) => err.push(t) });
      assert.equal(code, 2, err.join("\n"));
      assert.match(err.join("\n"), expected);
    }
  });
});
