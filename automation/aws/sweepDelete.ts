/**
 * Deletes found lab resources, one kind after another in SWEEP_ORDER, waiting where AWS deletes
 * asynchronously (node groups, clusters, load balancers, NAT gateways) so the next kind's
 * dependencies are gone. Only ever called with items the finder matched by the lab's tags.
 */
import * as ec2 from "@aws-sdk/client-ec2";
import { DeleteRepositoryCommand } from "@aws-sdk/client-ecr";
import * as eks from "@aws-sdk/client-eks";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import * as iam from "@aws-sdk/client-iam";
import { AwsClients, awsErrorName } from "./clients";
import { SWEEP_ORDER, SweepItem, SweepKind } from "./sweepFind";
import { errorMessage } from "../errors";

export interface DeleteOptions {
  sleep: (ms: number) => Promise<void>;
  /** Longest wait for one asynchronous delete (node groups take 10+ minutes). */
  waitTimeoutMs: number;
  pollMs: number;
  log: (line: string) => void;
}

const gone = (e: unknown): boolean => /NotFound|NoSuchEntity|ResourceNotFound/.test(awsErrorName(e));

/** Polls `exists` until false; throws after the timeout. */
async function waitGone(what: string, exists: () => Promise<boolean>, o: DeleteOptions): Promise<void> {
  for (let waited = 0; ; waited += o.pollMs) {
    let present: boolean;
    try {
      present = await exists();
    } catch (e) {
      if (gone(e)) return;
      throw e;
    }
    if (!present) return;
    if (waited >= o.waitTimeoutMs)
      throw new Error(`${what} still exists after ${Math.round(waited / 1000)} s`);
    await o.sleep(o.pollMs);
  }
}

type Deleter = (c: AwsClients, item: SweepItem, o: DeleteOptions, batch: SweepItem[]) => Promise<void>;

/** Security-group rules naming other groups are what stop a group's delete: revoked first. */
async function revokeGroupReferences(c: AwsClients, groupId: string): Promise<void> {
  const r = await c.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: [groupId] }));
  const g = r.SecurityGroups?.[0];
  const refs = (perms: ec2.IpPermission[] | undefined) =>
    (perms ?? []).filter((p) => (p.UserIdGroupPairs ?? []).length > 0);
  const ingress = refs(g?.IpPermissions);
  const egress = refs(g?.IpPermissionsEgress);
  if (ingress.length > 0)
    await c.ec2.send(new ec2.RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: ingress }));
  if (egress.length > 0)
    await c.ec2.send(new ec2.RevokeSecurityGroupEgressCommand({ GroupId: groupId, IpPermissions: egress }));
}

const DELETERS: Record<Exclude<SweepKind, "other">, Deleter> = {
  "eks-nodegroup": async (c, i, o) => {
    const key = { clusterName: i.parent, nodegroupName: i.id };
    await c.eks.send(new eks.DeleteNodegroupCommand(key));
    await waitGone(
      `node group ${i.id}`,
      async () => !!(await c.eks.send(new eks.DescribeNodegroupCommand(key))),
      o,
    );
  },
  "eks-cluster": async (c, i, o) => {
    await c.eks.send(new eks.DeleteClusterCommand({ name: i.id }));
    await waitGone(
      `cluster ${i.id}`,
      async () => !!(await c.eks.send(new eks.DescribeClusterCommand({ name: i.id }))),
      o,
    );
  },
  "load-balancer": async (c, i, o) => {
    await c.elbv2.send(new elb.DeleteLoadBalancerCommand({ LoadBalancerArn: i.arn }));
    await waitGone(
      `load balancer ${i.id}`,
      async () =>
        (
          (await c.elbv2.send(new elb.DescribeLoadBalancersCommand({ LoadBalancerArns: [String(i.arn)] })))
            .LoadBalancers ?? []
        ).length > 0,
      o,
    );
  },
  "target-group": async (c, i) => {
    await c.elbv2.send(new elb.DeleteTargetGroupCommand({ TargetGroupArn: i.arn }));
  },
  "nat-gateway": async (c, i, o) => {
    await c.ec2.send(new ec2.DeleteNatGatewayCommand({ NatGatewayId: i.id }));
    await waitGone(
      `NAT gateway ${i.id}`,
      async () => {
        const r = await c.ec2.send(new ec2.DescribeNatGatewaysCommand({ NatGatewayIds: [i.id] }));
        return (r.NatGateways ?? []).some((n) => n.State !== "deleted");
      },
      o,
    );
  },
  "elastic-ip": async (c, i) => {
    for (const AssociationId of i.attachments ?? [])
      await c.ec2.send(new ec2.DisassociateAddressCommand({ AssociationId }));
    await c.ec2.send(new ec2.ReleaseAddressCommand({ AllocationId: i.id }));
  },
  "network-interface": async (c, i) => {
    await c.ec2.send(new ec2.DeleteNetworkInterfaceCommand({ NetworkInterfaceId: i.id }));
  },
  "ebs-volume": async (c, i) => {
    await c.ec2.send(new ec2.DeleteVolumeCommand({ VolumeId: i.id }));
  },
  "launch-template": async (c, i) => {
    await c.ec2.send(new ec2.DeleteLaunchTemplateCommand({ LaunchTemplateId: i.id }));
  },
  "security-group": async (c, i, _o, batch) => {
    // Before the first group of the batch goes, every group's cross-references go.
    if (batch.find((b) => b.kind === "security-group") === i) {
      for (const g of batch.filter((b) => b.kind === "security-group")) await revokeGroupReferences(c, g.id);
    }
    await c.ec2.send(new ec2.DeleteSecurityGroupCommand({ GroupId: i.id }));
  },
  subnet: async (c, i) => {
    await c.ec2.send(new ec2.DeleteSubnetCommand({ SubnetId: i.id }));
  },
  "route-table": async (c, i) => {
    for (const AssociationId of i.attachments ?? [])
      await c.ec2.send(new ec2.DisassociateRouteTableCommand({ AssociationId }));
    await c.ec2.send(new ec2.DeleteRouteTableCommand({ RouteTableId: i.id }));
  },
  "internet-gateway": async (c, i) => {
    for (const VpcId of i.attachments ?? [])
      await c.ec2.send(new ec2.DetachInternetGatewayCommand({ InternetGatewayId: i.id, VpcId }));
    await c.ec2.send(new ec2.DeleteInternetGatewayCommand({ InternetGatewayId: i.id }));
  },
  vpc: async (c, i) => {
    await c.ec2.send(new ec2.DeleteVpcCommand({ VpcId: i.id }));
  },
  "ecr-repository": async (c, i) => {
    await c.ecr.send(new DeleteRepositoryCommand({ repositoryName: i.id, force: true }));
  },
  "iam-role": async (c, i) => {
    const RoleName = i.id;
    const profiles = await c.iam.send(new iam.ListInstanceProfilesForRoleCommand({ RoleName }));
    for (const p of profiles.InstanceProfiles ?? [])
      await c.iam.send(
        new iam.RemoveRoleFromInstanceProfileCommand({
          RoleName,
          InstanceProfileName: p.InstanceProfileName,
        }),
      );
    const attached = await c.iam.send(new iam.ListAttachedRolePoliciesCommand({ RoleName }));
    for (const p of attached.AttachedPolicies ?? [])
      await c.iam.send(new iam.DetachRolePolicyCommand({ RoleName, PolicyArn: p.PolicyArn }));
    const inline = await c.iam.send(new iam.ListRolePoliciesCommand({ RoleName }));
    for (const PolicyName of inline.PolicyNames ?? [])
      await c.iam.send(new iam.DeleteRolePolicyCommand({ RoleName, PolicyName }));
    await c.iam.send(new iam.DeleteRoleCommand({ RoleName }));
  },
};

/**
 * Deletes `items` in dependency order, each kind's items in parallel; marks each deleted or
 * failed (with the error). A failure does not stop the rest: what it blocks fails in turn and is
 * reported too.
 */
export async function deleteLabResources(
  c: AwsClients,
  items: SweepItem[],
  o: DeleteOptions,
): Promise<SweepItem[]> {
  const done: SweepItem[] = [];
  for (const kind of SWEEP_ORDER) {
    const batch = items.filter((i) => i.kind === kind);
    if (kind === "other") {
      for (const i of batch) {
        o.log(`left ${i.id}: a kind the sweep does not delete`);
        done.push({ ...i, status: "failed", error: "not a kind the sweep deletes; delete it by hand" });
      }
      continue;
    }
    const deleteOne = DELETERS[kind];
    // Security groups one at a time: the first revokes the batch's cross-references.
    const run = async (i: SweepItem): Promise<SweepItem> => {
      try {
        await deleteOne(c, i, o, batch);
        o.log(`deleted ${i.kind} ${i.id}`);
        return { ...i, status: "deleted" };
      } catch (e) {
        if (gone(e)) return { ...i, status: "deleted" };
        const error = `${awsErrorName(e)}: ${errorMessage(e)}`;
        o.log(`failed ${i.kind} ${i.id}: ${error}`);
        return { ...i, status: "failed", error };
      }
    };
    if (kind === "security-group") for (const i of batch) done.push(await run(i));
    else done.push(...(await Promise.all(batch.map(run))));
  }
  return done;
}
