/**
 * A Cluster (automation/verify/kube.ts) over given node and pod lists: the pod proxy forwards to a
 * real HTTP server on loopback per pod (or answers what `answers` says), previous logs come from a
 * map. Every proxied request is recorded, so tests can assert which pods were asked.
 */
import { getOnce } from "../../../automation/verify/http";
import { Cluster } from "../../../automation/verify/kube";
import { NodeInfo, PodInfo, Answer } from "../../../automation/verify/types";

export interface FakeClusterOptions {
  nodes: NodeInfo[];
  pods: PodInfo[];
  /** Pod name → loopback port of the server standing in for it. */
  ports?: Record<string, number>;
  /** Pod name → a fixed answer (wins over `ports`). */
  answers?: Record<string, Answer>;
  /** `pod/container` → its previous log. */
  logs?: Record<string, string>;
}

export interface FakeCluster extends Cluster {
  /** `namespace/pod:port path`, in call order. */
  readonly proxied: string[];
}

export function fakeCluster(o: FakeClusterOptions): FakeCluster {
  const proxied: string[] = [];
  return {
    proxied,
    nodes: async () => o.nodes,
    pods: async () => o.pods,
    proxyGet: async (ns, pod, port, path, timeoutMs) => {
      proxied.push(`${ns}/${pod}:${port} ${path}`);
      const fixed = o.answers?.[pod];
      if (fixed) return fixed;
      const backend = o.ports?.[pod];
      if (backend === undefined)
        return { status: 503, error: `the API server's pod proxy: no endpoints for pod ${pod}` };
      return getOnce(`http://127.0.0.1:${backend}${path}`, timeoutMs);
    },
    previousLog: async (_ns, pod, container) => {
      const log = o.logs?.[`${pod}/${container}`];
      if (log === undefined) throw new Error(`previous terminated container "${container}" not found`);
      return log;
    },
  };
}
