/**
 * The leftovers record: which stacks a `lab` command left holding resources it meant to remove,
 * kept **in the state backend** so that it survives whatever ends the process (a second Ctrl+C,
 * a CI runner's SIGKILL, a lost runner) and so that a later `lab reap --leftovers` on another
 * machine finds exactly those stacks.
 *
 * Why a stack tag (`multiarch-lab:unfinished`): it lives with the stack in every backend the driver
 * supports (Pulumi Cloud natively; the DIY backends file/s3/gs/azblob store `<stack>.pulumi-tags`
 * since Pulumi 3.211, pulumi/pulumi#19882 — checked with the 3.274.1 CLI here), needs no lock (so it can be written while
 * an update holds one, and read on a stack a dead process left locked), is deleted with the stack,
 * and an update keeps user tags (it only adds the `pulumi:` ones). A separate record stack would
 * need its own lock and would outlive the stacks it names.
 *
 * When (runner.ts): set before the first resource-changing step of a command on a stack, awaited —
 * `up` of a stack that held no resources before, and every `destroy`; removed when the command
 * ends with the stack as it meant to leave it (see `stillUnfinished`); a destroyed and removed
 * stack takes its tag with it.
 */
import * as os from "node:os";
import pLimit from "p-limit";
import { LabEngine, OpHooks } from "./engine";
import { ForwardingEngine } from "./forwarding";
import { foundationStack } from "./foundation";
import { Command, LabLog, LabResult } from "./types";
import { COMMANDS, changesStacks } from "./commands";
import { errorMessage } from "../errors";

export const UNFINISHED_TAG = "multiarch-lab:unfinished";

export interface Unfinished {
  stack: string;
  /** What the tag says: command, since when, which process. */
  record: string;
  resourceCount?: number;
}

/** The tag's value: enough for a person to tell which run left it. */
export function record(command: Command, now: number, pid = process.pid, host = os.hostname()): string {
  return `${command} since ${new Date(now).toISOString()} by pid ${pid} on ${host}`;
}

export async function markUnfinished(engine: LabEngine, stack: string, value: string): Promise<void> {
  await engine.setTag(stack, UNFINISHED_TAG, value);
}

/** Best effort: a tag that cannot be removed leaves a stack that `reap --leftovers` destroys. */
export async function clearUnfinished(engine: LabEngine, stack: string): Promise<string | undefined> {
  try {
    await engine.removeTag(stack, UNFINISHED_TAG);
    return undefined;
  } catch (e) {
    return errorMessage(e);
  }
}

/** The stacks named `<prefix>-…` that carry the record. */
export async function findUnfinished(
  engine: LabEngine,
  prefix: string,
  concurrency = 4,
): Promise<Unfinished[]> {
  const stacks = (await engine.list()).filter(
    (s) => s.name.startsWith(`${prefix}-`) || s.name === foundationStack(prefix),
  );
  const limit = pLimit(concurrency);
  const found = await Promise.all(
    stacks.map((s) =>
      limit(async (): Promise<Unfinished | undefined> => {
        const value = (await engine.tags(s.name))[UNFINISHED_TAG];
        return value === undefined
          ? undefined
          : { stack: s.name, record: value, resourceCount: s.resourceCount };
      }),
    ),
  );
  return found.filter((u): u is Unfinished => u !== undefined).sort((a, b) => a.stack.localeCompare(b.stack));
}

export interface LabIntent {
  command: Command;
  keep: boolean;
  /** The stack held resources before this command. */
  existed: boolean;
  interrupted: boolean;
}

/**
 * After a lab's command ended normally: does the stack still hold resources this command meant to
 * remove (or a half-made new lab)? `up` and `--keep` mean to leave a lab, so only a failed `up` of a
 * new stack stays recorded; `run` and `destroy` mean to leave none, except that a cancelled `run`
 * leaves a lab that existed before as it was.
 */
export function stillUnfinished(r: LabResult, i: LabIntent): boolean {
  const spec = COMMANDS[i.command];
  if (!r.holdsResources || !changesStacks(i.command)) return false;
  if (!spec.creates) return true;
  if (i.keep) return false;
  if (!spec.destroys) return !i.existed && r.up?.status !== "passed";
  return !(i.existed && i.interrupted);
}

/** Whether a step is about to change resources that no recorded intent covers yet. */
export function marksBefore(op: "up" | "destroy", i: Pick<LabIntent, "existed">): boolean {
  return op === "destroy" || !i.existed;
}

/**
 * The engine one lab sees: the leftovers record is written (awaited) before a step that may leave
 * resources behind, and a stack whose dead owner's lock was broken is refreshed before its destroy.
 */
export function recordingEngine(
  e: LabEngine,
  i: LabIntent,
  value: string,
  recorded: Set<string>,
  unlocked: Set<string>,
  log: LabLog,
): LabEngine {
  return new RecordingEngine(e, i, value, recorded, unlocked, log);
}

class RecordingEngine extends ForwardingEngine {
  constructor(
    private readonly e: LabEngine,
    private readonly i: LabIntent,
    private readonly value: string,
    private readonly recorded: Set<string>,
    private readonly unlocked: Set<string>,
    private readonly log: LabLog,
  ) {
    super();
  }

  protected inner(): LabEngine {
    return this.e;
  }

  private async before(stack: string, op: "up" | "destroy"): Promise<void> {
    if (this.recorded.has(stack) || !marksBefore(op, this.i)) return;
    try {
      await markUnfinished(this.e, stack, this.value);
      this.recorded.add(stack);
    } catch (err) {
      const why = errorMessage(err);
      // Destroying still helps; an update the record does not cover could leak resources unseen.
      if (op === "destroy") this.log.write(`\n!!! could not record the stack as unfinished: ${why}\n`);
      else
        throw new Error(
          `could not record the stack as unfinished in the backend before the update (${why}); ` +
            "stack tags need Pulumi CLI 3.211 or newer on self-managed backends",
        );
    }
  }

  override async up(stack: string, hooks: OpHooks): Promise<Record<string, unknown>> {
    await this.before(stack, "up");
    return this.e.up(stack, hooks);
  }

  override async destroy(stack: string, hooks: OpHooks): Promise<void> {
    await this.before(stack, "destroy");
    if (this.unlocked.delete(stack)) {
      this.log.write("\n=== refresh: the stack's last update died with its lock held\n");
      await this.e
        .refresh(stack, hooks)
        .catch((err: unknown) => this.log.write(`\n!!! refresh failed: ${String(err)}\n`));
    }
    return this.e.destroy(stack, hooks);
  }
}
