/**
 * `lab sweep`: what AWS still holds of a workshop, by the lab's tags. Lists (exit 0) or, with
 * --delete, deletes in dependency order (exit 0 only when nothing is left).
 */
import { Command as Commander } from "commander";
import { closeClients } from "../aws/clients";
import { SweepResult, sweep, sweepTable } from "../aws/sweep";
import * as v from "./validate";
import { AwsCommandDeps, awsFailure, clientsFor, credentialProblem, usage } from "./awsIo";
import { writeJson } from "../reports/report";
import { SweepItem } from "../aws/sweepFind";
import { EXIT } from "./exit";

export interface SweepOptions extends v.RawOptions {
  region?: string;
  delete?: boolean;
}

export async function sweepCommand(o: SweepOptions, d: AwsCommandDeps): Promise<number> {
  const problems = new v.Problems();
  const workshop = v.stackPrefix(o.stackPrefix, problems);
  const names = o.attendees || o.attendeesFile ? v.attendees(o, problems) : [];
  const region = o.region ?? d.env.AWS_REGION ?? d.env.AWS_DEFAULT_REGION;
  if (!region) problems.add("the region is required: --region <region> (or AWS_REGION)");
  else v.awsRegion("--region", region, problems);
  const cred = credentialProblem(d, o.awsCheck, {});
  if (cred) problems.add(cred);
  if (problems.list.length > 0 || !region) return usage(d, "sweep", problems.list);
  const clients = clientsFor(d, region);
  const selectors =
    names.length > 0 ? names.map((attendee) => ({ region, workshop, attendee })) : [{ region, workshop }];
  try {
    const results: SweepResult[] = [];
    for (const sel of selectors) {
      results.push(await sweep(sel, { delete: !!o.delete, clients, log: (l) => d.out(`  ${l}`) }));
    }
    const items: SweepItem[] = results.flatMap((r) => r.items);
    const left: SweepItem[] = results.flatMap((r) => r.left);
    d.out(sweepTable(items));
    if (o.report)
      writeJson(o.report, { region, workshop, attendees: names, deleted: !!o.delete, items, left });
    if (!o.delete) {
      d.out(
        `${items.length} resource${items.length === 1 ? "" : "s"} of workshop ${workshop}${items.length > 0 ? "; --delete deletes them" : ""}`,
      );
      return EXIT.ok;
    }
    d.out(left.length === 0 ? "nothing left" : `${left.length} left:\n${sweepTable(left)}`);
    return left.length === 0 ? EXIT.ok : EXIT.failed;
  } catch (e) {
    return awsFailure(d, "sweep", e);
  } finally {
    closeClients(clients);
  }
}

export function registerSweep(program: Commander, d: AwsCommandDeps, setCode: (c: number) => void): void {
  program
    .command("sweep")
    .description("list (or --delete) AWS resources carrying the lab's tags for a workshop")
    .option("--stack-prefix <prefix>", "the workshop: its stack prefix (default lab)")
    .option("--attendees <names>", "only these attendees (repeatable)", (x: string, p: string[] = []) => [
      ...p,
      x,
    ])
    .option("--attendees-file <file>", "only the attendees listed, one per line")
    .option("--region <region>", "AWS region (default AWS_REGION)")
    .option("--delete", "delete what is found, in dependency order, and report each item")
    .option("--report <file.json>", "write every item with its ID/ARN and outcome")
    .option("--no-aws-check", "skip the local AWS credentials check")
    .addHelpText(
      "after",
      `
Only resources tagged lab=multiarch-lab and workshop=<prefix> (and attendee=<name> with --attendees).
Exit codes: 0 listed, or deleted with nothing left; 1 something left or an AWS error; 2 bad input.
Examples:
  $ npm run lab -- sweep --stack-prefix ws2025 --region eu-west-1
  $ npm run lab -- sweep --stack-prefix ws2025 --attendees alice --delete --report sweep.json`,
    )
    .action(async (o: SweepOptions) => setCode(await sweepCommand(o, d)));
}
