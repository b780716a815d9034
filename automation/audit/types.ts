/**
 * What `lab audit` reads and reports. The cluster side is plain Kubernetes objects (the API's own
 * types, so a test can hand in literals); the registry side is one `ImageManifest` per image.
 */
import type { V1Job, V1Node, V1Pod, V1ReplicaSet } from "@kubernetes/client-node";

/** The lists one audit judges: every pod (of a namespace, or all), every node, and the owners. */
export interface ClusterLists {
  nodes: V1Node[];
  pods: V1Pod[];
  /** To resolve a pod's ReplicaSet to its Deployment. */
  replicaSets: V1ReplicaSet[];
  /** To resolve a pod's Job to its CronJob. */
  jobs: V1Job[];
}

/** `os/arch`, e.g. `linux/arm64` (variants such as `v8` are dropped: nodes carry no variant label). */
export type Platform = string;

/** ok; at risk: can be scheduled on a platform the image lacks; broken: runs there now. */
export type Verdict = "ok" | "at risk" | "broken" | "unknown";

/** Worst first: the order the exit code and a workload's overall verdict follow. */
export const VERDICT_ORDER: readonly Verdict[] = ["broken", "at risk", "unknown", "ok"];

export function emptyCounts(): Record<Verdict, number> {
  return { broken: 0, "at risk": 0, unknown: 0, ok: 0 };
}

/** What the registry says about one image reference as pods name it. */
export interface ImageManifest {
  /** As written in the pod spec. */
  image: string;
  /** The registry host asked (Docker Hub: `registry-1.docker.io`). */
  registry?: string;
  repository?: string;
  /** Tag or digest asked for. */
  reference?: string;
  /** The manifest's digest. */
  digest?: string;
  mediaType?: string;
  /** An image index (manifest list), as opposed to one single-platform manifest. */
  index?: boolean;
  /** The platforms it can run on (attestations left out); a single manifest: its config's. */
  platforms?: Platform[];
  /** How the registry was asked: `ecr`, `docker-config`, `credential-helper` or `anonymous`. */
  credentials?: string;
  /** Why the platforms are unknown (unreachable registry, refused, not found…). */
  error?: string;
}

export interface NodeFacts {
  name: string;
  platform: Platform;
  /** `key=value:Effect` of every taint. */
  taints: string[];
  ready: boolean;
}

/** One pod: where it runs and where it could be scheduled. */
export interface PodPlacement {
  name: string;
  phase?: string;
  node?: string;
  /** The platform of the node it is on (none while Pending). */
  platform?: Platform;
  /** Platforms of the nodes its selectors, affinity and tolerations let it land on. */
  schedulable: Platform[];
  /** Nodes it cannot land on, with the rule that keeps it off. */
  excluded: { node: string; reason: string }[];
}

/** The workload that owns pods: Deployment, StatefulSet, DaemonSet, CronJob, Job, or a bare Pod. */
export interface WorkloadRef {
  namespace: string;
  kind: string;
  name: string;
}

/** One image in one workload, judged. */
export interface WorkloadUse extends WorkloadRef {
  pods: PodPlacement[];
  /** Platforms its pods run on now. */
  runsOn: Platform[];
  /** Platforms its pods can be scheduled on (current ones included). */
  canRunOn: Platform[];
  verdict: Verdict;
  /** One line: why. */
  reason: string;
}

export interface ImageAudit extends ImageManifest {
  workloads: WorkloadUse[];
}

export interface ClusterAudit {
  /** Where the cluster came from: the kubeconfig file, or the stack(s). */
  source: string;
  /** Set when the cluster could not be read (then there are no images). */
  error?: string;
  namespace?: string;
  nodes: NodeFacts[];
  images: ImageAudit[];
  /** One verdict per workload (the worst over its images). */
  workloads: (WorkloadRef & { verdict: Verdict })[];
  counts: Record<Verdict, number>;
}
