/**
 * The engines a command talks to. Each target has its own (#9 point 3): a local lab runs the
 * toolchain `npm run setup:local` built (its `pulumi`, PULUMI_HOME, plugin acquisition off), an AWS
 * lab the user's own Pulumi CLI and plugins. Commands on existing stacks read each stack's recorded
 * target first (lifecycle/targets.ts) and route each stack to its target's engine.
 */
import { Target } from "../../infra/config";
import { AWS_CREDENTIALS_HELP, awsCredentialSource } from "../aws/credentials";
import { EngineUnavailableError, LabEngine } from "../lifecycle/engine";
import { repairHalfWritten } from "../lifecycle/halfWritten";
import { resolveState } from "../lifecycle/state";
import { TargetEngine, recordedTargets } from "../lifecycle/targets";
import { COMMANDS, isLabCommand } from "../lifecycle/commands";
import { Toolchain, toolchainFile } from "../local/toolchain";
import type { CliDeps } from "./types";
import { EXIT } from "./exit";
import type { EngineAccess } from "./request";

/**
 * The message for a missing Pulumi CLI. The local target gets its CLI from `npm run setup:local`
 * (built into the cache, named by env.json); the aws target from Pulumi's installer.
 */
export function missingCliMessage(
  base: string,
  target: string | undefined,
  toolchain: Toolchain | undefined,
  env: NodeJS.ProcessEnv,
): string {
  const file = toolchain?.file ?? toolchainFile(env);
  if (target === "local") {
    return toolchain?.loaded
      ? `the Pulumi CLI was not found on PATH, even with the local toolchain's PATH from ${file}: ` +
          "run `npm run setup:local` again, then run the command again."
      : `the Pulumi CLI was not found on PATH and the local toolchain is not set up (no ${file}): ` +
          "run `npm run setup:local`, then run the command again.";
  }
  if (target === undefined && !toolchain?.loaded)
    return `${base} For the local target, run \`npm run setup:local\` instead.`;
  return base;
}

/** What repairHalfWritten said, said once per process (a command may open several engines). */
const reported = new Set<string>();

/**
 * One target's engine after the cheap local checks: AWS credentials (aws only) and the Pulumi CLI.
 * `target` undefined: a reader for stacks of any target (list, or reading the targets first): the
 * toolchain's CLI when there is one (it is sure to exist), else the user's.
 */
export async function targetEngine(
  d: CliDeps,
  command: string,
  o: EngineAccess,
  target: Target | undefined,
  config: Record<string, string> = {},
): Promise<LabEngine | number> {
  if (target === "aws" && o.awsCheck !== false && !awsCredentialSource(d.env, config)) {
    d.err(`lab ${command}: ${AWS_CREDENTIALS_HELP}`);
    return EXIT.usage;
  }
  const state = resolveState(d.projectDir, o.backend, d.env);
  state.target = target;
  // Before any listing: one sidecar left empty by a killed CLI makes every `stack ls` fail.
  for (const h of repairHalfWritten(state.backendUrl)) {
    if (reported.has(h.text)) continue;
    reported.add(h.text);
    d.err(`lab ${command}: ${h.text}`);
  }
  if (target === "local" || (target === undefined && d.toolchain?.loaded)) {
    // The toolchain's PATH and variables reach the CLI explicitly (the driver's own settings win).
    state.envVars = { ...d.toolchain?.envVars, ...state.envVars };
    state.pulumiRoot = d.toolchain?.pulumiRoot;
  }
  const region = config["aws:region"];
  if (target === "aws" && isLabCommand(command) && COMMANDS[command].creates && d.registryLogin && region) {
    try {
      Object.assign(state.envVars, (await d.registryLogin(region)).envVars);
    } catch (e) {
      d.err(`lab ${command}: no ECR token (${(e as Error).message}); the push uses Docker's own credentials`);
    }
  }
  const engine = d.engineFactory(state);
  try {
    await engine.check();
  } catch (e) {
    if (!(e instanceof EngineUnavailableError)) throw e;
    const text =
      e.reason === "missing-cli" ? missingCliMessage(e.message, target, d.toolchain, d.env) : e.message;
    d.err(`lab ${command}: ${text}`);
    return EXIT.usage;
  }
  return engine;
}

/** The routed engine of `up`/`run`: every stack is of the command's target. */
export async function creatingEngine(
  d: CliDeps,
  command: string,
  o: EngineAccess,
  stacks: string[],
  target: Target,
  config: Record<string, string>,
): Promise<{ engine: TargetEngine; problems: string[] } | number> {
  const e = await targetEngine(d, command, o, target, config);
  if (typeof e === "number") return e;
  const recorded = await recordedTargets(e, d.projectDir, stacks);
  // An aws lab updated with the local program (or the reverse) would lose every resource it has.
  const problems = [...recorded]
    .filter(([, r]) => r.target !== undefined && r.target !== target)
    .map(
      ([stack, r]) =>
        `stack ${stack} is a ${r.target} lab (its ${r.source} says so), not ${target}: ` +
        `use --target ${r.target}, or destroy it first`,
    );
  const targets = new Map(stacks.map((s): [string, Target] => [s, target]));
  return { engine: new TargetEngine({ [target]: e }, targets, target, d.now), problems };
}

/**
 * The routed engine of a command on existing stacks (verify, destroy, reap): each stack's own
 * recorded target; a stack with none recorded is of `given` (`--target`), else of the other stacks'
 * recorded target, else the default. A given
 * target that contradicts a stack's record is a problem, not a silent override.
 */
export async function existingEngine(
  d: CliDeps,
  command: string,
  o: EngineAccess,
  stacks: string[],
  given: Target | undefined,
  fallback: Target,
): Promise<{ engine: TargetEngine; problems: string[] } | number> {
  const reader = await targetEngine(d, command, o, given);
  if (typeof reader === "number") return reader;
  const recorded = await recordedTargets(reader, d.projectDir, stacks);
  const problems: string[] = [];
  const targets = new Map<string, Target>();
  // A stack with nothing recorded (a foundation never made, say) follows the workshop's others; one
  // that does not exist at all needs no engine of its own (nothing to do), so no credentials.
  const known = [...recorded.values()].find((r) => r.target !== undefined)?.target;
  const present = new Set((await reader.list()).map((s) => s.name));
  const absent: Target = d.toolchain?.loaded ? "local" : fallback;
  for (const stack of stacks) {
    const r = recorded.get(stack) ?? {};
    if (given !== undefined && r.target !== undefined && r.target !== given)
      problems.push(
        `--target ${given}: stack ${stack} is a ${r.target} lab (its ${r.source} says so); drop --target`,
      );
    targets.set(stack, r.target ?? given ?? known ?? (present.has(stack) ? fallback : absent));
  }
  if (problems.length > 0) return { engine: new TargetEngine({}, targets, fallback), problems };
  const needed = [...new Set(targets.values())];
  if (needed.length === 0) needed.push(fallback);
  const engines: Partial<Record<Target, LabEngine>> = {};
  for (const t of needed) {
    const e = await targetEngine(d, command, o, t);
    if (typeof e === "number") return e;
    engines[t] = e;
  }
  return { engine: new TargetEngine(engines, targets, needed[0] ?? fallback, d.now), problems };
}
