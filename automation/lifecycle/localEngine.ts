/**
 * `LabEngine` over one `LocalWorkspace` on the project directory: the same program engineers run
 * with `pulumi up`, not a second copy of it.
 */
import {
  EngineEvent,
  LocalWorkspace,
  PulumiCommand,
  Stack,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";
import {
  EngineUnavailableError,
  LabEngine,
  OpHooks,
  PendingOperation,
  ProgressEvent,
  StackHistory,
  StackListing,
  StackMissingError,
  pendingOf,
} from "./engine";
import { Mutex } from "./mutex";
import { secretConfigKeys, setSecretConfig } from "./secretConfig";
import { LockReport, breakStaleLocks } from "./locks";
import { endOrphans } from "../local/orphans";
import { hangupProofRoot, resolveCli } from "./hangup";
import { errorMessage } from "../errors";

export interface EngineSettings {
  workDir: string;
  envVars: Record<string, string>;
  secretsProvider?: string;
  /** Run `<pulumiRoot>/bin/pulumi` (the local toolchain's) instead of the `pulumi` on PATH. */
  pulumiRoot?: string;
}

function describeCliError(e: unknown): Error {
  const text = errorMessage(e);
  if (/ENOENT/.test(text)) {
    return new EngineUnavailableError(
      "the Pulumi CLI was not found on PATH. Install it (https://www.pulumi.com/docs/install/), " +
        "make sure `pulumi version` works in this shell, then run the command again.",
      "missing-cli",
    );
  }
  if (/minimum version|version .* is less than|incompatible/i.test(text)) {
    return new EngineUnavailableError(
      `the Pulumi CLI is too old for @pulumi/pulumi 3.270: upgrade it (${text.trim()})`,
      "too-old",
    );
  }
  return new EngineUnavailableError(`the Pulumi CLI could not start: ${text.trim()}`);
}

// Default providers (`…::pulumi:providers:kubernetes::default_4_34_2`) get step events but are not
// counted in the change summary; explicit ones (the lab's kubernetes provider) are, so their steps
// count too: dropping them left progress at 8/9 when all was done (#9 point 13).
const isDefaultProvider = (type: string, urn: string): boolean =>
  type.startsWith("pulumi:providers:") && urn.slice(urn.lastIndexOf("::") + 2).startsWith("default");

/** Engine events → the driver's progress events. */
export function toProgress(e: EngineEvent): ProgressEvent | undefined {
  const meta = e.resourcePreEvent?.metadata ?? e.resOutputsEvent?.metadata;
  if (meta && isDefaultProvider(meta.type, meta.urn)) return undefined;
  // A read (the foundation's StackReference) is no resource change: the summary does not count it.
  if (meta && (meta.op === "read" || meta.op === "read-replacement")) return undefined;
  if (e.resourcePreEvent && !e.resourcePreEvent.planning) {
    const m = e.resourcePreEvent.metadata;
    return { kind: "step-start", urn: m.urn, op: m.op };
  }
  if (e.resOutputsEvent && !e.resOutputsEvent.planning) {
    const m = e.resOutputsEvent.metadata;
    return { kind: "step-done", urn: m.urn, op: m.op };
  }
  if (e.resOpFailedEvent) return { kind: "step-failed", urn: e.resOpFailedEvent.metadata.urn };
  if (e.summaryEvent)
    return { kind: "summary", changes: { ...e.summaryEvent.resourceChanges } as Record<string, number> };
  return undefined;
}

const plain = (m: Record<string, { value: unknown }>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(m).map(([k, v]) => [k, v.value]));

export class LocalLabEngine implements LabEngine {
  private ws?: LocalWorkspace;
  private readonly stacks = new Map<string, Stack>();
  private readonly mutex = new Mutex();

  constructor(private readonly settings: EngineSettings) {}

  async check(): Promise<void> {
    await this.workspace();
  }

  private async workspace(): Promise<LocalWorkspace> {
    if (!this.ws) {
      try {
        this.ws = await LocalWorkspace.create({
          workDir: this.settings.workDir,
          envVars: this.settings.envVars,
          secretsProvider: this.settings.secretsProvider,
          pulumiCommand: await this.command(),
        });
      } catch (e) {
        throw describeCliError(e);
      }
    }
    return this.ws;
  }

  /** The CLI (the toolchain's, or PATH's) with SIGHUP ignored; undefined: none found (ENOENT below). */
  private async command(): Promise<PulumiCommand | undefined> {
    const { pulumiRoot, envVars } = this.settings;
    const cli = resolveCli(
      pulumiRoot ? `${pulumiRoot}/bin/pulumi` : "pulumi",
      envVars.PATH ?? process.env.PATH,
    );
    return cli ? PulumiCommand.get({ root: hangupProofRoot(cli) }) : undefined;
  }

  async setup(): Promise<void> {
    const ws = await this.workspace();
    await this.mutex.run(() => ws.install({ noDependencies: true }));
  }

  private stack(name: string): Stack {
    const s = this.stacks.get(name);
    if (!s) throw new Error(`stack ${name} was not prepared`);
    return s;
  }

  async prepare(
    name: string,
    config: Record<string, string>,
    create: boolean,
    secrets: Record<string, string> = {},
  ): Promise<void> {
    const ws = await this.workspace();
    await this.mutex.run(async () => {
      try {
        const stack = create ? await Stack.createOrSelect(name, ws) : await Stack.select(name, ws);
        const held = (await secretConfigKeys(ws, name)).filter((k) => config[k] !== undefined);
        if (held.length > 0) {
          throw new Error(
            `stack ${name} holds ${held.join(", ")} as secret: set ${held.length > 1 ? "them" : "it"} with --secret, not --config`,
          );
        }
        const entries = Object.entries(config).map(([k, v]) => [k, { value: v, secret: false }]);
        if (entries.length > 0) await stack.setAllConfig(Object.fromEntries(entries));
        for (const [key, value] of Object.entries(secrets)) await setSecretConfig(ws, name, key, value);
        this.stacks.set(name, stack);
      } catch (e) {
        if (e instanceof StackNotFoundError) throw new StackMissingError(`stack ${name} does not exist`);
        throw e;
      }
    });
  }

  async secretKeys(name: string): Promise<string[]> {
    return secretConfigKeys(await this.workspace(), name);
  }

  async preview(name: string, hooks: OpHooks): Promise<number> {
    const r = await this.stack(name).preview({ ...this.opts(hooks), color: "never" });
    return Object.values(r.changeSummary).reduce((a, b) => a + (b ?? 0), 0);
  }

  async up(name: string, hooks: OpHooks): Promise<Record<string, unknown>> {
    return plain((await this.stack(name).up({ ...this.opts(hooks), color: "never" })).outputs);
  }

  async outputs(name: string): Promise<Record<string, unknown>> {
    return plain(await this.stack(name).outputs());
  }

  async refresh(name: string, hooks: OpHooks): Promise<void> {
    await this.stack(name).refresh({ ...this.opts(hooks), color: "never", clearPendingCreates: true });
  }

  async pendingOperations(name: string): Promise<PendingOperation[]> {
    return pendingOf(await this.stack(name).exportStack());
  }

  async destroy(name: string, hooks: OpHooks): Promise<void> {
    await this.stack(name).destroy({ ...this.opts(hooks), color: "never" });
  }

  async resourceCount(name: string): Promise<number> {
    const state = (await this.stack(name).exportStack()) as { deployment?: { resources?: unknown[] } };
    return state.deployment?.resources?.length ?? 0;
  }

  async remove(name: string): Promise<void> {
    const ws = await this.workspace();
    await this.mutex.run(() => ws.removeStack(name));
    this.stacks.delete(name);
  }

  async list(): Promise<StackListing[]> {
    const ws = await this.workspace();
    return (await ws.listStacks()).map((s) => ({
      name: s.name,
      resourceCount: s.resourceCount,
      lastUpdate: s.lastUpdate ? new Date(s.lastUpdate) : undefined,
      updateInProgress: s.updateInProgress,
    }));
  }

  async tags(name: string): Promise<Record<string, string>> {
    return (await this.workspace()).listTags(name);
  }

  async setTag(name: string, key: string, value: string): Promise<void> {
    await (await this.workspace()).setTag(name, key, value);
  }

  async removeTag(name: string, key: string): Promise<void> {
    await (await this.workspace()).removeTag(name, key);
  }

  async breakStaleLocks(name: string): Promise<LockReport[]> {
    const project = (await (await this.workspace()).projectSettings()).name;
    return breakStaleLocks(this.settings.envVars.PULUMI_BACKEND_URL ?? "", project, name);
  }

  async endOrphans(): Promise<string[]> {
    return endOrphans({
      projectDir: this.settings.workDir,
      backendUrl: this.settings.envVars.PULUMI_BACKEND_URL,
    });
  }

  async history(name: string): Promise<StackHistory> {
    if (!this.stacks.has(name)) await this.prepare(name, {}, false);
    const entries = await this.stack(name).history();
    if (entries.length === 0) return {};
    const starts = entries.map((h) => new Date(h.startTime).getTime()).filter((t) => !Number.isNaN(t));
    const last = entries[0];
    return {
      createdAt: starts.length ? new Date(Math.min(...starts)) : undefined,
      last: { kind: last.kind, result: last.result, at: last.endTime ? new Date(last.endTime) : undefined },
    };
  }

  /**
   * In a terminal, Ctrl+C reaches the CLI directly (same process group) and it starts cancelling;
   * a second SIGINT from the SDK would make it terminate at once (leaving locks and pending
   * operations). So the caller's abort is forwarded only if the CLI has not announced a cancel.
   */
  private opts(hooks: OpHooks): {
    onOutput: (s: string) => void;
    onError: (s: string) => void;
    onEvent: (e: EngineEvent) => void;
    signal?: AbortSignal;
  } {
    let cancelling = false;
    const seen = (s: string): void => {
      if (/\^C received|cancell?ing/i.test(s)) cancelling = true;
      hooks.onOutput?.(s);
    };
    const inner = new AbortController();
    hooks.signal?.addEventListener(
      "abort",
      () => setTimeout(() => cancelling || inner.abort(), 1500).unref(),
      { once: true },
    );
    return {
      onOutput: seen,
      onError: seen,
      onEvent: (e) => {
        if (e.cancelEvent) cancelling = true;
        const p = toProgress(e);
        if (p) hooks.onProgress?.(p);
      },
      signal: hooks.signal ? inner.signal : undefined,
    };
  }
}
