/**
 * What a workshop needs from an AWS region, per topology: a plain function of (topology, attendee
 * count, config), so preflight can answer before any program runs. The model, per workshop of N:
 *
 * | topology         | VPC+IGW+NAT+EIP | EKS clusters | NLBs | nodes per group                 |
 * | ---------------- | --------------- | ------------ | ---- | ------------------------------- |
 * | `dedicated`      | N               | N            | N    | nodesDesired per cluster        |
 * | `shared-network` | 1               | N            | N    | nodesDesired per cluster        |
 * | `shared-cluster` | 1               | 1            | N    | sharedClusterNodes(N, desired)  |
 *
 * Each lab has one NAT gateway (with its Elastic IP) in the first AZ of its VPC, and each attendee's
 * Service one NLB. Nodes count at `nodesDesired` (what `up` launches), each at the vCPUs of the
 * largest type of its group; SPOT nodes need no on-demand vCPUs.
 */
import { Arch } from "../../infra/arch";
import { CapacityType } from "../../infra/config";
import { sharedClusterNodes } from "../../infra/topology";
import { Topology } from "../../infra/workshopConfig";

export const RESOURCES = [
  "vpcs",
  "elasticIps",
  "natGateways",
  "internetGateways",
  "eksClusters",
  "networkLoadBalancers",
  "onDemandVcpus",
] as const;
export type Resource = (typeof RESOURCES)[number];

/** The config values sizing depends on (a subset of infra/config.ts's LabConfig). */
export interface SizingConfig {
  x86InstanceTypes: string[];
  armInstanceTypes: string[];
  nodesDesired: number;
  capacityType: CapacityType;
}

export interface NodeGroupNeed {
  arch: Arch;
  instanceTypes: string[];
  /** Nodes of this group over the whole workshop (all clusters). */
  nodes: number;
}

export interface WorkshopShape {
  networks: number;
  clusters: number;
  loadBalancers: number;
  nodeGroups: NodeGroupNeed[];
  onDemand: boolean;
}

export function workshopShape(topology: Topology, attendees: number, cfg: SizingConfig): WorkshopShape {
  const shared = attendees > 0 ? 1 : 0;
  const networks = topology === "dedicated" ? attendees : shared;
  const clusters = topology === "shared-cluster" ? shared : attendees;
  const perGroup =
    topology === "shared-cluster"
      ? shared * sharedClusterNodes(attendees, cfg.nodesDesired)
      : attendees * cfg.nodesDesired;
  return {
    networks,
    clusters,
    loadBalancers: attendees,
    nodeGroups: [
      { arch: "amd64", instanceTypes: cfg.x86InstanceTypes, nodes: perGroup },
      { arch: "arm64", instanceTypes: cfg.armInstanceTypes, nodes: perGroup },
    ],
    onDemand: cfg.capacityType === "ON_DEMAND",
  };
}

/** Resource counts of a shape; `vcpus` maps each instance type to its vCPUs. */
export function shapeCounts(shape: WorkshopShape, vcpus: Record<string, number>): Record<Resource, number> {
  const nodeVcpus = (types: string[]): number => Math.max(0, ...types.map((t) => vcpus[t] ?? 0));
  const onDemandVcpus = shape.onDemand
    ? shape.nodeGroups.reduce((sum, g) => sum + g.nodes * nodeVcpus(g.instanceTypes), 0)
    : 0;
  return {
    vpcs: shape.networks,
    elasticIps: shape.networks,
    natGateways: shape.networks,
    internetGateways: shape.networks,
    eksClusters: shape.clusters,
    networkLoadBalancers: shape.loadBalancers,
    onDemandVcpus,
  };
}

/**
 * What bringing the workshop to `attendees` labs adds, when `existing` of them are already up
 * (their resources are already in the account's usage): the difference of the two shapes.
 */
export function workshopNeeds(
  topology: Topology,
  attendees: number,
  existing: number,
  cfg: SizingConfig,
  vcpus: Record<string, number>,
): Record<Resource, number> {
  const all = shapeCounts(workshopShape(topology, attendees, cfg), vcpus);
  const have = shapeCounts(workshopShape(topology, Math.min(existing, attendees), cfg), vcpus);
  const out = {} as Record<Resource, number>;
  for (const r of RESOURCES) out[r] = Math.max(0, all[r] - have[r]);
  return out;
}
