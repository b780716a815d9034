/**
 * Check `pods-http`: proof that pods on each architecture serve the check, without asking the app
 * which CPU it runs on. Every Ready pod is asked for checkPath through the API server's pod proxy
 * (`/api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy{checkPath}`), which reaches that very pod on
 * its node, on EKS and on a local cluster alike. The pod's node gives the architecture; each answer
 * must have expectStatus (and match expectBody), and when lab:archField names the answer's CPU
 * field, that field must say the node's architecture. Spread needs an answering pod on each architecture, a pinned placement on its own,
 * prefer-arm64 on either (the pods check holds it to arm64 where there is room).
 */
import { ARCHS, UNAME_ARCH } from "../../infra/arch";
import { placementArchs } from "../../infra/config";
import { AppExpectation, answerProblem, describeExpectation, excerpt, readArchReport } from "./expect";
import { Clock, realClock } from "./http";
import type { Cluster } from "./kube";
import { CheckResult, NodeInfo, PodInfo, failed, passed, skipped, Answer, PlacementMode } from "./types";

/** One pod's answer: the evidence the verdict rests on. */
export interface PodAnswer {
  /** The path requested. */
  path: string;
  pod: string;
  node: string | null;
  /** The node's `kubernetes.io/arch`. */
  arch: string | null;
  status: number | null;
  latencyMs: number;
  attempts: number;
  /** What the answer's archField said it runs on (only with an archField). */
  reportedArch?: string;
  problem?: string;
  body?: string;
}

export interface PodsHttpTarget {
  namespace: string;
  /** The container port (lab:appPort). */
  port: number;
  expect: AppExpectation;
  placement: PlacementMode;
  /** Architectures the cluster has (local target): a missing one is skipped, never passed. */
  clusterArchs?: readonly string[];
}

export interface PodsHttpOptions {
  clock?: Clock;
  signal?: AbortSignal;
  /** Per request (default 10 s). */
  timeoutMs?: number;
  /** Tries per pod when no answer comes at all (default 3, 1 s apart). */
  tries?: number;
}

/** One pod's answer against the expectation (pure). */
export function judgePodAnswer(a: Answer, row: PodAnswer, e: AppExpectation): PodAnswer {
  const problem = answerProblem(a, e);
  if (problem) return { ...row, problem, body: excerpt(a.body) };
  if (!e.archField) return row;
  const hello = readArchReport(a.body, e.archField);
  const r = { ...row, reportedArch: hello.arch };
  if (hello.problem) return { ...r, problem: hello.problem, body: excerpt(a.body) };
  const want = row.arch ? UNAME_ARCH[row.arch as keyof typeof UNAME_ARCH] : undefined;
  if (hello.cpu !== row.arch)
    return { ...r, problem: `says ${hello.arch}, but its node ${row.node} is ${row.arch} (${want ?? "?"})` };
  if (hello.pod !== undefined && hello.pod !== row.pod)
    return { ...r, problem: `says pod ${hello.pod}, but the proxy asked ${row.pod}` };
  return r;
}

/** The verdict over every pod's answer (pure). */
export function checkPodsHttp(
  rows: PodAnswer[],
  t: Pick<PodsHttpTarget, "expect" | "placement" | "clusterArchs">,
  context: Record<string, unknown> = {},
): CheckResult {
  const hello = Boolean(t.expect.archField);
  const good = rows.filter((r) => !r.problem);
  const byArch: Record<string, number> = {};
  for (const r of good) if (r.arch) byArch[r.arch] = (byArch[r.arch] ?? 0) + 1;
  const evidence = {
    ...context,
    via: "the API server's pod proxy",
    expect: { ...t.expect },
    archFromAnswer: hello,
    byArch,
    answers: rows,
  };
  const problems: string[] = [];
  const allowed = placementArchs(t.placement);
  const absent = allowed.filter((a) => t.clusterArchs && !t.clusterArchs.includes(a));
  if (rows.length === 0 && absent.length === allowed.length) {
    return skipped(
      "pods-http",
      `placement ${t.placement}: the cluster has no ${absent.join(", ")} node, so no pod can answer`,
      { ...evidence, missingArchs: absent },
    );
  }
  if (rows.length === 0) problems.push("no Ready pod to ask");
  const bad = rows.filter((r) => r.problem);
  if (bad.length > 0) {
    const first = bad.slice(0, 3).map((r) => `${r.pod} on ${r.node} (${r.arch ?? "?"}): ${r.problem}`);
    problems.push(
      `${bad.length} of ${rows.length} pods answered wrong (${first.join("; ")}${bad.length > 3 ? "; …" : ""})`,
    );
  }
  const missing: string[] = [];
  const required = t.placement === "prefer-arm64" ? [] : placementArchs(t.placement);
  for (const arch of required) {
    if (byArch[arch]) continue;
    if (t.clusterArchs && !t.clusterArchs.includes(arch)) missing.push(arch);
    else if (rows.length > 0) problems.push(`no pod on ${arch} answered ${describeExpectation(t.expect)}`);
  }
  const stray = Object.keys(byArch).filter((a) => !allowed.includes(a as never));
  if (stray.length > 0) problems.push(`placement ${t.placement}, but pods on ${stray.join(", ")} answered`);
  if (problems.length > 0) return failed("pods-http", problems.join("; "), evidence);
  const split = ARCHS.filter((a) => byArch[a]).map((a) => `${byArch[a]} on ${a}`);
  const path = rows[0]?.path ?? t.expect.checkPath;
  const how = hello ? ", each saying its node's architecture" : "";
  const summary = `${good.length} pod${good.length === 1 ? "" : "s"} answered GET ${path} with ${describeExpectation(t.expect)}: ${split.join(", ")}${how}`;
  if (missing.length > 0)
    return skipped(
      "pods-http",
      `${summary}; placement ${t.placement} also needs ${missing.join(", ")}, which the cluster has no node of`,
      {
        ...evidence,
        missingArchs: missing,
      },
    );
  return passed("pods-http", summary, evidence);
}

/** Asks every Ready pod through the pod proxy (4 at a time) and judges the answers. */
export async function runPodsHttpCheck(
  cluster: Pick<Cluster, "proxyGet">,
  pods: PodInfo[],
  nodes: NodeInfo[],
  t: PodsHttpTarget,
  o: PodsHttpOptions = {},
): Promise<CheckResult> {
  const clock = o.clock ?? realClock;
  const archOf = new Map(nodes.map((n) => [n.name, n.arch]));
  const ready = pods.filter((p) => p.ready);
  const rows: PodAnswer[] = new Array(ready.length);
  let next = 0;
  const ask = async (p: PodInfo): Promise<PodAnswer> => {
    const row: PodAnswer = {
      path: t.expect.checkPath,
      pod: p.name,
      node: p.nodeName ?? null,
      arch: (p.nodeName && archOf.get(p.nodeName)) || null,
      status: null,
      latencyMs: 0,
      attempts: 0,
    };
    let a: Answer = { error: "not asked" };
    for (let i = 0; i < (o.tries ?? 3) && !o.signal?.aborted; i++) {
      if (i > 0) await clock.sleep(1_000, o.signal);
      const t0 = clock.now();
      a = await cluster.proxyGet(t.namespace, p.name, t.port, t.expect.checkPath, o.timeoutMs ?? 10_000);
      row.latencyMs = clock.now() - t0;
      row.attempts = i + 1;
      // An answer of the app (any status) is final; only "no answer" is retried.
      if (a.error === undefined) break;
    }
    row.status = a.status ?? null;
    return judgePodAnswer(a, row, t.expect);
  };
  const worker = async (): Promise<void> => {
    while (next < ready.length) {
      const i = next++;
      rows[i] = await ask(ready[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, ready.length) }, worker));
  return checkPodsHttp(rows, t, {
    namespace: t.namespace,
    port: t.port,
    readyPods: ready.length,
    pods: pods.length,
  });
}
