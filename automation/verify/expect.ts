/**
 * What an answer of the lab's service must be, from the app keys the stack exports (checkPath,
 * expectStatus, expectBody). Any service is judged by status and, when given, a regular expression
 * on the body. The bundled hello app is recognised by its defaults (checkPath `/hello`, status 200,
 * no expectBody): its JSON answer says which CPU served it, so the checks also hold that `arch` to
 * the node's architecture. A service of your own served at `/hello` opts out with an expectBody.
 */
import { APP_DEFAULTS } from "../../infra/appConfig";
import { UNAME_ARCH } from "../../infra/arch";
import { Answer } from "./types";

export interface AppExpectation {
  /** The path requested (lab:checkPath). */
  checkPath: string;
  /** The HTTP status it must answer (lab:expectStatus). */
  expectStatus: number;
  /** Regular expression source the body must match (lab:expectBody); undefined or "" for any body. */
  expectBody?: string;
}

/** The bundled hello app's expectation (the app keys' defaults). */
export const HELLO_EXPECTATION: AppExpectation = {
  checkPath: APP_DEFAULTS.checkPath,
  expectStatus: APP_DEFAULTS.expectStatus,
};

/** The hello app's answer is judged for its `arch`: the defaults of the app keys, no expectBody. */
export function isHelloCheck(e: AppExpectation): boolean {
  return (
    e.checkPath === APP_DEFAULTS.checkPath && e.expectStatus === APP_DEFAULTS.expectStatus && !e.expectBody
  );
}

export function expectationOf(out: {
  checkPath?: string;
  expectStatus?: number;
  expectBody?: string;
}): AppExpectation {
  return {
    checkPath: out.checkPath ?? HELLO_EXPECTATION.checkPath,
    expectStatus: out.expectStatus ?? HELLO_EXPECTATION.expectStatus,
    expectBody: out.expectBody || undefined,
  };
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

/** The hello app's self-report, or why the body is not one. */
export interface HelloReport {
  arch?: string;
  archSource?: string;
  hostname?: string;
  pod?: string;
  node?: string;
  problem?: string;
}

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** Reads the hello app's JSON (`arch`, `hostname`, `pod`, `node`); `problem` when it is not that. */
export function readHello(body: string | undefined): HelloReport {
  let json: unknown;
  try {
    json = JSON.parse(body ?? "");
  } catch {
    return { problem: "body is not JSON" };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json))
    return { problem: "body is not a JSON object" };
  const o = json as Record<string, unknown>;
  const r: HelloReport = {
    arch: text(o.arch),
    hostname: text(o.hostname),
    pod: text(o.pod),
    node: text(o.node),
  };
  if (text(o.archSource)) r.archSource = text(o.archSource);
  if (r.arch === undefined || !UNAME_VALUES.includes(r.arch))
    r.problem = `"arch" is ${JSON.stringify(o.arch)}, not one of ${UNAME_VALUES.join(", ")}`;
  return r;
}
