/**
 * Finds what a sweep would delete: every resource of the covered kinds in the region that carries
 * the lab's tags for the workshop (and attendee). Each kind is listed with its own API (which also
 * gives what the delete needs: VPC, attachments, associations); the Resource Groups Tagging API
 * then names anything else with the tags, so nothing tagged hides from `left`.
 */
import * as ec2 from "@aws-sdk/client-ec2";
import { DescribeRepositoriesCommand, ListTagsForResourceCommand } from "@aws-sdk/client-ecr";
import * as eks from "@aws-sdk/client-eks";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import { ListRoleTagsCommand, paginateListRoles } from "@aws-sdk/client-iam";
import { paginateGetResources } from "@aws-sdk/client-resource-groups-tagging-api";
import { AwsClients } from "./clients";
import {
  LabSelector,
  TAG_KEYS,
  belongsTo,
  ec2TagFilters,
  requiredTags,
  roleNameCandidate,
  tagMap,
} from "./tags";
import { LAB_TAG_VALUE } from "../../infra/names";

/** The covered kinds, in the order a delete must take them (dependents first). */
export const SWEEP_ORDER = [
  "eks-nodegroup",
  "eks-cluster",
  "load-balancer",
  "target-group",
  "nat-gateway",
  "elastic-ip",
  "network-interface",
  "ebs-volume",
  "launch-template",
  "security-group",
  "subnet",
  "route-table",
  "internet-gateway",
  "vpc",
  "ecr-repository",
  "iam-role",
  "other",
] as const;
export type SweepKind = (typeof SWEEP_ORDER)[number];

export interface SweepItem {
  kind: SweepKind;
  /** The resource's ID (or name where it has no other: clusters, roles, repositories). */
  id: string;
  arn?: string;
  /** EKS node groups: their cluster; ENIs, SGs, subnets…: their VPC; IGWs: attached VPCs. */
  parent?: string;
  attachments?: string[];
  status: "found" | "deleted" | "failed";
  error?: string;
}

async function all<P, T>(pages: AsyncIterable<P>, pick: (p: P) => T[] | undefined): Promise<T[]> {
  const out: T[] = [];
  for await (const p of pages) out.push(...(pick(p) ?? []));
  return out;
}

const found = (kind: SweepKind, id: string, more: Partial<SweepItem> = {}): SweepItem => ({
  kind,
  id,
  ...more,
  status: "found",
});

async function findEks(c: AwsClients, sel: LabSelector): Promise<SweepItem[]> {
  const items: SweepItem[] = [];
  const names = await all(eks.paginateListClusters({ client: c.eks }, {}), (p) => p.clusters);
  for (const name of names) {
    const cluster = (await c.eks.send(new eks.DescribeClusterCommand({ name }))).cluster;
    // Only a lab cluster can hold the lab's node groups: others are not even listed.
    if (tagMap(cluster?.tags)[TAG_KEYS.lab] !== LAB_TAG_VALUE) continue;
    const groups = await all(
      eks.paginateListNodegroups({ client: c.eks }, { clusterName: name }),
      (p) => p.nodegroups,
    );
    for (const ng of groups) {
      const g = (await c.eks.send(new eks.DescribeNodegroupCommand({ clusterName: name, nodegroupName: ng })))
        .nodegroup;
      if (belongsTo(g?.tags, sel))
        items.push(found("eks-nodegroup", ng, { arn: g?.nodegroupArn, parent: name }));
    }
    if (belongsTo(cluster?.tags, sel)) items.push(found("eks-cluster", name, { arn: cluster?.arn }));
  }
  return items;
}

/** ELBv2 tags come 20 ARNs per DescribeTags call. */
async function elbTagged(c: AwsClients, arns: string[], sel: LabSelector): Promise<Set<string>> {
  const mine = new Set<string>();
  for (let i = 0; i < arns.length; i += 20) {
    const r = await c.elbv2.send(new elb.DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of r.TagDescriptions ?? [])
      if (d.ResourceArn && belongsTo(d.Tags, sel)) mine.add(d.ResourceArn);
  }
  return mine;
}

async function findElb(c: AwsClients, sel: LabSelector): Promise<SweepItem[]> {
  const lbs = await all(elb.paginateDescribeLoadBalancers({ client: c.elbv2 }, {}), (p) => p.LoadBalancers);
  const tgs = await all(elb.paginateDescribeTargetGroups({ client: c.elbv2 }, {}), (p) => p.TargetGroups);
  const lbArns = lbs.map((l) => String(l.LoadBalancerArn));
  const tgArns = tgs.map((t) => String(t.TargetGroupArn));
  const mine = await elbTagged(c, [...lbArns, ...tgArns], sel);
  return [
    ...lbs
      .filter((l) => mine.has(String(l.LoadBalancerArn)))
      .map((l) =>
        found("load-balancer", String(l.LoadBalancerName), { arn: l.LoadBalancerArn, parent: l.VpcId }),
      ),
    ...tgs
      .filter((t) => mine.has(String(t.TargetGroupArn)))
      .map((t) =>
        found("target-group", String(t.TargetGroupName), { arn: t.TargetGroupArn, parent: t.VpcId }),
      ),
  ];
}

/** `gone` collects IDs AWS still lists after deletion (NAT gateways stay visible as `deleted`). */
async function findEc2(c: AwsClients, sel: LabSelector, gone: Set<string>): Promise<SweepItem[]> {
  const client = { client: c.ec2 };
  const Filters = ec2TagFilters(sel);
  const [nats, addresses, enis, volumes, templates, groups, subnets, tables, igws, vpcs] = await Promise.all([
    all(ec2.paginateDescribeNatGateways(client, { Filter: Filters }), (p) => p.NatGateways),
    c.ec2.send(new ec2.DescribeAddressesCommand({ Filters })).then((r) => r.Addresses ?? []),
    all(
      ec2.paginateDescribeNetworkInterfaces(client, {
        Filters: [...Filters, { Name: "status", Values: ["available"] }],
      }),
      (p) => p.NetworkInterfaces,
    ),
    all(ec2.paginateDescribeVolumes(client, { Filters }), (p) => p.Volumes),
    all(ec2.paginateDescribeLaunchTemplates(client, { Filters }), (p) => p.LaunchTemplates),
    all(ec2.paginateDescribeSecurityGroups(client, { Filters }), (p) => p.SecurityGroups),
    all(ec2.paginateDescribeSubnets(client, { Filters }), (p) => p.Subnets),
    all(ec2.paginateDescribeRouteTables(client, { Filters }), (p) => p.RouteTables),
    all(ec2.paginateDescribeInternetGateways(client, { Filters }), (p) => p.InternetGateways),
    all(ec2.paginateDescribeVpcs(client, { Filters }), (p) => p.Vpcs),
  ]);
  // The filters are the API's first cut; the tags are checked here again, whatever it answered.
  const own = <T extends { Tags?: ec2.Tag[] }>(list: T[]): T[] => list.filter((x) => belongsTo(x.Tags, sel));
  for (const n of nats) if (n.State === "deleted") gone.add(String(n.NatGatewayId));
  return [
    ...own(nats)
      .filter((n) => n.State !== "deleted")
      .map((n) => found("nat-gateway", String(n.NatGatewayId), { parent: n.VpcId })),
    ...own(addresses).map((a) =>
      found("elastic-ip", String(a.AllocationId), { attachments: a.AssociationId ? [a.AssociationId] : [] }),
    ),
    ...enis
      .filter((e) => belongsTo(e.TagSet, sel))
      .map((e) => found("network-interface", String(e.NetworkInterfaceId), { parent: e.VpcId })),
    ...own(volumes).map((v) => found("ebs-volume", String(v.VolumeId))),
    ...own(templates).map((t) => found("launch-template", String(t.LaunchTemplateId))),
    // A VPC's default group goes with the VPC; it cannot be deleted on its own.
    ...own(groups)
      .filter((g) => g.GroupName !== "default")
      .map((g) => found("security-group", String(g.GroupId), { parent: g.VpcId })),
    ...own(subnets).map((s) => found("subnet", String(s.SubnetId), { arn: s.SubnetArn, parent: s.VpcId })),
    // The main route table goes with its VPC.
    ...own(tables)
      .filter((t) => !(t.Associations ?? []).some((a) => a.Main))
      .map((t) =>
        found("route-table", String(t.RouteTableId), {
          parent: t.VpcId,
          attachments: (t.Associations ?? []).map((a) => String(a.RouteTableAssociationId)),
        }),
      ),
    ...own(igws).map((g) =>
      found("internet-gateway", String(g.InternetGatewayId), {
        attachments: (g.Attachments ?? []).map((a) => String(a.VpcId)),
      }),
    ),
    ...own(vpcs).map((v) => found("vpc", String(v.VpcId))),
  ];
}

async function findEcr(c: AwsClients, sel: LabSelector): Promise<SweepItem[]> {
  const items: SweepItem[] = [];
  let nextToken: string | undefined;
  do {
    const r = await c.ecr.send(new DescribeRepositoriesCommand({ nextToken }));
    for (const repo of r.repositories ?? []) {
      const tags = await c.ecr.send(new ListTagsForResourceCommand({ resourceArn: repo.repositoryArn }));
      if (belongsTo(tags.tags, sel))
        items.push(found("ecr-repository", String(repo.repositoryName), { arn: repo.repositoryArn }));
    }
    nextToken = r.nextToken;
  } while (nextToken);
  return items;
}

/** IAM is global: roles are matched by name and the workshop's tags, whatever the region. */
async function findRoles(c: AwsClients, sel: LabSelector): Promise<SweepItem[]> {
  const roles = await all(paginateListRoles({ client: c.iam }, {}), (p) => p.Roles);
  const items: SweepItem[] = [];
  for (const role of roles.filter((r) => r.RoleName && roleNameCandidate(r.RoleName, sel))) {
    const tags = await c.iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName }));
    if (belongsTo(tags.Tags, sel)) items.push(found("iam-role", String(role.RoleName), { arn: role.Arn }));
  }
  return items;
}

/** Tagged resources of kinds not covered above (instances, snapshots…): listed, never deleted. */
async function findOthers(
  c: AwsClients,
  sel: LabSelector,
  known: SweepItem[],
  gone: Set<string>,
): Promise<SweepItem[]> {
  const TagFilters = Object.entries(requiredTags(sel)).map(([Key, v]) => ({ Key, Values: [v] }));
  const mappings = await all(
    paginateGetResources({ client: c.tagging }, { TagFilters }),
    (p) => p.ResourceTagMappingList,
  );
  const ids = new Set([...gone, ...known.flatMap((i) => [i.id, i.arn ?? ""])]);
  return mappings
    .map((m) => String(m.ResourceARN))
    .filter((arn) => !ids.has(arn) && !ids.has(arn.split(/[/:]/).pop() ?? ""))
    .filter((arn) => belongsTo(mappings.find((m) => m.ResourceARN === arn)?.Tags, sel))
    .map((arn) => found("other", arn, { arn }));
}

/** Everything of the lab's for `sel`, in delete order. */
export async function findLabResources(c: AwsClients, sel: LabSelector): Promise<SweepItem[]> {
  const gone = new Set<string>();
  const parts = await Promise.all([
    findEks(c, sel),
    findElb(c, sel),
    findEc2(c, sel, gone),
    findEcr(c, sel),
    findRoles(c, sel),
  ]);
  const known = parts.flat();
  const items = [...known, ...(await findOthers(c, sel, known, gone))];
  return items.sort((a, b) => SWEEP_ORDER.indexOf(a.kind) - SWEEP_ORDER.indexOf(b.kind));
}
