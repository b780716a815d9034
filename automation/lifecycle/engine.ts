/**
 * The small interface through which the driver talks to Pulumi (`LabEngine`) and the types it
 * speaks. The real implementation is `LocalLabEngine` (./localEngine.ts); tests use a fake.
 */
import { LockReport } from "./locks";

export type ProgressEvent =
  | { kind: "step-start"; urn: string; op: string }
  | { kind: "step-done"; urn: string; op: string }
  | { kind: "step-failed"; urn: string }
  | { kind: "summary"; changes: Record<string, number> };

export interface OpHooks {
  /** The engine's own output, line by line as it comes (for the per-lab log). */
  onOutput?: (text: string) => void;
  onProgress?: (e: ProgressEvent) => void;
  /** Aborting cancels the operation gracefully (the CLI gets one SIGINT). */
  signal?: AbortSignal;
}

export interface StackListing {
  name: string;
  resourceCount?: number;
  lastUpdate?: Date;
  updateInProgress?: boolean;
}

/** An operation a dead or cancelled update left unfinished in the state (#9 point 5). */
export interface PendingOperation {
  /** `creating`, `updating`, `deleting`, … as the state records it. */
  op: string;
  type: string;
  name: string;
}

/** The pending operations of an exported deployment (`pending_operations`), named from their URNs. */
export function pendingOf(deployment: unknown): PendingOperation[] {
  const d = (deployment as { deployment?: { pending_operations?: unknown } } | undefined)?.deployment;
  const ops = Array.isArray(d?.pending_operations) ? d.pending_operations : [];
  return ops.map((p: { type?: string; resource?: { urn?: string; type?: string } }) => {
    const urn = p.resource?.urn ?? "";
    return { op: p.type ?? "?", type: p.resource?.type ?? "?", name: urn.slice(urn.lastIndexOf("::") + 2) };
  });
}

export interface StackHistory {
  /** Start of the oldest operation recorded. */
  createdAt?: Date;
  last?: { kind: string; result: string; at?: Date };
}

export interface LabEngine {
  /** Throws EngineUnavailableError when the engine cannot run (no Pulumi CLI…). */
  check(): Promise<void>;
  /** Once, before fanning out: install the project's plugins (concurrent installs interfere). */
  setup(): Promise<void>;
  /**
   * Creates (or, with `create` false, only selects) the stack, then sets `config` in plain and
   * `secrets` encrypted (never on a command line). Refuses to set in plain a key the stack holds
   * as a secret. Serialized.
   */
  prepare(
    stack: string,
    config: Record<string, string>,
    create: boolean,
    secrets?: Record<string, string>,
  ): Promise<void>;
  /** Config keys the stack holds as secrets ([] for a stack that does not exist). */
  secretKeys(stack: string): Promise<string[]>;
  /** Number of steps an update would take. */
  preview(stack: string, hooks: OpHooks): Promise<number>;
  up(stack: string, hooks: OpHooks): Promise<Record<string, unknown>>;
  outputs(stack: string): Promise<Record<string, unknown>>;
  /** Clears pending creates (their resources may exist: the caller lists and checks them). */
  refresh(stack: string, hooks: OpHooks): Promise<void>;
  /** What the state records as unfinished (read before a refresh clears it). */
  pendingOperations(stack: string): Promise<PendingOperation[]>;
  destroy(stack: string, hooks: OpHooks): Promise<void>;
  /** Resources the stack's state still records: 0 after a destroy that went all the way. */
  resourceCount(stack: string): Promise<number>;
  remove(stack: string): Promise<void>;
  list(): Promise<StackListing[]>;
  history(stack: string): Promise<StackHistory>;
  /** Stack tags (the leftovers record is one: ledger.ts). The stack needs no prepare. */
  tags(stack: string): Promise<Record<string, string>>;
  setTag(stack: string, key: string, value: string): Promise<void>;
  removeTag(stack: string, key: string): Promise<void>;
  /** Deletes the stack's locks whose owner is provably gone (locks.ts); one line per lock seen. */
  breakStaleLocks(stack: string): Promise<LockReport[]>;
  /** Ends orphaned engine processes of this project and backend (orphans.ts); one line each. */
  endOrphans(): Promise<string[]>;
}

/** The engine cannot run at all; the message says how to fix it (exit 2). */
export class EngineUnavailableError extends Error {
  constructor(
    message: string,
    /** `missing-cli`: no `pulumi` on PATH (the caller may know a better fix than installing it). */
    readonly reason: "missing-cli" | "too-old" | "other" = "other",
  ) {
    super(message);
  }
}
/** The stack does not exist in the backend. */
export class StackMissingError extends Error {}
