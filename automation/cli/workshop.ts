/** What a command over attendees adds for the workshop: its foundation, and the sweep after destroys. */
import { FOUNDATIONS, foundationConfig, foundationStack } from "../lifecycle/foundation";
import { StackListing } from "../lifecycle/engine";
import { TargetEngine } from "../lifecycle/targets";
import { Command, RunSettings, RunnerDeps } from "../lifecycle/types";
import { COMMANDS, changesStacks } from "../lifecycle/commands";
import { LabSweeper } from "./sweeps";
import * as v from "./validate";

/**
 * Whether the stacks share a foundation: always, except a local lab without a cluster
 * (`--config kubeconfig=`), which is only its image.
 */
export function usesFoundation(o: Pick<v.RawOptions, "config">): boolean {
  return FOUNDATIONS && !(o.config ?? []).some((p) => /^(lab:)?kubeconfig=\s*$/.test(p));
}

/**
 * The workshop's foundation for up/run (sized for every attendee stack of the workshop, not only
 * this command's: a later `up --attendees carol` must not shrink what alice and bob run on) and for
 * destroy (removed once no attendee stack is left); none for verify.
 */
export function workshopFoundation(
  command: Command,
  prefix: string,
  names: string[],
  config: Record<string, string>,
  listing: StackListing[],
): RunSettings["foundation"] {
  if (!FOUNDATIONS || !changesStacks(command) || config["lab:kubeconfig"] === "") return undefined;
  const stack = foundationStack(prefix);
  if (!COMMANDS[command].creates) return { stack, config: {} };
  const existing = listing
    .filter((s) => s.name.startsWith(`${prefix}-`))
    .map((s) => s.name.slice(prefix.length + 1));
  const attendees = new Set([...existing, ...names]).size;
  return { stack, config: foundationConfig({ ...config, "lab:attendees": String(attendees) }) };
}

export function sweepFor(
  sweeper: LabSweeper | undefined,
  engine: TargetEngine,
  workshop: string,
): RunnerDeps["sweep"] {
  if (!sweeper) return undefined;
  return (lab) => sweeper(engine.targetOf(lab.stack), { ...lab, workshop });
}
