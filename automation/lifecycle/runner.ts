/**
 * Runs one command over every attendee: in parallel up to the concurrency bound, one lab's failure
 * never stopping the others. A first SIGINT/SIGTERM cancels the updates gracefully; only the same
 * signal again exits at once (CI runners send SIGINT, then SIGTERM, then SIGKILL: the SIGTERM must
 * not cut the cancel short). Whatever ends the process, the stacks it may leave holding resources
 * are recorded in the backend first (ledger.ts), for `lab reap --leftovers`. Before any lab starts,
 * stale locks of dead CLIs are broken (locks.ts) and orphaned engine processes ended (orphans.ts).
 */
import pLimit from "p-limit";
import { LabEngine, StackListing } from "./engine";
import { clearUnfinished, record, recordingEngine, stillUnfinished } from "./ledger";
import { runLab } from "./lifecycle";
import { COMMANDS } from "./commands";
import { signalHandler } from "./signals";
import { FOUNDATION, foundationStack } from "./foundation";
import { LabPlan, LabResult, RunOutcome, RunSettings, RunnerDeps } from "./types";
import { errorDetail, errorMessage } from "../errors";

export function stackName(prefix: string, attendee: string): string {
  return `${prefix}-${attendee}`;
}

/** Stacks with this prefix that still hold resources (left by an earlier, crashed or kept, run). */
export async function findLeftovers(engine: LabEngine, prefix: string): Promise<StackListing[]> {
  const stacks = await engine.list();
  return stacks.filter(
    (s) =>
      (s.name.startsWith(`${prefix}-`) || s.name === foundationStack(prefix)) && (s.resourceCount ?? 0) > 0,
  );
}

/** Stale locks of this run's stacks, and orphaned engine processes: cleared before any lab starts. */
async function clearDeadRuns(s: RunSettings, d: RunnerDeps): Promise<Set<string>> {
  const unlocked = new Set<string>();
  for (const attendee of s.attendees) {
    const stack = stackName(s.prefix, attendee);
    try {
      for (const l of await d.engine.breakStaleLocks(stack)) {
        d.say(`${stack}: ${l.text}`);
        if (l.broken) unlocked.add(stack);
      }
    } catch (e) {
      d.say(`warning: ${stack}: could not check its locks: ${errorMessage(e)}`);
    }
  }
  try {
    const ended = await d.engine.endOrphans();
    if (ended.length > 0)
      d.say(
        `ended ${ended.length} orphaned engine process(es) of a dead run:\n${ended.map((l) => `  ${l}`).join("\n")}`,
      );
  } catch (e) {
    d.say(`warning: could not look for orphaned engine processes: ${errorMessage(e)}`);
  }
  return unlocked;
}

export async function runAll(s: RunSettings, d: RunnerDeps): Promise<RunOutcome> {
  const creating = COMMANDS[s.command].creates;
  const cancel = new AbortController();
  const holding = new Set<string>();
  const recorded = new Set<string>();
  // First of all: a signal during the listing or the plugin install below cancels, never kills.
  const unsubscribe = d.signals.on(signalHandler(s, d, cancel, holding, recorded));
  try {
    let leftovers: StackListing[] = [];
    try {
      leftovers = await findLeftovers(d.engine, s.prefix);
    } catch (e) {
      d.say(`warning: could not list existing stacks: ${errorMessage(e)}`);
    }
    const existed = new Set(leftovers.map((l) => l.name));
    if (creating && leftovers.length > 0) {
      const ours = new Set(s.attendees.map((a) => stackName(s.prefix, a)));
      const lines = leftovers.map(
        (l) =>
          `  ${l.name}: ${l.resourceCount} resources${l.updateInProgress ? ", update in progress (or a stale lock)" : ""}` +
          (ours.has(l.name) ? " (in this run: will be updated in place)" : ""),
      );
      d.say(
        `found ${leftovers.length} lab stack(s) from an earlier run still holding resources:\n${lines.join("\n")}\n` +
          `  destroy them with \`npm run lab -- destroy --attendees <names>\`, \`npm run lab -- reap --leftovers\` ` +
          "(those an interrupted run recorded) or `npm run lab -- reap --older-than 0s`",
      );
    }
    const unlocked = await clearDeadRuns(s, d);
    if (creating && !cancel.signal.aborted) {
      try {
        await d.engine.setup();
      } catch (e) {
        d.say(`warning: installing plugins up front failed (each update will try): ${errorMessage(e)}`);
      }
    }
    const st = { cancel, holding, recorded, existed, unlocked };
    const base = await foundationUp(s, d, st);
    const results = base && !base.passed ? notStarted(s, base) : await runLabs(s, d, st);
    const down = await foundationDown(s, d, st);
    const foundation = base && down ? mergeSteps(base, down) : (base ?? down);
    return { results, foundation, interrupted: cancel.signal.aborted, leftovers };
  } finally {
    unsubscribe();
  }
}

interface RunState {
  cancel: AbortController;
  holding: Set<string>;
  recorded: Set<string>;
  existed: Set<string>;
  unlocked: Set<string>;
}

function planOf(
  s: RunSettings,
  st: RunState,
  attendee: string,
  stack: string,
  config: Record<string, string>,
  command = s.command,
): LabPlan {
  return {
    command,
    attendee,
    stack,
    config,
    secrets: s.secrets,
    keep: s.keep,
    preview: s.preview,
    destroyTries: s.destroyTries,
    retryDelayMs: s.retryDelayMs,
    existed: st.existed.has(stack),
  };
}

function runLabs(s: RunSettings, d: RunnerDeps, st: RunState): Promise<LabResult[]> {
  const limit = pLimit(s.concurrency);
  return Promise.all(
    s.attendees.map((attendee) => {
      const stack = stackName(s.prefix, attendee);
      d.progress.phase(attendee, "queued");
      const config: Record<string, string> = {
        ...s.config,
        "lab:workshop": s.prefix,
        "lab:attendee": attendee,
      };
      if (s.foundation) config["lab:foundation"] = s.foundation.stack;
      return limit(() => runOne(planOf(s, st, attendee, stack, config), d, st));
    }),
  );
}

/** One lab's command with its log, its leftovers record and a guard against driver bugs. */
async function runOne(plan: LabPlan, d: RunnerDeps, st: RunState): Promise<LabResult> {
  const { cancel, holding, recorded } = st;
  const { stack, attendee } = plan;
  const intent = {
    command: plan.command,
    keep: plan.keep,
    existed: plan.existed === true,
    interrupted: false,
  };
  const log = d.openLog(stack);
  let result: LabResult;
  try {
    const engine = recordingEngine(
      d.engine,
      intent,
      record(plan.command, d.now()),
      recorded,
      st.unlocked,
      log,
    );
    result = await runLab(plan, {
      engine,
      verify: d.verify,
      progress: d.progress,
      log,
      cancel: cancel.signal,
      now: d.now,
      sleep: d.sleep,
      sweep: d.sweep,
      holding: (name, holds) => (holds ? holding.add(name) : holding.delete(name)),
    });
  } catch (e) {
    // A bug in the driver must not stop the other labs.
    const error = `driver error: ${errorDetail(e)}`;
    log.write(`\n!!! ${error}\n`);
    d.progress.phase(attendee, "failed", error);
    result = {
      attendee,
      stack,
      logFile: log.path,
      passed: false,
      holdsResources: holding.has(stack),
      up: { status: "failed", durationMs: 0, error },
    };
  }
  try {
    // A destroy that did not pass leaves a stack behind (holding resources, or empty and not
    // removed): it stays recorded for `reap --leftovers`, the foundation's too.
    const unfinished =
      stillUnfinished(result, { ...intent, interrupted: cancel.signal.aborted }) ||
      result.destroy?.status === "failed" ||
      result.destroy?.status === "cancelled";
    // A passed destroy removed the stack, and its tags with it.
    if (result.destroy?.status === "passed") recorded.delete(stack);
    else if (!unfinished && (recorded.has(stack) || result.up?.status === "passed")) {
      const failed = await clearUnfinished(d.engine, stack);
      if (failed === undefined) recorded.delete(stack);
      else if (recorded.has(stack)) log.write(`\n!!! could not clear the unfinished record: ${failed}\n`);
    }
    return result;
  } finally {
    await log.close();
  }
}

/**
 * The workshop's foundation (#10): up once before any attendee (their stacks read its outputs), and
 * destroyed only once no attendee stack of the workshop is left. Its failure stops the attendees
 * (they cannot come up without it) but never the other way round.
 */
async function foundationUp(s: RunSettings, d: RunnerDeps, st: RunState): Promise<LabResult | undefined> {
  const f = s.foundation;
  if (!f || !COMMANDS[s.command].creates) return undefined;
  d.progress.phase(FOUNDATION, "queued");
  const plan = planOf(s, st, FOUNDATION, f.stack, { ...f.config, "lab:workshop": s.prefix }, "up");
  // A run takes its foundation down after its labs (foundationDown), not inside this up.
  return runOne({ ...plan, keep: s.keep || COMMANDS[s.command].destroys }, d, st);
}

async function foundationDown(s: RunSettings, d: RunnerDeps, st: RunState): Promise<LabResult | undefined> {
  const f = s.foundation;
  if (!f) return undefined;
  const aborted = st.cancel.signal.aborted;
  // A cancel takes down a foundation this command created (as any stack it created), never one
  // that existed before it.
  const spec = COMMANDS[s.command];
  const cancelledNew = aborted && !s.keep && spec.cancel === "destroy-created" && !st.existed.has(f.stack);
  const meant = !aborted && spec.destroys && !(spec.creates && s.keep);
  if (!cancelledNew && !meant) return undefined;
  const stacks = await d.engine.list();
  // (A cancelled first up may leave a stack that lists no resources yet: it is destroyed all the same.)
  if (!cancelledNew && !stacks.some((x) => x.name === f.stack)) return undefined;
  // An attendee stack with no resources (never updated, or destroyed and not removed) uses nothing.
  const left = stacks
    .filter((x) => x.name.startsWith(`${s.prefix}-`) && (x.resourceCount ?? 0) > 0)
    .map((x) => x.name);
  if (left.length > 0) {
    d.say(`${f.stack}: kept, the workshop's labs still use it: ${left.join(", ")}`);
    return undefined;
  }
  // After a cancel the destroy still runs: a lab's step would be skipped as cancelled.
  const run = aborted ? { ...st, cancel: new AbortController() } : st;
  return runOne(planOf(s, st, FOUNDATION, f.stack, {}, "destroy"), d, run);
}

/** The foundation's up (before the labs) and destroy (after them) of one `run`, as one row. */
function mergeSteps(up: LabResult, down: LabResult): LabResult {
  return {
    ...up,
    destroy: down.destroy,
    passed: up.passed && down.passed,
    holdsResources: down.holdsResources,
  };
}

/** Attendee results for labs never started because the foundation did not come up. */
function notStarted(s: RunSettings, f: LabResult): LabResult[] {
  const why = `the workshop foundation ${f.stack} did not come up`;
  return s.attendees.map((attendee) => ({
    attendee,
    stack: stackName(s.prefix, attendee),
    logFile: f.logFile,
    passed: false,
    holdsResources: false,
    up: { status: "skipped", durationMs: 0, note: why },
  }));
}
