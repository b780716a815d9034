/**
 * Destroying a lab without dropping anything unsaid (#9 points 1 and 5): retries with a refresh
 * between, the pending operations a refresh clears listed, the sweep of the live system after, and
 * a cancelled update of an existing lab settled instead of destroyed.
 */
import { PendingOperation } from "./engine";
import { explain } from "./errors";
import { Lab } from "./lab";
import { LabDeps, LabPlan, StepResult } from "./types";

/** What a cancelled update of a lab that existed before says (summary, report, JUnit). */
export const LEFT_AS_IT_WAS = "update cancelled, lab left as it was";

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

export async function destroyWithRetries(lab: Lab, p: LabPlan, d: LabDeps): Promise<StepResult> {
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
      // The CLI may have been cancelled by a signal of its own (a process group's SIGTERM) and
      // still end as "destroy succeeded": the state says what is really left.
      const remaining = await d.engine.resourceCount(p.stack);
      if (remaining > 0)
        throw new Error(
          `the destroy ended with ${remaining} resource(s) still in the state (cancelled part-way?)`,
        );
      lab.holds(false);
      const clearedPending = pending.size > 0 ? [...pending.values()] : undefined;
      for (const op of clearedPending ?? [])
        d.log.write(`\n!!! cleared from the state: pending ${op.op} of ${op.type} ${op.name}\n`);
      const { swept, left } = await sweepAfter(lab, p, d);
      const result = (status: StepResult["status"], error?: string): StepResult => ({
        status,
        durationMs: d.now() - start,
        attempts: attempt,
        error,
        clearedPending,
        swept,
        left,
      });
      // The stack stays (with its leftovers record) so that a later destroy or reap tries again.
      if (left) return result("failed", `destroyed, but the live system still holds: ${left.join(", ")}`);
      if (clearedPending && !d.sweep) {
        const ops = clearedPending.map((o) => `${o.type} ${o.name}`).join(", ");
        return result(
          "failed",
          `cleared ${clearedPending.length} pending operation(s) with no check of the live system: ${ops}`,
        );
      }
      lab.phase("remove");
      try {
        await d.engine.remove(p.stack);
      } catch (e) {
        return result("failed", `destroyed, but removing the stack failed: ${explain(e, p.stack)}`);
      }
      return result("passed");
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
export async function settleCancelled(
  lab: Lab,
  p: LabPlan,
  d: LabDeps,
  step: StepResult,
): Promise<StepResult> {
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
