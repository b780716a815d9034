/**
 * One lab's life: prepare the stack → up → verify → destroy (retried, a refresh between tries)
 * → remove. For `run`, destroy happens whatever up or verify did, unless `--keep`; a cancel
 * (first SIGINT/SIGTERM) stops the update and still destroys.
 */
import { LabEngine, OpHooks, PendingOperation } from "./engine";
import { explain } from "./errors";
import { LabOutputs, parseOutputs } from "./outputs";
import { Command, LabLog, LabResult, Phase, ProgressSink, StepResult, VerifyStepResult } from "./types";
import { CheckResult } from "../verify/types";

/** Which lab is being verified (names its verify containers). */
export interface LabRef {
  attendee: string;
  stack: string;
}

export type VerifyFn = (
  outputs: LabOutputs,
  signal: AbortSignal,
  note: (text: string) => void,
  lab: LabRef,
) => Promise<CheckResult[]>;

export interface LabPlan {
  command: Command;
  attendee: string;
  stack: string;
  /** Stack config (full keys), `lab:attendee` included. */
  config: Record<string, string>;
  /** Secret stack config (full keys), set encrypted; never printed. */
  secrets?: Record<string, string>;
  keep: boolean;
  /** Run a preview first to know the step total (progress only). */
  preview: boolean;
  destroyTries: number;
  retryDelayMs: number;
  /** The stack held resources before this command: a cancel must never destroy it. */
  existed?: boolean;
}

/** What a cancelled update of a lab that existed before says (summary, report, JUnit). */
export const LEFT_AS_IT_WAS = "update cancelled, lab left as it was";

export interface LabDeps {
  engine: LabEngine;
  verify: VerifyFn;
  progress: ProgressSink;
  log: LabLog;
  /** Aborted by the first SIGINT/SIGTERM. */
  cancel: AbortSignal;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** Told when the stack may start holding resources, and when it no longer does. */
  holding?: (stack: string, holds: boolean) => void;
  /**
   * After a destroy: finds what the live system still holds of the lab by its names and labels
   * (local: namespace, registry tags; aws: the tag sweep), removes it, and says what is left.
   */
  sweep?: (lab: LabRef) => Promise<SweepOutcome>;
}

export interface SweepOutcome {
  /** What was found (and removed), e.g. `namespace lab-alice`. */
  found: string[];
  /** What could not be removed. */
  left: string[];
}

class Lab {
  readonly result: LabResult;
  private total?: number;
  private done = 0;

  constructor(
    private readonly p: LabPlan,
    private readonly d: LabDeps,
  ) {
    this.result = {
      attendee: p.attendee,
      stack: p.stack,
      logFile: d.log.path,
      passed: false,
      holdsResources: false,
    };
  }

  phase(phase: Phase, detail?: string): void {
    this.d.log.write(
      `\n=== ${new Date(this.d.now()).toISOString()} ${phase}${detail ? `: ${detail}` : ""}\n`,
    );
    this.d.progress.phase(this.p.attendee, phase, detail);
  }

  hooks(signal?: AbortSignal, total?: number): OpHooks {
    this.done = 0;
    this.total = total;
    this.d.progress.resources(this.p.attendee, 0, total);
    return {
      signal,
      onOutput: (text) => this.d.log.write(text),
      onProgress: (e) => {
        if (e.kind === "step-done") this.d.progress.resources(this.p.attendee, ++this.done, this.total);
        if (e.kind === "summary" && this.total === undefined) {
          this.total = Object.values(e.changes).reduce((a, b) => a + b, 0);
          this.d.progress.resources(this.p.attendee, this.done, this.total);
        }
      },
    };
  }

  holds(v: boolean): void {
    this.result.holdsResources = v;
    this.d.holding?.(this.p.stack, v);
  }

  async step<T>(fn: () => Promise<T>): Promise<{ step: StepResult; value?: T }> {
    const start = this.d.now();
    try {
      const value = await fn();
      return { step: { status: "passed", durationMs: this.d.now() - start }, value };
    } catch (e) {
      const status = this.d.cancel.aborted ? "cancelled" : "failed";
      const error = explain(e, this.p.stack);
      this.d.log.write(`\n!!! ${status}: ${error}\n`);
      return { step: { status, durationMs: this.d.now() - start, error } };
    }
  }
}

/**
 * Pending operations are read before anything may clear them (a refresh, or a dead run's lock
 * broken: ledger.ts), so that none is dropped from the state unsaid: a pending create's resource
 * may exist with nothing in the state to destroy it.
 */
async function notePending(d: LabDeps, p: LabPlan, seen: Map<string, PendingOperation>): Promise<void> {
  try {
    for (const op of await d.engine.pendingOperations(p.stack))
      seen.set(`${op.op} ${op.type} ${op.name}`, op);
  } catch {
    // No state to read (a stack never updated): nothing pending.
  }
}

/** The sweep after a destroy, as the step's fields: found things are removed, left ones fail it. */
async function sweepAfter(lab: Lab, p: LabPlan, d: LabDeps): Promise<{ swept?: string[]; left?: string[] }> {
  if (!d.sweep) return {};
  lab.phase("sweep", "what the live system still holds of the lab");
  const s = await d.sweep({ attendee: p.attendee, stack: p.stack });
  for (const f of s.found) d.log.write(`\n--- swept: ${f}\n`);
  for (const l of s.left) d.log.write(`\n!!! still there: ${l}\n`);
  if (s.found.length > 0) d.progress.note(p.attendee, `swept ${s.found.length} left outside the state`);
  return { swept: s.found.length > 0 ? s.found : undefined, left: s.left.length > 0 ? s.left : undefined };
}

async function destroyWithRetries(lab: Lab, p: LabPlan, d: LabDeps): Promise<StepResult> {
  const start = d.now();
  let lastError = "";
  const pending = new Map<string, PendingOperation>();
  await notePending(d, p, pending);
  for (let attempt = 1; attempt <= p.destroyTries; attempt++) {
    try {
      if (attempt > 1) {
        await notePending(d, p, pending);
        lab.phase("refresh", `before destroy try ${attempt}/${p.destroyTries}`);
        await d.engine.refresh(p.stack, lab.hooks());
      }
      lab.phase("destroy", attempt > 1 ? `try ${attempt}/${p.destroyTries}` : undefined);
      await d.engine.destroy(p.stack, lab.hooks());
      lab.holds(false);
      const clearedPending = pending.size > 0 ? [...pending.values()] : undefined;
      for (const op of clearedPending ?? [])
        d.log.write(`\n!!! cleared from the state: pending ${op.op} of ${op.type} ${op.name}\n`);
      const { swept, left } = await sweepAfter(lab, p, d);
      if (left) {
        // The stack stays (with its leftovers record) so that a later destroy or reap tries again.
        const error = `destroyed, but the live system still holds: ${left.join(", ")}`;
        return {
          status: "failed",
          durationMs: d.now() - start,
          attempts: attempt,
          error,
          clearedPending,
          swept,
          left,
        };
      }
      if (clearedPending && !d.sweep) {
        const error = `cleared ${clearedPending.length} pending operation(s) with no check of the live system: ${clearedPending.map((o) => `${o.type} ${o.name}`).join(", ")}`;
        return { status: "failed", durationMs: d.now() - start, attempts: attempt, error, clearedPending };
      }
      lab.phase("remove");
      try {
        await d.engine.remove(p.stack);
      } catch (e) {
        const error = `destroyed, but removing the stack failed: ${explain(e, p.stack)}`;
        return {
          status: "failed",
          durationMs: d.now() - start,
          attempts: attempt,
          error,
          clearedPending,
          swept,
        };
      }
      return { status: "passed", durationMs: d.now() - start, attempts: attempt, clearedPending, swept };
    } catch (e) {
      lastError = explain(e, p.stack);
      d.log.write(`\n!!! destroy try ${attempt} failed: ${lastError}\n`);
      d.progress.note(p.attendee, `destroy try ${attempt}/${p.destroyTries} failed: ${lastError}`);
      if (attempt < p.destroyTries) await d.sleep(p.retryDelayMs);
    }
  }
  return { status: "failed", durationMs: d.now() - start, attempts: p.destroyTries, error: lastError };
}

/**
 * A cancelled update of a lab that existed: the engine lets running steps finish, so usually
 * nothing is pending; whatever is (a step the CLI did not see through) is listed and the state
 * refreshed from the live system, so the lab stays consistent and verifiable.
 */
async function settleCancelled(lab: Lab, p: LabPlan, d: LabDeps, step: StepResult): Promise<StepResult> {
  const pending = new Map<string, PendingOperation>();
  await notePending(d, p, pending);
  if (pending.size === 0) return { ...step, note: LEFT_AS_IT_WAS };
  const ops = [...pending.values()];
  for (const op of ops) d.log.write(`\n!!! pending after the cancel: ${op.op} of ${op.type} ${op.name}\n`);
  lab.phase("refresh", "pending operations after the cancel");
  try {
    await d.engine.refresh(p.stack, lab.hooks());
  } catch (e) {
    return {
      ...step,
      note: LEFT_AS_IT_WAS,
      clearedPending: ops,
      error: `refresh after the cancel: ${explain(e, p.stack)}`,
    };
  }
  return { ...step, note: `${LEFT_AS_IT_WAS} (state refreshed)`, clearedPending: ops };
}

function cancelledResult(lab: Lab, p: LabPlan): LabResult {
  const c: StepResult = { status: "cancelled", durationMs: 0, note: "not started" };
  if (p.command === "up" || p.command === "run") lab.result.up = c;
  if (p.command === "verify" || p.command === "run") lab.result.verify = { ...c, checks: [] };
  if (p.command === "destroy" || p.command === "run") lab.result.destroy = c;
  lab.phase("cancelled", "not started");
  return lab.result;
}

export async function runLab(p: LabPlan, d: LabDeps): Promise<LabResult> {
  const lab = new Lab(p, d);
  const r = lab.result;
  if (d.cancel.aborted) return cancelledResult(lab, p);
  const creating = p.command === "up" || p.command === "run";
  lab.phase("prepare");
  const prep = await lab.step(() =>
    d.engine.prepare(p.stack, creating ? p.config : {}, creating, creating ? p.secrets : undefined),
  );
  let outputs: LabOutputs | undefined;
  let mayHold = false;

  if (prep.step.status !== "passed") {
    const missing = prep.step.error?.endsWith("does not exist");
    if (p.command === "destroy" && missing) {
      r.destroy = {
        status: "passed",
        durationMs: prep.step.durationMs,
        note: "no such stack: nothing to destroy",
      };
    } else {
      const failedStep = { ...prep.step, error: `preparing the stack: ${prep.step.error}` };
      if (creating) r.up = failedStep;
      else if (p.command === "verify") r.verify = { ...failedStep, checks: [] };
      else r.destroy = failedStep;
    }
  } else if (creating) {
    mayHold = true;
    lab.holds(true);
    let total: number | undefined;
    if (p.preview && !d.cancel.aborted) {
      lab.phase("preview");
      const pv = await lab.step(() => d.engine.preview(p.stack, lab.hooks(d.cancel)));
      total = pv.value;
    }
    lab.phase("up");
    const up = d.cancel.aborted
      ? { step: { status: "cancelled", durationMs: 0 } as StepResult, value: undefined }
      : await lab.step(() => d.engine.up(p.stack, lab.hooks(d.cancel, total)));
    r.up = up.step;
    if (up.step.status === "cancelled" && p.existed) r.up = await settleCancelled(lab, p, d, up.step);
    if (up.value) outputs = parseOutputs(up.value);
  } else if (p.command === "verify") {
    const o = await lab.step(() => d.engine.outputs(p.stack));
    if (o.value) outputs = parseOutputs(o.value);
    else r.verify = { ...o.step, error: `reading outputs: ${o.step.error}`, checks: [] };
  } else {
    mayHold = true;
    lab.holds(true);
  }
  r.serviceUrl = outputs?.serviceUrl;

  const wantsVerify = p.command === "verify" || p.command === "run";
  if (wantsVerify && !r.verify) {
    if (!outputs || (r.up?.status !== undefined && r.up.status !== "passed")) {
      r.verify = {
        status: d.cancel.aborted ? "cancelled" : "skipped",
        durationMs: 0,
        note: "up did not succeed",
        checks: [],
      };
    } else {
      lab.phase("verify");
      const start = d.now();
      const v = await lab.step(() =>
        d.verify(outputs as LabOutputs, d.cancel, (t) => d.progress.note(p.attendee, t), {
          attendee: p.attendee,
          stack: p.stack,
        }),
      );
      const checks = v.value ?? [];
      for (const c of checks) d.log.write(`\n--- check ${c.name}: ${c.status}: ${c.summary}\n`);
      // Passed: every check that could run passed (skipped ones say why), and at least one ran.
      const allPassed =
        checks.some((c) => c.status === "passed") && checks.every((c) => c.status !== "failed");
      const status = d.cancel.aborted
        ? "cancelled"
        : v.step.status !== "passed"
          ? v.step.status
          : allPassed
            ? "passed"
            : "failed";
      r.verify = { ...v.step, status, durationMs: d.now() - start, checks } as VerifyStepResult;
    }
  }

  // A cancel destroys only what this command created: one Ctrl+C during `up --config replicas=6`
  // over a running workshop must not tear down every attendee's lab.
  const cancelledExisting = creating && d.cancel.aborted && p.existed === true;
  const wantsDestroy =
    !p.keep &&
    mayHold &&
    !cancelledExisting &&
    (p.command === "run" || p.command === "destroy" || (p.command === "up" && d.cancel.aborted));
  if (wantsDestroy) r.destroy = await destroyWithRetries(lab, p, d);
  else if (p.command === "run" && p.keep) r.destroy = { status: "skipped", durationMs: 0, note: "--keep" };
  else if (p.command === "run" && cancelledExisting)
    r.destroy = { status: "skipped", durationMs: 0, note: LEFT_AS_IT_WAS };

  const steps = [r.up, r.verify, r.destroy].filter((s): s is StepResult => s !== undefined);
  r.passed =
    steps.length > 0 &&
    steps.every((s) => s.status === "passed" || (s.status === "skipped" && s.note === "--keep"));
  lab.phase(r.passed ? "done" : d.cancel.aborted ? "cancelled" : "failed");
  return r;
}
