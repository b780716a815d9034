/**
 * The lab's identity tags as the AWS code outside the program reads them (preflight, sweep). One
 * place for the keys, so they can follow infra/names.ts should its keys move.
 */
import { LAB_TAG_VALUE } from "../../infra/names";

export const TAG_KEYS = { lab: "lab", workshop: "workshop", attendee: "attendee" } as const;

/** Tag key prefix Kubernetes (the in-tree cloud provider, the VPC CNI) puts on what it creates. */
export const CLUSTER_TAG_PREFIX = "kubernetes.io/cluster/";

/** Which lab resources: one workshop (stack prefix), optionally one attendee of it. */
export interface LabSelector {
  region: string;
  workshop: string;
  attendee?: string;
}

/** The tags a resource must carry to belong to `sel` (all of them, exact values). */
export function requiredTags(sel: LabSelector): Record<string, string> {
  const tags: Record<string, string> = { [TAG_KEYS.lab]: LAB_TAG_VALUE, [TAG_KEYS.workshop]: sel.workshop };
  if (sel.attendee !== undefined) tags[TAG_KEYS.attendee] = sel.attendee;
  return tags;
}

/** AWS answers tags as `{Key, Value}` lists (EC2, ELBv2, IAM, ECR) or as maps (EKS). */
export type TagList = { Key?: string; Value?: string }[] | Record<string, string> | undefined;

export function tagMap(tags: TagList): Record<string, string> {
  if (tags === undefined) return {};
  if (!Array.isArray(tags)) return { ...tags };
  const map: Record<string, string> = {};
  for (const t of tags) if (t.Key !== undefined) map[t.Key] = t.Value ?? "";
  return map;
}

/** The one ownership test of the sweep: every required tag present with its exact value. */
export function belongsTo(tags: TagList, sel: LabSelector): boolean {
  const have = tagMap(tags);
  return Object.entries(requiredTags(sel)).every(([k, v]) => have[k] === v);
}

/** EC2 Describe* filters for the same test, so the API does the first cut. */
export function ec2TagFilters(sel: LabSelector): { Name: string; Values: string[] }[] {
  return Object.entries(requiredTags(sel)).map(([k, v]) => ({ Name: `tag:${k}`, Values: [v] }));
}

/**
 * IAM role names worth reading the tags of (IAM lists roles account-wide, tags need one call per
 * role): names built from `lab-<attendee>` today, or from the workshop prefix. The tags decide.
 */
export function roleNameCandidate(name: string, sel: LabSelector): boolean {
  return name.startsWith("lab-") || name.startsWith(`${sel.workshop}-`);
}
