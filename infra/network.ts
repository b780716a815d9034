/**
 * The lab's VPC: public subnets (load balancers, the NAT gateway) and private subnets (nodes) over
 * `azCount` availability zones, with ONE NAT gateway to keep per-attendee labs cheap (5 Elastic IPs
 * per region by default; see docs/ARCHITECTURE.md on quotas). Plain aws.ec2 resources.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EKS_UNSUPPORTED_AZ_IDS, pickZones } from "./zones";

export interface NetworkArgs {
  /**
   * EKS cluster name; subnets get `kubernetes.io/cluster/<name>=shared` so Services find them.
   * Undefined for a VPC that several clusters share (a workshop's `shared-network`): subnets then
   * carry no cluster tag, which the AWS cloud provider takes as usable by every cluster (a subnet
   * tagged for one cluster is skipped by the others).
   */
  clusterName: string | undefined;
  /** Prefix of the `Name` tags, e.g. `lab-alice`. */
  namePrefix: string;
  /** Availability zones to span (at least 2, as EKS requires). Defaults to 2. */
  azCount?: number;
  /** VPC CIDR block (a /16). Defaults to 10.0.0.0/16. */
  cidrBlock?: string;
  /** Instance types the VPC's nodes will run: only AZs offering all of them are used. */
  instanceTypes?: string[];
}

/** The lab VPC's CIDR block unless NetworkArgs.cidrBlock says otherwise. */
export const DEFAULT_VPC_CIDR = "10.0.0.0/16";

export interface SubnetPlan {
  /** `public` subnets hold load balancers and the NAT gateway; `private` ones hold the nodes. */
  kind: "public" | "private";
  /** Index of the availability zone. */
  az: number;
  cidrBlock: string;
  tags: Record<string, string>;
}

/** The subnets of a /16 VPC: a /20 public and a /18 private (room for VPC CNI pod IPs) per AZ. */
export function subnetPlan(
  clusterName: string | undefined,
  azCount: number,
  cidrBlock = DEFAULT_VPC_CIDR,
): SubnetPlan[] {
  if (!Number.isInteger(azCount) || azCount < 2 || azCount > 3) {
    throw new Error(
      `azCount is ${azCount}; EKS needs subnets in at least 2 AZs and this plan fits at most 3`,
    );
  }
  const m = /^(\d+)\.(\d+)\.0\.0\/16$/.exec(cidrBlock);
  if (!m) throw new Error(`cidrBlock "${cidrBlock}" must be a /16 such as 10.0.0.0/16`);
  const net = `${m[1]}.${m[2]}`;
  const clusterTag: Record<string, string> =
    clusterName === undefined ? {} : { [`kubernetes.io/cluster/${clusterName}`]: "shared" };
  const plan: SubnetPlan[] = [];
  for (let az = 0; az < azCount; az++) {
    plan.push({
      kind: "public",
      az,
      cidrBlock: `${net}.${az * 16}.0/20`,
      tags: { ...clusterTag, "kubernetes.io/role/elb": "1" },
    });
  }
  for (let az = 0; az < azCount; az++) {
    plan.push({
      kind: "private",
      az,
      cidrBlock: `${net}.${64 + az * 64}.0/18`,
      tags: { ...clusterTag, "kubernetes.io/role/internal-elb": "1" },
    });
  }
  return plan;
}

/** A VPC as clusters use it: this stack's Network, or the foundation's (from its outputs). */
export interface NetworkRef {
  vpcId: pulumi.Input<string>;
  publicSubnetIds: pulumi.Input<string[]>;
  privateSubnetIds: pulumi.Input<string[]>;
}

export class Network extends pulumi.ComponentResource implements NetworkRef {
  public readonly vpcId: pulumi.Output<string>;
  public readonly cidrBlock: pulumi.Output<string>;
  public readonly publicSubnetIds: pulumi.Output<string[]>;
  public readonly privateSubnetIds: pulumi.Output<string[]>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:index:Network", name, {}, opts);
    const parent = { parent: this };
    const nameTag = (suffix: string) => ({ Name: `${args.namePrefix}-${suffix}` });
    const azCount = args.azCount ?? 2;
    const plan = subnetPlan(args.clusterName, azCount, args.cidrBlock);

    const azs = aws.getAvailabilityZonesOutput(
      {
        state: "available",
        filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
        // No control plane can be placed there (infra/zones.ts).
        excludeZoneIds: [...EKS_UNSUPPORTED_AZ_IDS],
      },
      parent,
    );
    const types = args.instanceTypes ?? [];
    const offerings =
      types.length === 0
        ? undefined
        : aws.ec2.getInstanceTypeOfferingsOutput(
            { locationType: "availability-zone", filters: [{ name: "instance-type", values: types }] },
            parent,
          );
    // The first azCount AZs (name order) offering every node-group type.
    const zoneNames = pulumi
      .all([azs.names, offerings?.locations ?? [], offerings?.instanceTypes ?? []])
      .apply(([names, locations, offered]) => {
        if (names.length < azCount) {
          throw new Error(`the region has ${names.length} usable AZs; the lab needs ${azCount}`);
        }
        if (types.length === 0) return names.slice(0, azCount);
        const pairs = locations.map((location, i) => ({ location, instanceType: offered[i] }));
        return pickZones(names, pairs, types, azCount);
      });
    const vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: args.cidrBlock ?? DEFAULT_VPC_CIDR,
        enableDnsHostnames: true,
        enableDnsSupport: true,
        tags: nameTag("vpc"),
      },
      parent,
    );
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: vpc.id, tags: nameTag("igw") }, parent);

    const subnets = plan.map(
      (s) =>
        new aws.ec2.Subnet(
          `${name}-${s.kind}-${s.az}`,
          {
            vpcId: vpc.id,
            cidrBlock: s.cidrBlock,
            availabilityZone: zoneNames.apply((names) => names[s.az]),
            mapPublicIpOnLaunch: s.kind === "public",
            tags: { ...nameTag(`${s.kind}-${s.az}`), ...s.tags },
          },
          parent,
        ),
    );
    const publicSubnets = subnets.filter((_, i) => plan[i].kind === "public");
    const privateSubnets = subnets.filter((_, i) => plan[i].kind === "private");

    const publicRt = new aws.ec2.RouteTable(
      `${name}-public-rt`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", gatewayId: igw.id }], tags: nameTag("public") },
      parent,
    );
    const eip = new aws.ec2.Eip(`${name}-nat-eip`, { domain: "vpc", tags: nameTag("nat") }, parent);
    const nat = new aws.ec2.NatGateway(
      `${name}-nat`,
      { allocationId: eip.id, subnetId: publicSubnets[0].id, tags: nameTag("nat") },
      { parent: this, dependsOn: [igw] },
    );
    const privateRt = new aws.ec2.RouteTable(
      `${name}-private-rt`,
      { vpcId: vpc.id, routes: [{ cidrBlock: "0.0.0.0/0", natGatewayId: nat.id }], tags: nameTag("private") },
      parent,
    );
    subnets.forEach((subnet, i) => {
      const s = plan[i];
      new aws.ec2.RouteTableAssociation(
        `${name}-${s.kind}-${s.az}-rta`,
        { subnetId: subnet.id, routeTableId: s.kind === "public" ? publicRt.id : privateRt.id },
        parent,
      );
    });

    this.vpcId = vpc.id;
    this.cidrBlock = vpc.cidrBlock;
    this.publicSubnetIds = pulumi.all(publicSubnets.map((s) => s.id));
    this.privateSubnetIds = pulumi.all(privateSubnets.map((s) => s.id));
    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      privateSubnetIds: this.privateSubnetIds,
    });
  }
}
