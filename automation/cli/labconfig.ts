/**
 * `--config key=value`, `--secret key=value` (both repeatable) and `--target`: parsed into stack
 * config, then validated for every attendee through infra/config.ts's `parseLabConfig` before any
 * engine call, so a bad value fails the whole run up front with every problem listed. A secret's
 * value never appears in a problem: only its key, or its position on the command line.
 */
import {
  DEFAULTS,
  DRIVER_KUBECONFIG,
  RawLabConfig,
  TARGETS,
  Target,
  parseLabConfig,
  readKubeconfig,
} from "../../infra/config";
import { attendeeProblems, ConfigError } from "../../infra/configRules";

/** Keys the driver sets itself: `lab:attendee` per stack, `lab:workshop` from --stack-prefix. */
const LAB_KEYS = Object.keys(DEFAULTS).filter((k) => k !== "workshop");

/** Config keys that hold credentials: never plain config (they would sit in Pulumi.<stack>.yaml). */
export const CREDENTIAL_KEYS = ["aws:accessKey", "aws:secretKey", "aws:token"];

const CREDENTIAL_HINT =
  "or through the environment (AWS_PROFILE, or AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY [+ AWS_SESSION_TOKEN])";

export interface ConfigInput {
  /** Raw `--config` values, in order (later wins). */
  pairs: string[];
  /** Raw `--secret` values, in order (later wins). */
  secretPairs?: string[];
  /** Raw `--secret-env key=VAR` values: the value is the variable's, never on a command line. */
  secretEnvPairs?: string[];
  target?: string;
}

export interface StackConfigPlan {
  /** Full Pulumi keys (`lab:replicas`, `aws:region`) → values, set on every stack (plus lab:attendee). */
  config: Record<string, string>;
  /** Full keys → values set as secrets (encrypted) on every stack; never printed or reported. */
  secrets: Record<string, string>;
  target: Target;
  problems: string[];
}

/** `replicas` → `lab:replicas`; a problem (naming `flag`) when it is no config key. */
function fullKey(flag: string, rawKey: string): { key?: string; problem?: string } {
  const key = rawKey.includes(":") ? rawKey : `lab:${rawKey}`;
  const [ns, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
  if (ns === "" || name === "" || /\s/.test(key)) {
    return { problem: `${flag} key "${rawKey}" is not a config key (namespace:name, e.g. aws:region)` };
  }
  if (ns === "lab" && name === "attendee") {
    return { problem: `${flag} lab:attendee is set per stack by the driver: pass names with --attendees` };
  }
  if (ns === "lab" && name === "workshop") {
    return { problem: `${flag} lab:workshop is the stack prefix: pass it with --stack-prefix` };
  }
  if (ns === "lab" && (name === "foundation" || name === "role")) {
    return {
      problem: `${flag} lab:${name} is set per stack by the driver (the workshop's foundation is <stack-prefix>-foundation): drop it`,
    };
  }
  if (ns === "lab" && !LAB_KEYS.includes(name)) {
    return { problem: `${flag} ${key} is not a lab setting; known: ${LAB_KEYS.join(", ")}` };
  }
  return { key };
}

/** `replicas=3` → `lab:replicas`; namespaced keys (`aws:region`) pass through. */
export function parseConfigPairs(pairs: string[]): { config: Record<string, string>; problems: string[] } {
  const config: Record<string, string> = {};
  const problems: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      problems.push(
        `--config "${pair}" is not key=value (e.g. --config replicas=6 or --config aws:region=eu-west-1)`,
      );
      continue;
    }
    const { key, problem } = fullKey("--config", pair.slice(0, eq).trim());
    if (problem !== undefined || key === undefined) problems.push(problem as string);
    else if (CREDENTIAL_KEYS.includes(key))
      problems.push(`--config ${key} is a credential: pass it with --secret ${key}=… ${CREDENTIAL_HINT}`);
    else config[key] = pair.slice(eq + 1);
  }
  return { config, problems };
}

/**
 * `--secret demo:token=…` → `{ "demo:token": … }`. Same key rules as --config, but `lab:` settings
 * are refused: the program reads them in plain, so a secret one would end up in plaintext state.
 */
export function parseSecretPairs(pairs: string[]): { secrets: Record<string, string>; problems: string[] } {
  const secrets: Record<string, string> = {};
  const problems: string[] = [];
  pairs.forEach((pair, i) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      // Not echoed: without an "=" the whole text may be the value.
      problems.push(`--secret #${i + 1} is not key=value (e.g. --secret aws:secretKey=…); it is not shown`);
      return;
    }
    const { key, problem } = fullKey("--secret", pair.slice(0, eq).trim());
    if (problem !== undefined || key === undefined) problems.push(problem as string);
    else if (key.startsWith("lab:"))
      problems.push(
        `--secret ${key}: lab settings are not secret (the program reads them in plain); pass it with --config`,
      );
    else secrets[key] = pair.slice(eq + 1);
  });
  return { secrets, problems };
}

/**
 * `--secret-env aws:secretKey=LAB_AWS_SECRET` → the variable's value, as --secret would set it; the
 * value never reaches any command line (npm echoes `npm run lab -- …`'s arguments).
 */
export function parseSecretEnvPairs(
  pairs: string[],
  env: NodeJS.ProcessEnv,
): { secrets: Record<string, string>; problems: string[] } {
  const problems: string[] = [];
  const translated: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    const name = pair.slice(eq + 1).trim();
    if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(
        `--secret-env "${pair}" is not key=VARIABLE (e.g. --secret-env aws:secretKey=MY_SECRET_KEY)`,
      );
      continue;
    }
    const value = env[name];
    if (value === undefined || value === "") {
      problems.push(`--secret-env ${pair}: the environment has no ${name} (export it first)`);
      continue;
    }
    translated.push(`${pair.slice(0, eq)}=${value}`);
  }
  const parsed = parseSecretPairs(translated);
  // Its problems name keys only (never values), with --secret's wording.
  problems.push(...parsed.problems.map((p) => p.replace(/^--secret /, "--secret-env ")));
  return { secrets: parsed.secrets, problems };
}

/**
 * Plain config keys that the existing stacks hold as secrets (`secretKeys` of each): setting them
 * with --config would replace the encrypted value by plaintext.
 */
export async function heldSecretProblems(
  stacks: string[],
  config: Record<string, string>,
  secretKeys: (stack: string) => Promise<string[]>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const stack of stacks) {
    for (const key of (await secretKeys(stack)).filter((k) => config[k] !== undefined)) {
      problems.push(
        `--config ${key}: stack ${stack} holds it as a secret; pass it with --secret ${key}=…` +
          (CREDENTIAL_KEYS.includes(key) ? ` ${CREDENTIAL_HINT}` : ""),
      );
    }
  }
  return problems;
}

/**
 * The attendee's config as the driver sets it: its foundation named and, on the local target, the
 * cluster's kubeconfig that `lab` adds once the cluster runs (unless the line gave one).
 */
function asAttendeeOf(raw: RawLabConfig, foundation: string | undefined, target: Target): RawLabConfig {
  if (!foundation) return raw;
  const r: Record<string, string> = { ...(raw as Record<string, string>), foundation };
  if (target === "local" && r.kubeconfig === undefined) r.kubeconfig = DRIVER_KUBECONFIG;
  return r as RawLabConfig;
}

/** The raw `lab:*` view parseLabConfig takes, for one attendee. */
export function rawLabConfig(attendee: string, config: Record<string, string>): RawLabConfig {
  const raw: Record<string, string> = { attendee };
  for (const [k, v] of Object.entries(config)) if (k.startsWith("lab:")) raw[k.slice(4)] = v;
  if (config["aws:region"] !== undefined) raw.region = config["aws:region"];
  return raw as RawLabConfig;
}

/**
 * Builds the stack config and checks it for each attendee. `aws:region` falls back to
 * AWS_REGION / AWS_DEFAULT_REGION (and is then set on the stack, so the program sees it).
 */
export function planStackConfig(
  input: ConfigInput,
  attendees: string[],
  env: NodeJS.ProcessEnv,
  validate = true,
  /** The workshop foundation the stacks will use (checked as the driver will set it). */
  foundation?: string,
): StackConfigPlan {
  const { config, problems } = parseConfigPairs(input.pairs);
  const { secrets, problems: secretProblems } = parseSecretPairs(input.secretPairs ?? []);
  problems.push(...secretProblems);
  const fromEnv = parseSecretEnvPairs(input.secretEnvPairs ?? [], env);
  problems.push(...fromEnv.problems);
  Object.assign(secrets, fromEnv.secrets);
  for (const key of Object.keys(secrets).filter((k) => config[k] !== undefined)) {
    delete config[key];
    problems.push(
      `--config ${key} is marked secret by --secret ${key}=… in this command: drop the --config one`,
    );
  }
  if (input.target !== undefined) {
    if (config["lab:target"] !== undefined && config["lab:target"] !== input.target) {
      problems.push(`--target ${input.target} contradicts --config lab:target=${config["lab:target"]}`);
    }
    config["lab:target"] = input.target;
  }
  const region = config["aws:region"] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const target = (config["lab:target"] ?? DEFAULTS.target) as Target;
  if (region !== undefined && region !== "" && target === "aws") config["aws:region"] = region;
  if (!validate) {
    if (!TARGETS.includes(target))
      problems.push(`lab:target "${target}" is not one of ${TARGETS.join(", ")}`);
    return { config, secrets, target, problems };
  }
  const kubeconfig = config["lab:kubeconfig"]?.trim();
  if (kubeconfig) {
    try {
      readKubeconfig(kubeconfig);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(...e.problems);
    }
  }
  const seen = new Set(problems);
  for (const attendee of attendees.length > 0 ? attendees : ["placeholder"]) {
    // The attendee list check reports name problems; here the config's own. (Only those exact
    // lines are skipped: lab:attendees and lab:attendeePrincipal share the name's prefix.)
    const nameProblems = new Set(attendeeProblems(attendee));
    try {
      parseLabConfig(asAttendeeOf(rawLabConfig(attendee, config), foundation, target));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const p of e.problems) {
        if (nameProblems.has(p)) continue;
        if (!seen.has(p)) {
          seen.add(p);
          problems.push(
            p.startsWith("aws:region is required") ? `${p} (or --config aws:region=…, or AWS_REGION)` : p,
          );
        }
      }
    }
  }
  return { config, secrets, target, problems };
}
