/**
 * The command over attendees (up, verify, destroy, run) after commander has parsed the line; the
 * others are in stack-commands.ts, and the engines per target in engines.ts. Each returns the exit code.
 */
import * as path from "node:path";
import { LabEngine } from "../lifecycle/engine";
import { VerifyFn } from "../lifecycle/lifecycle";
import { ClusterControl, NodeLister, localClusterConfig } from "../local/cluster";
import { Display, liveDisplay, plainDisplay } from "../reports/progress";
import { RunReport, writeJson, writeJunit } from "../reports/report";
import { Redactor, redactedDisplay, redactedOutput, runRedactor } from "../reports/redact";
import { RunOutcome, SignalSource, noteSignals, runAll, stackName } from "../lifecycle/runner";
import { FOUNDATIONS, foundationStack } from "../lifecycle/foundation";
import { StateSettings } from "../lifecycle/state";
import { Toolchain, localEnv } from "../local/toolchain";
import { failureLines, summaryTable } from "../reports/summary";
import { Command, LabLog } from "../lifecycle/types";
import { DEFAULTS, Target } from "../../infra/config";
import * as v from "./validate";
import { heldSecretProblems } from "./labconfig";
import { VerifyOptions } from "../verify";
import { ephemeralStateWarning, leftoversCommand } from "./leftovers";
import { releaseCluster, startCluster } from "./cluster-guard";
import { creatingEngine, existingEngine } from "./engines";
import { EXIT } from "./exit";
import { verifyUrlCommand } from "./stack-commands";
import { LabSweeper } from "./sweeps";
import { sweepFor, usesFoundation, workshopFoundation } from "./workshop";
import { PreflightFn, autoPreflight } from "./auto-preflight";

export { EXIT };

/** The verify settings of a command line (--requests, --traffic-deadline, --[no-]variants). */
export interface VerifySettings {
  requests: number;
  trafficDeadlineMs: number;
  /** undefined: the default (variants only for the local target). */
  variants?: boolean;
}

export interface CliDeps {
  projectDir: string;
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  /** The terminal for the live display; undefined → plain lines (CI). */
  tty?: NodeJS.WriteStream;
  engineFactory: (s: StateSettings) => LabEngine;
  /** The verify checks of one lab, with the command's verify settings. */
  verify: (...a: [...Parameters<VerifyFn>, VerifySettings]) => ReturnType<VerifyFn>;
  /** Test seam for `verify --url` (clock). */
  verifyOptions?: Partial<VerifyOptions>;
  openLog: (stack: string) => LabLog;
  signals: SignalSource;
  exit: (code: number) => void;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  /** The local toolchain file (env.json) as loaded at start; undefined when not loaded (tests). */
  toolchain?: Toolchain;
  /** Test seam: the nodes of the local cluster a kubeconfig file names. */
  listNodes?: NodeLister;
  /** The lab's own local cluster to start and stop; undefined: none (a joined cluster or aws). */
  localCluster?: () => ClusterControl | undefined;
  /** The quota preflight before an aws up/run (aws/preflight.ts); undefined: none (tests). */
  preflight?: PreflightFn;
  /** The sweep after each destroy (cli/sweeps.ts); undefined: none (tests). */
  sweepLab?: LabSweeper;
  /** Docker credentials for the engine's ECR push (automation/aws/ecrLogin.ts); undefined in tests. */
  registryLogin?: (region: string) => Promise<{ envVars: Record<string, string> }>;
}

export function usageError(d: CliDeps, command: string, problems: string[]): number {
  const n = problems.length;
  d.err(
    `lab ${command}: ${n} problem${n === 1 ? "" : "s"}, nothing was created:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  );
  d.err(`Run \`npm run lab -- ${command} --help\` for usage.`);
  return EXIT.usage;
}

function display(d: CliDeps): Display {
  return d.tty ? liveDisplay(d.tty, d.now) : plainDisplay((l) => d.out(l), d.now);
}

export function finish(
  d: CliDeps,
  command: Command,
  o: v.RawOptions,
  started: number,
  outcome: RunOutcome,
  settings: Record<string, unknown>,
  redactor?: Redactor,
): number {
  const { results, interrupted, foundation } = outcome;
  const passed =
    (results.length > 0 || foundation !== undefined) &&
    results.every((r) => r.passed) &&
    !interrupted &&
    foundation?.passed !== false;
  const exitCode = passed ? EXIT.ok : EXIT.failed;
  // The foundation is a row of its own (first), not one of the labs counted below.
  const rows = foundation ? [foundation, ...results] : results;
  d.out(`\n${summaryTable(rows)}`);
  for (const line of failureLines(rows)) d.out(`  ${line}`);
  const holding = rows.filter(
    (r) => r.holdsResources && r.up !== undefined && r.destroy?.status !== "skipped",
  );
  if (interrupted && holding.length > 0)
    d.err(`interrupted: these stacks may still hold resources: ${holding.map((r) => r.stack).join(", ")}`);
  const report: RunReport = {
    command,
    startedAt: new Date(started).toISOString(),
    finishedAt: new Date(d.now()).toISOString(),
    passed,
    interrupted,
    exitCode,
    settings,
    leftovers: outcome.leftovers,
    foundation,
    labs: results,
  };
  if (o.report) writeJson(o.report, report, redactor);
  if (o.junit) writeJunit(o.junit, report, redactor);
  d.out(
    `${results.filter((r) => r.passed).length} of ${results.length} labs passed${interrupted ? " (interrupted)" : ""}`,
  );
  return exitCode;
}

/** up, verify, destroy, run over attendees (and verify --url without a stack). */
export async function labCommand(command: Command, o: v.RawOptions, given: CliDeps): Promise<number> {
  let d = given;
  const started = d.now();
  const problems = new v.Problems();
  if (command === "verify" && o.url !== undefined) return verifyUrlCommand(o, d, problems, started);
  if (command === "destroy" && o.leftovers) return leftoversCommand("destroy", o, d);
  const names = o.foundationOnly ? [] : v.attendees(o, problems);
  const concurrency = v.positiveInt("--concurrency", o.concurrency, 4, problems, 64);
  const requests = v.positiveInt("--requests", o.requests, 40, problems);
  const destroyTries = v.positiveInt("--destroy-tries", o.destroyTries, 3, problems, 10);
  const trafficDeadlineMs = v.duration("--traffic-deadline", o.trafficDeadline, 10 * 60_000, problems);
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  // verify/destroy act on stacks as they are: their config is the stacks' own, not checked again here.
  const plan = v.stackConfig(
    o,
    names,
    d.env,
    problems,
    command === "up" || command === "run",
    usesFoundation(o) ? foundationStack(prefix) : undefined,
  );
  if (problems.list.length > 0) return usageError(d, command, problems.list);
  const ephemeral = ephemeralStateWarning(command, o, d.env, d.projectDir);
  if (ephemeral) d.err(`lab ${command}: ${ephemeral}`);

  const creating = command === "up" || command === "run";
  // The foundation's target is resolved (and checked) with the labs'.
  const withFoundation = FOUNDATIONS && command !== "verify";
  const stacks = [
    ...names.map((n) => stackName(prefix, n)),
    ...(withFoundation ? [foundationStack(prefix)] : []),
  ];
  // up/run: the command's target for every stack; verify/destroy: each stack's own.
  const routed = creating
    ? await creatingEngine(d, command, o, stacks, plan.target, { ...plan.config, ...plan.secrets })
    : await existingEngine(
        d,
        command,
        o,
        stacks,
        o.target !== undefined || plan.config["lab:target"] !== undefined ? plan.target : undefined,
        DEFAULTS.target as Target,
      );
  if (typeof routed === "number") return routed;
  if (routed.problems.length > 0) return usageError(d, command, routed.problems);
  const engine = routed.engine;
  const anyLocal = stacks.some((s) => engine.targetOf(s) === "local");
  // From here on every line, log, report and note goes through the redactor.
  const redactor = runRedactor({
    env: anyLocal ? localEnv(d.env, d.toolchain) : d.env,
    projectDir: d.projectDir,
    secrets: plan.secrets,
  });
  d = redactedOutput(d, redactor);
  if (creating) {
    const held = await heldSecretProblems(stacks, plan.config, (s) => engine.secretKeys(s));
    if (held.length > 0) return usageError(d, command, held);
  }
  const listing = creating || command === "destroy" ? await engine.list() : [];
  if (creating && plan.target === "aws" && o.preflight !== false && d.preflight) {
    const misfit = await autoPreflight(d.preflight, {
      attendees: names,
      prefix,
      config: plan.config,
      listing,
      out: d.out,
      err: d.err,
    }).catch(
      (e: unknown) =>
        `the preflight could not run (${e instanceof Error ? e.message : String(e)}); --no-preflight skips it`,
    );
    if (misfit) {
      d.err(`lab ${command}: ${misfit}`);
      return EXIT.failed;
    }
  }
  // The lab's own cluster runs while a lab of it exists: started here, and stopped after the
  // command unless a lab is left in it. A cluster the user names is joined, never started or stopped.
  const cluster = anyLocal && plan.config["lab:kubeconfig"] === undefined ? d.localCluster?.() : undefined;
  // From before the cluster starts until it is released, no signal may take its default action
  // (ending the process with the cluster running): noted; runAll cancels on its own.
  const guard = cluster ? noteSignals(d.signals) : undefined;
  if (cluster) {
    const failed = await startCluster(d, command, cluster);
    if (failed !== undefined) return (guard?.off(), failed);
  }
  let released = !cluster;
  const release = async (): Promise<boolean> => {
    if (released || !cluster) return true;
    released = true;
    return releaseCluster(d, command, cluster);
  };
  try {
    if (plan.target === "local" && (command === "up" || command === "run")) {
      // The cluster's kubeconfig (LAB_KUBECONFIG) and the architectures its nodes have.
      const found = await localClusterConfig(plan.config, localEnv(d.env, d.toolchain), d.listNodes);
      if (found.problems.length > 0) return usageError(d, command, found.problems);
      Object.assign(plan.config, found.config);
    }
    if (guard?.signal) {
      d.err(`lab ${command}: ${guard.signal} before any lab started: nothing was created`);
      return EXIT.failed;
    }
    redactor.addKubeconfigFile(plan.config["lab:kubeconfig"]);
    const ui = redactedDisplay(display(d), redactor);
    const settings = {
      attendees: names,
      prefix,
      concurrency,
      config: plan.config,
      secrets: Object.keys(plan.secrets),
      keep: !!o.keep,
      requests,
      trafficDeadlineMs,
      variants: o.variants ?? anyLocal,
    };
    let outcome: RunOutcome;
    try {
      outcome = await runAll(
        {
          command,
          attendees: names,
          prefix,
          concurrency,
          config: plan.config,
          secrets: plan.secrets,
          keep: !!o.keep,
          preview: o.preview !== false,
          destroyTries,
          retryDelayMs: 15_000,
          foundation: workshopFoundation(command, prefix, names, plan.config, listing),
        },
        {
          engine,
          verify: (out, signal, note, lab) => {
            // Outputs carry no registry password any more (infra/image.ts); kubeconfig credentials remain.
            redactor.addKubeconfig(out.kubeconfig);
            return d.verify(out, signal, note, lab, { requests, trafficDeadlineMs, variants: o.variants });
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
          sweep: sweepFor(d.sweepLab, engine, prefix),
        },
      );
    } finally {
      ui.stop();
    }
    // Before the summary, so that the summary is the last thing printed.
    const stopped = await release();
    const code = finish(d, command, o, started, outcome, settings, redactor);
    return stopped ? code : EXIT.failed;
  } finally {
    await release();
    guard?.off();
  }
}

/**
 * The workshop's foundation for up/run (sized for every attendee stack of the workshop, not only
 * this command's: a later `up --attendees carol` must not shrink what alice and bob run on) and for
 * destroy (removed once no attendee stack is left); none for verify.
 */
export const defaultLogDir = (projectDir: string): string => path.join(projectDir, ".lab-logs");
