/**
 * Between the command line and the runner: up/verify/destroy/run's options validated into one typed
 * LabRequest, every problem at once (exit 2). reap and --leftovers build theirs from the stacks they
 * found, without going back through a command line.
 */
import { COMMANDS } from "../lifecycle/commands";
import { foundationStack } from "../lifecycle/foundation";
import { Command } from "../lifecycle/types";
import { CLI_DEFAULTS, CLI_MAX, DEFAULT_TRAFFIC_DEADLINE_MS } from "./defaults";
import { StackConfigPlan } from "./labconfig";
import { VerifySettings } from "./types";
import { usesFoundation } from "./workshop";
import * as v from "./validate";

/** What the engines need of the line: where the state is, and whether to check AWS credentials. */
export type EngineAccess = Pick<v.RawOptions, "backend" | "awsCheck">;

/** Where the reports go (--report, --junit). */
export type ReportFiles = Pick<v.RawOptions, "report" | "junit">;

export interface LabRequest {
  command: Command;
  attendees: string[];
  prefix: string;
  concurrency: number;
  destroyTries: number;
  verify: VerifySettings;
  keep: boolean;
  preview: boolean;
  preflight: boolean;
  /** The stacks' config, secrets and target as the line gives them. */
  plan: StackConfigPlan;
  /** The line names the target (--target or lab:target): verify/destroy route every stack to it. */
  targetNamed: boolean;
  access: EngineAccess;
  reports: ReportFiles;
}

/** The line's stack config: --config, --secret, --secret-env, --target. */
type ConfigSource = Pick<v.RawOptions, "config" | "secret" | "secretEnv" | "target">;

export type Parsed = { request: LabRequest; problems: [] } | { request?: undefined; problems: string[] };

function build(
  command: Command,
  o: v.RawOptions,
  source: ConfigSource,
  attendees: string[],
  env: NodeJS.ProcessEnv,
  problems: v.Problems,
): Parsed {
  const concurrency = v.positiveInt(
    "--concurrency",
    o.concurrency,
    CLI_DEFAULTS.concurrency,
    problems,
    CLI_MAX.concurrency,
  );
  const requests = v.positiveInt("--requests", o.requests, CLI_DEFAULTS.requests, problems);
  const destroyTries = v.positiveInt(
    "--destroy-tries",
    o.destroyTries,
    CLI_DEFAULTS.destroyTries,
    problems,
    CLI_MAX.destroyTries,
  );
  const trafficDeadlineMs = v.duration(
    "--traffic-deadline",
    o.trafficDeadline,
    DEFAULT_TRAFFIC_DEADLINE_MS,
    problems,
  );
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  // verify/destroy act on stacks as they are: their config is the stacks' own, not checked again here.
  const foundation = usesFoundation(source) ? foundationStack(prefix) : undefined;
  const plan = v.stackConfig(source, attendees, env, problems, COMMANDS[command].creates, foundation);
  if (problems.list.length > 0) return { problems: problems.list };
  return {
    problems: [],
    request: {
      command,
      attendees,
      prefix,
      concurrency,
      destroyTries,
      verify: { requests, trafficDeadlineMs, variants: o.variants },
      keep: !!o.keep,
      preview: o.preview !== false,
      preflight: o.preflight !== false,
      plan,
      targetNamed: source.target !== undefined || plan.config["lab:target"] !== undefined,
      access: { backend: o.backend, awsCheck: o.awsCheck },
      reports: { report: o.report, junit: o.junit },
    },
  };
}

/** up, verify, destroy, run as typed on the command line. */
export function parseLabRequest(command: Command, o: v.RawOptions, env: NodeJS.ProcessEnv): Parsed {
  const problems = new v.Problems();
  const attendees = v.attendees(o, problems);
  return build(command, o, o, attendees, env, problems);
}

/**
 * The destroy of stacks found in the backend (reap, --leftovers): the attendees named directly (none:
 * the foundation alone), each stack with its own config, and of `target` only when one is given.
 */
export function destroyRequest(
  o: v.RawOptions,
  env: NodeJS.ProcessEnv,
  attendees: string[],
  target: string | undefined,
): Parsed {
  const problems = new v.Problems();
  const names = attendees.length > 0 ? v.attendees({ attendees }, problems) : [];
  return build("destroy", o, { secret: o.secret, secretEnv: o.secretEnv, target }, names, env, problems);
}
