/**
 * Check 4 (the verdict): real HTTP answers through the Service (load balancer or NodePort). When the
 * answer says its CPU (lab:archField, e.g. the hello app's `arch`), spread mode must see both
 * architectures, and every answer's field must match the architecture label of the node running the
 * pod that answered (hostname → pod → node); a malformed answer fails the check. A service whose
 * answer says no architecture is judged by status and expectBody only: which architecture served it
 * is proven pod by pod in `pods-http`.
 */
import { UNAME_ARCH, archOfSpelling } from "../../infra/arch";
import { placementArchs } from "../../infra/config";
import {
  AppExpectation,
  HELLO_EXPECTATION,
  answerProblem,
  describeExpectation,
  excerpt,
  readArchReport,
} from "./expect";
import { Answer, CheckResult, NodeInfo, PlacementMode, PodInfo, failed, passed } from "./types";

export interface TrafficExpectation {
  /** Architectures (uname spelling) that must answer; only these may answer. */
  expectArchs: string[];
  /** Pods and nodes of the cluster, to map each answer to its node; absent → not checked. */
  pods?: PodInfo[];
  nodes?: NodeInfo[];
  /** Any split over expectArchs will do, as long as one answers (placement prefer-arm64). */
  anyOf?: boolean;
  /** What each answer must be; default the hello app's (whose `arch` is then judged). */
  answer?: AppExpectation;
}

/**
 * The uname architectures a placement mode lets answer (the hello app's check): spread must show
 * both; prefer-arm64 may show either (at least one), which the verdict accepts in any split.
 */
export function expectedArchs(placement: PlacementMode): string[] {
  return placementArchs(placement).map((a) => UNAME_ARCH[a]);
}

interface Row {
  i: number;
  status: number | null;
  arch?: string;
  hostname?: string;
  pod?: string;
  node?: string;
  nodeArch?: string;
  archSource?: string;
  problem?: string;
  body?: string;
}

function examine(a: Answer, i: number, exp: TrafficExpectation): Row {
  const row: Row = { i, status: a.status ?? null };
  const e = exp.answer ?? HELLO_EXPECTATION;
  if (!e.archField) {
    const problem = answerProblem(a, e);
    return problem ? { ...row, problem, body: excerpt(a.body) } : row;
  }
  if (a.error !== undefined) return { ...row, problem: `request failed: ${a.error}` };
  if (a.status !== e.expectStatus) return { ...row, problem: `HTTP ${a.status}`, body: excerpt(a.body) };
  const bodyProblem = answerProblem(a, e);
  if (bodyProblem) return { ...row, problem: bodyProblem, body: excerpt(a.body) };
  const hello = readArchReport(a.body, e.archField);
  Object.assign(row, { arch: hello.arch, hostname: hello.hostname, pod: hello.pod, node: hello.node });
  if (hello.archSource) row.archSource = hello.archSource;
  if (hello.problem) {
    // A body that is not the app's JSON is shown; a bad `arch` value speaks for itself.
    return {
      ...row,
      problem: hello.problem,
      ...(hello.problem.startsWith("body") ? { body: excerpt(a.body) } : {}),
    };
  }
  if (row.hostname === undefined) return { ...row, problem: `"hostname" is missing`, body: excerpt(a.body) };
  if (exp.pods && exp.nodes) {
    const podName = row.pod ?? row.hostname;
    const pod = exp.pods.find((p) => p.name === podName) ?? exp.pods.find((p) => p.name === row.hostname);
    if (!pod) return { ...row, problem: `answered by ${podName}, which is not one of the app's pods` };
    const node = exp.nodes.find((n) => n.name === pod.nodeName);
    row.nodeArch = node?.arch;
    if (!node || !node.arch)
      return { ...row, problem: `pod ${pod.name} runs on an unknown node (${pod.nodeName})` };
    if (row.node !== undefined && row.node !== node.name) {
      return { ...row, problem: `says node ${row.node}, but pod ${pod.name} runs on ${node.name}` };
    }
    if (hello.cpu !== node.arch) {
      const want = UNAME_ARCH[node.arch as keyof typeof UNAME_ARCH];
      return {
        ...row,
        problem: `says ${row.arch}, but its node ${node.name} is ${node.arch} (${want ?? "?"}), pod ${pod.name}`,
      };
    }
  }
  return row;
}

/** The verdict over a set of answers (pure). */
export function checkTraffic(answers: Answer[], exp: TrafficExpectation): CheckResult {
  const rows = answers.map((a, i) => examine(a, i + 1, exp));
  if (exp.answer && !exp.answer.archField) return checkAnswers(rows, exp.answer);
  // Counted in uname spelling, as expectArchs are, whichever spelling the service answers with.
  const counts: Record<string, number> = {};
  for (const r of rows) {
    const cpu = r.arch && !r.problem ? archOfSpelling(r.arch) : undefined;
    if (cpu) counts[UNAME_ARCH[cpu]] = (counts[UNAME_ARCH[cpu]] ?? 0) + 1;
  }
  const mapped = exp.pods !== undefined && exp.nodes !== undefined;
  const evidence = {
    requests: answers.length,
    expectArchs: exp.expectArchs,
    counts,
    mappedToNodes: mapped,
    answers: rows,
  };
  const problems: string[] = [];
  if (answers.length === 0) problems.push("no answers to judge");
  const bad = rows.filter((r) => r.problem);
  if (bad.length > 0) {
    const first = bad.slice(0, 3).map((r) => `#${r.i}: ${r.problem}`);
    problems.push(
      `${bad.length} of ${rows.length} answers bad (${first.join("; ")}${bad.length > 3 ? "; …" : ""})`,
    );
  }
  if (exp.anyOf) {
    if (answers.length > 0 && !exp.expectArchs.some((a) => counts[a]))
      problems.push(`no answer from ${exp.expectArchs.join(" or ")}`);
  } else {
    for (const want of exp.expectArchs) {
      if (!counts[want]) problems.push(`no answer from ${want}`);
    }
  }
  const unexpected = Object.keys(counts).filter((a) => !exp.expectArchs.includes(a));
  if (unexpected.length > 0) problems.push(`unexpected answers from ${unexpected.join(", ")}`);
  if (problems.length > 0) return failed("traffic", problems.join("; "), evidence);
  const seen = Object.entries(counts)
    .sort(([a], [b]) => exp.expectArchs.indexOf(a) - exp.expectArchs.indexOf(b))
    .map(([a, n]) => `${n} ${a}`);
  const how = mapped ? ", each matching its pod's node" : "";
  return passed("traffic", `${answers.length} answers: ${seen.join(", ")}${how}`, evidence);
}

/** Any service's answers: each must have the expected status (and body); no architecture is asked. */
function checkAnswers(rows: Row[], e: AppExpectation): CheckResult {
  const statuses: Record<string, number> = {};
  for (const r of rows) statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
  const evidence = {
    requests: rows.length,
    expect: { ...e },
    archFromAnswers: false,
    statuses,
    answers: rows,
  };
  if (rows.length === 0) return failed("traffic", "no answers to judge", evidence);
  const bad = rows.filter((r) => r.problem);
  if (bad.length > 0) {
    const first = bad.slice(0, 3).map((r) => `#${r.i}: ${r.problem}`);
    const more = bad.length > 3 ? "; …" : "";
    return failed(
      "traffic",
      `${bad.length} of ${rows.length} answers bad (${first.join("; ")}${more})`,
      evidence,
    );
  }
  return passed(
    "traffic",
    `${rows.length} answers: all ${describeExpectation(e)} (the service does not say its architecture: pods-http proves each)`,
    evidence,
  );
}
