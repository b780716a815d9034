/** Shared shapes of the driver: commands, phases, per-lab results. */
import { CheckResult } from "../verify/types";

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
