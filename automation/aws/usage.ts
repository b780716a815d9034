/** What the account already uses in the region, counted with Describe and List calls. */
import {
  DescribeAddressesCommand,
  DescribeInstanceTypesCommand,
  Instance,
  paginateDescribeInstances,
  paginateDescribeInternetGateways,
  paginateDescribeNatGateways,
  paginateDescribeSubnets,
  paginateDescribeVpcs,
} from "@aws-sdk/client-ec2";
import { paginateListClusters } from "@aws-sdk/client-eks";
import { paginateDescribeLoadBalancers } from "@aws-sdk/client-elastic-load-balancing-v2";
import { AwsClients } from "./clients";
import { isStandardFamily } from "./quotas";
import { Resource } from "./topology";

async function collect<T, P>(pages: AsyncIterable<P>, pick: (p: P) => T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  for await (const page of pages) all.push(...(pick(page) ?? []));
  return all;
}

/** vCPUs of each instance type (DescribeInstanceTypes, 100 types per call). */
export async function vcpusOf(clients: AwsClients, types: string[]): Promise<Record<string, number>> {
  const unique = [...new Set(types)];
  const out: Record<string, number> = {};
  for (let i = 0; i < unique.length; i += 100) {
    const r = await clients.ec2.send(
      new DescribeInstanceTypesCommand({ InstanceTypes: unique.slice(i, i + 100) as never[] }),
    );
    for (const t of r.InstanceTypes ?? []) {
      if (t.InstanceType && t.VCpuInfo?.DefaultVCpus) out[t.InstanceType] = t.VCpuInfo.DefaultVCpus;
    }
  }
  return out;
}

/** Running (and pending) on-demand vCPUs of the standard families: what L-1216C47A meters. */
async function onDemandVcpusInUse(clients: AwsClients): Promise<number> {
  const filters = [{ Name: "instance-state-name", Values: ["pending", "running"] }];
  const reservations = await collect(
    paginateDescribeInstances({ client: clients.ec2 }, { Filters: filters }),
    (p) => p.Reservations,
  );
  const instances: Instance[] = reservations.flatMap((r) => r.Instances ?? []);
  const counted = instances.filter(
    (i) => i.InstanceLifecycle !== "spot" && isStandardFamily(String(i.InstanceType ?? "")),
  );
  const vcpus = await vcpusOf(
    clients,
    counted.map((i) => String(i.InstanceType)),
  );
  return counted.reduce((sum, i) => {
    const own = (i.CpuOptions?.CoreCount ?? 0) * (i.CpuOptions?.ThreadsPerCore ?? 0);
    return sum + (own || vcpus[String(i.InstanceType)] || 0);
  }, 0);
}

/**
 * NAT gateways (pending or available) in `zone`: the quota is per AZ, and the lab puts its NAT
 * gateways in the first AZ it uses.
 */
async function natGatewaysIn(clients: AwsClients, zone: string | undefined): Promise<number> {
  const nats = await collect(
    paginateDescribeNatGateways(
      { client: clients.ec2 },
      { Filter: [{ Name: "state", Values: ["pending", "available"] }] },
    ),
    (p) => p.NatGateways,
  );
  if (zone === undefined || nats.length === 0) return nats.length;
  const subnets = await collect(
    paginateDescribeSubnets(
      { client: clients.ec2 },
      { Filters: [{ Name: "availability-zone", Values: [zone] }] },
    ),
    (p) => p.Subnets,
  );
  const inZone = new Set(subnets.map((s) => s.SubnetId));
  return nats.filter((n) => inZone.has(n.SubnetId)).length;
}

export async function inUse(
  clients: AwsClients,
  natZone: string | undefined,
): Promise<Record<Resource, number>> {
  const ec2 = { client: clients.ec2 };
  const [vpcs, addresses, igws, clusters, lbs, natGateways, onDemandVcpus] = await Promise.all([
    collect(paginateDescribeVpcs(ec2, {}), (p) => p.Vpcs),
    // DescribeAddresses is not paginated: one answer holds every address.
    clients.ec2.send(new DescribeAddressesCommand({})).then((r) => r.Addresses ?? []),
    collect(paginateDescribeInternetGateways(ec2, {}), (p) => p.InternetGateways),
    collect(paginateListClusters({ client: clients.eks }, {}), (p) => p.clusters),
    collect(paginateDescribeLoadBalancers({ client: clients.elbv2 }, {}), (p) => p.LoadBalancers),
    natGatewaysIn(clients, natZone),
    onDemandVcpusInUse(clients),
  ]);
  return {
    vpcs: vpcs.length,
    elasticIps: addresses.filter((a) => a.Domain !== "standard").length,
    natGateways,
    internetGateways: igws.length,
    eksClusters: clusters.length,
    networkLoadBalancers: lbs.filter((lb) => lb.Type === "network").length,
    onDemandVcpus,
  };
}
