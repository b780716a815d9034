/**
 * Physical names and identity tags, all derived from the lab's identity: the workshop (the
 * driver's stack prefix, `lab:workshop`) and the attendee. One place, so that every name can be
 * checked against its limit for the longest accepted workshop and attendee, and so a sweeper can
 * find leftovers by tag (`labTags`) or by name.
 *
 * The default workshop `lab` keeps the names labs have always had (`lab-<attendee>…`), so existing
 * labs are not replaced. Any other workshop's names carry a short hash of the whole identity:
 * plain `<workshop>-<attendee>` would be ambiguous (`ci` + `pr-alice` and `ci-pr` + `alice` are
 * both `ci-pr-alice`), and where a name is too long for its limit the readable part is cut and the
 * hash keeps distinct identities distinct.
 */
import { createHash } from "node:crypto";
import { Arch } from "./arch";

/** The workshop of labs made with plain `pulumi up` and of the driver's default stack prefix. */
export const DEFAULT_WORKSHOP = "lab";

/** Tag/label keys on everything the lab creates (a sweeper filters by them). */
export const TAG_KEYS = { lab: "lab", workshop: "workshop", attendee: "attendee" } as const;
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
  /** A Kubernetes label value (the `app.kubernetes.io/instance` label is `base`). */
  labelValue: 63,
} as const;

/** Hex characters of the identity hash in non-default workshops' names (32 bits). */
export const HASH_LENGTH = 8;

/** Node group role in names: `x86` for amd64 (what attendees call it), `arm64` for Graviton. */
export const GROUP_SUFFIX: Record<Arch, string> = { amd64: "x86", arm64: "arm64" };

/** Who a lab is for: the workshop (stack prefix) and the attendee. */
export interface LabIdentity {
  workshop: string;
  attendee: string;
}

export interface LabNames {
  /** `lab-<attendee>`, or `<workshop>-<attendee>-<hash>`: the prefix of every name. */
  base: string;
  /** EKS cluster (also used in the `kubernetes.io/cluster/<name>` subnet tags). */
  cluster: string;
  /** Kubernetes namespace of the app. */
  namespace: string;
  /** Managed node group names per architecture. */
  nodeGroup: Record<Arch, string>;
  /** IAM role name prefix of the worker nodes. */
  nodeRolePrefix: string;
  /** Launch template name prefixes per architecture. */
  launchTemplatePrefix: Record<Arch, string>;
}

/** The short hash of an identity; `/` cannot occur in either part, so the input is unambiguous. */
export function identityHash(id: LabIdentity): string {
  return createHash("sha256").update(`${id.workshop}/${id.attendee}`).digest("hex").slice(0, HASH_LENGTH);
}

/**
 * `<readable><suffix>` within `limit`: the default workshop's plain name when it fits; otherwise
 * `<readable, cut to fit>-<hash><suffix>`. The hash is of the full identity, so two identities
 * get different names even when their readable parts are cut to the same text.
 */
function fit(id: LabIdentity, suffix: string, limit: number): string {
  const readable = `${id.workshop}-${id.attendee}`;
  const plain = `${readable}${suffix}`;
  if (id.workshop === DEFAULT_WORKSHOP && plain.length <= limit) return plain;
  const hash = identityHash(id);
  const room = limit - suffix.length - hash.length - 1;
  const cut = readable.slice(0, Math.max(0, room)).replace(/-+$/, "");
  return `${cut ? `${cut}-` : ""}${hash}${suffix}`;
}

/** The longest service name in an image repository's name (basename of lab:appDir, made safe). */
export const SERVICE_NAME_MAX = 40;

/**
 * The image repository of a lab's service: `<base>/<service>` (ECR, or the local registry). Always
 * within the ECR limit: a base fits a label value (63) and a service name is at most 40.
 */
export function imageRepository(names: Pick<LabNames, "base">, service: string): string {
  return `${names.base}/${service}`;
}

/** Tag of the BuildKit registry cache in the image's own repository (kept by teardown, on purpose). */
export const CACHE_TAG = "buildcache";

/** Every physical name of one lab. */
export function labNames(id: LabIdentity): LabNames {
  const group = (arch: Arch) => fit(id, `-${GROUP_SUFFIX[arch]}`, NAME_LIMITS.nodeGroup);
  const template = (arch: Arch) => fit(id, `-${GROUP_SUFFIX[arch]}-`, NAME_LIMITS.launchTemplatePrefix);
  const base = fit(id, "", NAME_LIMITS.labelValue);
  return {
    base,
    cluster: fit(id, "", NAME_LIMITS.cluster),
    namespace: fit(id, "", NAME_LIMITS.namespace),
    nodeGroup: { amd64: group("amd64"), arm64: group("arm64") },
    nodeRolePrefix: fit(id, "-node-", NAME_LIMITS.iamRolePrefix),
    launchTemplatePrefix: { amd64: template("amd64"), arm64: template("arm64") },
  };
}

/** Names that exceed their limit, as messages (empty when all fit). */
export function nameLimitProblems(names: LabNames): string[] {
  const checks: [string, string, number][] = [
    ["cluster name", names.cluster, NAME_LIMITS.cluster],
    ["namespace", names.namespace, NAME_LIMITS.namespace],
    ["instance label", names.base, NAME_LIMITS.labelValue],
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
export function labTags(workshop: string, attendee: string): Record<string, string> {
  return {
    [TAG_KEYS.lab]: LAB_TAG_VALUE,
    [TAG_KEYS.workshop]: workshop,
    [TAG_KEYS.attendee]: attendee,
    "managed-by": "pulumi",
  };
}

/** Kubernetes labels with the same keys and values as the AWS tags. */
export function labLabels(workshop: string, attendee: string): Record<string, string> {
  return labTags(workshop, attendee);
}
