/**
 * The rules that config values share: the error that lists every problem, names (attendee,
 * workshop, region) and the small parsers the key groups use (infra/config.ts, appConfig.ts).
 */
import { Arch, archOfInstanceTypes } from "./arch";

/**
 * Longest attendee name accepted. The default workshop's names are `lab-<attendee>-<suffix>`; the
 * tightest AWS limit is an IAM role name prefix (38 chars, as Pulumi appends a random suffix), and
 * "lab-" + 20 + "-node-" = 30 fits it. Longer workshops' names are cut to fit (infra/names.ts).
 */
export const ATTENDEE_MAX_LENGTH = 20;
/** Longest workshop accepted: the driver's stack prefix rule (1–30 characters). */
export const WORKSHOP_MAX_LENGTH = 30;
const WORKSHOP = new RegExp(`^[a-z0-9]([-a-z0-9]{0,${WORKSHOP_MAX_LENGTH - 2}}[a-z0-9])?$`);

// AWS region names: partition prefix, optional -gov/-iso…, a geography, a number (eu-west-1,
// us-gov-west-1, cn-north-1, ap-southeast-7). Anything else would fail later as a credentials error.
const AWS_REGION =
  /^(us|eu|ap|sa|ca|me|af|il|mx|cn)(-(gov|iso|isob))?-(north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;

/** Whether `value` is spelled as an AWS region name (eu-west-1, us-gov-west-1, cn-north-1). */
export function isAwsRegion(value: string): boolean {
  return AWS_REGION.test(value);
}

// DNS-1123 label: the attendee becomes part of Kubernetes and AWS names.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Every problem found in a config, reported together. */
export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`invalid lab configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

/** Problems with an attendee name (empty when valid). */
export function attendeeProblems(name: string | undefined): string[] {
  if (name === undefined || name.trim() === "") {
    return ["lab:attendee is required: set it with `pulumi config set lab:attendee <name>` (e.g. alice)"];
  }
  const problems: string[] = [];
  if (!DNS1123_LABEL.test(name)) {
    problems.push(
      `lab:attendee "${name}" is not a DNS-1123 label: use lowercase letters, digits and '-', ` +
        `starting and ending with a letter or digit (e.g. alice-01)`,
    );
  }
  if (name.length > ATTENDEE_MAX_LENGTH) {
    problems.push(
      `lab:attendee "${name}" is ${name.length} characters; at most ${ATTENDEE_MAX_LENGTH} keep every AWS name valid`,
    );
  }
  return problems;
}

/** Problems with a workshop name (empty when valid): the same rule as the driver's stack prefix. */
export function workshopProblems(workshop: string): string[] {
  if (WORKSHOP.test(workshop)) return [];
  return [
    `lab:workshop "${workshop}" must be 1-${WORKSHOP_MAX_LENGTH} lowercase letters, digits or '-', ` +
      `not starting or ending with '-' (e.g. lab or ci-1234; the lab driver sets it to --stack-prefix)`,
  ];
}

export function oneOf<T extends string>(
  key: string,
  value: string,
  allowed: readonly T[],
  problems: string[],
): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  problems.push(`lab:${key} "${value}" is not one of ${allowed.join(", ")}`);
  return allowed[0];
}

export function integer(key: string, value: string, min: number, problems: string[]): number {
  const n = Number(value);
  if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
    problems.push(`lab:${key} "${value}" is not a whole number`);
    return min;
  }
  if (n < min) problems.push(`lab:${key} is ${n}; it must be at least ${min}`);
  return n;
}

export function boolean(key: string, value: string, problems: string[]): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  problems.push(`lab:${key} "${value}" is not true or false`);
  return false;
}

export function list(value: string): string[] {
  return value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}

export function nodeGroupTypes(key: string, value: string, want: Arch, problems: string[]): string[] {
  const types = list(value);
  const arch = archOfInstanceTypes(types);
  if (arch instanceof Error) {
    problems.push(`lab:${key}: ${arch.message}`);
  } else if (arch !== want) {
    const kind = want === "arm64" ? "Graviton (arm64)" : "x86 (amd64)";
    problems.push(
      `lab:${key} "${value}" is ${arch}, but this node group is ${kind}: ` +
        (want === "arm64" ? "use a Graviton type such as m6g.large" : "use an x86 type such as m7i.large"),
    );
  }
  return types;
}
