/**
 * The variants check's verdict (pure): one platform's answer against what that platform must say,
 * and the check's result over every platform's run. The runs themselves are ./variants.ts.
 */
import { APP_DEFAULTS } from "../../infra/appConfig";
import { Arch, UNAME_ARCH, archOfSpelling } from "../../infra/arch";
import { AppExpectation, HELLO_EXPECTATION, answerProblem } from "./expect";
import { CheckResult, failed, passed, Answer } from "./types";

export interface VariantVerdict {
  platform: string;
  /** The `uname -m` spelling the platform must answer with. */
  expected?: string;
  passed: boolean;
  /** Why not (one line); absent when passed. */
  problem?: string;
  arch?: string;
  archSource?: string;
}

/** `linux/arm64` → `arm64`; undefined for platforms the lab does not know. */
export function platformArch(platform: string): Arch | undefined {
  const arch = platform.split("/")[1];
  return arch === "amd64" || arch === "arm64" ? arch : undefined;
}

/**
 * One platform's answer against what that platform must say (default: the hello app's). With an
 * archField, the answer's field must name the platform's architecture. `answer.error` says why
 * there is no answer (timeout, container exited, docker run failed) and is the problem as given.
 */
export function judgeVariant(
  platform: string,
  answer: Answer,
  exp: AppExpectation = HELLO_EXPECTATION,
): VariantVerdict {
  const arch = platformArch(platform);
  const expected = arch ? UNAME_ARCH[arch] : undefined;
  const v: VariantVerdict = { platform, expected, passed: false };
  if (!expected) return { ...v, problem: `no uname architecture known for platform "${platform}"` };
  if (answer.error !== undefined) return { ...v, problem: answer.error };
  const field = exp.archField;
  const problem = answerProblem(answer, exp);
  if (!field || problem) return problem ? { ...v, problem } : { ...v, passed: true };
  let json: unknown;
  try {
    json = JSON.parse(answer.body ?? "");
  } catch {
    return { ...v, problem: "the answer is not JSON" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return { ...v, problem: "the answer is not a JSON object" };
  const o = json as Record<string, unknown>;
  const sourceField = `${field}Source`;
  if (typeof o[field] === "string") v.arch = o[field] as string;
  if (typeof o[sourceField] === "string") v.archSource = o[sourceField] as string;
  const problems: string[] = [];
  if (v.arch === undefined)
    problems.push(`"${field}" is ${o[field] === undefined ? "missing" : "not a string"}`);
  else if (archOfSpelling(v.arch) !== arch)
    problems.push(`answered ${field} "${v.arch}", but ${platform} must answer "${expected}"`);
  // `<field>Source` says whether the value is the CPU's; the bundled app (the default field) always sends it.
  if (v.archSource !== "process" && (v.archSource !== undefined || field === APP_DEFAULTS.archField)) {
    problems.push(
      v.archSource === "override"
        ? `${sourceField} is "override": the answer is not the CPU's (APP_ARCH_OVERRIDE is set in the image)`
        : `${sourceField} is ${JSON.stringify(o[sourceField])}, not "process"`,
    );
  }
  if (problems.length > 0) return { ...v, problem: problems.join("; ") };
  return { ...v, passed: true };
}

/** What one platform's run observed (the check's evidence). */
export interface VariantRun {
  platform: string;
  /** The container's name, `lab-verify-<stack>-<arch>`. */
  name: string;
  /** What ran: `<repo>@<the platform's manifest digest>`. */
  image?: string;
  containerId?: string;
  /** The port the service listens on in the container (lab:appPort), as in its pods. */
  appPort?: number;
  /** The 127.0.0.1 port Docker published appPort on (what the check asked). */
  hostPort?: number;
  /** How the container ended, when it exited before answering. */
  exitCode?: number;
  /** `docker run -d` (pull included), in ms. */
  startMs?: number;
  /** When it ran (ISO 8601): from `docker run` returning to its removal; shows labs overlapping. */
  startedAt?: string;
  removedAt?: string;
  /** From the container's start to its first HTTP answer, in ms. */
  timeToFirstAnswerMs?: number;
  attempts: number;
  /** The answer: parsed JSON, else the raw text (excerpt). */
  answer?: unknown;
  status?: number;
  verdict: VariantVerdict;
  /** The container's last output lines, when it did not answer (its last line is in the problem). */
  logs?: string;
  /** `docker rm -f` failed: the container may still run. */
  removeError?: string;
}

export const seconds = (ms: number | undefined): string => `${((ms ?? 0) / 1000).toFixed(1)} s`;

/** The verdict over every platform's run (pure). */
export function checkVariants(runs: VariantRun[], context: Record<string, unknown> = {}): CheckResult {
  const evidence = { ...context, variants: runs };
  if (runs.length === 0) return failed("variants", "no platforms to run", evidence);
  const problems: string[] = [];
  for (const r of runs) {
    if (!r.verdict.passed) problems.push(`${r.platform}: ${r.verdict.problem}`);
    if (r.removeError) problems.push(`${r.platform}: container ${r.name} was not removed: ${r.removeError}`);
  }
  if (problems.length > 0) return failed("variants", problems.join("; "), evidence);
  const hello = runs.every((r) => r.verdict.arch !== undefined);
  const seen = runs.map(
    (r) =>
      `${r.platform} → ${hello ? r.verdict.arch : `HTTP ${r.status}`} in ${seconds(r.timeToFirstAnswerMs)}`,
  );
  const ports = [...new Set(runs.map((r) => r.appPort).filter((p) => p !== undefined))];
  const notes = [
    runs.every((r) => r.verdict.archSource === "process") ? "archSource process" : "",
    ports.length === 1 ? `port ${ports[0]} in each container` : "",
  ];
  const note = notes.filter(Boolean).join("; ");
  return passed("variants", `${seen.join(", ")}${note ? ` (${note})` : ""}`, evidence);
}
