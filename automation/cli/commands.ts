/** The actions behind each command, after commander has parsed the line. Each returns the exit code. */
import * as path from "node:path";
import { EngineUnavailableError, LabEngine } from "../lifecycle/engine";
import { VerifyFn } from "../lifecycle/lifecycle";
import { ClusterControl, NodeLister, localClusterConfig } from "../local/cluster";
import { memoryLog } from "../reports/logs";
import { Display, liveDisplay, plainDisplay } from "../reports/progress";
import { AWS_CREDENTIALS_HELP, awsCredentialSource } from "../aws/credentials";
import { RunReport, writeJson, writeJunit } from "../reports/report";
import { Redactor, redactedDisplay, redactedOutput, runRedactor } from "../reports/redact";
import { RunOutcome, SignalSource, noteSignals, runAll, stackName } from "../lifecycle/runner";
import { StateSettings, resolveState } from "../lifecycle/state";
import { Toolchain, toolchainFile } from "../local/toolchain";
import { ageMs, describeLabStacks, listTable } from "../lifecycle/stacks";
import { failureLines, summaryTable } from "../reports/summary";
import { Command, LabLog, LabResult } from "../lifecycle/types";
import * as v from "./validate";
import { heldSecretProblems } from "./labconfig";
import { VerifyOptions, verifyUrl } from "../verify";
import { ephemeralStateWarning, leftoversCommand } from "./leftovers";

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

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

/**
 * The message for a missing Pulumi CLI. The local target gets its CLI from `npm run setup:local`
 * (built into the cache, put on PATH through env.json); the aws target from Pulumi's installer.
 */
export function missingCliMessage(
  base: string,
  target: string | undefined,
  toolchain: Toolchain | undefined,
  env: NodeJS.ProcessEnv,
): string {
  const file = toolchain?.file ?? toolchainFile(env);
  if (target === "local") {
    return toolchain?.loaded
      ? `the Pulumi CLI was not found on PATH, even with the local toolchain's PATH from ${file}: ` +
          "run `npm run setup:local` again, then run the command again."
      : `the Pulumi CLI was not found on PATH and the local toolchain is not set up (no ${file}): ` +
          "run `npm run setup:local`, then run the command again.";
  }
  if (target === undefined && !toolchain?.loaded)
    return `${base} For the local target, run \`npm run setup:local\` instead.`;
  return base;
}

/**
 * The engine after the cheap local checks: AWS credentials (aws target only) and the Pulumi CLI.
 * `target` undefined: the command works on any lab (list).
 */
export async function engineFor(
  d: CliDeps,
  command: string,
  o: v.RawOptions,
  target: string | undefined,
  config: Record<string, string>,
): Promise<LabEngine | number> {
  if (target === "aws" && o.awsCheck !== false && !awsCredentialSource(d.env, config)) {
    d.err(`lab ${command}: ${AWS_CREDENTIALS_HELP}`);
    return EXIT.usage;
  }
  const state = resolveState(d.projectDir, o.backend, d.env);
  // The toolchain's PATH and variables reach the CLI explicitly (the driver's own settings win).
  state.envVars = { ...d.toolchain?.envVars, ...state.envVars };
  const region = config["aws:region"];
  if (target === "aws" && (command === "up" || command === "run") && d.registryLogin && region) {
    try {
      Object.assign(state.envVars, (await d.registryLogin(region)).envVars);
    } catch (e) {
      d.err(`lab ${command}: no ECR token (${(e as Error).message}); the push uses Docker's own credentials`);
    }
  }
  const engine = d.engineFactory(state);
  try {
    await engine.check();
  } catch (e) {
    if (!(e instanceof EngineUnavailableError)) throw e;
    const text =
      e.reason === "missing-cli" ? missingCliMessage(e.message, target, d.toolchain, d.env) : e.message;
    d.err(`lab ${command}: ${text}`);
    return EXIT.usage;
  }
  return engine;
}

function display(d: CliDeps): Display {
  return d.tty ? liveDisplay(d.tty, d.now) : plainDisplay((l) => d.out(l), d.now);
}

function finish(
  d: CliDeps,
  command: Command,
  o: v.RawOptions,
  started: number,
  outcome: RunOutcome,
  settings: Record<string, unknown>,
  redactor?: Redactor,
): number {
  const { results, interrupted } = outcome;
  const passed = results.length > 0 && results.every((r) => r.passed) && !interrupted;
  const exitCode = passed ? EXIT.ok : EXIT.failed;
  d.out(`\n${summaryTable(results)}`);
  for (const line of failureLines(results)) d.out(`  ${line}`);
  const holding = results.filter(
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
  const names = v.attendees(o, problems);
  const concurrency = v.positiveInt("--concurrency", o.concurrency, 4, problems, 64);
  const requests = v.positiveInt("--requests", o.requests, 40, problems);
  const destroyTries = v.positiveInt("--destroy-tries", o.destroyTries, 3, problems, 10);
  const trafficDeadlineMs = v.duration("--traffic-deadline", o.trafficDeadline, 10 * 60_000, problems);
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  const plan = v.stackConfig(o, names, d.env, problems);
  if (problems.list.length > 0) return usageError(d, command, problems.list);
  const ephemeral = ephemeralStateWarning(command, o, d.env, d.projectDir);
  if (ephemeral) d.err(`lab ${command}: ${ephemeral}`);

  const engine = await engineFor(d, command, o, plan.target, { ...plan.config, ...plan.secrets });
  if (typeof engine === "number") return engine;
  // From here on every line, log, report and note goes through the redactor.
  const redactor = runRedactor({ env: d.env, projectDir: d.projectDir, secrets: plan.secrets });
  d = redactedOutput(d, redactor);
  if (command === "up" || command === "run") {
    const stacks = names.map((n) => stackName(prefix, n));
    const held = await heldSecretProblems(stacks, plan.config, (s) => engine.secretKeys(s));
    if (held.length > 0) return usageError(d, command, held);
  }
  // The lab's own cluster runs while a lab of it exists: started here, and stopped after the
  // command unless a lab is left in it. A cluster the user names is joined, never started or stopped.
  const cluster =
    plan.target === "local" && plan.config["lab:kubeconfig"] === undefined ? d.localCluster?.() : undefined;
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
      const found = await localClusterConfig(plan.config, d.env, d.listNodes);
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
      variants: o.variants ?? plan.target === "local",
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

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Runs `fn` with SIGINT/SIGTERM noted instead of ending the process: starting or stopping the
 * cluster takes seconds, and a process killed half-way would leave it half-running.
 */
async function shielded<T>(d: CliDeps, fn: () => Promise<T>): Promise<{ value: T; interrupted: boolean }> {
  let interrupted = false;
  const off = d.signals.on(() => {
    if (!interrupted) d.err("lab: signal received; finishing the local cluster's start or stop first");
    interrupted = true;
  });
  try {
    return { value: await fn(), interrupted };
  } finally {
    off();
  }
}

/** Starts the lab's own cluster; on failure or a signal, stops it again and returns the exit code. */
async function startCluster(
  d: CliDeps,
  command: Command,
  cluster: ClusterControl,
): Promise<number | undefined> {
  const { value: error, interrupted } = await shielded(d, () =>
    cluster.start().then(
      (summary) => (d.out(`local cluster: ${summary}`), undefined),
      (e: unknown) => e,
    ),
  );
  if (error === undefined && !interrupted) return undefined;
  if (interrupted) d.err(`lab ${command}: interrupted while the local cluster started; stopping it`);
  else
    d.err(
      `lab ${command}: the local cluster did not start (${errorText(error)}): run \`npm run setup:local\` ` +
        "(as root), or join a cluster you run with --config kubeconfig=<file>",
    );
  await releaseCluster(d, command, cluster);
  return interrupted ? EXIT.failed : EXIT.usage;
}

/** Lets go of the lab's own cluster; false when it should have stopped and did not. */
async function releaseCluster(d: CliDeps, command: Command, cluster: ClusterControl): Promise<boolean> {
  const { value } = await shielded(d, () =>
    cluster.release().then(
      (summary) => (d.out(`local cluster: ${summary}`), true),
      (e: unknown) => (d.err(`lab ${command}: the local cluster did not stop (${errorText(e)})`), false),
    ),
  );
  return value;
}

async function verifyUrlCommand(
  o: v.RawOptions,
  d: CliDeps,
  problems: v.Problems,
  started: number,
): Promise<number> {
  const url = v.url(o.url as string, problems);
  const expect = v.expectArchs(o.expectArch, problems);
  const requests = v.positiveInt("--requests", o.requests, 40, problems);
  const trafficDeadlineMs = v.duration("--traffic-deadline", o.trafficDeadline, 10 * 60_000, problems);
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
  const engine = await engineFor(d, "list", o, undefined, {});
  if (typeof engine === "number") return engine;
  d.out(listTable(await describeLabStacks(engine, prefix), d.now()));
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
  const plan = v.stackConfig(o, [], d.env, problems);
  if (problems.list.length > 0) return usageError(d, "reap", problems.list);
  const engine = await engineFor(d, "reap", o, plan.target, plan.config);
  if (typeof engine === "number") return engine;
  const now = d.now();
  const infos = await describeLabStacks(engine, prefix);
  const old = infos.filter((i) => (ageMs(i, now) ?? -1) >= olderThan);
  for (const i of infos.filter((x) => ageMs(x, now) === undefined))
    d.out(`skipping ${i.stack}: age unknown (never updated)`);
  if (old.length === 0) {
    d.out(`no lab stacks older than ${o.olderThan}`);
    return EXIT.ok;
  }
  d.out(`reaping ${old.length} stack(s): ${old.map((i) => i.stack).join(", ")}`);
  return labCommand(
    "destroy",
    {
      ...o,
      attendees: [old.map((i) => i.stack.slice(prefix.length + 1)).join(",")],
      attendeesFile: undefined,
      config: [],
    },
    { ...d, engineFactory: () => engine },
  );
}

export const defaultLogDir = (projectDir: string): string => path.join(projectDir, ".lab-logs");
