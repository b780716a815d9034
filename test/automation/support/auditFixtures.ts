/** Plain Kubernetes objects for the audit tests: what the API's list calls return, cut down. */
import type { V1Job, V1Node, V1Pod, V1PodSpec, V1ReplicaSet, V1Taint } from "@kubernetes/client-node";
import { ClusterLists } from "../../../automation/audit/types";

export function node(
  name: string,
  arch: string,
  taints: V1Taint[] = [],
  extra: Record<string, string> = {},
): V1Node {
  return {
    metadata: {
      name,
      labels: {
        "kubernetes.io/arch": arch,
        "beta.kubernetes.io/arch": arch,
        "kubernetes.io/os": "linux",
        "kubernetes.io/hostname": name,
        ...extra,
      },
    },
    spec: { taints },
    status: { conditions: [{ type: "Ready", status: "True" }] },
  };
}

export const AMD = node("amd-1", "amd64");
export const ARM = node("arm-1", "arm64");

export interface PodOptions {
  namespace?: string;
  image?: string;
  initImage?: string;
  nodeName?: string;
  spec?: Partial<V1PodSpec>;
  /** Owned by this ReplicaSet (or Job, DaemonSet… with `ownerKind`). */
  owner?: string;
  ownerKind?: string;
}

export function pod(name: string, o: PodOptions = {}): V1Pod {
  return {
    metadata: {
      name,
      namespace: o.namespace ?? "apps",
      ownerReferences: o.owner
        ? [
            {
              apiVersion: "apps/v1",
              kind: o.ownerKind ?? "ReplicaSet",
              name: o.owner,
              uid: o.owner,
              controller: true,
            },
          ]
        : undefined,
    },
    spec: {
      nodeName: o.nodeName,
      initContainers: o.initImage ? [{ name: "init", image: o.initImage }] : undefined,
      containers: [{ name: "main", image: o.image ?? "example.test/app:1" }],
      ...o.spec,
    },
    status: { phase: o.nodeName ? "Running" : "Pending" },
  };
}

export function replicaSet(name: string, deployment: string, namespace = "apps"): V1ReplicaSet {
  return {
    metadata: {
      name,
      namespace,
      ownerReferences: [
        { apiVersion: "apps/v1", kind: "Deployment", name: deployment, uid: deployment, controller: true },
      ],
    },
  };
}

export function job(name: string, cronJob: string, namespace = "apps"): V1Job {
  return {
    metadata: {
      name,
      namespace,
      ownerReferences: [
        { apiVersion: "batch/v1", kind: "CronJob", name: cronJob, uid: cronJob, controller: true },
      ],
    },
  };
}

export function lists(pods: V1Pod[], extra: Partial<ClusterLists> = {}): ClusterLists {
  return { nodes: [AMD, ARM], pods, replicaSets: [], jobs: [], ...extra };
}

export const archAffinity = (
  operator: string,
  values?: string[],
  key = "kubernetes.io/arch",
): Partial<V1PodSpec> => ({
  affinity: {
    nodeAffinity: {
      requiredDuringSchedulingIgnoredDuringExecution: {
        nodeSelectorTerms: [{ matchExpressions: [{ key, operator, values }] }],
      },
    },
  },
});
