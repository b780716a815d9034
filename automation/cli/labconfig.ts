/**
 * `--config key=value` (repeatable) and `--target`: parsed into stack config, then validated for
 * every attendee through infra/config.ts's `parseLabConfig` before any engine call, so a bad value
 * fails the whole run up front with every problem listed.
 */
import { ConfigError, DEFAULTS, LabConfig, RawLabConfig, Target, parseLabConfig } from "../../infra/config";

/** Keys the driver sets itself: `lab:attendee` per stack, `lab:workshop` from --stack-prefix. */
const LAB_KEYS = Object.keys(DEFAULTS).filter((k) => k !== "workshop");

export interface ConfigInput {
  /** Raw `--config` values, in order (later wins). */
  pairs: string[];
  target?: string;
}

export interface StackConfigPlan {
  /** Full Pulumi keys (`lab:replicas`, `aws:region`) → values, set on every stack (plus lab:attendee). */
  config: Record<string, string>;
  target: Target;
  problems: string[];
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
    const rawKey = pair.slice(0, eq).trim();
    const key = rawKey.includes(":") ? rawKey : `lab:${rawKey}`;
    const [ns, name] = [key.slice(0, key.indexOf(":")), key.slice(key.indexOf(":") + 1)];
    if (ns === "" || name === "" || /\s/.test(key)) {
      problems.push(`--config key "${rawKey}" is not a config key (namespace:name, e.g. aws:region)`);
      continue;
    }
    if (ns === "lab" && name === "attendee") {
      problems.push("--config lab:attendee is set per stack by the driver: pass names with --attendees");
      continue;
    }
    if (ns === "lab" && name === "workshop") {
      problems.push("--config lab:workshop is the stack prefix: pass it with --stack-prefix");
      continue;
    }
    if (ns === "lab" && !LAB_KEYS.includes(name)) {
      problems.push(`--config ${key} is not a lab setting; known: ${LAB_KEYS.join(", ")}`);
      continue;
    }
    config[key] = pair.slice(eq + 1);
  }
  return { config, problems };
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
): StackConfigPlan {
  const { config, problems } = parseConfigPairs(input.pairs);
  if (input.target !== undefined) {
    if (config["lab:target"] !== undefined && config["lab:target"] !== input.target) {
      problems.push(`--target ${input.target} contradicts --config lab:target=${config["lab:target"]}`);
    }
    config["lab:target"] = input.target;
  }
  const region = config["aws:region"] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  const target = (config["lab:target"] ?? DEFAULTS.target) as Target;
  if (region !== undefined && region !== "" && target === "aws") config["aws:region"] = region;
  const seen = new Set(problems);
  // Attendee-name problems are reported by the attendee list check; here the config's own.
  for (const attendee of attendees.length > 0 ? attendees : ["placeholder"]) {
    try {
      parseLabConfig(rawLabConfig(attendee, config));
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      for (const p of e.problems) {
        if (p.startsWith("lab:attendee")) continue;
        if (!seen.has(p)) {
          seen.add(p);
          problems.push(
            p.startsWith("aws:region is required") ? `${p} (or --config aws:region=…, or AWS_REGION)` : p,
          );
        }
      }
    }
  }
  return { config, target, problems };
}

export type { LabConfig };
