/**
 * Runs a LabRequest (request.ts): up, verify, destroy, run over attendees. The others are in
 * stackCommands.ts, and the engines per target in engines.ts. Each returns the exit code.
 */
import { localClusterConfig } from "../local/cluster";
import { Display, liveDisplay, plainDisplay } from "../reports/progress";
import { Redactor, redactedDisplay, redactedOutput, runRedactor } from "../reports/redact";
import { runAll, stackName } from "../lifecycle/runner";
import { noteSignals } from "../lifecycle/signals";
import { FOUNDATIONS, foundationStack } from "../lifecycle/foundation";
import { localEnv } from "../local/toolchain";
import { Command, RunOutcome, RunSettings } from "../lifecycle/types";
import { COMMANDS, changesStacks } from "../lifecycle/commands";
import { TargetEngine } from "../lifecycle/targets";
import { StackListing } from "../lifecycle/engine";
import { DEFAULTS, Target } from "../../infra/config";
import * as v from "./validate";
import { heldSecretProblems } from "./labconfig";
import { ephemeralStateWarning } from "./stateWarning";
import { releaseCluster, startCluster } from "./clusterGuard";
import { creatingEngine, existingEngine } from "./engines";
import { EXIT, usageError } from "./exit";
import { finish } from "./finish";
import { CliDeps } from "./types";
import { sweepFor, workshopFoundation } from "./workshop";
import { autoPreflight } from "./autoPreflight";
import { errorMessage } from "../errors";
import { LabRequest, Parsed, parseLabRequest } from "./request";

function display(d: CliDeps): Display {
  return d.tty ? liveDisplay(d.tty, d.now) : plainDisplay((l) => d.out(l), d.now);
}

/** up, verify, destroy, run as typed on the command line. */
export async function labCommand(command: Command, o: v.RawOptions, d: CliDeps): Promise<number> {
  return runParsed(command, parseLabRequest(command, o, d.env), d);
}

/** The destroy reap and --leftovers built from the stacks they found. */
export function runDestroy(parsed: Parsed, d: CliDeps): Promise<number> {
  return runParsed("destroy", parsed, d);
}

async function runParsed(command: Command, parsed: Parsed, d: CliDeps): Promise<number> {
  if (!parsed.request) return usageError(d, command, parsed.problems);
  return runLabRequest(parsed.request, d);
}

/** The request's stacks: its labs, and the workshop's foundation when the command changes stacks. */
function stacksOf(r: LabRequest): string[] {
  // The foundation's target is resolved (and checked) with the labs'.
  const withFoundation = FOUNDATIONS && changesStacks(r.command);
  return [
    ...r.attendees.map((n) => stackName(r.prefix, n)),
    ...(withFoundation ? [foundationStack(r.prefix)] : []),
  ];
}

/** up/run: the command's target for every stack; verify/destroy: each stack's own. */
function routedEngine(r: LabRequest, d: CliDeps, stacks: string[]): ReturnType<typeof creatingEngine> {
  const { plan, command } = r;
  if (COMMANDS[command].creates)
    return creatingEngine(d, command, r.access, stacks, plan.target, { ...plan.config, ...plan.secrets });
  const given = r.targetNamed ? plan.target : undefined;
  return existingEngine(d, command, r.access, stacks, given, DEFAULTS.target as Target);
}

/** Secrets the stacks already hold that this line would change: a problem before anything runs. */
async function heldSecrets(
  r: LabRequest,
  d: CliDeps,
  engine: TargetEngine,
  stacks: string[],
): Promise<number | undefined> {
  if (!COMMANDS[r.command].creates) return undefined;
  const held = await heldSecretProblems(stacks, r.plan.config, (s) => engine.secretKeys(s));
  return held.length > 0 ? usageError(d, r.command, held) : undefined;
}

/** aws up/run: the quota and AZ preflight of the new labs (--no-preflight skips it). */
async function preflight(r: LabRequest, d: CliDeps, listing: StackListing[]): Promise<number | undefined> {
  if (!COMMANDS[r.command].creates || r.plan.target !== "aws" || !r.preflight || !d.preflight)
    return undefined;
  const misfit = await autoPreflight(d.preflight, {
    attendees: r.attendees,
    prefix: r.prefix,
    config: r.plan.config,
    listing,
    out: d.out,
    err: d.err,
  }).catch((e: unknown) => `the preflight could not run (${errorMessage(e)}); --no-preflight skips it`);
  if (!misfit) return undefined;
  d.err(`lab ${r.command}: ${misfit}`);
  return EXIT.failed;
}

/** A request's run: its engine, redactor and listing, settled before the labs start. */
interface Prepared {
  r: LabRequest;
  d: CliDeps;
  engine: TargetEngine;
  redactor: Redactor;
  listing: StackListing[];
  anyLocal: boolean;
  started: number;
}

export async function runLabRequest(r: LabRequest, given: CliDeps): Promise<number> {
  let d = given;
  const started = d.now();
  const ephemeral = ephemeralStateWarning(
    r.command,
    { keep: r.keep, backend: r.access.backend },
    d.env,
    d.projectDir,
  );
  if (ephemeral) d.err(`lab ${r.command}: ${ephemeral}`);
  const stacks = stacksOf(r);
  const routed = await routedEngine(r, d, stacks);
  if (typeof routed === "number") return routed;
  if (routed.problems.length > 0) return usageError(d, r.command, routed.problems);
  const engine = routed.engine;
  const anyLocal = stacks.some((s) => engine.targetOf(s) === "local");
  // From here on every line, log, report and note goes through the redactor.
  const redactor = runRedactor({
    env: anyLocal ? localEnv(d.env, d.toolchain) : d.env,
    projectDir: d.projectDir,
    secrets: r.plan.secrets,
  });
  d = redactedOutput(d, redactor);
  const held = await heldSecrets(r, d, engine, stacks);
  if (held !== undefined) return held;
  const listing = changesStacks(r.command) ? await engine.list() : [];
  const misfit = await preflight(r, d, listing);
  if (misfit !== undefined) return misfit;
  return inCluster({ r, d, engine, redactor, listing, anyLocal, started });
}

/**
 * The lab's own cluster runs while a lab of it exists: started here, and stopped after the
 * command unless a lab is left in it. A cluster the user names is joined, never started or stopped.
 */
async function inCluster(p: Prepared): Promise<number> {
  const { r, d } = p;
  const cluster =
    p.anyLocal && r.plan.config["lab:kubeconfig"] === undefined ? d.localCluster?.() : undefined;
  // From before the cluster starts until it is released, no signal may take its default action
  // (ending the process with the cluster running): noted; runAll cancels on its own.
  const guard = cluster ? noteSignals(d.signals) : undefined;
  if (cluster) {
    const failed = await startCluster(d, r.command, cluster);
    if (failed !== undefined) return (guard?.off(), failed);
  }
  let released = !cluster;
  const release = async (): Promise<boolean> => {
    if (released || !cluster) return true;
    released = true;
    return releaseCluster(d, r.command, cluster);
  };
  try {
    if (r.plan.target === "local" && COMMANDS[r.command].creates) {
      // The cluster's kubeconfig (LAB_KUBECONFIG) and the architectures its nodes have.
      const found = await localClusterConfig(r.plan.config, localEnv(d.env, d.toolchain), d.listNodes);
      if (found.problems.length > 0) return usageError(d, r.command, found.problems);
      Object.assign(r.plan.config, found.config);
    }
    if (guard?.signal) {
      d.err(`lab ${r.command}: ${guard.signal} before any lab started: nothing was created`);
      return EXIT.failed;
    }
    const settings = runSettings(p);
    const outcome = await runLabs(p, settings);
    // Before the summary, so that the summary is the last thing printed.
    const stopped = await release();
    const code = finish(d, r.command, r.reports, p.started, outcome, reportSettings(p, settings), p.redactor);
    return stopped ? code : EXIT.failed;
  } finally {
    await release();
    guard?.off();
  }
}

/** The one settings object of a run: what the runner is given, and (secrets by name) what the report says. */
function runSettings(p: Prepared): RunSettings {
  const { r } = p;
  return {
    command: r.command,
    attendees: r.attendees,
    prefix: r.prefix,
    concurrency: r.concurrency,
    config: r.plan.config,
    secrets: r.plan.secrets,
    keep: r.keep,
    preview: r.preview,
    destroyTries: r.destroyTries,
    retryDelayMs: 15_000,
    foundation: workshopFoundation(r.command, r.prefix, r.attendees, r.plan.config, p.listing),
  };
}

function reportSettings(p: Prepared, s: RunSettings): Record<string, unknown> {
  return {
    attendees: s.attendees,
    prefix: s.prefix,
    concurrency: s.concurrency,
    config: s.config,
    secrets: Object.keys(s.secrets ?? {}),
    keep: s.keep,
    requests: p.r.verify.requests,
    trafficDeadlineMs: p.r.verify.trafficDeadlineMs,
    variants: p.r.verify.variants ?? p.anyLocal,
  };
}

async function runLabs(p: Prepared, settings: RunSettings): Promise<RunOutcome> {
  const { r, d, redactor, engine } = p;
  redactor.addKubeconfigFile(r.plan.config["lab:kubeconfig"]);
  const ui = redactedDisplay(display(d), redactor);
  try {
    return await runAll(settings, {
      engine,
      verify: (out, signal, note, lab) => {
        // Outputs carry no registry password any more (infra/image.ts); kubeconfig credentials remain.
        redactor.addKubeconfig(out.kubeconfig);
        return d.verify(out, signal, note, lab, r.verify);
      },
      progress: ui,
      openLog: d.openLog,
      signals: d.signals,
      exit: (exitCode) => {
        ui.stop();
        d.exit(exitCode);
      },
      say: (t) => ui.say(t),
      now: d.now,
      sleep: d.sleep,
      sweep: sweepFor(d.sweepLab, engine, r.prefix),
    });
  } finally {
    ui.stop();
  }
}
