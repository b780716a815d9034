/**
 * The EKS cluster: its VPC (infra/network.ts), an @pulumi/eks Cluster in API authentication mode
 * without a default node group, an explicit node IAM role with an EC2_LINUX access entry, and two
 * managed node groups, x86 and Graviton (infra/nodegroups.ts).
 */
import * as aws from "@pulumi/aws";
import * as eks from "@pulumi/eks";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "./config";
import { labNames } from "./names";
import { Network, NetworkRef } from "./network";
import { createNodeGroup, NodeGroupDescription, nodeGroupSpec, NodeGroupSpec } from "./nodegroups";

/** AWS managed policies every EKS worker node role needs. */
export const NODE_POLICIES = [
  "AmazonEKSWorkerNodePolicy",
  "AmazonEKS_CNI_Policy",
  "AmazonEC2ContainerRegistryReadOnly",
] as const;

export type ClusterArgs = Pick<
  LabConfig,
  | "attendee"
  | "workshop"
  | "kubernetesVersion"
  | "apiAllowedCidrs"
  | "x86InstanceTypes"
  | "armInstanceTypes"
  | "nodesMin"
  | "nodesDesired"
  | "nodesMax"
  | "capacityType"
  | "taintArm"
> & {
  /**
   * The AWS provider (with the lab's defaultTags). Forwarded explicitly to @pulumi/eks: it is a
   * remote component and does not inherit providers from its parent.
   */
  awsProvider: aws.Provider;
  /**
   * Extra IAM principals (role or user ARNs) granted AmazonEKSClusterAdminPolicy. The identity
   * that deploys the cluster must NOT be listed: @pulumi/eks creates the cluster with
   * `bootstrapClusterCreatorAdminPermissions: true`, so EKS already made its admin access entry,
   * and a second one fails with ResourceInUseException (pulumi-eks #2373).
   */
  adminPrincipalArns?: pulumi.Input<string>[];
  /**
   * An existing VPC to run in (a workshop foundation's, `shared-network`); by default the cluster
   * creates its own Network. A given VPC's subnets must route to a NAT gateway already.
   */
  network?: NetworkRef;
  /**
   * Enforce Kubernetes NetworkPolicies: the VPC CNI addon's `enableNetworkPolicy` (its network
   * policy agent). On for a shared cluster, whose tenants' namespaces are isolated by policies.
   */
  networkPolicy?: boolean;
};

/**
 * The VPC CNI options of a cluster: none (EKS's default CNI, as every lab had) unless it enforces
 * NetworkPolicies, which takes the managed vpc-cni addon with `enableNetworkPolicy: "true"` in its
 * configuration (pulumi-eks's VpcCniAddon writes it so from the boolean).
 */
export function vpcCniSettings(
  networkPolicy: boolean,
): Pick<eks.ClusterArgs, "useDefaultVpcCni" | "vpcCniOptions"> {
  if (!networkPolicy) return {};
  return { useDefaultVpcCni: false, vpcCniOptions: { enableNetworkPolicy: true } };
}

/** Both node group specs, validated before any resource is declared. */
export function clusterNodeGroupSpecs(args: ClusterArgs): NodeGroupSpec[] {
  const common = {
    attendee: args.attendee,
    workshop: args.workshop,
    minSize: args.nodesMin,
    desiredSize: args.nodesDesired,
    maxSize: args.nodesMax,
    capacityType: args.capacityType,
  };
  return [
    nodeGroupSpec({ ...common, arch: "amd64", instanceTypes: args.x86InstanceTypes, taint: false }),
    nodeGroupSpec({ ...common, arch: "arm64", instanceTypes: args.armInstanceTypes, taint: args.taintArm }),
  ];
}

/** Access entries: EC2_LINUX for the node role, cluster admin for each extra principal. */
export function clusterAccessEntries(
  nodeRoleArn: pulumi.Input<string>,
  adminPrincipalArns: pulumi.Input<string>[],
  partition: pulumi.Input<string>,
): Record<string, eks.types.input.AccessEntryArgs> {
  const entries: Record<string, eks.types.input.AccessEntryArgs> = {
    nodes: { principalArn: nodeRoleArn, type: eks.AccessEntryType.EC2Linux },
  };
  adminPrincipalArns.forEach((arn, i) => {
    entries[`admin-${i}`] = {
      principalArn: arn,
      type: eks.AccessEntryType.Standard,
      accessPolicies: {
        admin: {
          policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy`,
          accessScope: { type: "cluster" },
        },
      },
    };
  });
  return entries;
}

export class Cluster extends pulumi.ComponentResource {
  public readonly clusterName: pulumi.Output<string>;
  /** Kubeconfig as a JSON string (secret). Its exec plugin runs `aws eks get-token`. */
  public readonly kubeconfig: pulumi.Output<string>;
  /** Kubernetes provider for this cluster; ready only once both node groups are. */
  public readonly provider: k8s.Provider;
  public readonly nodeGroups: pulumi.Output<NodeGroupDescription[]>;
  public readonly nodeRoleArn: pulumi.Output<string>;
  public readonly vpcId: pulumi.Output<string>;
  /** The Network the cluster created (undefined when it runs in a given one). */
  public readonly network: Network | undefined;

  constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:index:Cluster", name, {}, opts);
    const specs = clusterNodeGroupSpecs(args); // throws before any child exists
    const names = labNames(args);
    const parent = { parent: this };

    const own = args.network
      ? undefined
      : new Network(
          `${name}-net`,
          {
            clusterName: names.cluster,
            namePrefix: names.base,
            instanceTypes: [...args.x86InstanceTypes, ...args.armInstanceTypes],
          },
          parent,
        );
    const network: NetworkRef = args.network ?? (own as Network);
    const partition = aws.getPartitionOutput({}, parent).partition;

    const nodeRole = new aws.iam.Role(
      `${name}-node-role`,
      {
        namePrefix: names.nodeRolePrefix,
        description: `EKS worker nodes of ${names.cluster}`,
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
          ],
        }),
      },
      parent,
    );
    const attachments = NODE_POLICIES.map(
      (policy) =>
        new aws.iam.RolePolicyAttachment(
          `${name}-node-${policy}`,
          { role: nodeRole.name, policyArn: pulumi.interpolate`arn:${partition}:iam::aws:policy/${policy}` },
          parent,
        ),
    );

    if (args.apiAllowedCidrs.includes("0.0.0.0/0")) {
      pulumi.log.warn(
        `cluster ${names.cluster}: its API endpoint is open to the whole internet (lab:apiAllowedCidrs ` +
          "0.0.0.0/0); set lab:apiAllowedCidrs to your own CIDRs, e.g. 203.0.113.7/32",
        this,
      );
    }
    const cluster = new eks.Cluster(
      `${name}-eks`,
      {
        name: names.cluster,
        version: args.kubernetesVersion,
        vpcId: network.vpcId,
        publicSubnetIds: network.publicSubnetIds,
        privateSubnetIds: network.privateSubnetIds,
        skipDefaultNodeGroup: true,
        // Managed node groups without custom security groups use the EKS-managed cluster security
        // group; pulumi-eks's extra node/cluster groups would only be more to delete on teardown.
        skipDefaultSecurityGroups: true,
        authenticationMode: eks.AuthenticationMode.Api,
        accessEntries: clusterAccessEntries(nodeRole.arn, args.adminPrincipalArns ?? [], partition),
        endpointPublicAccess: true,
        publicAccessCidrs: args.apiAllowedCidrs,
        endpointPrivateAccess: true,
        createOidcProvider: false,
        ...vpcCniSettings(args.networkPolicy ?? false),
      },
      { parent: this, providers: { aws: args.awsProvider } },
    );
    this.clusterName = cluster.eksCluster.name;

    // Nodes need the NAT route (image pulls) and their policies before they can join.
    const groups = specs.map((spec) =>
      createNodeGroup(
        name,
        spec,
        args,
        { name: this.clusterName, nodeRoleArn: nodeRole.arn, subnetIds: network.privateSubnetIds },
        { parent: this, dependsOn: [cluster, ...(own ? [own] : []), ...attachments] },
      ),
    );

    this.kubeconfig = pulumi.secret(cluster.kubeconfigJson);
    this.provider = new k8s.Provider(
      `${name}-k8s`,
      { kubeconfig: this.kubeconfig, enableServerSideApply: true },
      // Workloads wait for both node groups; on destroy they go first (their load balancers too).
      { parent: this, dependsOn: groups.map((g) => g.nodeGroup) },
    );
    this.nodeGroups = pulumi.all(
      groups.map((g) => g.nodeGroup.nodeGroupName.apply((n) => ({ ...g.description, name: n }))),
    );
    this.nodeRoleArn = nodeRole.arn;
    this.vpcId = pulumi.output(network.vpcId);
    this.network = own;
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeconfig: this.kubeconfig,
      nodeGroups: this.nodeGroups,
      nodeRoleArn: this.nodeRoleArn,
      vpcId: this.vpcId,
    });
  }
}
