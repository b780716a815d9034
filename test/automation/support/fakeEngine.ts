/**
 * A fake of `LabEngine` for the driver's tests: records every call in order, measures how many
 * updates are in flight at once, and fails, hangs or succeeds per stack as each test scripts it.
 */
import { LockReport } from "../../../automation/lifecycle/locks";
import {
  LabEngine,
  OpHooks,
  PendingOperation,
  StackHistory,
  StackListing,
  StackMissingError,
} from "../../../automation/lifecycle/engine";

export interface StackScript {
  /** Preview step count (default 3). */
  steps?: number;
  upFails?: string;
  /** Extra engine output during up (e.g. text that must be redacted). */
  upOutput?: string | string[];
  /** Up takes this long (ms), unless aborted. */
  upMs?: number;
  /** Up ignores its abort signal (the CLI hanging, pulumi #12627) until `release()`. */
  upHangs?: boolean;
  /** This many destroy calls fail before one succeeds. */
  destroyFailures?: number;
  /**
   * The first destroy returns as if done but the state keeps this many resources (the CLI got the
   * signal itself, cancelled, and its history says "succeeded").
   */
  destroyLeaves?: number;
  removeFails?: string;
  outputs?: Record<string, unknown>;
  /** The stack does not exist (select fails). */
  missing?: boolean;
  /** Config keys the stack already holds as secrets. */
  heldSecrets?: string[];
  /** A dead CLI's lock is on the stack (broken by the first breakStaleLocks). */
  staleLock?: boolean;
  /** Pending operations the state holds until a refresh or destroy clears them. */
  pending?: PendingOperation[];
  /** setTag fails with this message. */
  tagFails?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class FakeEngine implements LabEngine {
  readonly calls: string[] = [];
  inFlight = 0;
  maxInFlight = 0;
  listing: StackListing[] = [];
  history_: Record<string, StackHistory> = {};
  checkError?: Error;
  private releaseHang: () => void = () => undefined;
  private readonly hang = new Promise<void>((r) => (this.releaseHang = r));
  private readonly destroys = new Map<string, number>();

  constructor(private readonly scripts: Record<string, StackScript> = {}) {}

  release(): void {
    this.releaseHang();
  }

  private script(stack: string): StackScript {
    return this.scripts[stack] ?? {};
  }

  /**
   * Calls of one kind on attendee stacks, e.g. `of("up")` → ["lab-alice", …]; the workshop
   * foundation's (`<prefix>.foundation`) are left out: `for("lab.foundation")` has them.
   */
  of(kind: string): string[] {
    return this.calls
      .filter((c) => c.startsWith(`${kind} `) && !c.endsWith(".foundation"))
      .map((c) => c.slice(kind.length + 1));
  }

  /** Calls for one stack, e.g. `["prepare", "preview", "up", "destroy", "remove"]`. */
  for(stack: string): string[] {
    return this.calls.filter((c) => c.endsWith(` ${stack}`)).map((c) => c.split(" ")[0]);
  }

  async check(): Promise<void> {
    this.calls.push("check");
    if (this.checkError) throw this.checkError;
  }

  async setup(): Promise<void> {
    this.calls.push("setup");
  }

  async prepare(
    stack: string,
    config: Record<string, string>,
    create: boolean,
    secrets: Record<string, string> = {},
  ): Promise<void> {
    this.calls.push(`prepare ${stack}`);
    // The config set by a create (a later select for destroy sets none).
    if (create || Object.keys(config).length > 0) this.lastConfig[stack] = config;
    this.lastSecrets[stack] = secrets;
    if (this.script(stack).missing && !create) throw new StackMissingError(`stack ${stack} does not exist`);
  }
  readonly lastConfig: Record<string, Record<string, string>> = {};
  readonly lastSecrets: Record<string, Record<string, string>> = {};

  /** Stacks whose secret keys were read (kept apart from `calls`: a read-only preflight). */
  readonly secretReads: string[] = [];

  async secretKeys(stack: string): Promise<string[]> {
    this.secretReads.push(stack);
    return this.script(stack).heldSecrets ?? [];
  }

  async preview(stack: string): Promise<number> {
    this.calls.push(`preview ${stack}`);
    return this.script(stack).steps ?? 3;
  }

  async up(stack: string, hooks: OpHooks): Promise<Record<string, unknown>> {
    this.calls.push(`up ${stack}`);
    const s = this.script(stack);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      hooks.onOutput?.(`Updating (${stack})\n`);
      for (const text of [s.upOutput ?? []].flat()) hooks.onOutput?.(text);
      if (s.upHangs) await this.hang;
      else {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, s.upMs ?? 5);
          hooks.signal?.addEventListener("abort", () => {
            clearTimeout(t);
            reject(new Error("update canceled"));
          });
          if (hooks.signal?.aborted) reject(new Error("update canceled"));
        });
      }
      for (let i = 0; i < (s.steps ?? 3); i++)
        hooks.onProgress?.({ kind: "step-done", urn: `urn:${i}`, op: "create" });
      if (s.upFails) throw new Error(s.upFails);
      this.made.set(stack, s.steps ?? 3);
      return (
        s.outputs ?? {
          serviceUrl: `http://${stack}.example/hello`,
          attendee: stack.split("-").slice(1).join("-"),
        }
      );
    } finally {
      this.inFlight--;
    }
  }

  async outputs(stack: string): Promise<Record<string, unknown>> {
    this.calls.push(`outputs ${stack}`);
    return this.script(stack).outputs ?? { serviceUrl: `http://${stack}.example/hello` };
  }

  async refresh(stack: string): Promise<void> {
    this.calls.push(`refresh ${stack}`);
    this.cleared.add(stack);
  }
  private readonly cleared = new Set<string>();

  async pendingOperations(stack: string): Promise<PendingOperation[]> {
    return this.cleared.has(stack) ? [] : (this.script(stack).pending ?? []);
  }

  async destroy(stack: string): Promise<void> {
    this.calls.push(`destroy ${stack}`);
    await sleep(1);
    const n = this.destroys.get(stack) ?? 0;
    this.destroys.set(stack, n + 1);
    if (n < (this.script(stack).destroyFailures ?? 0)) {
      throw new Error(`DependencyViolation: resource sg-123 has a dependent object (try ${n + 1})`);
    }
    this.leftByDestroy.set(stack, n === 0 ? (this.script(stack).destroyLeaves ?? 0) : 0);
  }
  private readonly leftByDestroy = new Map<string, number>();

  async resourceCount(stack: string): Promise<number> {
    return this.leftByDestroy.get(stack) ?? 0;
  }

  async remove(stack: string): Promise<void> {
    this.calls.push(`remove ${stack}`);
    const e = this.script(stack).removeFails;
    if (e) throw new Error(e);
    delete this.tagsOf[stack];
    this.made.delete(stack);
    this.listing = this.listing.filter((l) => l.name !== stack);
  }

  /** Stacks a passed `up` made here (and not removed since), with their resource count. */
  private readonly made = new Map<string, number>();

  async list(): Promise<StackListing[]> {
    this.calls.push("list");
    const named = new Set(this.listing.map((l) => l.name));
    const made = [...this.made]
      .filter(([n]) => !named.has(n))
      .map(([name, resourceCount]) => ({ name, resourceCount }));
    return [...this.listing, ...made];
  }

  async history(stack: string): Promise<StackHistory> {
    this.calls.push(`history ${stack}`);
    return this.history_[stack] ?? {};
  }

  /** Stack tags by stack; tag writes in order ("set <stack> <key>=<value>", "rm <stack> <key>"). */
  readonly tagsOf: Record<string, Record<string, string>> = {};
  readonly tagCalls: string[] = [];
  /** What endOrphans reports (once). */
  orphans: string[] = [];

  async tags(stack: string): Promise<Record<string, string>> {
    return { ...this.tagsOf[stack] };
  }

  async setTag(stack: string, key: string, value: string): Promise<void> {
    this.tagCalls.push(`set ${stack} ${key}=${value}`);
    const e = this.script(stack).tagFails;
    if (e) throw new Error(e);
    this.tagsOf[stack] = { ...this.tagsOf[stack], [key]: value };
  }

  async removeTag(stack: string, key: string): Promise<void> {
    this.tagCalls.push(`rm ${stack} ${key}`);
    if (this.tagsOf[stack]) delete this.tagsOf[stack][key];
  }

  async breakStaleLocks(stack: string): Promise<LockReport[]> {
    if (!this.script(stack).staleLock || this.unlocked.has(stack)) return [];
    this.unlocked.add(stack);
    return [
      {
        file: `${stack}.json`,
        broken: true,
        text: "lock of pid 4242 of root@vm: that process is gone: broken",
      },
    ];
  }
  readonly unlocked = new Set<string>();

  async endOrphans(): Promise<string[]> {
    const o = this.orphans;
    this.orphans = [];
    return o;
  }

  /** Engine calls other than the read-only/preflight ones. */
  get mutating(): string[] {
    return this.calls.filter((c) => !/^(check|list|history|outputs)\b/.test(c));
  }
}
