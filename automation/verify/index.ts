/**
 * `verify`: the four checks over a lab's stack outputs, each with its evidence. The live system is
 * the authority (the registry, the cluster's API, real HTTP), never the state file.
 */
import { LabOutputs } from "../outputs";
import { runImageCheck } from "./image";
import { Clock, pollUntilAnswering, realClock, sample } from "./http";
import { Cluster, clusterFromKubeconfig } from "./kube";
import { checkNodes } from "./nodes";
import { PlacementMode, checkPods } from "./pods";
import { TrafficExpectation, checkTraffic, expectedArchs } from "./traffic";
import { CheckResult, KubeArch, NodeInfo, PodInfo, failed, skipped } from "./types";

export interface VerifyOptions {
  /** Requests sent once the service answers (default 40). */
  requests: number;
  /** How long to wait for the service to start answering, in ms. */
  trafficDeadlineMs: number;
  clock?: Clock;
  signal?: AbortSignal;
  /** Progress notes ("waiting for the load balancer…"). */
  note?: (text: string) => void;
  /** Test seam: how a kubeconfig becomes a cluster client. */
  connect?: (kubeconfig: string) => Promise<Cluster>;
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Checks any endpoint, no stack: `verify --url … --expect-arch …`. */
export async function verifyUrl(
  url: string,
  expect: TrafficExpectation,
  o: VerifyOptions,
  resnapshot?: () => Promise<Pick<TrafficExpectation, "nodes" | "pods">>,
): Promise<CheckResult> {
  const clock = o.clock ?? realClock;
  const poll = await pollUntilAnswering(url, o.trafficDeadlineMs, clock, o.signal, (n, last) =>
    o.note?.(`waiting for ${url} (try ${n}: ${last.error ?? `HTTP ${last.status}`})`),
  );
  if (!poll.answering) {
    return failed(
      "traffic",
      `${url} did not answer HTTP 200 within ${Math.round(o.trafficDeadlineMs / 1000)} s`,
      {
        url,
        attempts: poll.attempts,
        waitedMs: poll.waitedMs,
        last: poll.last,
      },
    );
  }
  o.note?.(`sending ${o.requests} requests to ${url}`);
  const answers = await sample(url, o.requests, 4, o.signal);
  // Pods can move while the load balancer warms up: map answers with lists taken after sampling.
  let snapshot = {};
  if (resnapshot) {
    try {
      snapshot = await resnapshot();
    } catch {
      // keep the lists taken before sampling
    }
  }
  const result = checkTraffic(answers, { ...expect, ...snapshot });
  result.evidence = { url, waitedMs: poll.waitedMs, pollAttempts: poll.attempts, ...result.evidence };
  return result;
}

export async function verifyLab(out: LabOutputs, o: VerifyOptions): Promise<CheckResult[]> {
  const placement: PlacementMode = out.placement ?? "spread";
  const results: CheckResult[] = [];
  o.note?.("image: resolving the pushed tag");
  results.push(
    await runImageCheck(
      {
        imageTag: out.imageTag,
        imageRef: out.imageRef,
        credentials: out.registry,
        requiredPlatforms: out.platforms?.length ? out.platforms : undefined,
      },
      o.signal,
    ),
  );

  // The local target has no cluster yet (docs/ARCHITECTURE.md): its cluster checks are skipped, not failed.
  if (out.target === "local" && !out.kubeconfig) {
    const why = "the local target exports no kubeconfig or serviceUrl (no cluster)";
    results.push(skipped("nodes", why), skipped("pods", why), skipped("traffic", why));
    return results;
  }
  let cluster: Cluster | undefined;
  let nodes: NodeInfo[] | undefined;
  let pods: PodInfo[] | undefined;
  const namespace = out.namespace ?? "default";
  const selector = out.podSelector ?? {};
  try {
    if (!out.kubeconfig) throw new Error("the stack has no kubeconfig output");
    cluster = await (o.connect ?? clusterFromKubeconfig)(out.kubeconfig);
    o.note?.("nodes: listing");
    nodes = await cluster.nodes();
    const archs: KubeArch[] = ["amd64", "arm64"];
    results.push(checkNodes(nodes, archs, out.nodeGroups ?? []));
    o.note?.("pods: listing");
    pods = await cluster.pods(namespace, selector);
    results.push(checkPods(pods, nodes, placement, out.replicas ?? 1));
  } catch (e) {
    const evidence = { error: errText(e), namespace, podSelector: selector };
    if (!nodes) results.push(failed("nodes", `could not list nodes: ${errText(e)}`, evidence));
    results.push(failed("pods", `could not list pods: ${errText(e)}`, evidence));
  }

  if (!out.serviceUrl) {
    results.push(failed("traffic", "the stack has no serviceUrl output", {}));
    return results;
  }
  const c = cluster;
  const resnapshot =
    c && nodes && pods
      ? async () => ({ nodes: await c.nodes(), pods: await c.pods(namespace, selector) })
      : undefined;
  results.push(
    await verifyUrl(out.serviceUrl, { expectArchs: expectedArchs(placement), nodes, pods }, o, resnapshot),
  );
  return results;
}
