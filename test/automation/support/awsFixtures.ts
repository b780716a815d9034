/**
 * Resources created in moto the way a lab (or a stranger) has them: a whole lab network, cluster,
 * load balancer, repository and role carrying the given tags, so the sweep tests can compare what
 * it finds with what exists.
 */
import * as ec2 from "@aws-sdk/client-ec2";
import { CreateRepositoryCommand, DescribeRepositoriesCommand } from "@aws-sdk/client-ecr";
import {
  CreateClusterCommand,
  CreateNodegroupCommand,
  DescribeClusterCommand,
  DescribeNodegroupCommand,
} from "@aws-sdk/client-eks";
import * as elb from "@aws-sdk/client-elastic-load-balancing-v2";
import * as iam from "@aws-sdk/client-iam";
import { AwsClients } from "../../../automation/aws/clients";

export type Tags = Record<string, string>;

export const labTagsOf = (workshop: string, attendee: string): Tags => ({
  lab: "multiarch-lab",
  workshop,
  attendee,
  "managed-by": "pulumi",
});

const POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: "ec2:DescribeInstances", Resource: "*" }],
});
const list = (tags: Tags) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
const spec = (ResourceType: ec2.ResourceType, tags: Tags) => [{ ResourceType, Tags: list(tags) }];

/** IDs of what `createLab` made, by sweep kind. */
export type Made = Record<string, string[]>;

/**
 * One lab's worth of resources, `name` unique per call (`lab-alice`, `lab-alice-x`…), all with
 * `tags` (plus the Kubernetes cluster tag on what Kubernetes would have made).
 */
export async function createLab(c: AwsClients, name: string, tags: Tags, cidr: string): Promise<Made> {
  const k8s = { ...tags, [`kubernetes.io/cluster/${name}`]: "owned" };
  const vpc = await c.ec2.send(
    new ec2.CreateVpcCommand({ CidrBlock: `${cidr}.0.0/16`, TagSpecifications: spec("vpc", tags) }),
  );
  const VpcId = String(vpc.Vpc?.VpcId);
  const igw = await c.ec2.send(
    new ec2.CreateInternetGatewayCommand({ TagSpecifications: spec("internet-gateway", tags) }),
  );
  const igwId = String(igw.InternetGateway?.InternetGatewayId);
  await c.ec2.send(new ec2.AttachInternetGatewayCommand({ InternetGatewayId: igwId, VpcId }));
  const subnets: string[] = [];
  for (const [i, az] of ["us-east-1a", "us-east-1b"].entries()) {
    const s = await c.ec2.send(
      new ec2.CreateSubnetCommand({
        VpcId,
        CidrBlock: `${cidr}.${i * 16}.0/20`,
        AvailabilityZone: az,
        TagSpecifications: spec("subnet", { ...tags, [`kubernetes.io/cluster/${name}`]: "shared" }),
      }),
    );
    subnets.push(String(s.Subnet?.SubnetId));
  }
  const rt = await c.ec2.send(
    new ec2.CreateRouteTableCommand({ VpcId, TagSpecifications: spec("route-table", tags) }),
  );
  const rtId = String(rt.RouteTable?.RouteTableId);
  await c.ec2.send(
    new ec2.CreateRouteCommand({ RouteTableId: rtId, DestinationCidrBlock: "0.0.0.0/0", GatewayId: igwId }),
  );
  await c.ec2.send(new ec2.AssociateRouteTableCommand({ RouteTableId: rtId, SubnetId: subnets[0] }));
  const eip = await c.ec2.send(
    new ec2.AllocateAddressCommand({ Domain: "vpc", TagSpecifications: spec("elastic-ip", tags) }),
  );
  const nat = await c.ec2.send(
    new ec2.CreateNatGatewayCommand({
      SubnetId: subnets[0],
      AllocationId: eip.AllocationId,
      TagSpecifications: spec("natgateway", tags),
    }),
  );
  // Two groups naming each other, as the cluster and node groups do.
  const sgs: string[] = [];
  for (const g of ["cluster", "nodes"]) {
    const sg = await c.ec2.send(
      new ec2.CreateSecurityGroupCommand({
        GroupName: `${name}-${g}`,
        Description: g,
        VpcId,
        TagSpecifications: spec("security-group", k8s),
      }),
    );
    sgs.push(String(sg.GroupId));
  }
  await c.ec2.send(
    new ec2.AuthorizeSecurityGroupIngressCommand({
      GroupId: sgs[0],
      IpPermissions: [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: sgs[1] }] }],
    }),
  );
  await c.ec2.send(
    new ec2.AuthorizeSecurityGroupIngressCommand({
      GroupId: sgs[1],
      IpPermissions: [{ IpProtocol: "-1", UserIdGroupPairs: [{ GroupId: sgs[0] }] }],
    }),
  );
  const eni = await c.ec2.send(
    new ec2.CreateNetworkInterfaceCommand({
      SubnetId: subnets[1],
      TagSpecifications: spec("network-interface", k8s),
    }),
  );
  const vol = await c.ec2.send(
    new ec2.CreateVolumeCommand({
      AvailabilityZone: "us-east-1a",
      Size: 8,
      TagSpecifications: spec("volume", k8s),
    }),
  );
  const lt = await c.ec2.send(
    new ec2.CreateLaunchTemplateCommand({
      LaunchTemplateName: `${name}-x86-`,
      LaunchTemplateData: { InstanceType: "m7i.large" },
      TagSpecifications: spec("launch-template", tags),
    }),
  );
  const lb = await c.elbv2.send(
    new elb.CreateLoadBalancerCommand({
      Name: `${name}-nlb`.slice(0, 32),
      Type: "network",
      Subnets: subnets,
      Tags: list(k8s),
    }),
  );
  const tg = await c.elbv2.send(
    new elb.CreateTargetGroupCommand({
      Name: `${name}-tg`.slice(0, 32),
      Protocol: "TCP",
      Port: 30080,
      VpcId,
      Tags: list(k8s),
    }),
  );
  await c.ecr.send(new CreateRepositoryCommand({ repositoryName: `${name}/hello`, tags: list(tags) }));
  const role = await c.iam.send(
    new iam.CreateRoleCommand({
      RoleName: `${name}-node-role1`,
      AssumeRolePolicyDocument: POLICY,
      Tags: list(tags),
    }),
  );
  const policy = await c.iam.send(
    new iam.CreatePolicyCommand({
      PolicyName: `${name}-nodes`,
      PolicyDocument: POLICY,
    }),
  );
  await c.iam.send(
    new iam.AttachRolePolicyCommand({ RoleName: role.Role?.RoleName, PolicyArn: policy.Policy?.Arn }),
  );
  await c.iam.send(
    new iam.PutRolePolicyCommand({
      RoleName: role.Role?.RoleName,
      PolicyName: "inline",
      PolicyDocument: POLICY,
    }),
  );
  await c.eks.send(
    new CreateClusterCommand({
      name,
      roleArn: String(role.Role?.Arn),
      resourcesVpcConfig: { subnetIds: subnets },
      tags,
    }),
  );
  await c.eks.send(
    new CreateNodegroupCommand({
      clusterName: name,
      nodegroupName: `${name}-x86`,
      nodeRole: String(role.Role?.Arn),
      subnets,
      tags,
    }),
  );
  return {
    vpc: [VpcId],
    "internet-gateway": [igwId],
    subnet: subnets,
    "route-table": [rtId],
    "elastic-ip": [String(eip.AllocationId)],
    "nat-gateway": [String(nat.NatGateway?.NatGatewayId)],
    "security-group": sgs,
    "network-interface": [String(eni.NetworkInterface?.NetworkInterfaceId)],
    "ebs-volume": [String(vol.VolumeId)],
    "launch-template": [String(lt.LaunchTemplate?.LaunchTemplateId)],
    "load-balancer": [String(lb.LoadBalancers?.[0]?.LoadBalancerName)],
    "target-group": [String(tg.TargetGroups?.[0]?.TargetGroupName)],
    "ecr-repository": [`${name}/hello`],
    "iam-role": [String(role.Role?.RoleName)],
    "eks-cluster": [name],
    "eks-nodegroup": [`${name}-x86`],
  };
}

/** Of `made`, the IDs that still exist (each looked up by its own Describe/Get call). */
export async function stillThere(c: AwsClients, made: Made): Promise<Made> {
  const exists: Record<string, (id: string) => Promise<boolean>> = {
    vpc: async (id) => !!(await c.ec2.send(new ec2.DescribeVpcsCommand({ VpcIds: [id] }))).Vpcs?.length,
    "internet-gateway": async (id) =>
      !!(await c.ec2.send(new ec2.DescribeInternetGatewaysCommand({ InternetGatewayIds: [id] })))
        .InternetGateways?.length,
    subnet: async (id) =>
      !!(await c.ec2.send(new ec2.DescribeSubnetsCommand({ SubnetIds: [id] }))).Subnets?.length,
    "route-table": async (id) =>
      !!(await c.ec2.send(new ec2.DescribeRouteTablesCommand({ RouteTableIds: [id] }))).RouteTables?.length,
    "elastic-ip": async (id) =>
      !!(await c.ec2.send(new ec2.DescribeAddressesCommand({ AllocationIds: [id] }))).Addresses?.length,
    "nat-gateway": async (id) =>
      (
        (await c.ec2.send(new ec2.DescribeNatGatewaysCommand({ NatGatewayIds: [id] }))).NatGateways ?? []
      ).some((n) => n.State !== "deleted"),
    "security-group": async (id) =>
      !!(await c.ec2.send(new ec2.DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups?.length,
    "network-interface": async (id) =>
      !!(await c.ec2.send(new ec2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: [id] })))
        .NetworkInterfaces?.length,
    "ebs-volume": async (id) =>
      !!(await c.ec2.send(new ec2.DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes?.length,
    "launch-template": async (id) =>
      !!(await c.ec2.send(new ec2.DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [id] })))
        .LaunchTemplates?.length,
    "load-balancer": async (id) =>
      !!(await c.elbv2.send(new elb.DescribeLoadBalancersCommand({ Names: [id] }))).LoadBalancers?.length,
    "target-group": async (id) =>
      !!(await c.elbv2.send(new elb.DescribeTargetGroupsCommand({ Names: [id] }))).TargetGroups?.length,
    "ecr-repository": async (id) =>
      !!(await c.ecr.send(new DescribeRepositoriesCommand({ repositoryNames: [id] }))).repositories?.length,
    "iam-role": async (id) => !!(await c.iam.send(new iam.GetRoleCommand({ RoleName: id }))).Role,
    "eks-cluster": async (id) => !!(await c.eks.send(new DescribeClusterCommand({ name: id }))).cluster,
    "eks-nodegroup": async (id) =>
      !!(
        await c.eks.send(
          new DescribeNodegroupCommand({ clusterName: id.replace(/-x86$/, ""), nodegroupName: id }),
        )
      ).nodegroup,
  };
  const out: Made = {};
  for (const [kind, ids] of Object.entries(made)) {
    for (const id of ids) {
      const present = await exists[kind](id).catch((e: Error) => {
        if (/NotFound|NoSuchEntity|Invalid.*\.Malformed|does not exist/i.test(`${e.name} ${e.message}`))
          return false;
        throw e;
      });
      if (present) (out[kind] ??= []).push(id);
    }
  }
  for (const k of Object.keys(out)) out[k].sort();
  return out;
}
