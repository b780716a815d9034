/**
 * Runs one command over every attendee: in parallel up to the concurrency bound, one lab's failure
 * never stopping the others. First SIGINT/SIGTERM: cancel updates, destroy, exit 1. Second: exit at
 * once, naming the stacks that still hold resources.
 */
import pLimit from "p-limit";
import { LabEngine, StackListing } from "./engine";
import { LabPlan, VerifyFn, runLab } from "./lifecycle";
import { Command, LabLog, LabResult, ProgressSink } from "./types";

export interface SignalSource {
  /** Calls `handler` on each SIGINT/SIGTERM; returns an unsubscribe function. */
  on(handler: (signal: string) => void): () => void;
}

export const processSignals: SignalSource = {
  on(handler) {
    const h = (sig: NodeJS.Signals): void => handler(sig);
    process.on("SIGINT", h);
    process.on("SIGTERM", h);
    return () => {
      process.off("SIGINT", h);
      process.off("SIGTERM", h);
    };
  },
};

export interface RunSettings {
  command: Command;
  attendees: string[];
  prefix: string;
  concurrency: number;
  /** Stack config shared by all (lab:attendee is added per stack). */
  config: Record<string, string>;
  keep: boolean;
  preview: boolean;
  destroyTries: number;
  retryDelayMs: number;
}

export interface RunnerDeps {
  engine: LabEngine;
  verify: VerifyFn;
  progress: ProgressSink;
  openLog: (stack: string) => LabLog;
  signals: SignalSource;
  /** Immediate exit (second signal). */
  exit: (code: number) => void;
  /** Messages for the person running it (stderr). */
  say: (text: string) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

export interface RunOutcome {
  results: LabResult[];
  interrupted: boolean;
  /** Lab stacks found holding resources before this run started. */
  leftovers: StackListing[];
}

export function stackName(prefix: string, attendee: string): string {
  return `${prefix}-${attendee}`;
}

/** Stacks with this prefix that still hold resources (left by an earlier, crashed or kept, run). */
export async function findLeftovers(engine: LabEngine, prefix: string): Promise<StackListing[]> {
  const stacks = await engine.list();
  return stacks.filter((s) => s.name.startsWith(`${prefix}-`) && (s.resourceCount ?? 0) > 0);
}

export async function runAll(s: RunSettings, d: RunnerDeps): Promise<RunOutcome> {
  const creating = s.command === "up" || s.command === "run";
  let leftovers: StackListing[] = [];
  try {
    leftovers = await findLeftovers(d.engine, s.prefix);
  } catch (e) {
    d.say(`warning: could not list existing stacks: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (creating && leftovers.length > 0) {
    const ours = new Set(s.attendees.map((a) => stackName(s.prefix, a)));
    const lines = leftovers.map(
      (l) =>
        `  ${l.name}: ${l.resourceCount} resources${l.updateInProgress ? ", update in progress (or a stale lock)" : ""}` +
        (ours.has(l.name) ? " (in this run: will be updated in place)" : ""),
    );
    d.say(
      `found ${leftovers.length} lab stack(s) from an earlier run still holding resources:\n${lines.join("\n")}\n` +
        `  destroy them with \`npm run lab -- destroy --attendees <names>\` or \`npm run lab -- reap --older-than 0s\``,
    );
  }
  if (creating) {
    try {
      await d.engine.setup();
    } catch (e) {
      d.say(
        `warning: installing plugins up front failed (each update will try): ${e instanceof Error ? e.message : e}`,
      );
    }
  }

  const cancel = new AbortController();
  const holding = new Set<string>();
  let signals = 0;
  const unsubscribe = d.signals.on((sig) => {
    signals++;
    if (signals === 1) {
      d.say(
        `\n${sig}: cancelling updates, then destroying what was created${s.keep ? " (--keep: not destroying)" : ""}. Press Ctrl+C again to exit at once.`,
      );
      cancel.abort();
      return;
    }
    const list = [...holding].sort();
    d.say(
      `\n${sig} again: exiting now. ` +
        (list.length > 0
          ? `These stacks may still hold resources: ${list.join(", ")}. Destroy them with \`npm run lab -- destroy --attendees ${list.map((n) => n.slice(s.prefix.length + 1)).join(",")}\`.`
          : "No stack holds resources."),
    );
    d.exit(1);
  });

  const limit = pLimit(s.concurrency);
  try {
    const results = await Promise.all(
      s.attendees.map((attendee) => {
        const stack = stackName(s.prefix, attendee);
        d.progress.phase(attendee, "queued");
        const plan: LabPlan = {
          command: s.command,
          attendee,
          stack,
          config: { ...s.config, "lab:workshop": s.prefix, "lab:attendee": attendee },
          keep: s.keep,
          preview: s.preview,
          destroyTries: s.destroyTries,
          retryDelayMs: s.retryDelayMs,
        };
        return limit(async () => {
          const log = d.openLog(stack);
          try {
            return await runLab(plan, {
              engine: d.engine,
              verify: d.verify,
              progress: d.progress,
              log,
              cancel: cancel.signal,
              now: d.now,
              sleep: d.sleep,
              holding: (name, holds) => (holds ? holding.add(name) : holding.delete(name)),
            });
          } catch (e) {
            // A bug in the driver must not stop the other labs.
            const error = `driver error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`;
            log.write(`\n!!! ${error}\n`);
            d.progress.phase(attendee, "failed", error);
            return {
              attendee,
              stack,
              logFile: log.path,
              passed: false,
              holdsResources: holding.has(stack),
              up: { status: "failed", durationMs: 0, error },
            } as LabResult;
          } finally {
            await log.close();
          }
        });
      }),
    );
    return { results, interrupted: cancel.signal.aborted, leftovers };
  } finally {
    unsubscribe();
  }
}
