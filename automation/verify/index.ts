/**
 * `verify`: the checks over a lab's stack outputs, each with its evidence. The live system is
 * the authority (the registry, the Docker Engine, the cluster's API, real HTTP), never the state
 * file. aws: image, nodes, pods, pods-http, traffic. local: image, variants, and with a cluster
 * (the `kubeconfig` output) nodes, pods, pods-http and traffic; without one those are skipped.
 * pods-http asks each Ready pod through the API server's pod proxy, so any service is proven on
 * each architecture; traffic goes through the Service as a user does. On a local cluster
 * that lacks an architecture, a requirement on it is skipped with the reason (never passed), while
 * everything else the check can see still fails when wrong.
 */
import { platformOf } from "../../infra/arch";
import { SUPPORTED_PLATFORMS, placementArchs } from "../../infra/config";
import { LabOutputs } from "../lifecycle/outputs";
import { withPreviousLogs } from "./crash";
import { expectationOf } from "./expect";
import { runImageCheck } from "./image";
import { Clock, RETRY_GRACE_MS, STABLE_ANSWERS, pollUntilStable, realClock, sample } from "./http";
import { Cluster, clusterFromKubeconfig } from "./kube";
import { checkNodes } from "./nodes";
import { checkPods, podsSettling } from "./pods";
import { runPodsHttpCheck } from "./podsHttp";
import { ARCHS, UNAME_ARCH } from "../../infra/arch";
import { TrafficExpectation, checkTraffic, expectedArchs } from "./traffic";
import { CheckResult, KubeArch, NodeInfo, PodInfo, failed, skipped, PlacementMode } from "./types";
import { VariantsDeps, runVariantsCheck } from "./variants";
import { errorMessage } from "../errors";

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
  /** Test seam: the variants check's docker runner, HTTP client and clock. */
  variantsDeps?: Partial<VariantsDeps>;
}

/** Pods listed again every 2 s while they settle (podsSettling), within the traffic deadline. */
async function settledPods(
  cluster: Cluster,
  namespace: string,
  selector: Record<string, string>,
  pods: PodInfo[],
  replicas: number,
  o: VerifyOptions,
): Promise<PodInfo[]> {
  const clock = o.clock ?? realClock;
  const until = clock.now() + o.trafficDeadlineMs;
  while (podsSettling(pods, replicas) && clock.now() < until && !o.signal?.aborted) {
    const ready = pods.filter((p) => p.ready).length;
    o.note?.(`pods: waiting for ${replicas - ready} of ${replicas} replicas to become Ready`);
    await clock.sleep(2000, o.signal);
    pods = await cluster.pods(namespace, selector);
  }
  return pods;
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
  const okStatus = expect.answer?.expectStatus ?? 200;
  const poll = await pollUntilStable(
    url,
    o.trafficDeadlineMs,
    clock,
    o.signal,
    (n, last) => o.note?.(`waiting for ${url} (try ${n}: ${last.error ?? `HTTP ${last.status}`})`),
    okStatus,
  );
  if (!poll.answering) {
    return failed(
      "traffic",
      `${url} did not answer HTTP ${okStatus} ${STABLE_ANSWERS} times in a row within ${Math.round(o.trafficDeadlineMs / 1000)} s`,
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
  const answer = expectationOf(out);
  const results: CheckResult[] = [];
  o.note?.("image: resolving the pushed tag");
  results.push(
    await runImageCheck(
      {
        imageTag: out.imageTag,
        imageRef: out.imageRef,
        // No credentials in the outputs: the check fetches an ECR token itself.
        requiredPlatforms: requiredPlatforms(out, placement),
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
          appPort: out.appPort,
          env: out.appEnv,
          expect: answer,
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
      skipped("pods-http", LOCAL_NO_CLUSTER, evidence),
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
    pods = await settledPods(cluster, namespace, selector, pods, out.replicas ?? 1, o);
    // A crashing container's previous log says why (e.g. exec format error: a missing platform).
    pods = await withPreviousLogs(cluster, namespace, pods);
    results.push(checkPods(pods, nodes, placement, out.replicas ?? 1, clusterArchs));
  } catch (e) {
    const evidence = { error: errorMessage(e), namespace, podSelector: selector };
    if (!nodes) results.push(failed("nodes", `could not list nodes: ${errorMessage(e)}`, evidence));
    results.push(failed("pods", `could not list pods: ${errorMessage(e)}`, evidence));
  }
  if (cluster && nodes && pods) {
    o.note?.(`pods-http: asking each Ready pod for ${answer.checkPath} through the API server`);
    const port = out.appPort ?? 8080;
    const target = { namespace, port, expect: answer, placement, clusterArchs };
    results.push(await runPodsHttpCheck(cluster, pods, nodes, target, { clock: o.clock, signal: o.signal }));
  } else {
    results.push(failed("pods-http", "no pod list to ask (see the pods check)", { namespace }));
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
  const anyOf = placement === "prefer-arm64";
  const traffic = await verifyUrl(out.serviceUrl, { expectArchs, anyOf, answer, nodes, pods }, o, resnapshot);
  // prefer-arm64 and any service's answers need no architecture the cluster lacks.
  if (
    traffic.status === "passed" &&
    lacking.length > 0 &&
    !anyOf &&
    traffic.evidence.archFromAnswers !== false
  ) {
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

/**
 * Platforms the image must list: every one pods may be placed on (spread and prefer-arm64: both),
 * and for an image the lab built, every platform it built (lab:platforms). A prebuilt lab:image
 * (imageTag is the reference as given, so equal to imageRef) needs only what placement allows.
 */
export function requiredPlatforms(out: LabOutputs, placement: PlacementMode): string[] {
  const needed = placementArchs(placement).map(platformOf);
  const built = out.imageTag !== undefined && out.imageTag !== out.imageRef ? (out.platforms ?? []) : [];
  return SUPPORTED_PLATFORMS.filter((p) => needed.includes(p) || built.includes(p)).concat(
    built.filter((p) => !SUPPORTED_PLATFORMS.includes(p)),
  );
}
