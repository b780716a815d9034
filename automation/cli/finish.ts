/** The end of a command over labs: the summary, the JSON and JUnit reports, and the exit code. */
import { RunOutcome, Command } from "../lifecycle/types";
import { RunReport, writeJson, writeJunit } from "../reports/report";
import { Redactor } from "../reports/redact";
import { failureLines, summaryTable } from "../reports/summary";
import { EXIT } from "./exit";
import { CliDeps } from "./types";
import * as v from "./validate";

export function finish(
  d: CliDeps,
  command: Command,
  o: Pick<v.RawOptions, "report" | "junit">,
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
  if (o.report) writeJson(o.report, report, redactor ?? new Redactor());
  if (o.junit) writeJunit(o.junit, report, redactor);
  d.out(
    `${results.filter((r) => r.passed).length} of ${results.length} labs passed${interrupted ? " (interrupted)" : ""}`,
  );
  return exitCode;
}
