/**
 * One EKS managed node group per architecture. The AMI type is derived from the instance types
 * (infra/arch.ts) and set explicitly, because a custom launch template (needed here for IMDSv2 and
 * instance tags) otherwise lets EKS infer an x86 AMI for Graviton nodes (pulumi-eks #738, #1323).
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AMI_TYPE, Arch, archOfInstanceTypes } from "./arch";
import { CapacityType } from "./config";
import { LabIdentity, labNames, labTags } from "./names";

/** Label on every node: which lab architecture group it belongs to. */
export const ARCH_LABEL = "lab.multiarch/arch";
/** Taint on Graviton nodes when `lab:taintArm` is on. */
export const ARM_TAINT = { key: "arch", value: "arm64", effect: "NoSchedule" } as const;

export interface NodeGroupOptions extends LabIdentity {
  /** The architecture this group must run; the instance types must all be of it. */
  arch: Arch;
  /** EC2 instance types (one family architecture), e.g. ["m6g.large"]. */
  instanceTypes: string[];
  minSize: number;
  desiredSize: number;
  maxSize: number;
  capacityType: CapacityType;
  /** Taint the group `arch=arm64:NoSchedule` (only meaningful for arm64). */
  taint: boolean;
}

/** The resolved, validated settings of one node group. */
export interface NodeGroupSpec {
  name: string;
  arch: Arch;
  instanceTypes: string[];
  amiType: string;
  labels: Record<string, string>;
  taints: aws.types.input.eks.NodeGroupTaint[];
  scalingConfig: { minSize: number; desiredSize: number; maxSize: number };
  capacityType: CapacityType;
  launchTemplatePrefix: string;
}

/** What the stack exports about each node group. */
export interface NodeGroupDescription {
  name: string;
  arch: Arch;
  instanceTypes: string[];
  amiType: string;
}

/** Validates and resolves a node group; throws a clear error on an architecture mismatch. */
export function nodeGroupSpec(o: NodeGroupOptions): NodeGroupSpec {
  const names = labNames(o);
  const arch = archOfInstanceTypes(o.instanceTypes);
  if (arch instanceof Error) {
    throw new Error(`node group ${names.nodeGroup[o.arch]}: ${arch.message}`);
  }
  if (arch !== o.arch) {
    throw new Error(
      `node group ${names.nodeGroup[o.arch]} must run ${o.arch}, but instance types ` +
        `${o.instanceTypes.join(", ")} are ${arch}; its AMI type would not match its instances`,
    );
  }
  if (!(o.minSize <= o.desiredSize && o.desiredSize <= o.maxSize && o.maxSize >= 1 && o.minSize >= 0)) {
    throw new Error(
      `node group sizes ${o.minSize}/${o.desiredSize}/${o.maxSize} must satisfy 0 <= min <= desired <= max`,
    );
  }
  const taints =
    o.taint && arch === "arm64"
      ? [{ key: ARM_TAINT.key, value: ARM_TAINT.value, effect: "NO_SCHEDULE" }]
      : [];
  return {
    name: names.nodeGroup[arch],
    arch,
    instanceTypes: [...o.instanceTypes],
    amiType: AMI_TYPE[arch],
    labels: { ...labTags(o.workshop, o.attendee), [ARCH_LABEL]: arch },
    taints,
    scalingConfig: { minSize: o.minSize, desiredSize: o.desiredSize, maxSize: o.maxSize },
    capacityType: o.capacityType,
    launchTemplatePrefix: names.launchTemplatePrefix[arch],
  };
}

/**
 * Launch template: IMDSv2 only with hop limit 1, so no pod (one hop further) can read the node
 * role's credentials (the VPC CNI runs in the host network and needs no second hop); and tags on the instances ASGs launch. */
export function launchTemplateArgs(spec: NodeGroupSpec, id: LabIdentity): aws.ec2.LaunchTemplateArgs {
  const tags = { ...labTags(id.workshop, id.attendee), Name: spec.name };
  return {
    namePrefix: spec.launchTemplatePrefix,
    updateDefaultVersion: true,
    metadataOptions: {
      httpEndpoint: "enabled",
      httpTokens: "required",
      httpPutResponseHopLimit: 1,
    },
    // No imageId, instance type or security groups: EKS picks the AMI from amiType and attaches
    // the cluster security group.
    tagSpecifications: ["instance", "volume", "network-interface"].map((resourceType) => ({
      resourceType,
      tags,
    })),
  };
}

export interface NodeGroupResources {
  nodeGroup: aws.eks.NodeGroup;
  description: NodeGroupDescription;
}

/** Creates the launch template and managed node group of one spec, as children of `parent`. */
export function createNodeGroup(
  prefix: string,
  spec: NodeGroupSpec,
  id: LabIdentity,
  cluster: {
    name: pulumi.Input<string>;
    nodeRoleArn: pulumi.Input<string>;
    subnetIds: pulumi.Input<string[]>;
  },
  opts: { parent: pulumi.Resource; dependsOn: pulumi.Resource[] },
): NodeGroupResources {
  const key = spec.arch === "amd64" ? "x86" : "arm64";
  const lt = new aws.ec2.LaunchTemplate(`${prefix}-${key}-lt`, launchTemplateArgs(spec, id), {
    parent: opts.parent,
  });
  const nodeGroup = new aws.eks.NodeGroup(
    `${prefix}-${key}`,
    {
      clusterName: cluster.name,
      nodeGroupName: spec.name,
      nodeRoleArn: cluster.nodeRoleArn,
      subnetIds: cluster.subnetIds,
      instanceTypes: spec.instanceTypes,
      amiType: spec.amiType,
      capacityType: spec.capacityType,
      scalingConfig: spec.scalingConfig,
      updateConfig: { maxUnavailable: 1 },
      labels: spec.labels,
      taints: spec.taints,
      launchTemplate: { id: lt.id, version: lt.latestVersion.apply((v) => String(v)) },
    },
    // A fixed name cannot be created before the old group is deleted.
    { parent: opts.parent, dependsOn: opts.dependsOn, deleteBeforeReplace: true },
  );
  return {
    nodeGroup,
    description: {
      name: spec.name,
      arch: spec.arch,
      instanceTypes: spec.instanceTypes,
      amiType: spec.amiType,
    },
  };
}
