/**
 * Reports for CI: JSON with every check's evidence (`--report`), JUnit XML (`--junit`). Both are
 * written through a Redactor: no secret value or credential field reaches either file.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { StackListing } from "../lifecycle/engine";
import { Command, LabResult, StepResult } from "../lifecycle/types";
import { Redactor } from "./redact";

export interface RunReport {
  command: Command;
  startedAt: string;
  finishedAt: string;
  passed: boolean;
  interrupted: boolean;
  exitCode: number;
  settings: Record<string, unknown>;
  leftovers: StackListing[];
  /** The workshop foundation's step of this command (up before the labs, destroy after them). */
  foundation?: LabResult;
  labs: LabResult[];
}

/**
 * Any JSON report: a lab run's through its redactor; preflight's, sweep's and audit's (no secret in
 * them) as they are.
 */
export function writeJson(file: string, report: unknown, r?: Redactor): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(r ? r.value(report) : report, null, 2)}\n`);
}

// XML 1.0 forbids most control characters, even escaped.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g;

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(CONTROL, "");
}

interface Case {
  classname: string;
  name: string;
  seconds: number;
  status: "passed" | "failed" | "skipped";
  message?: string;
  details?: string;
}

function stepCase(r: LabResult, name: string, s: StepResult): Case {
  const status = s.status === "passed" ? "passed" : s.status === "skipped" ? "skipped" : "failed";
  return {
    classname: `lab.${r.attendee}`,
    name,
    seconds: s.durationMs / 1000,
    status,
    message: s.error ?? s.note ?? (s.status === "cancelled" ? "cancelled" : undefined),
    details: s.error ? `${s.error}\nlog: ${r.logFile}` : undefined,
  };
}

/** One test case per attendee and step, and per verify check. */
export function junitCases(labs: LabResult[]): Case[] {
  const cases: Case[] = [];
  for (const r of labs) {
    if (r.up) cases.push(stepCase(r, "up", r.up));
    if (r.verify) {
      if (r.verify.checks.length === 0) cases.push(stepCase(r, "verify", r.verify));
      for (const c of r.verify.checks) {
        cases.push({
          classname: `lab.${r.attendee}`,
          name: `verify ${c.name}`,
          seconds: 0,
          status: c.status,
          message: c.summary,
          details: c.status === "failed" ? JSON.stringify(c.evidence, null, 2) : undefined,
        });
      }
    }
    if (r.destroy) cases.push(stepCase(r, "destroy", r.destroy));
  }
  return cases;
}

export function junitXml(report: RunReport): string {
  const cases = junitCases(report.foundation ? [report.foundation, ...report.labs] : report.labs);
  const failures = cases.filter((c) => c.status === "failed").length;
  const skipped = cases.filter((c) => c.status === "skipped").length;
  const time = cases.reduce((a, c) => a + c.seconds, 0).toFixed(3);
  const body = cases.map((c) => {
    const open = `    <testcase classname="${xmlEscape(c.classname)}" name="${xmlEscape(c.name)}" time="${c.seconds.toFixed(3)}"`;
    if (c.status === "passed") return `${open}/>`;
    if (c.status === "skipped")
      return `${open}>\n      <skipped message="${xmlEscape(c.message ?? "")}"/>\n    </testcase>`;
    return (
      `${open}>\n      <failure message="${xmlEscape(c.message ?? "failed")}">${xmlEscape(c.details ?? c.message ?? "")}</failure>\n` +
      `    </testcase>`
    );
  });
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<testsuites name="lab ${report.command}" tests="${cases.length}" failures="${failures}" skipped="${skipped}" time="${time}">`,
    `  <testsuite name="lab ${report.command}" tests="${cases.length}" failures="${failures}" errors="0" skipped="${skipped}" time="${time}" timestamp="${report.startedAt}">`,
    ...body,
    `  </testsuite>`,
    `</testsuites>`,
    ``,
  ].join("\n");
}

export function writeJunit(file: string, report: RunReport, r = new Redactor()): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, junitXml(r.value(report)));
}
