/**
 * Which target each lab stack was made for, and the engine that routes each stack to its target's
 * CLI (#9 point 4): `verify`, `destroy`, `reap` and `list` act on what the stacks are, not on what
 * the command line says, and one `reap` handles local and aws labs together.
 *
 * Recorded as stack tags when `up` prepares a stack, because tags live in the backend (so a fresh
 * CI checkout with `--backend s3://…` still knows): `multiarch-lab:target` and
 * `multiarch-lab:created` (the age of a stack whose first update never finished). Stacks made before
 * the tags existed fall back to `lab:target` in the checkout's `Pulumi.<stack>.yaml`.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import pLimit from "p-limit";
import { TARGETS, Target } from "../../infra/config";
import { LabEngine } from "./engine";
import { ForwardingEngine } from "./forwarding";

export const TARGET_TAG = "multiarch-lab:target";
export const CREATED_TAG = "multiarch-lab:created";

const isTarget = (t: string | undefined): t is Target => TARGETS.includes(t as Target);

/**
 * A plain value of the checkout's `Pulumi.<stack>.yaml` (`config: {lab:target: local}`); undefined
 * when the file or the key is absent, and for secrets (`secure:` objects, never read here).
 */
export function configFileValue(projectDir: string, stack: string, key: string): string | undefined {
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(path.join(projectDir, `Pulumi.${stack}.yaml`), "utf8"));
  } catch {
    return undefined;
  }
  const v = (doc as { config?: Record<string, unknown> } | undefined)?.config?.[key];
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : undefined;
}

export function configFileTarget(projectDir: string, stack: string): Target | undefined {
  const t = configFileValue(projectDir, stack, "lab:target");
  return isTarget(t) ? t : undefined;
}

export interface StackTarget {
  /** undefined: nothing recorded (no tag, no config file) or no such stack. */
  target?: Target;
  source?: "tag" | "config file";
}

/** Each stack's recorded target, read a few at a time. */
export async function recordedTargets(
  reader: LabEngine,
  projectDir: string,
  stacks: string[],
  concurrency = 4,
): Promise<Map<string, StackTarget>> {
  const limit = pLimit(concurrency);
  const found = await Promise.all(
    stacks.map((stack) =>
      limit(async (): Promise<[string, StackTarget]> => {
        const tag = await reader.tags(stack).then(
          (t) => t[TARGET_TAG],
          () => undefined, // no such stack (yet)
        );
        if (isTarget(tag)) return [stack, { target: tag, source: "tag" }];
        const file = configFileTarget(projectDir, stack);
        return [stack, file ? { target: file, source: "config file" } : {}];
      }),
    ),
  );
  return new Map(found);
}

/** Routes each stack's calls to its target's engine; calls that name no stack go to `fallback`'s. */
export class TargetEngine extends ForwardingEngine {
  constructor(
    private readonly engines: Partial<Record<Target, LabEngine>>,
    private readonly targets: Map<string, Target>,
    private readonly fallback: Target,
    private readonly now: () => number = Date.now,
  ) {
    super();
  }

  targetOf(stack: string): Target {
    return this.targets.get(stack) ?? this.fallback;
  }

  protected inner(stack?: string): LabEngine {
    const target = stack === undefined ? this.fallback : this.targetOf(stack);
    const engine = this.engines[target];
    if (!engine) throw new Error(`no engine for target ${target}${stack ? ` (stack ${stack})` : ""}`);
    return engine;
  }

  private all(): LabEngine[] {
    return Object.values(this.engines).filter((e): e is LabEngine => e !== undefined);
  }

  override async check(): Promise<void> {
    for (const e of this.all()) await e.check();
  }

  override async setup(): Promise<void> {
    for (const e of this.all()) await e.setup();
  }

  /** A created stack records its target (and, the first time, when it was created). */
  override async prepare(
    stack: string,
    config: Record<string, string>,
    create: boolean,
    secrets?: Record<string, string>,
  ): Promise<void> {
    const e = this.inner(stack);
    await e.prepare(stack, config, create, secrets);
    if (!create) return;
    // Best effort: without them the stack falls back to its config file and its history; a
    // backend without tags fails the leftovers record next, with the reason (ledger.ts).
    try {
      const tags = await e.tags(stack);
      const target = this.targetOf(stack);
      if (tags[TARGET_TAG] !== target) await e.setTag(stack, TARGET_TAG, target);
      if (tags[CREATED_TAG] === undefined)
        await e.setTag(stack, CREATED_TAG, new Date(this.now()).toISOString());
    } catch {
      // see above
    }
  }

  override async endOrphans(): Promise<string[]> {
    const lines: string[] = [];
    for (const e of this.all()) lines.push(...(await e.endOrphans()));
    return lines;
  }
}
