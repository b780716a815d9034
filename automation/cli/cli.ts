/**
 * `lab`: the command workshop organisers and CI use instead of typing `pulumi up` per attendee.
 * `main(argv, deps)` returns the exit code (0 all labs passed, 1 any failed, 2 bad usage or input);
 * `run()` is the process entry used by bin/lab.js.
 */
import { Command as Commander, CommanderError, Option } from "commander";
import * as path from "node:path";
import { ecrDockerConfig } from "../aws/ecrLogin";
import { awsClients, closeClients } from "../aws/clients";
import { preflight } from "../aws/preflight";
import { labCommand } from "./commands";
import { EXIT } from "./exit";
import { leftoversCommand } from "./leftovers";
import { listCommand, reapCommand, verifyUrlCommand } from "./stackCommands";
import { CliDeps } from "./types";
import { labSweeper } from "./sweeps";
import { LocalLabEngine } from "../lifecycle/localEngine";
import { ownedCluster } from "../local/cluster";
import { defaultLogDir, fileLog } from "../reports/logs";
import { processSignals } from "../lifecycle/signals";
import { Toolchain, loadToolchain, localEnv } from "../local/toolchain";
import { dockerCli } from "../verify/docker";
import { Command } from "../lifecycle/types";
import { COMMANDS } from "../lifecycle/commands";
import { RawOptions } from "./validate";
import { registerAudit } from "./auditCommand";
import { registerPreflight } from "./preflightCommand";
import { registerSweep } from "./sweepCommand";
import { registerHandout } from "./handoutCommand";
import { verifyLab } from "../verify";
import { realClock } from "../verify/http";
import { GuardedStream, guardStream } from "./output";
import { errorDetail } from "../errors";
import { CLI_DEFAULTS } from "./defaults";

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const EXAMPLES: Record<string, string> = {
  run: `
Examples:
  $ npm run lab -- run --attendees alice,bob,carol --config aws:region=eu-west-1
  $ npm run lab -- run --attendees-file attendees.txt --concurrency 2 --report lab.json --junit lab.xml
  $ npm run lab -- run --attendees alice --config placement=arm64 --keep
  $ npm run lab -- run --target local --attendees alice --report lab.json`,
  up: `
Examples:
  $ npm run lab -- up --attendees alice,bob --config aws:region=eu-west-1
  $ npm run lab -- up --attendees-file attendees.txt --config replicas=6 --config taintArm=true
  $ npm run lab -- up --attendees alice --secret-env aws:accessKey=KEY_ID --secret-env aws:secretKey=KEY`,
  verify: `
Examples:
  $ npm run lab -- verify --attendees alice,bob --report verify.json
  $ npm run lab -- verify --target local --attendees alice
  $ npm run lab -- verify --url http://a1b2.elb.amazonaws.com/hello --expect-arch x86_64,aarch64
  $ npm run lab -- verify --url http://127.0.0.1:8080/hello --expect-arch aarch64 --requests 10`,
  destroy: `
Examples:
  $ npm run lab -- destroy --attendees alice,bob
  $ npm run lab -- destroy --attendees-file attendees.txt --destroy-tries 5
  $ npm run lab -- destroy --leftovers --stack-prefix ci-1234`,
  list: `
Examples:
  $ npm run lab -- list
  $ npm run lab -- list --stack-prefix ws2025`,
  reap: `
Examples:
  $ npm run lab -- reap --older-than 12h
  $ npm run lab -- reap --older-than 2d --stack-prefix ws2025 --report reap.json
  $ npm run lab -- reap --older-than 12h --stack-prefix ws2025 --region eu-west-1
  $ npm run lab -- reap --leftovers --stack-prefix ci-1234 --backend s3://my-bucket/lab-state`,
};

type Kind = "lab" | "list" | "reap";

/** Options by command kind: `lab` = up/verify/destroy/run over attendees; `reap` destroys; `list` only reads. */
function common(cmd: Commander, kind: Kind): Commander {
  if (kind === "lab") {
    cmd
      .option("--attendees <names>", "comma-separated attendee names (repeatable)", collect)
      .option("--attendees-file <file>", "attendee names, one per line (blank lines and # comments ignored)")
      .option("--concurrency <n>", `labs in flight at once (default ${CLI_DEFAULTS.concurrency})`)
      .option(
        "--config <key=value>",
        "stack config for every lab; keys without a namespace mean lab: (repeatable)",
        collect,
      )
      .option(
        "--secret <key=value>",
        "secret stack config (encrypted, never printed or reported), e.g. aws:secretKey=…; same keys as --config, lab: settings excepted (repeatable)",
        collect,
      )
      .option(
        "--secret-env <key=VARIABLE>",
        "like --secret, with the value read from an environment variable: off every command line (repeatable)",
        collect,
      )
      .option("--keep", "do not destroy (run: skip the destroy step; up: not even on Ctrl+C)");
  }
  cmd
    .option("--stack-prefix <prefix>", "stacks are named <prefix>-<attendee> (default lab)")
    .option("--backend <url>", "Pulumi backend URL (default file://<project>/.lab-state)");
  if (kind === "list") return cmd;
  return cmd
    .option("--report <file.json>", "write a JSON report with every check's evidence")
    .option("--junit <file.xml>", "write a JUnit XML report (one case per attendee and check)")
    .addOption(new Option("--target <target>", "aws or local (shorthand for --config lab:target=…)"))
    .option(
      "--destroy-tries <n>",
      `destroy attempts, with a refresh between (default ${CLI_DEFAULTS.destroyTries})`,
    )
    .option("--no-aws-check", "skip the local AWS credentials check (e.g. on EC2 with an instance role)");
}

function verifyOptions(cmd: Commander): Commander {
  return cmd
    .option(
      "--requests <n>",
      `requests sent to the service once it answers (default ${CLI_DEFAULTS.requests})`,
    )
    .option(
      "--traffic-deadline <duration>",
      `how long to wait for the load balancer to answer (default ${CLI_DEFAULTS.trafficDeadline})`,
    )
    .option(
      "--variants",
      "run each image platform's container on the local Docker Engine (default: only for the local target)",
    )
    .option("--no-variants", "skip the variants check");
}

/** `verify --url` checks an endpoint without a stack; `destroy --leftovers` picks the stacks from the record. */
function labRoute(name: Command, o: RawOptions, deps: CliDeps): Promise<number> {
  if (name === "verify" && o.url !== undefined) return verifyUrlCommand(o, deps);
  if (name === "destroy" && o.leftovers) return leftoversCommand("destroy", o, deps);
  return labCommand(name, o, deps);
}

export function buildProgram(deps: CliDeps, setCode: (code: number) => void): Commander {
  const program = new Commander("lab")
    .description(
      "Stand up, verify and tear down one mixed-architecture EKS lab per attendee (Pulumi Automation API).",
    )
    .exitOverride()
    .configureOutput({ writeOut: (s) => deps.out(s.trimEnd()), writeErr: (s) => deps.err(s.trimEnd()) })
    .showHelpAfterError("(add --help for usage and examples)");
  const lab = (name: Command, summary: string): void => {
    let cmd = common(program.command(name).description(summary), "lab");
    if (COMMANDS[name].verifies) cmd = verifyOptions(cmd);
    if (COMMANDS[name].creates)
      cmd
        .option("--no-preview", "skip the preview that gives the progress total")
        .option("--no-preflight", "aws: skip the quota and AZ preflight of the new labs (lab preflight)");
    if (name === "destroy")
      cmd.option(
        "--leftovers",
        "destroy the stacks an interrupted run recorded as unfinished (no --attendees)",
      );
    if (name === "verify") {
      cmd
        .option("--url <url>", "check any endpoint, no stack (with --expect-arch)")
        .option("--expect-arch <list>", "architectures that must answer --url (default x86_64,aarch64)");
    }
    cmd
      .addHelpText("after", EXAMPLES[name])
      .action(async (o: RawOptions) => setCode(await labRoute(name, o, deps)));
  };
  lab("run", "up, then verify, then destroy (whatever up or verify did, unless --keep)");
  lab("up", "create or update each attendee's stack");
  lab("verify", "check each lab: image, nodes, pods, traffic (aws); image, variants (local); or one --url");
  lab("destroy", "destroy each attendee's stack (retried, refresh between tries), then remove it");
  common(
    program.command("list").description("the lab stacks: attendee, age, last result, service URL"),
    "list",
  )
    .addHelpText("after", EXAMPLES.list)
    .action(async (o: RawOptions) => setCode(await listCommand(o, deps)));
  common(
    program
      .command("reap")
      .description(
        "destroy and remove lab stacks older than a duration, or the leftovers of interrupted runs",
      ),
    "reap",
  )
    .option("--older-than <duration>", "age threshold, e.g. 12h, 2d, 90m")
    .option("--region <region>", "aws: also sweep, by their tags, the workshop's labs whose state is gone")
    .option("--leftovers", "instead: the stacks an interrupted or killed run recorded as unfinished")
    .option("--concurrency <n>", `labs destroyed at once (default ${CLI_DEFAULTS.concurrency})`)
    .addHelpText("after", EXAMPLES.reap)
    .action(async (o: RawOptions) => setCode(await reapCommand(o, deps)));
  registerPreflight(program, deps, setCode);
  registerSweep(program, deps, setCode);
  registerHandout(program, deps, setCode);
  registerAudit(program, deps, setCode);
  program.addHelpText(
    "after",
    `\nExit codes: 0 all labs passed, 1 any lab failed, 2 bad usage or input.\n${EXAMPLES.run}`,
  );
  return program;
}

const PROJECT_DIR = path.resolve(__dirname, "../..");

let streams: { out: GuardedStream; err: GuardedStream } | undefined;
/** stdout and stderr, guarded once per process (output.ts). */
function processStreams(): { out: GuardedStream; err: GuardedStream } {
  return (streams ??= { out: guardStream(process.stdout), err: guardStream(process.stderr) });
}

export function realDeps(): CliDeps {
  return {
    projectDir: PROJECT_DIR,
    env: process.env,
    out: (t) => processStreams().out.write(`${t}\n`),
    err: (t) => processStreams().err.write(`${t}\n`),
    tty: process.stdout.isTTY && !process.env.CI ? process.stdout : undefined,
    engineFactory: (s) =>
      new LocalLabEngine({
        workDir: PROJECT_DIR,
        envVars: s.envVars,
        secretsProvider: s.secretsProvider,
        pulumiRoot: s.pulumiRoot,
      }),
    verify: () => Promise.reject(new Error("replaced below")),
    openLog: (stack) => fileLog(defaultLogDir(PROJECT_DIR), stack),
    signals: processSignals,
    exit: (code) => process.exit(code),
    now: () => Date.now(),
    sleep: (ms) => realClock.sleep(ms),
    registryLogin: (region) => ecrDockerConfig(region, process.env),
    preflight: async (input) => {
      const clients = awsClients(input.region);
      try {
        return await preflight(input, clients);
      } finally {
        closeClients(clients);
      }
    },
  };
}

/** Parses `argv` (without node and script) and runs the command; resolves to the exit code. */
export async function main(argv: string[], partial: Partial<CliDeps> = {}): Promise<number> {
  const deps: CliDeps = { ...realDeps(), ...partial };
  if (!partial.localCluster) {
    deps.localCluster = () =>
      ownedCluster(
        deps.toolchain,
        localEnv(deps.env, deps.toolchain),
        deps.projectDir,
        defaultLogDir(deps.projectDir),
      );
  }
  if (!("sweepLab" in partial))
    deps.sweepLab = labSweeper(deps.projectDir, deps.env, localEnv(deps.env, deps.toolchain));
  if (!partial.verify) {
    deps.verify = (out, signal, note, lab, t) => {
      // A local lab's variants run on the toolchain's Docker Engine; an aws lab's on the user's.
      const env = out.target === "local" ? localEnv(deps.env, deps.toolchain) : deps.env;
      const o = { ...t, ...deps.verifyOptions, stack: lab.stack, signal, note };
      return verifyLab(out, { ...o, variantsDeps: { docker: dockerCli(env), ...o.variantsDeps } });
    };
  }
  for (const p of deps.toolchain?.problems ?? []) deps.err(`lab: warning: ${deps.toolchain?.file}: ${p}`);
  let code: number = EXIT.ok;
  const program = buildProgram(deps, (c) => (code = c));
  if (argv.length === 0) {
    program.outputHelp();
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv, { from: "user" });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.code === "commander.helpDisplayed" || e.code === "commander.version" ? EXIT.ok : EXIT.usage;
    }
    throw e;
  }
}

/** Process entry: exit with main's code; an unexpected error is a failure (1), shown with its stack. */
export function run(): void {
  // If the event loop ever drains with main() unsettled, exit as a failure, not as a success.
  process.exitCode = EXIT.failed;
  // Before anything is written: a reader that goes away must not end the run (output.ts).
  processStreams();
  // The local toolchain (npm run setup:local): its PATH and variables, for local-target work only.
  const toolchain: Toolchain = loadToolchain(process.env);
  main(process.argv.slice(2), { toolchain }).then(
    (code) => process.exit(code),
    (e) => {
      processStreams().err.write(`lab: unexpected error: ${errorDetail(e)}\n`);
      process.exit(EXIT.failed);
    },
  );
}
