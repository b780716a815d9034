/**
 * Every command-line value checked before any engine call, all problems collected into one list
 * (exit 2). Numbers, durations, the stack prefix, the attendee list and the stack config.
 */
import * as fs from "node:fs";
import { FOUNDATION } from "../lifecycle/foundation";
import { UNAME_ARCH } from "../../infra/arch";
import { isAwsRegion } from "../../infra/configRules";
import { resolveAttendees } from "./attendees";
import { parseDuration } from "./duration";
import { StackConfigPlan, planStackConfig } from "./labconfig";

/** Options as commander hands them over (strings; repeatables as arrays). */
export interface RawOptions {
  attendees?: string[];
  attendeesFile?: string;
  concurrency?: string;
  config?: string[];
  /** `--secret key=value` (repeatable): secret stack config. */
  secret?: string[];
  /** `--secret-env key=VAR` (repeatable): secret stack config read from the environment. */
  /** `reap --region`: also sweep, by their tags, the labs whose state is gone. */
  region?: string;
  /** `--no-preflight`: skip the quota preflight before an aws up/run. */
  preflight?: boolean;
  secretEnv?: string[];
  stackPrefix?: string;
  report?: string;
  junit?: string;
  keep?: boolean;
  backend?: string;
  target?: string;
  requests?: string;
  trafficDeadline?: string;
  destroyTries?: string;
  preview?: boolean;
  awsCheck?: boolean;
  url?: string;
  expectArch?: string;
  olderThan?: string;
  /** reap/destroy: the stacks the backend records as left unfinished (lifecycle/ledger.ts). */
  leftovers?: boolean;
  /** --variants / --no-variants; undefined: the default for the target. */
  variants?: boolean;
}

export class Problems {
  readonly list: string[] = [];
  add(p: string): void {
    if (!this.list.includes(p)) this.list.push(p);
  }
}

export function positiveInt(
  flag: string,
  value: string | undefined,
  fallback: number,
  problems: Problems,
  max = 1000,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > max) {
    problems.add(`${flag} "${value}" is not a whole number from 1 to ${max}`);
    return fallback;
  }
  return n;
}

export function duration(
  flag: string,
  value: string | undefined,
  fallback: number,
  problems: Problems,
): number {
  if (value === undefined) return fallback;
  const d = parseDuration(value);
  if (d instanceof Error) {
    problems.add(`${flag}: ${d.message}`);
    return fallback;
  }
  return d;
}

export function stackPrefix(value: string | undefined, problems: Problems): string {
  const prefix = value ?? "lab";
  if (!/^[a-z0-9]([-a-z0-9]{0,28}[a-z0-9])?$/.test(prefix)) {
    problems.add(
      `--stack-prefix "${prefix}" must be 1-30 lowercase letters, digits or '-', not starting or ending with '-'`,
    );
  }
  return prefix;
}

/** Backends the Pulumi CLI accepts: Pulumi Cloud (http[s]) and the self-managed (DIY) ones. */
export const BACKEND_SCHEMES = ["file", "s3", "gs", "azblob", "postgres", "http", "https"] as const;

/** `--backend`: a URL of a scheme Pulumi knows; `file://` absolute (relative paths move with the cwd). */
export function backend(value: string | undefined, problems: Problems): void {
  if (value === undefined) return;
  const m = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/.exec(value);
  const schemes = BACKEND_SCHEMES.map((s) => `${s}://`).join(", ");
  if (!m || !(BACKEND_SCHEMES as readonly string[]).includes(m[1])) {
    problems.add(`--backend "${value}" is not a Pulumi backend URL: use one of ${schemes}`);
  } else if (m[1] === "file" && !m[2].startsWith("/")) {
    problems.add(`--backend "${value}": a file backend needs an absolute path (file:///abs/dir)`);
  } else if (m[2] === "") {
    problems.add(`--backend "${value}" names no location after ${m[1]}://`);
  }
}

export function attendees(o: RawOptions, problems: Problems): string[] {
  let file: { path: string; text: string } | undefined;
  if (o.attendeesFile !== undefined) {
    try {
      file = { path: o.attendeesFile, text: fs.readFileSync(o.attendeesFile, "utf8") };
    } catch (e) {
      problems.add(
        `--attendees-file ${o.attendeesFile} cannot be read: ${(e as NodeJS.ErrnoException).code ?? e}`,
      );
      return [];
    }
  }
  const r = resolveAttendees({ list: o.attendees, file });
  r.problems.forEach((p) => problems.add(p));
  if (r.attendees.includes(FOUNDATION))
    problems.add(`attendee "${FOUNDATION}" is reserved for the workshop's shared stack: pick another name`);
  return r.attendees;
}

export function stackConfig(
  o: RawOptions,
  names: string[],
  env: NodeJS.ProcessEnv,
  problems: Problems,
  /** false: the stacks exist and hold their config; only the line's own syntax is checked. */
  validate = true,
  foundation?: string,
): StackConfigPlan {
  const plan = planStackConfig(
    { pairs: o.config ?? [], secretPairs: o.secret, secretEnvPairs: o.secretEnv, target: o.target },
    names,
    env,
    validate,
    foundation,
  );
  plan.problems.forEach((p) => problems.add(p));
  return plan;
}

export function expectArchs(value: string | undefined, problems: Problems): string[] {
  const allowed = Object.values(UNAME_ARCH);
  const list = (value ?? allowed.join(","))
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (list.length === 0) problems.add(`--expect-arch is empty: use ${allowed.join(",")}`);
  for (const a of list) {
    if (!allowed.includes(a))
      problems.add(`--expect-arch "${a}" is not one of ${allowed.join(", ")} (uname -m spelling)`);
  }
  return list;
}

export function url(value: string, problems: Problems): string {
  try {
    const u = new URL(value);
    if (u.protocol !== "http:" && u.protocol !== "https:") problems.add(`--url ${value} is not http(s)`);
  } catch {
    problems.add(`--url "${value}" is not a URL (e.g. http://a1b2.elb.amazonaws.com/hello)`);
  }
  return value;
}

export function awsRegion(flag: string, value: string, problems: Problems): string | undefined {
  if (isAwsRegion(value)) return value;
  problems.add(`${flag} "${value}" is not an AWS region (e.g. eu-west-1)`);
  return undefined;
}
