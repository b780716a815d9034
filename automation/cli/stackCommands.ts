/**
 * The commands that act on stacks as they are: `list`, `reap --older-than`, and `verify --url` (no
 * stack at all). `list` and `reap` read each stack's own target (lifecycle/targets.ts), so one
 * `reap` handles local and aws labs together.
 */
import { TARGETS, Target } from "../../infra/config";
import { ageMs, describeLabStacks, listTable } from "../lifecycle/stacks";
import { LabResult } from "../lifecycle/types";
import { memoryLog } from "../reports/logs";
import { verifyUrl } from "../verify";
import { runDestroy } from "./commands";
import { destroyRequest } from "./request";
import { targetEngine } from "./engines";
import { EXIT, usageError } from "./exit";
import { finish } from "./finish";
import { CliDeps } from "./types";
import { leftoversCommand } from "./leftovers";
import { awsClients, closeClients } from "../aws/clients";
import { AWS_CREDENTIALS_HELP, awsCredentialSource } from "../aws/credentials";
import { sweep, sweepTable, taggedAttendees } from "../aws/sweep";
import { FOUNDATION } from "../lifecycle/foundation";
import { stackName } from "../lifecycle/runner";
import { foundationStack } from "../lifecycle/foundation";
import * as v from "./validate";
import { CLI_DEFAULTS, DEFAULT_TRAFFIC_DEADLINE_MS } from "./defaults";

export async function verifyUrlCommand(o: v.RawOptions, d: CliDeps): Promise<number> {
  const started = d.now();
  const problems = new v.Problems();
  const url = v.url(o.url as string, problems);
  const expect = v.expectArchs(o.expectArch, problems);
  const requests = v.positiveInt("--requests", o.requests, CLI_DEFAULTS.requests, problems);
  const trafficDeadlineMs = v.duration(
    "--traffic-deadline",
    o.trafficDeadline,
    DEFAULT_TRAFFIC_DEADLINE_MS,
    problems,
  );
  if (o.attendees || o.attendeesFile)
    problems.add("--url checks one endpoint without a stack: drop --attendees/--attendees-file");
  if (problems.list.length > 0) return usageError(d, "verify", problems.list);
  const log = memoryLog(url);
  const t0 = d.now();
  const check = await verifyUrl(
    url,
    { expectArchs: expect },
    { requests, trafficDeadlineMs, ...d.verifyOptions, note: (t) => d.out(t) },
  );
  const r: LabResult = {
    attendee: "url",
    stack: url,
    logFile: log.path,
    serviceUrl: url,
    verify: {
      status: check.status === "failed" ? "failed" : "passed",
      durationMs: d.now() - t0,
      checks: [check],
    },
    passed: check.status !== "failed",
    holdsResources: false,
  };
  d.out(`traffic: ${check.status}: ${check.summary}`);
  return finish(
    d,
    "verify",
    o,
    started,
    { results: [r], interrupted: false, leftovers: [] },
    { url, expect, requests, trafficDeadlineMs },
  );
}

export async function listCommand(o: v.RawOptions, d: CliDeps): Promise<number> {
  const problems = new v.Problems();
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  if (problems.list.length > 0) return usageError(d, "list", problems.list);
  const engine = await targetEngine(d, "list", o, undefined);
  if (typeof engine === "number") return engine;
  d.out(listTable(await describeLabStacks(engine, prefix, d.projectDir), d.now()));
  return EXIT.ok;
}

export async function reapCommand(o: v.RawOptions, d: CliDeps): Promise<number> {
  const problems = new v.Problems();
  if (o.leftovers) return leftoversCommand("reap", o, d);
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  if (o.olderThan === undefined)
    problems.add("--older-than <duration> (e.g. 12h) or --leftovers is required: which stacks to reap");
  const olderThan = v.duration("--older-than", o.olderThan, 0, problems);
  if (o.target !== undefined && !TARGETS.includes(o.target as Target))
    problems.add(`--target "${o.target}" is not one of ${TARGETS.join(", ")}`);
  const region = o.region === undefined ? undefined : v.awsRegion("--region", o.region, problems);
  if (region && o.awsCheck !== false && !awsCredentialSource(d.env, {})) problems.add(AWS_CREDENTIALS_HELP);
  if (problems.list.length > 0) return usageError(d, "reap", problems.list);
  const reader = await targetEngine(d, "reap", o, undefined);
  if (typeof reader === "number") return reader;
  const all = await describeLabStacks(reader, prefix, d.projectDir);
  // Before the destroys: a stack reaped now is no orphan (its destroy sweeps it).
  const orphans = region ? await orphanedAttendees(region, prefix, new Set(all.map((i) => i.stack))) : [];
  const code = await reapStacks(o, d, prefix, olderThan, all);
  if (!region) return code;
  const swept = await sweepOrphans(d, region, prefix, orphans);
  return Math.max(code, swept);
}

/** The attendees with resources tagged in `region` but no stack in the backend: their state is gone. */
async function orphanedAttendees(region: string, prefix: string, stacks: Set<string>): Promise<string[]> {
  const clients = awsClients(region);
  try {
    const tagged = await taggedAttendees(clients, prefix);
    return tagged.filter(
      (a) => !stacks.has(a === FOUNDATION ? foundationStack(prefix) : stackName(prefix, a)),
    );
  } finally {
    closeClients(clients);
  }
}

/** Sweeps each orphaned attendee by its tags (lab sweep --delete); 1 when anything is left. */
async function sweepOrphans(d: CliDeps, region: string, prefix: string, orphans: string[]): Promise<number> {
  if (orphans.length === 0) {
    d.out(`no resources in ${region} of a ${prefix} lab whose state is gone`);
    return EXIT.ok;
  }
  d.out(
    `sweeping ${orphans.length} lab(s) whose state is gone, by their tags in ${region}: ${orphans.join(", ")}`,
  );
  let left = 0;
  for (const attendee of orphans) {
    const r = await sweep(
      { region, workshop: prefix, attendee },
      { delete: true, log: (l) => d.out(`  ${l}`) },
    );
    d.out(`${attendee}:\n${sweepTable(r.items)}`);
    if (r.left.length > 0) d.err(`${attendee}: ${r.left.length} left:\n${sweepTable(r.left)}`);
    left += r.left.length;
  }
  return left === 0 ? EXIT.ok : EXIT.failed;
}

async function reapStacks(
  o: v.RawOptions,
  d: CliDeps,
  prefix: string,
  olderThan: number,
  all: Awaited<ReturnType<typeof describeLabStacks>>,
): Promise<number> {
  const now = d.now();
  // --target narrows the reap to labs of that target (or none recorded); each is destroyed with its own.
  const infos = all.filter((i) => o.target === undefined || i.target === undefined || i.target === o.target);
  const foundation = infos.find((i) => i.stack === foundationStack(prefix));
  const labs = infos.filter((i) => i !== foundation);
  const old = labs.filter((i) => (ageMs(i, now) ?? -1) >= olderThan);
  for (const i of labs.filter((x) => ageMs(x, now) === undefined))
    d.out(`skipping ${i.stack}: age unknown (never updated, and made before stacks recorded their creation)`);
  // The foundation goes with the last of its labs; alone when no lab of the workshop is left.
  const orphan = foundation && labs.length === 0 && (ageMs(foundation, now) ?? -1) >= olderThan;
  if (old.length === 0 && !orphan) {
    d.out(`no lab stacks older than ${o.olderThan}`);
    return EXIT.ok;
  }
  if (old.length === 0) {
    d.out(`reaping the workshop foundation ${foundationStack(prefix)}: no lab of it is left`);
    return runDestroy(destroyRequest(o, d.env, [], undefined), d);
  }
  d.out(`reaping ${old.length} stack(s): ${old.map((i) => i.stack).join(", ")}`);
  const names = old.map((i) => i.stack.slice(prefix.length + 1));
  return runDestroy(destroyRequest(o, d.env, names, undefined), d);
}
