/**
 * `lab sweep`: what AWS still holds of a workshop (or one attendee of it), found by the lab's tags,
 * listed or deleted. The lifecycle calls `sweepLab` after every AWS destroy (the destroy passes
 * only when nothing is left) and `reap` for labs whose state is gone.
 */
import { table } from "../reports/summary";
import { AwsClients, awsClients, closeClients } from "./clients";
import { DeleteOptions, deleteLabResources } from "./sweepDelete";
import { SweepItem, findLabResources } from "./sweepFind";
import * as eks from "@aws-sdk/client-eks";
import { paginateGetResources } from "@aws-sdk/client-resource-groups-tagging-api";
import { LabSelector, TAG_KEYS, belongsTo, requiredTags, tagMap } from "./tags";

export interface SweepOptions extends Partial<DeleteOptions> {
  delete: boolean;
  /** Clients to use (tests, a caller with its own); default: new ones for `sel.region`. */
  clients?: AwsClients;
}

export interface SweepResult {
  selector: LabSelector;
  deleted: boolean;
  /** Every item found, with the delete's outcome when `delete` was set. */
  items: SweepItem[];
  /** What the live system still holds afterwards (found again after a delete). */
  left: SweepItem[];
}

const realSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function sweep(sel: LabSelector, opts: SweepOptions): Promise<SweepResult> {
  const clients = opts.clients ?? awsClients(sel.region);
  try {
    const items = await findLabResources(clients, sel);
    if (!opts.delete) return { selector: sel, deleted: false, items, left: items };
    const outcome = await deleteLabResources(clients, items, {
      sleep: opts.sleep ?? realSleep,
      waitTimeoutMs: opts.waitTimeoutMs ?? 20 * 60_000,
      pollMs: opts.pollMs ?? 10_000,
      log: opts.log ?? (() => undefined),
    });
    // The truth is the live system: whatever a delete reported, look again.
    const left = await findLabResources(clients, sel);
    return { selector: sel, deleted: true, items: outcome, left };
  } finally {
    if (!opts.clients) closeClients(clients);
  }
}

/** The lifecycle's hook: sweeps one attendee (or a whole workshop) and returns what is left. */
export async function sweepLab(sel: LabSelector, opts: SweepOptions): Promise<SweepItem[]> {
  return (await sweep(sel, opts)).left;
}

export function sweepTable(items: SweepItem[]): string {
  if (items.length === 0) return "nothing found";
  return table([
    ["kind", "id", "arn", "status"],
    ...items.map((i) => [i.kind, i.id, i.arn ?? "", i.error ? `${i.status}: ${i.error}` : i.status]),
  ]);
}

/**
 * The attendees a workshop's tagged resources name (`attendee=…` under `lab`+`workshop`), through the
 * Resource Groups Tagging API and the EKS clusters (which that API may not list): what `reap`
 * compares with the backend's stacks to find labs whose state is gone.
 */
export async function taggedAttendees(c: AwsClients, workshop: string): Promise<string[]> {
  const names = new Set<string>();
  const wanted = requiredTags({ region: c.region, workshop });
  const TagFilters = Object.entries(wanted).map(([Key, v]) => ({ Key, Values: [v] }));
  for await (const page of paginateGetResources({ client: c.tagging }, { TagFilters })) {
    for (const m of page.ResourceTagMappingList ?? []) {
      const a = tagMap(m.Tags)[TAG_KEYS.attendee];
      if (a) names.add(a);
    }
  }
  for await (const page of eks.paginateListClusters({ client: c.eks }, {})) {
    for (const name of page.clusters ?? []) {
      const tags = (await c.eks.send(new eks.DescribeClusterCommand({ name }))).cluster?.tags;
      if (belongsTo(tags, { region: c.region, workshop })) {
        const a = tagMap(tags)[TAG_KEYS.attendee];
        if (a) names.add(a);
      }
    }
  }
  return [...names].sort();
}
