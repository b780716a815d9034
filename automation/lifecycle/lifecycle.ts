/**
 * One lab's life: prepare the stack → up → verify → destroy (retried, a refresh between tries)
 * → remove. For `run`, destroy happens whatever up or verify did, unless `--keep`; a cancel
 * (first SIGINT/SIGTERM) stops the update and still destroys.
 */
import { Lab } from "./lab";
import { LEFT_AS_IT_WAS, destroyWithRetries, settleCancelled } from "./destroy";
import { LabOutputs, parseOutputs } from "./outputs";
import { LabDeps, LabPlan, LabResult, StepResult, VerifyStepResult } from "./types";

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
