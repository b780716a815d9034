/** Shared shapes of the driver: commands, phases, per-lab results. */
import { CheckResult } from "../verify/types";
import { LabEngine, StackListing } from "./engine";
import { LabOutputs } from "./outputs";

export type Command = "up" | "verify" | "destroy" | "run";

export type Phase =
  | "queued"
  | "prepare"
  | "preview"
  | "up"
  | "verify"
  | "sweep"
  | "refresh"
  | "destroy"
  | "remove"
  | "done"
  | "failed"
  | "cancelled";

export type StepStatus = "passed" | "failed" | "skipped" | "cancelled";

export interface StepResult {
  status: StepStatus;
  durationMs: number;
  /** Why it failed (the engine's error, condensed). */
  error?: string;
  note?: string;
  /** Destroy tries used. */
  attempts?: number;
  /** Destroy: pending operations a refresh cleared from the state (their resources may have existed). */
  clearedPending?: { op: string; type: string; name: string }[];
  /** Destroy: what the check of the live system found of the lab afterwards, and removed. */
  swept?: string[];
  /** Destroy: what is still there after that (the destroy failed). */
  left?: string[];
}

export interface VerifyStepResult extends StepResult {
  checks: CheckResult[];
}

export interface LabResult {
  attendee: string;
  stack: string;
  logFile: string;
  /** Steps this command ran; absent = not part of the command. */
  up?: StepResult;
  verify?: VerifyStepResult;
  destroy?: StepResult;
  serviceUrl?: string;
  passed: boolean;
  /** The stack may still hold cloud resources when the run ends. */
  holdsResources: boolean;
}

/** Where a lab reports its progress (the live display, or plain lines in CI). */
export interface ProgressSink {
  phase(attendee: string, phase: Phase, detail?: string): void;
  resources(attendee: string, done: number, total?: number): void;
  note(attendee: string, text: string): void;
}

/** The per-lab log file (`.lab-logs/<stack>.log`). */
export interface LabLog {
  readonly path: string;
  write(text: string): void;
  close(): Promise<void>;
}

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

export interface SignalSource {
  /** Calls `handler` on each SIGINT/SIGTERM/SIGHUP; returns an unsubscribe function. */
  on(handler: (signal: string) => void): () => void;
}

/** One command over many attendees: the per-lab plan's shared fields, plus the fan-out. */
export type RunSettings = Pick<
  LabPlan,
  "command" | "secrets" | "keep" | "preview" | "destroyTries" | "retryDelayMs"
> & {
  attendees: string[];
  prefix: string;
  concurrency: number;
  /** Stack config shared by all (lab:workshop and lab:attendee are added per stack). */
  config: Record<string, string>;
  /** The workshop's foundation stack and its config; undefined: each lab is self-contained. */
  foundation?: { stack: string; config: Record<string, string> };
};

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
  /** The live-system sweep after each destroy (lifecycle.ts); undefined: none. */
  sweep?: LabDeps["sweep"];
}

export interface RunOutcome {
  results: LabResult[];
  /** The workshop foundation's up (before the labs) or destroy (after them), when it ran. */
  foundation?: LabResult;
  interrupted: boolean;
  /** Lab stacks found holding resources before this run started. */
  leftovers: StackListing[];
}
