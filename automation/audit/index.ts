/**
 * `lab audit`'s core: the cluster's lists plus each image's manifest → one verdict per image and
 * workload. Pure apart from the registry calls (a few at a time); the CLI reads the cluster.
 */
import pLimit from "p-limit";
import { groupByImage } from "./images";
import { ManifestDeps, inspectImage } from "./manifest";
import { nodeFacts } from "./schedulable";
import { ClusterAudit, ClusterLists, ImageAudit, Verdict, WorkloadRef, emptyCounts } from "./types";
import { judge, worst } from "./verdict";

export async function auditCluster(
  source: string,
  lists: ClusterLists,
  deps: ManifestDeps & { concurrency?: number; namespace?: string },
): Promise<ClusterAudit> {
  const uses = groupByImage(lists);
  const limit = pLimit(deps.concurrency ?? 6);
  const manifests = await Promise.all(uses.map((u) => limit(() => inspectImage(u.image, deps))));
  const images: ImageAudit[] = uses.map((u, i) => ({
    ...manifests[i],
    workloads: u.workloads.map((w) => ({ ...w, ...judge(manifests[i], w.pods) })),
  }));
  const byWorkload = new Map<string, WorkloadRef & { verdict: Verdict }>();
  for (const w of images.flatMap((img) => img.workloads)) {
    const k = `${w.namespace}/${w.kind}/${w.name}`;
    const seen = byWorkload.get(k);
    byWorkload.set(k, {
      namespace: w.namespace,
      kind: w.kind,
      name: w.name,
      verdict: seen ? worst(seen.verdict, w.verdict) : w.verdict,
    });
  }
  const workloads = [...byWorkload.values()].sort((a, b) =>
    `${a.namespace}/${a.kind}/${a.name}`.localeCompare(`${b.namespace}/${b.kind}/${b.name}`),
  );
  const counts = emptyCounts();
  for (const w of workloads) counts[w.verdict]++;
  return { source, namespace: deps.namespace, nodes: lists.nodes.map(nodeFacts), images, workloads, counts };
}
