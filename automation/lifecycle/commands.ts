/**
 * What each command over attendees does, in one place: read by the runner, the lab lifecycle, the
 * cancel rules, the leftovers record and the CLI, instead of comparing command names everywhere.
 */
import { Command } from "./types";

export interface CommandSpec {
  /** Creates or updates the stacks: their config is set and checked, their target is the command's. */
  creates: boolean;
  /** Runs the verify checks on each lab's outputs. */
  verifies: boolean;
  /** Destroys each lab (and the foundation after the last of them), --keep aside. */
  destroys: boolean;
  /**
   * What a cancel (first SIGINT/SIGTERM/SIGHUP) may do beyond stopping: "destroy-created" takes down
   * what this command created, never a lab that existed before it; "stop" only stops.
   */
  cancel: "destroy-created" | "stop";
  /** The summary shows a destroy that --keep or a cancel skipped (the command meant to destroy after up). */
  showsSkippedDestroy: boolean;
}

export const COMMANDS: Readonly<Record<Command, CommandSpec>> = {
  up: {
    creates: true,
    verifies: false,
    destroys: false,
    cancel: "destroy-created",
    showsSkippedDestroy: false,
  },
  verify: { creates: false, verifies: true, destroys: false, cancel: "stop", showsSkippedDestroy: false },
  destroy: { creates: false, verifies: false, destroys: true, cancel: "stop", showsSkippedDestroy: false },
  run: {
    creates: true,
    verifies: true,
    destroys: true,
    cancel: "destroy-created",
    showsSkippedDestroy: true,
  },
};

/** Whether the command changes stacks at all (verify only reads them). */
export function changesStacks(command: Command): boolean {
  return COMMANDS[command].creates || COMMANDS[command].destroys;
}

/** Whether the labs a command leaves behind outlive it on purpose (`up`, `run --keep`). */
export function leavesLabs(command: Command, keep: boolean): boolean {
  const c = COMMANDS[command];
  return c.creates && (!c.destroys || keep);
}

/** Whether a CLI command name (list and reap included) is one of the commands over attendees. */
export function isLabCommand(name: string): name is Command {
  return Object.hasOwn(COMMANDS, name);
}
