/**
 * `verify`: the checks over a lab's stack outputs, each with its evidence. The live system is
 * the authority (the registry, the Docker Engine, the cluster's API, real HTTP), never the state
 * file. aws: image, nodes, pods, traffic. local: image, variants, and with a cluster (the
 * `kubeconfig` output) nodes, pods and traffic; without one those are skipped. On a local cluster
 * that lacks an architecture, a requirement on it is skipped with the reason (never passed), while
 * everything else the check can see still fails when wrong.
 */
import { SUPPORTED_PLATFORMS } from "../../infra/config";
import { LabOutputs } from "../lifecycle/outputs";
import { runImageCheck } from "./image";
import { Clock, RETRY_GRACE_MS, STABLE_ANSWERS, pollUntilStable, realClock, sample } from "./http";
import { Cluster, clusterFromKubeconfig } from "./kube";
import { checkNodes } from "./nodes";
import { PlacementMode, checkPods } from "./pods";
import { ARCHS, UNAME_ARCH } from "../../infra/arch";
import { TrafficExpectation, checkTraffic, expectedArchs } from "./traffic";
import { CheckResult, KubeArch, NodeInfo, PodInfo, failed, skipped } from "./types";
import { VariantsDeps, runVariantsCheck } from "./variants";

/** Why the local target's cluster checks are skipped (reported, never passed). */
export const LOCAL_NO_CLUSTER = "target local has no cluster (lab:kubeconfig is empty)";

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
  /** Run the variants check (docker run per platform); default: only for the local target. */
  variants?: boolean;
  /** The stack's name: names the variant containers (`lab-verify-<stack>-<arch>`). */
  stack?: string;
  /** How long each variant container may take to answer (default 60 s). */
  variantsDeadlineMs?: number;
  /** Test seam: the variants check's docker runner, HTTP client, ports and clock. */
  variantsDeps?: Partial<VariantsDeps>;
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
  const started = clock.now();
  const poll = await pollUntilStable(url, o.trafficDeadlineMs, clock, o.signal, (n, last) =>
    o.note?.(`waiting for ${url} (try ${n}: ${last.error ?? `HTTP ${last.status}`})`),
  );
  if (!poll.answering) {
    return failed(
      "traffic",
      `${url} did not answer HTTP 200 ${STABLE_ANSWERS} times in a row within ${Math.round(o.trafficDeadlineMs / 1000)} s`,
      {
        url,
        attempts: poll.attempts,
        waitedMs: poll.waitedMs,
        stableAnswers: STABLE_ANSWERS,
        bestStreak: poll.bestStreak,
        recentProblems: poll.recentProblems,
        last: poll.last,
      },
    );
  }
  o.note?.(`sending ${o.requests} requests to ${url}`);
  const retryUntil = Math.max(started + o.trafficDeadlineMs, clock.now() + RETRY_GRACE_MS);
  const { answers, retries, retried } = await sample(url, o.requests, {
    signal: o.signal,
    clock,
    retryUntil,
  });
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
  result.evidence = {
    url,
    waitedMs: poll.waitedMs,
    pollAttempts: poll.attempts,
    stableAnswers: STABLE_ANSWERS,
    retries,
    retried,
    ...result.evidence,
  };
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
        // No credentials in the outputs: the check fetches an ECR token itself.
        requiredPlatforms: out.platforms?.length ? out.platforms : undefined,
      },
      o.signal,
    ),
  );

  const local = out.target === "local";
  if (o.variants ?? local) {
    results.push(
      await runVariantsCheck(
        {
          stack: o.stack ?? `lab-${out.attendee ?? "unknown"}`,
          imageRef: out.imageRef,
          platforms: out.platforms?.length ? out.platforms : SUPPORTED_PLATFORMS,
          checkPath: out.checkPath,
        },
        { deadlineMs: o.variantsDeadlineMs, signal: o.signal, note: o.note },
        o.variantsDeps,
      ),
    );
  } else if (local) {
    results.push(skipped("variants", "--no-variants"));
  }

  // A local lab without a cluster (lab:kubeconfig empty): its cluster checks are skipped, not failed.
  if (local && !out.kubeconfig) {
    const evidence = { target: "local", kubeconfig: null, serviceUrl: out.serviceUrl ?? null };
    results.push(
      skipped("nodes", LOCAL_NO_CLUSTER, evidence),
      skipped("pods", LOCAL_NO_CLUSTER, evidence),
      skipped("traffic", LOCAL_NO_CLUSTER, evidence),
    );
    return results;
  }
  let cluster: Cluster | undefined;
  let clusterArchs: string[] | undefined;
  let nodes: NodeInfo[] | undefined;
  let pods: PodInfo[] | undefined;
  const namespace = out.namespace ?? "default";
  const selector = out.podSelector ?? {};
  try {
    if (!out.kubeconfig) throw new Error("the stack has no kubeconfig output");
    cluster = await (o.connect ?? clusterFromKubeconfig)(out.kubeconfig);
    o.note?.("nodes: listing");
    nodes = await cluster.nodes();
    const archs = ARCHS;
    // The local cluster is what this machine has: an architecture it lacks is skipped, not failed.
    if (local) clusterArchs = archs.filter((a) => nodes?.some((n) => n.arch === a));
    results.push(checkNodes(nodes, archs, out.nodeGroups ?? [], { skipMissingArchs: local }));
    o.note?.("pods: listing");
    pods = await cluster.pods(namespace, selector);
    results.push(checkPods(pods, nodes, placement, out.replicas ?? 1, clusterArchs));
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
  const wanted = expectedArchs(placement);
  const lacking = clusterArchs
    ? (Object.keys(UNAME_ARCH) as KubeArch[]).filter(
        (a) => !clusterArchs?.includes(a) && wanted.includes(UNAME_ARCH[a]),
      )
    : [];
  const expectArchs = wanted.filter((u) => !lacking.some((a) => UNAME_ARCH[a] === u));
  const why = `the cluster has no ${lacking.join(", ")} node`;
  if (expectArchs.length === 0) {
    results.push(
      skipped("traffic", `placement ${placement}: ${why}, so nothing can answer`, {
        url: out.serviceUrl,
        expectArchs: wanted,
        clusterArchs: clusterArchs ?? null,
      }),
    );
    return results;
  }
  const traffic = await verifyUrl(out.serviceUrl, { expectArchs, nodes, pods }, o, resnapshot);
  if (traffic.status === "passed" && lacking.length > 0) {
    const missing = lacking.map((a) => UNAME_ARCH[a]).join(", ");
    results.push(
      skipped("traffic", `${traffic.summary}; no ${missing} answer possible: ${why}`, {
        ...traffic.evidence,
        expectArchs: wanted,
        clusterArchs,
      }),
    );
  } else {
    results.push(traffic);
  }
  return results;
}
