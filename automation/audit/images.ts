/**
 * The cluster's pods grouped by image, then by the workload that owns them: a ReplicaSet's pods
 * belong to its Deployment, a Job's to its CronJob, other controllers' (StatefulSet, DaemonSet…)
 * to themselves, and a pod without owner to itself. Init containers count: they run on the node too.
 */
import type { V1ObjectMeta, V1OwnerReference, V1Pod } from "@kubernetes/client-node";
import { nodePlatform, schedulablePlatforms } from "./schedulable";
import { ClusterLists, Platform, PodPlacement, WorkloadRef } from "./types";

export interface WorkloadPods extends WorkloadRef {
  pods: PodPlacement[];
}

export interface ImageUse {
  image: string;
  workloads: WorkloadPods[];
}

function controllerOf(meta: V1ObjectMeta | undefined): V1OwnerReference | undefined {
  const refs = meta?.ownerReferences ?? [];
  return refs.find((r) => r.controller) ?? refs[0];
}

/** The workload a pod belongs to, one owner hop further for ReplicaSets and Jobs. */
export function workloadOf(pod: V1Pod, lists: Pick<ClusterLists, "replicaSets" | "jobs">): WorkloadRef {
  const namespace = pod.metadata?.namespace ?? "default";
  const owner = controllerOf(pod.metadata);
  if (!owner) return { namespace, kind: "Pod", name: pod.metadata?.name ?? "?" };
  const parents =
    owner.kind === "ReplicaSet" ? lists.replicaSets : owner.kind === "Job" ? lists.jobs : undefined;
  const parent = parents?.find((o) => o.metadata?.namespace === namespace && o.metadata?.name === owner.name);
  const grand = controllerOf(parent?.metadata);
  return grand
    ? { namespace, kind: grand.kind, name: grand.name }
    : { namespace, kind: owner.kind, name: owner.name };
}

/** Every image a pod's containers and init containers name, once each. */
export function podImages(pod: V1Pod): string[] {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  return [...new Set(all.map((c) => c.image).filter((i): i is string => !!i))];
}

/** Where the pod is, and where it could be. */
export function placement(pod: V1Pod, lists: Pick<ClusterLists, "nodes">): PodPlacement {
  const nodeName = pod.spec?.nodeName;
  const node = nodeName ? lists.nodes.find((n) => n.metadata?.name === nodeName) : undefined;
  const { platforms, excluded } = schedulablePlatforms(pod.spec ?? { containers: [] }, lists.nodes);
  return {
    name: pod.metadata?.name ?? "?",
    phase: pod.metadata?.deletionTimestamp ? "Terminating" : pod.status?.phase,
    node: nodeName,
    platform: node ? nodePlatform(node) : undefined,
    schedulable: platforms,
    excluded,
  };
}

const key = (w: WorkloadRef): string => `${w.namespace}/${w.kind}/${w.name}`;

/** Images in first-seen order of sorted pods, each with its workloads and their pods. */
export function groupByImage(lists: ClusterLists): ImageUse[] {
  const byImage = new Map<string, Map<string, WorkloadPods>>();
  const pods = [...lists.pods].sort((a, b) =>
    `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(
      `${b.metadata?.namespace}/${b.metadata?.name}`,
    ),
  );
  for (const pod of pods) {
    const images = podImages(pod);
    if (images.length === 0) continue;
    const ref = workloadOf(pod, lists);
    const where = placement(pod, lists);
    for (const image of images) {
      const workloads = byImage.get(image) ?? new Map<string, WorkloadPods>();
      byImage.set(image, workloads);
      const w = workloads.get(key(ref)) ?? { ...ref, pods: [] };
      workloads.set(key(ref), w);
      w.pods.push(where);
    }
  }
  return [...byImage.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([image, workloads]) => ({ image, workloads: [...workloads.values()] }));
}

/** The platforms a workload's pods run on now, and can be scheduled on (the current ones too). */
export function platformsOf(pods: PodPlacement[]): { runsOn: Platform[]; canRunOn: Platform[] } {
  const runs = new Set<Platform>();
  const can = new Set<Platform>();
  for (const p of pods) {
    if (p.platform) {
      runs.add(p.platform);
      can.add(p.platform);
    }
    p.schedulable.forEach((x) => can.add(x));
  }
  return { runsOn: [...runs].sort(), canRunOn: [...can].sort() };
}
