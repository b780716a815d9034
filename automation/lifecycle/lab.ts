/** One lab's running record: its result, its log and progress lines, its engine hooks and steps. */
import { OpHooks } from "./engine";
import { explain } from "./errors";
import { LabDeps, LabPlan, LabResult, Phase, StepResult } from "./types";

export class Lab {
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
