/**
 * Thin fetchers over the stack's kubeconfig: the node and pod lists the checks judge, a GET to one
 * pod through the API server's pod proxy, and a container's previous log.
 * `@kubernetes/client-node` is ESM-only; Node 20.19+ `require()`s it, and it is loaded lazily so
 * commands that never talk to a cluster start fast.
 */
import * as http from "node:http";
import * as https from "node:https";
import type { CoreV1Api, KubeConfig, V1ContainerStatus, V1Node, V1Pod } from "@kubernetes/client-node";
import { ARCH_KEY } from "../../infra/arch";
import { ContainerInfo, NodeInfo, PodInfo, Answer } from "./types";

export interface Cluster {
  nodes(): Promise<NodeInfo[]>;
  pods(namespace: string, selector: Record<string, string>): Promise<PodInfo[]>;
  /**
   * `GET /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy{path}`: the request reaches that pod, on
   * its node, whatever the Service does. Never throws (errors are part of the answer).
   */
  proxyGet(namespace: string, pod: string, port: number, path: string, timeoutMs: number): Promise<Answer>;
  /** The last lines of a container's previous run (`previous=true`); rejects when there is none. */
  previousLog(namespace: string, pod: string, container: string): Promise<string>;
}

function condition(conds: { type: string; status: string }[] | undefined, type: string): boolean {
  return (conds ?? []).some((c) => c.type === type && c.status === "True");
}

export function toNodeInfo(n: V1Node): NodeInfo {
  const labels = n.metadata?.labels ?? {};
  return {
    name: n.metadata?.name ?? "?",
    arch: labels[ARCH_KEY],
    ready: condition(n.status?.conditions, "Ready"),
    instanceType: labels["node.kubernetes.io/instance-type"],
    nodeGroup: labels["eks.amazonaws.com/nodegroup"],
    schedulable: !n.spec?.unschedulable,
    taints: (n.spec?.taints ?? []).map((t) => ({ key: t.key, value: t.value, effect: t.effect })),
  };
}

function toContainerInfo(c: V1ContainerStatus): ContainerInfo {
  const info: ContainerInfo = { name: c.name, ready: c.ready, restartCount: c.restartCount };
  if (c.state?.waiting) info.waiting = { reason: c.state.waiting.reason, message: c.state.waiting.message };
  const t = c.state?.terminated ?? c.lastState?.terminated;
  if (t) info.terminated = { reason: t.reason, exitCode: t.exitCode, message: t.message };
  return info;
}

export function toPodInfo(p: V1Pod): PodInfo {
  return {
    name: p.metadata?.name ?? "?",
    nodeName: p.spec?.nodeName,
    phase: p.metadata?.deletionTimestamp ? "Terminating" : p.status?.phase,
    ready: !p.metadata?.deletionTimestamp && condition(p.status?.conditions, "Ready"),
    containers: (p.status?.containerStatuses ?? []).map(toContainerInfo),
    tolerations: (p.spec?.tolerations ?? []).map((t) => ({
      key: t.key,
      operator: t.operator,
      value: t.value,
      effect: t.effect,
    })),
  };
}

/** Whether the API server's answer is its own "could not reach the pod" (not the app's). */
function proxyFailure(status: number | undefined, body: string): string | undefined {
  if (status === undefined || status < 500) return undefined;
  try {
    const s = JSON.parse(body) as { kind?: string; message?: string };
    return s.kind === "Status" ? `the API server's pod proxy: ${s.message ?? `HTTP ${status}`}` : undefined;
  } catch {
    return undefined;
  }
}

/** One GET through the API server, with the kubeconfig's credentials (certs, token, exec plugin). */
export async function apiGet(kc: KubeConfig, path: string, timeoutMs: number): Promise<Answer> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) return { error: "the kubeconfig names no cluster server" };
  const url = new URL(server.replace(/\/+$/, "") + path);
  const opts: https.RequestOptions = { headers: { accept: "*/*" } };
  try {
    await kc.applyToHTTPSOptions(opts);
  } catch (e) {
    return { error: `kubeconfig credentials: ${(e as Error).message}` };
  }
  const mod = url.protocol === "http:" ? http : https;
  return new Promise((resolve) => {
    const req = mod.get(url, { ...opts, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => resolve({ status: res.statusCode, error: e.message }));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const failure = proxyFailure(res.statusCode, body);
        resolve(
          failure ? { status: res.statusCode, body, error: failure } : { status: res.statusCode, body },
        );
      });
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) =>
      resolve({ error: e.code ? `${e.code}: ${e.message}` : e.message }),
    );
  });
}

/** A cluster reached through a kubeconfig (JSON or YAML text). */
export async function clusterFromKubeconfig(kubeconfig: string): Promise<Cluster> {
  const k8s = await import("@kubernetes/client-node");
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfig);
  const api: CoreV1Api = kc.makeApiClient(k8s.CoreV1Api);
  const enc = encodeURIComponent;
  return {
    nodes: async () => (await api.listNode()).items.map(toNodeInfo),
    pods: async (namespace, selector) => {
      const labelSelector = Object.entries(selector)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      return (await api.listNamespacedPod({ namespace, labelSelector })).items.map(toPodInfo);
    },
    // The path is sent as is (not encoded as one segment, as the generated client would).
    proxyGet: (namespace, pod, port, path, timeoutMs) =>
      apiGet(kc, `/api/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}:${port}/proxy${path}`, timeoutMs),
    previousLog: (namespace, name, container) =>
      api.readNamespacedPodLog({ namespace, name, container, previous: true, tailLines: 20 }),
  };
}
