/**
 * Physical names and identity tags, all derived from the attendee. One place, so that every name
 * can be checked against its AWS limit for the longest accepted attendee (ATTENDEE_MAX_LENGTH), and
 * so a sweeper can find leftovers by name prefix (`lab-<attendee>`) or by tag.
 */
import { Arch } from "./arch";

/** Value of the `lab` tag/label on everything this program creates. */
export const LAB_TAG_VALUE = "multiarch-lab";

/** AWS (and Kubernetes) length limits of the names below. */
export const NAME_LIMITS = {
  /** EKS cluster name. */
  cluster: 100,
  /** EKS managed node group name. */
  nodeGroup: 63,
  /** IAM role `namePrefix` (64 minus the 26-character suffix Pulumi/Terraform append). */
  iamRolePrefix: 38,
  /** ECR repository name. */
  repository: 256,
  /** EC2 launch template `namePrefix` (128 minus the 26-character suffix). */
  launchTemplatePrefix: 102,
  /** Kubernetes namespace (a DNS-1123 label). */
  namespace: 63,
} as const;

/** Node group role in names: `x86` for amd64 (what attendees call it), `arm64` for Graviton. */
export const GROUP_SUFFIX: Record<Arch, string> = { amd64: "x86", arm64: "arm64" };

export interface LabNames {
  /** `lab-<attendee>`: the prefix of every name. */
  base: string;
  /** EKS cluster (also used in the `kubernetes.io/cluster/<name>` subnet tags). */
  cluster: string;
  /** Kubernetes namespace of the app. */
  namespace: string;
  /** ECR repository of the app image (`lab-<attendee>/hello`). */
  repository: string;
  /** Managed node group names per architecture. */
  nodeGroup: Record<Arch, string>;
  /** IAM role name prefix of the worker nodes. */
  nodeRolePrefix: string;
  /** Launch template name prefixes per architecture. */
  launchTemplatePrefix: Record<Arch, string>;
}

/** Every physical name of one attendee's lab. */
export function labNames(attendee: string): LabNames {
  const base = `lab-${attendee}`;
  return {
    base,
    cluster: base,
    namespace: base,
    repository: `${base}/hello`,
    nodeGroup: { amd64: `${base}-${GROUP_SUFFIX.amd64}`, arm64: `${base}-${GROUP_SUFFIX.arm64}` },
    nodeRolePrefix: `${base}-node-`,
    launchTemplatePrefix: {
      amd64: `${base}-${GROUP_SUFFIX.amd64}-`,
      arm64: `${base}-${GROUP_SUFFIX.arm64}-`,
    },
  };
}

/** Names that exceed their limit, as messages (empty when all fit). */
export function nameLimitProblems(names: LabNames): string[] {
  const checks: [string, string, number][] = [
    ["cluster name", names.cluster, NAME_LIMITS.cluster],
    ["namespace", names.namespace, NAME_LIMITS.namespace],
    ["ECR repository name", names.repository, NAME_LIMITS.repository],
    ["x86 node group name", names.nodeGroup.amd64, NAME_LIMITS.nodeGroup],
    ["arm64 node group name", names.nodeGroup.arm64, NAME_LIMITS.nodeGroup],
    ["node IAM role name prefix", names.nodeRolePrefix, NAME_LIMITS.iamRolePrefix],
    ["x86 launch template prefix", names.launchTemplatePrefix.amd64, NAME_LIMITS.launchTemplatePrefix],
    ["arm64 launch template prefix", names.launchTemplatePrefix.arm64, NAME_LIMITS.launchTemplatePrefix],
  ];
  return checks
    .filter(([, name, limit]) => name.length > limit)
    .map(([what, name, limit]) => `${what} "${name}" is ${name.length} characters; the limit is ${limit}`);
}

/** AWS tags carried by every taggable resource (via the provider's defaultTags). */
export function labTags(attendee: string): Record<string, string> {
  return { lab: LAB_TAG_VALUE, attendee, "managed-by": "pulumi" };
}

/** Kubernetes labels with the same keys and values as the AWS tags. */
export function labLabels(attendee: string): Record<string, string> {
  return labTags(attendee);
}
