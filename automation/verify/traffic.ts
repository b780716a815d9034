/**
 * Check 4 (the verdict): real HTTP answers through the load balancer. Spread mode must see both
 * `x86_64` and `aarch64`; every answer's `arch` must match the architecture label of the node
 * running the pod that answered (hostname → pod → node). A malformed answer fails the check.
 */
import { UNAME_ARCH } from "../../infra/arch";
import { PlacementMode } from "./pods";
import { CheckResult, NodeInfo, PodInfo, failed, passed } from "./types";

/** One HTTP exchange with the service. */
export interface Answer {
  status?: number;
  body?: string;
  /** Transport error (connection refused, timeout…). */
  error?: string;
}

export interface TrafficExpectation {
  /** Architectures (uname spelling) that must answer; only these may answer. */
  expectArchs: string[];
  /** Pods and nodes of the cluster, to map each answer to its node; absent → not checked. */
  pods?: PodInfo[];
  nodes?: NodeInfo[];
}

const UNAME_VALUES = Object.values(UNAME_ARCH);

/** The uname architectures a placement mode must show. */
export function expectedArchs(placement: PlacementMode): string[] {
  return placement === "spread" ? [UNAME_ARCH.amd64, UNAME_ARCH.arm64] : [UNAME_ARCH[placement]];
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

function str(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

function examine(a: Answer, i: number, exp: TrafficExpectation): Row {
  const row: Row = { i, status: a.status ?? null };
  if (a.error !== undefined) return { ...row, problem: `request failed: ${a.error}` };
  if (a.status !== 200) return { ...row, problem: `HTTP ${a.status}`, body: excerpt(a.body) };
  let json: unknown;
  try {
    json = JSON.parse(a.body ?? "");
  } catch {
    return { ...row, problem: "body is not JSON", body: excerpt(a.body) };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { ...row, problem: "body is not a JSON object", body: excerpt(a.body) };
  }
  const o = json as Record<string, unknown>;
  Object.assign(row, { arch: str(o.arch), hostname: str(o.hostname), pod: str(o.pod), node: str(o.node) });
  if (str(o.archSource)) row.archSource = str(o.archSource);
  if (row.arch === undefined || !UNAME_VALUES.includes(row.arch)) {
    return { ...row, problem: `"arch" is ${JSON.stringify(o.arch)}, not one of ${UNAME_VALUES.join(", ")}` };
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
    const want = UNAME_ARCH[node.arch as keyof typeof UNAME_ARCH];
    if (want !== row.arch) {
      return {
        ...row,
        problem: `says ${row.arch}, but its node ${node.name} is ${node.arch} (${want ?? "?"})`,
      };
    }
  }
  return row;
}

function excerpt(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  return body.length > 200 ? `${body.slice(0, 200)}…` : body;
}

/** The verdict over a set of answers (pure). */
export function checkTraffic(answers: Answer[], exp: TrafficExpectation): CheckResult {
  const rows = answers.map((a, i) => examine(a, i + 1, exp));
  const counts: Record<string, number> = {};
  for (const r of rows) if (r.arch && !r.problem) counts[r.arch] = (counts[r.arch] ?? 0) + 1;
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
  for (const want of exp.expectArchs) {
    if (!counts[want]) problems.push(`no answer from ${want}`);
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
