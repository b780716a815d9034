/** `list` and the selection behind `reap`: lab stacks with their attendee, age, last result and URL. */
import pLimit from "p-limit";
import { LabEngine } from "./engine";
import { explain } from "./errors";
import { table } from "../reports/summary";
import { CREATED_TAG, TARGET_TAG, configFileTarget } from "./targets";
import { FOUNDATION, foundationStack } from "./foundation";
import { formatAge } from "../reports/format";

export interface LabStackInfo {
  stack: string;
  attendee: string;
  /** The target recorded on the stack (its tag, else the checkout's Pulumi.<stack>.yaml). */
  target?: string;
  resourceCount?: number;
  createdAt?: Date;
  lastUpdate?: Date;
  lastResult?: string;
  serviceUrl?: string;
  error?: string;
}

/** Every stack named `<prefix>-…` in the backend, described (a few at a time). */
export async function describeLabStacks(
  engine: LabEngine,
  prefix: string,
  projectDir?: string,
  concurrency = 4,
): Promise<LabStackInfo[]> {
  const foundation = foundationStack(prefix);
  const stacks = (await engine.list()).filter(
    (s) => s.name.startsWith(`${prefix}-`) || s.name === foundation,
  );
  const limit = pLimit(concurrency);
  return Promise.all(
    stacks.map((s) =>
      limit(async () => {
        const info: LabStackInfo = {
          stack: s.name,
          attendee: s.name === foundation ? FOUNDATION : s.name.slice(prefix.length + 1),
          resourceCount: s.resourceCount,
          lastUpdate: s.lastUpdate,
        };
        try {
          const tags = await engine.tags(s.name);
          info.target = tags[TARGET_TAG] ?? (projectDir ? configFileTarget(projectDir, s.name) : undefined);
          await engine.prepare(s.name, {}, false);
          const h = await engine.history(s.name);
          // A stack whose first update never finished has no history: aged from its creation.
          const created = tags[CREATED_TAG] ? new Date(tags[CREATED_TAG]) : undefined;
          info.createdAt = h.createdAt ?? (created && !Number.isNaN(created.getTime()) ? created : undefined);
          if (h.last) info.lastResult = `${h.last.kind} ${h.last.result}`;
          const out = await engine.outputs(s.name);
          if (typeof out.serviceUrl === "string") info.serviceUrl = out.serviceUrl;
          if (typeof out.attendee === "string") info.attendee = out.attendee;
        } catch (e) {
          info.error = explain(e, s.name);
        }
        return info;
      }),
    ),
  );
}

/** Age from the oldest operation recorded, else the last update; undefined when unknown. */
export function ageMs(info: LabStackInfo, now: number): number | undefined {
  const t = info.createdAt ?? info.lastUpdate;
  return t ? now - t.getTime() : undefined;
}

export function listTable(infos: LabStackInfo[], now: number): string {
  if (infos.length === 0) return "no lab stacks";
  const rows = [["stack", "attendee", "target", "age", "resources", "last result", "url"]];
  for (const i of infos) {
    const age = ageMs(i, now);
    rows.push([
      i.stack,
      i.attendee,
      i.target ?? "?",
      age === undefined ? "?" : formatAge(age),
      i.resourceCount === undefined ? "?" : String(i.resourceCount),
      i.error ? `error: ${i.error}` : (i.lastResult ?? "never updated"),
      i.serviceUrl ?? "",
    ]);
  }
  return table(rows);
}
