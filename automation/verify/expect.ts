/**
 * What an answer of the lab's service must be, from the app keys the stack exports (checkPath,
 * expectStatus, expectBody, archField). Any service is judged by status and, when given, a regular
 * expression on the body. When archField names a field of the JSON answer (`arch` for the bundled
 * hello app, `goarch` for a Go service), the checks also hold that field to the architecture of the
 * node (or platform) that answered.
 */
import { APP_DEFAULTS } from "../../infra/appConfig";
import { Arch, UNAME_ARCH, archOfSpelling } from "../../infra/arch";
import { Answer } from "./types";

export interface AppExpectation {
  /** The path requested (lab:checkPath). */
  checkPath: string;
  /** The HTTP status it must answer (lab:expectStatus). */
  expectStatus: number;
  /** Regular expression source the body must match (lab:expectBody); undefined or "" for any body. */
  expectBody?: string;
  /** The JSON field that says the CPU (lab:archField); undefined or "" when the answer says none. */
  archField?: string;
}

/** The bundled hello app's expectation (the app keys' defaults). */
export const HELLO_EXPECTATION: AppExpectation = {
  checkPath: APP_DEFAULTS.checkPath,
  expectStatus: APP_DEFAULTS.expectStatus,
  archField: APP_DEFAULTS.archField,
};

export function expectationOf(out: {
  checkPath?: string;
  expectStatus?: number;
  expectBody?: string;
  archField?: string;
}): AppExpectation {
  const e: AppExpectation = {
    checkPath: out.checkPath ?? HELLO_EXPECTATION.checkPath,
    expectStatus: out.expectStatus ?? HELLO_EXPECTATION.expectStatus,
    expectBody: out.expectBody || undefined,
  };
  // A stack from before lab:archField had the `arch` check exactly when it ran the app keys' defaults.
  const legacyHello =
    e.checkPath === APP_DEFAULTS.checkPath && e.expectStatus === APP_DEFAULTS.expectStatus && !e.expectBody;
  const archField = out.archField ?? (legacyHello ? APP_DEFAULTS.archField : "");
  return archField ? { ...e, archField } : e;
}

/** How the expectation reads in a summary: `HTTP 200 matching /"service":"greeter"/`. */
export function describeExpectation(e: AppExpectation): string {
  return `HTTP ${e.expectStatus}${e.expectBody ? ` matching /${e.expectBody}/` : ""}`;
}

export function excerpt(body: string | undefined, max = 200): string | undefined {
  if (body === undefined) return undefined;
  return body.length > max ? `${body.slice(0, max)}…` : body;
}

/** Why an answer does not meet status and body (undefined when it does); transport errors included. */
export function answerProblem(a: Answer, e: AppExpectation): string | undefined {
  if (a.error !== undefined) return `request failed: ${a.error}`;
  if (a.status !== e.expectStatus) return `HTTP ${a.status ?? "?"} instead of ${e.expectStatus}`;
  if (!e.expectBody) return undefined;
  let re: RegExp;
  try {
    re = new RegExp(e.expectBody);
  } catch (err) {
    return `lab:expectBody /${e.expectBody}/ is not a regular expression (${(err as Error).message})`;
  }
  return re.test(a.body ?? "") ? undefined : `body does not match /${e.expectBody}/`;
}

const UNAME_VALUES: readonly string[] = Object.values(UNAME_ARCH);

/** What an answer says about itself, or why the body does not say it. */
export interface ArchReport {
  /** The archField's value as answered. */
  arch?: string;
  /** The architecture that value names (any spelling of ARCH_SPELLINGS). */
  cpu?: Arch;
  archSource?: string;
  hostname?: string;
  pod?: string;
  node?: string;
  problem?: string;
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Reads a JSON answer's `field`, `hostname`, `pod` and `node`; `problem` when it says no architecture. */
export function readArchReport(body: string | undefined, field: string): ArchReport {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch {
    return { problem: "body is not JSON" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return { problem: "body is not a JSON object" };
  const o = json as Record<string, unknown>;
  const r: ArchReport = {
    arch: text(o[field]),
    hostname: text(o.hostname),
    pod: text(o.pod),
    node: text(o.node),
  };
  // The bundled app's `archSource` says whether `arch` is the CPU's or an override.
  const source = text(o[`${field}Source`]);
  if (source) r.archSource = source;
  r.cpu = r.arch === undefined ? undefined : archOfSpelling(r.arch);
  if (r.cpu === undefined)
    r.problem = `"${field}" is ${JSON.stringify(o[field])}, not one of ${UNAME_VALUES.join(", ")}`;
  return r;
}
