/**
 * A LabEngine that hands every call to another one, chosen per stack: the base of the engines that
 * add one behaviour to some calls (ledger.ts records leftovers, targets.ts routes by target) without
 * restating the whole interface each time.
 */
import { LabEngine, OpHooks, PendingOperation, StackHistory, StackListing } from "./engine";
import { LockReport } from "./locks";

export abstract class ForwardingEngine implements LabEngine {
  /** The engine for `stack`; without one, for the calls that name no stack. */
  protected abstract inner(stack?: string): LabEngine;

  check(): Promise<void> {
    return this.inner().check();
  }
  setup(): Promise<void> {
    return this.inner().setup();
  }
  prepare(
    stack: string,
    config: Record<string, string>,
    create: boolean,
    secrets?: Record<string, string>,
  ): Promise<void> {
    return this.inner(stack).prepare(stack, config, create, secrets);
  }
  secretKeys(stack: string): Promise<string[]> {
    return this.inner(stack).secretKeys(stack);
  }
  preview(stack: string, hooks: OpHooks): Promise<number> {
    return this.inner(stack).preview(stack, hooks);
  }
  up(stack: string, hooks: OpHooks): Promise<Record<string, unknown>> {
    return this.inner(stack).up(stack, hooks);
  }
  outputs(stack: string): Promise<Record<string, unknown>> {
    return this.inner(stack).outputs(stack);
  }
  refresh(stack: string, hooks: OpHooks): Promise<void> {
    return this.inner(stack).refresh(stack, hooks);
  }
  pendingOperations(stack: string): Promise<PendingOperation[]> {
    return this.inner(stack).pendingOperations(stack);
  }
  destroy(stack: string, hooks: OpHooks): Promise<void> {
    return this.inner(stack).destroy(stack, hooks);
  }
  resourceCount(stack: string): Promise<number> {
    return this.inner(stack).resourceCount(stack);
  }
  remove(stack: string): Promise<void> {
    return this.inner(stack).remove(stack);
  }
  list(): Promise<StackListing[]> {
    return this.inner().list();
  }
  history(stack: string): Promise<StackHistory> {
    return this.inner(stack).history(stack);
  }
  tags(stack: string): Promise<Record<string, string>> {
    return this.inner(stack).tags(stack);
  }
  setTag(stack: string, key: string, value: string): Promise<void> {
    return this.inner(stack).setTag(stack, key, value);
  }
  removeTag(stack: string, key: string): Promise<void> {
    return this.inner(stack).removeTag(stack, key);
  }
  breakStaleLocks(stack: string): Promise<LockReport[]> {
    return this.inner(stack).breakStaleLocks(stack);
  }
  endOrphans(): Promise<string[]> {
    return this.inner().endOrphans();
  }
}
