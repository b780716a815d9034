/**
 * One lab's life: prepare the stack → up → verify → destroy (retried, a refresh between tries)
 * → remove. Which steps run is the command's (commands.ts). For `run`, destroy happens whatever up
 * or verify did, unless `--keep`; a cancel (first SIGINT/SIGTERM) stops the update and still destroys.
 */
import { Lab } from "./lab";
import { COMMANDS } from "./commands";
import { LEFT_AS_IT_WAS, destroyWithRetries, settleCancelled } from "./destroy";
import { LabOutputs, parseOutputs } from "./outputs";
import { LabDeps, LabPlan, LabResult, StepResult, VerifyStepResult } from "./types";

/** What the steps before verify hand over: the outputs, and whether the stack may hold resources. */
interface Prepared {
  ok: boolean;
  outputs?: LabOutputs;
  mayHold: boolean;
}

function cancelledResult(lab: Lab, p: LabPlan): LabResult {
  const c: StepResult = { status: "cancelled", durationMs: 0, note: "not started" };
  const spec = COMMANDS[p.command];
  if (spec.creates) lab.result.up = c;
  if (spec.verifies) lab.result.verify = { ...c, checks: [] };
  if (spec.destroys) lab.result.destroy = c;
  lab.phase("cancelled", "not started");
  return lab.result;
}

/** Selects (or, creating, makes and configures) the stack; a failure is the command's first step's. */
async function prepare(lab: Lab, p: LabPlan, d: LabDeps): Promise<boolean> {
  const r = lab.result;
  const spec = COMMANDS[p.command];
  const creating = spec.creates;
  lab.phase("prepare");
  const prep = await lab.step(() =>
    d.engine.prepare(p.stack, creating ? p.config : {}, creating, creating ? p.secrets : undefined),
  );
  if (prep.step.status === "passed") return true;
  if (!creating && !spec.verifies && prep.step.error?.endsWith("does not exist")) {
    r.destroy = {
      status: "passed",
      durationMs: prep.step.durationMs,
      note: "no such stack: nothing to destroy",
    };
    return false;
  }
  const failedStep = { ...prep.step, error: `preparing the stack: ${prep.step.error}` };
  if (creating) r.up = failedStep;
  else if (spec.verifies) r.verify = { ...failedStep, checks: [] };
  else r.destroy = failedStep;
  return false;
}

/** Preview (for the progress total), then up; a cancelled update of an existing lab is settled. */
async function up(lab: Lab, p: LabPlan, d: LabDeps): Promise<Prepared> {
  const r = lab.result;
  lab.holds(true);
  let total: number | undefined;
  if (p.preview && !d.cancel.aborted) {
    lab.phase("preview");
    const pv = await lab.step(() => d.engine.preview(p.stack, lab.hooks(d.cancel)));
    total = pv.value;
  }
  lab.phase("up");
  const done = d.cancel.aborted
    ? { step: { status: "cancelled", durationMs: 0 } as StepResult, value: undefined }
    : await lab.step(() => d.engine.up(p.stack, lab.hooks(d.cancel, total)));
  r.up = done.step;
  if (done.step.status === "cancelled" && p.existed) r.up = await settleCancelled(lab, p, d, done.step);
  return { ok: true, mayHold: true, outputs: done.value ? parseOutputs(done.value) : undefined };
}

/** verify alone reads the outputs of the stack as it is. */
async function readOutputs(lab: Lab, p: LabPlan, d: LabDeps): Promise<Prepared> {
  const o = await lab.step(() => d.engine.outputs(p.stack));
  if (o.value) return { ok: true, mayHold: false, outputs: parseOutputs(o.value) };
  lab.result.verify = { ...o.step, error: `reading outputs: ${o.step.error}`, checks: [] };
  return { ok: true, mayHold: false };
}

async function verify(lab: Lab, p: LabPlan, d: LabDeps, outputs: LabOutputs | undefined): Promise<void> {
  const r = lab.result;
  if (!outputs || (r.up?.status !== undefined && r.up.status !== "passed")) {
    const status = d.cancel.aborted ? "cancelled" : "skipped";
    r.verify = { status, durationMs: 0, note: "up did not succeed", checks: [] };
    return;
  }
  lab.phase("verify");
  const start = d.now();
  const v = await lab.step(() =>
    d.verify(outputs, d.cancel, (t) => d.progress.note(p.attendee, t), {
      attendee: p.attendee,
      stack: p.stack,
    }),
  );
  const checks = v.value ?? [];
  for (const c of checks) d.log.write(`\n--- check ${c.name}: ${c.status}: ${c.summary}\n`);
  // Passed: every check that could run passed (skipped ones say why), and at least one ran.
  const allPassed = checks.some((c) => c.status === "passed") && checks.every((c) => c.status !== "failed");
  const status = d.cancel.aborted
    ? "cancelled"
    : v.step.status !== "passed"
      ? v.step.status
      : allPassed
        ? "passed"
        : "failed";
  r.verify = { ...v.step, status, durationMs: d.now() - start, checks } as VerifyStepResult;
}

/**
 * A cancel destroys only what this command created: one Ctrl+C during `up --config replicas=6`
 * over a running workshop must not tear down every attendee's lab.
 */
async function destroy(lab: Lab, p: LabPlan, d: LabDeps, mayHold: boolean): Promise<void> {
  const r = lab.result;
  const spec = COMMANDS[p.command];
  const cancelledExisting = spec.creates && d.cancel.aborted && p.existed === true;
  const cancelDestroys = spec.cancel === "destroy-created" && d.cancel.aborted;
  if (!p.keep && mayHold && !cancelledExisting && (spec.destroys || cancelDestroys))
    r.destroy = await destroyWithRetries(lab, p, d);
  else if (spec.showsSkippedDestroy && p.keep)
    r.destroy = { status: "skipped", durationMs: 0, note: "--keep" };
  else if (spec.showsSkippedDestroy && cancelledExisting)
    r.destroy = { status: "skipped", durationMs: 0, note: LEFT_AS_IT_WAS };
}

function conclude(lab: Lab, d: LabDeps): LabResult {
  const r = lab.result;
  const steps = [r.up, r.verify, r.destroy].filter((s): s is StepResult => s !== undefined);
  r.passed =
    steps.length > 0 &&
    steps.every((s) => s.status === "passed" || (s.status === "skipped" && s.note === "--keep"));
  lab.phase(r.passed ? "done" : d.cancel.aborted ? "cancelled" : "failed");
  return r;
}

export async function runLab(p: LabPlan, d: LabDeps): Promise<LabResult> {
  const lab = new Lab(p, d);
  if (d.cancel.aborted) return cancelledResult(lab, p);
  const spec = COMMANDS[p.command];
  let state: Prepared = { ok: await prepare(lab, p, d), mayHold: false };
  if (state.ok && spec.creates) state = await up(lab, p, d);
  else if (state.ok && spec.verifies) state = await readOutputs(lab, p, d);
  else if (state.ok) state = (lab.holds(true), { ok: true, mayHold: true });
  lab.result.serviceUrl = state.outputs?.serviceUrl;
  if (spec.verifies && !lab.result.verify) await verify(lab, p, d, state.outputs);
  await destroy(lab, p, d, state.mayHold);
  return conclude(lab, d);
}
