/**
 * `lab preflight`: does the workshop fit the region's quotas and AZs? Exit 0 fits, 1 does not
 * (the table names a topology that would), 2 bad input.
 */
import { Command as Commander } from "commander";
import { closeClients } from "../aws/clients";
import { PreflightInput, preflight, preflightTable } from "../aws/preflight";
import { parseLabConfig } from "../../infra/config";
import { rawLabConfig } from "./labconfig";
import * as v from "./validate";
import { AwsCommandDeps, awsFailure, clientsFor, credentialProblem, usage } from "./awsIo";
import { writeJson } from "../reports/report";
import { TOPOLOGIES, Topology } from "../../infra/workshopConfig";
import { EXIT } from "./exit";

export interface PreflightOptions extends v.RawOptions {
  topology?: string;
}

/** `--topology`, or `--config topology=…` / `lab:topology=…` (taken out of the pairs here). */
export function topologyOf(o: PreflightOptions, problems: v.Problems): Topology {
  const pairs: string[] = [];
  let value = o.topology;
  for (const pair of o.config ?? []) {
    const m = /^(?:lab:)?topology=(.*)$/.exec(pair);
    if (m) value = o.topology ?? m[1];
    else pairs.push(pair);
  }
  o.config = pairs;
  const t = (value ?? "dedicated") as Topology;
  if (!TOPOLOGIES.includes(t)) problems.add(`--topology "${value}" is not one of ${TOPOLOGIES.join(", ")}`);
  return t;
}

/** The preflight's input from a command line: attendees, topology, config, all checked. */
export function preflightInput(o: PreflightOptions, env: NodeJS.ProcessEnv, problems: v.Problems) {
  const topology = topologyOf(o, problems);
  const names = v.attendees(o, problems);
  const plan = v.stackConfig({ ...o, target: "aws" }, names, env, problems);
  if (problems.list.length > 0) return undefined;
  const cfg = parseLabConfig(rawLabConfig(names[0], plan.config));
  const input: PreflightInput = { region: String(cfg.region), topology, attendees: names, config: cfg };
  return { input, config: plan.config };
}

export async function preflightCommand(o: PreflightOptions, d: AwsCommandDeps): Promise<number> {
  const problems = new v.Problems();
  const parsed = preflightInput(o, d.env, problems);
  const cred = parsed && credentialProblem(d, o.awsCheck, parsed.config);
  if (cred) problems.add(cred);
  if (!parsed || problems.list.length > 0) return usage(d, "preflight", problems.list);
  const clients = clientsFor(d, parsed.input.region);
  try {
    const result = await preflight(parsed.input, clients);
    d.out(preflightTable(result));
    if (o.report) writeJson(o.report, result);
    return result.fits ? EXIT.ok : EXIT.failed;
  } catch (e) {
    return awsFailure(d, "preflight", e);
  } finally {
    closeClients(clients);
  }
}

export function registerPreflight(program: Commander, d: AwsCommandDeps, setCode: (c: number) => void): void {
  program
    .command("preflight")
    .description("check the workshop against the region's quotas and AZs before anything is created")
    .option(
      "--attendees <names>",
      "comma-separated attendee names (repeatable)",
      (x: string, p: string[] = []) => [...p, x],
    )
    .option("--attendees-file <file>", "attendee names, one per line")
    .option("--topology <topology>", `${TOPOLOGIES.join(", ")} (default dedicated)`)
    .option(
      "--config <key=value>",
      "stack config, as for up (instance types, node counts, aws:region)",
      (x: string, p: string[] = []) => [...p, x],
    )
    .option(
      "--report <file.json>",
      "write one row per resource: resource, needed, inUse, limit, limitSource, fits",
    )
    .option("--no-aws-check", "skip the local AWS credentials check")
    .addHelpText(
      "after",
      `
Exit codes: 0 everything fits, 1 something does not (the table says which topology would), 2 bad input.
Examples:
  $ npm run lab -- preflight --attendees-file attendees.txt --config aws:region=eu-west-1
  $ npm run lab -- preflight --attendees-file attendees.txt --topology shared-cluster --report preflight.json`,
    )
    .action(async (o: PreflightOptions) => setCode(await preflightCommand(o, d)));
}
