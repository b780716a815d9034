/**
 * The lists an audit needs, read through a kubeconfig with `@kubernetes/client-node` (loaded
 * lazily, as in automation/verify/kube.ts): nodes, pods, and the ReplicaSets and Jobs that lead a
 * pod to its Deployment or CronJob. Needs list on those four kinds (cluster-wide, or in the
 * namespace given).
 */
import { ClusterLists } from "./types";

export type ClusterReader = (kubeconfig: string, namespace?: string) => Promise<ClusterLists>;

/** Why the kubeconfig text cannot be used, or undefined (no network). */
export async function kubeconfigProblem(kubeconfig: string): Promise<string | undefined> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  try {
    kc.loadFromString(kubeconfig);
  } catch (e) {
    return `is not a kubeconfig (${(e as Error).message.split("\n")[0]})`;
  }
  if (!kc.getCurrentContext()) return "has no current-context";
  if (!kc.getCurrentCluster()) return `names no cluster for its context "${kc.getCurrentContext()}"`;
  return undefined;
}

export const readCluster: ClusterReader = async (kubeconfig, namespace) => {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfig);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const batch = kc.makeApiClient(k8s.BatchV1Api);
  const [nodes, pods, replicaSets, jobs] = await Promise.all([
    core.listNode(),
    namespace ? core.listNamespacedPod({ namespace }) : core.listPodForAllNamespaces(),
    namespace ? apps.listNamespacedReplicaSet({ namespace }) : apps.listReplicaSetForAllNamespaces(),
    namespace ? batch.listNamespacedJob({ namespace }) : batch.listJobForAllNamespaces(),
  ]);
  return { nodes: nodes.items, pods: pods.items, replicaSets: replicaSets.items, jobs: jobs.items };
};
