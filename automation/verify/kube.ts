/**
 * Thin fetchers over the stack's kubeconfig: the node and pod lists the checks judge.
 * `@kubernetes/client-node` is ESM-only; Node 20.19+ `require()`s it, and it is loaded lazily so
 * commands that never talk to a cluster start fast.
 */
import type { CoreV1Api, V1Node, V1Pod } from "@kubernetes/client-node";
import { NodeInfo, PodInfo } from "./types";

export interface Cluster {
  nodes(): Promise<NodeInfo[]>;
  pods(namespace: string, selector: Record<string, string>): Promise<PodInfo[]>;
}

function condition(conds: { type: string; status: string }[] | undefined, type: string): boolean {
  return (conds ?? []).some((c) => c.type === type && c.status === "True");
}

export function toNodeInfo(n: V1Node): NodeInfo {
  const labels = n.metadata?.labels ?? {};
  return {
    name: n.metadata?.name ?? "?",
    arch: labels["kubernetes.io/arch"],
    ready: condition(n.status?.conditions, "Ready"),
    instanceType: labels["node.kubernetes.io/instance-type"],
    nodeGroup: labels["eks.amazonaws.com/nodegroup"],
  };
}

export function toPodInfo(p: V1Pod): PodInfo {
  return {
    name: p.metadata?.name ?? "?",
    nodeName: p.spec?.nodeName,
    phase: p.metadata?.deletionTimestamp ? "Terminating" : p.status?.phase,
    ready: !p.metadata?.deletionTimestamp && condition(p.status?.conditions, "Ready"),
  };
}

/** A cluster reached through a kubeconfig (JSON or YAML text). */
export async function clusterFromKubeconfig(kubeconfig: string): Promise<Cluster> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfig);
  const api: CoreV1Api = kc.makeApiClient(k8s.CoreV1Api);
  return {
    nodes: async () => (await api.listNode()).items.map(toNodeInfo),
    pods: async (namespace, selector) => {
      const labelSelector = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      return (await api.listNamespacedPod({ namespace, labelSelector })).items.map(toPodInfo);
    },
  };
}
