/**
 * The command over attendees (up, verify, destroy, run) after commander has parsed the line; the
 * others are in stackCommands.ts, and the engines per target in engines.ts. Each returns the exit code.
 */
import { localClusterConfig } from "../local/cluster";
import { Display, liveDisplay, plainDisplay } from "../reports/progress";
import { redactedDisplay, redactedOutput, runRedactor } from "../reports/redact";
import { runAll, stackName } from "../lifecycle/runner";
import { noteSignals } from "../lifecycle/signals";
import { FOUNDATIONS, foundationStack } from "../lifecycle/foundation";
import { localEnv } from "../local/toolchain";
import { Command, RunOutcome } from "../lifecycle/types";
import { COMMANDS, changesStacks } from "../lifecycle/commands";
import { DEFAULTS, Target } from "../../infra/config";
import * as v from "./validate";
import { heldSecretProblems } from "./labconfig";
import { ephemeralStateWarning } from "./stateWarning";
import { releaseCluster, startCluster } from "./clusterGuard";
import { creatingEngine, existingEngine } from "./engines";
import { EXIT, usageError } from "./exit";
import { finish } from "./finish";
import { CliDeps } from "./types";
import { sweepFor, usesFoundation, workshopFoundation } from "./workshop";
import { autoPreflight } from "./autoPreflight";
import { errorMessage } from "../errors";
import { CLI_DEFAULTS, CLI_MAX, DEFAULT_TRAFFIC_DEADLINE_MS } from "./defaults";

function display(d: CliDeps): Display {
  return d.tty ? liveDisplay(d.tty, d.now) : plainDisplay((l) => d.out(l), d.now);
}

/** up, verify, destroy, run over attendees. */
export async function labCommand(command: Command, o: v.RawOptions, given: CliDeps): Promise<number> {
  let d = given;
  const started = d.now();
  const problems = new v.Problems();
  const names = o.foundationOnly ? [] : v.attendees(o, problems);
  const concurrency = v.positiveInt(
    "--concurrency",
    o.concurrency,
    CLI_DEFAULTS.concurrency,
    problems,
    CLI_MAX.concurrency,
  );
  const requests = v.positiveInt("--requests", o.requests, CLI_DEFAULTS.requests, problems);
  const destroyTries = v.positiveInt(
    "--destroy-tries",
    o.destroyTries,
    CLI_DEFAULTS.destroyTries,
    problems,
    CLI_MAX.destroyTries,
  );
  const trafficDeadlineMs = v.duration(
    "--traffic-deadline",
    o.trafficDeadline,
    DEFAULT_TRAFFIC_DEADLINE_MS,
    problems,
  );
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  // verify/destroy act on stacks as they are: their config is the stacks' own, not checked again here.
  const plan = v.stackConfig(
    o,
    names,
    d.env,
    problems,
    COMMANDS[command].creates,
    usesFoundation(o) ? foundationStack(prefix) : undefined,
  );
  if (problems.list.length > 0) return usageError(d, command, problems.list);
  const ephemeral = ephemeralStateWarning(command, o, d.env, d.projectDir);
  if (ephemeral) d.err(`lab ${command}: ${ephemeral}`);

  const creating = COMMANDS[command].creates;
  // The foundation's target is resolved (and checked) with the labs'.
  const withFoundation = FOUNDATIONS && changesStacks(command);
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
  const listing = changesStacks(command) ? await engine.list() : [];
  if (creating && plan.target === "aws" && o.preflight !== false && d.preflight) {
    const misfit = await autoPreflight(d.preflight, {
      attendees: names,
      prefix,
      config: plan.config,
      listing,
      out: d.out,
      err: d.err,
    }).catch((e: unknown) => `the preflight could not run (${errorMessage(e)}); --no-preflight skips it`);
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
    if (plan.target === "local" && creating) {
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
