/** The closing table: attendee, up, verify, destroy, durations, URL. */
import { LabResult, StepResult } from "../lifecycle/types";
import { formatDuration } from "./format";

function cell(s: StepResult | undefined): string {
  if (!s) return "-";
  const mark = { passed: "ok", failed: "FAIL", skipped: "skip", cancelled: "cancel" }[s.status];
  return s.durationMs > 0 ? `${mark} ${formatDuration(s.durationMs)}` : mark;
}

export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  return rows
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

export function summaryTable(results: LabResult[]): string {
  const rows = [["attendee", "up", "verify", "destroy", "total", "url"]];
  for (const r of results) {
    const total = [r.up, r.verify, r.destroy].reduce((a, s) => a + (s?.durationMs ?? 0), 0);
    rows.push([
      r.attendee,
      cell(r.up),
      cell(r.verify),
      cell(r.destroy),
      formatDuration(total),
      // A lab this command destroyed has no URL any more.
      r.destroy?.status === "passed" ? "" : (r.serviceUrl ?? ""),
    ]);
  }
  return table(rows);
}

/**
 * Why each failed lab failed, one line per failed step or check; and, passed or not, what a destroy
 * cleared from the state or swept from the live system (nothing is dropped unsaid).
 */
export function failureLines(results: LabResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    for (const [name, s] of [
      ["up", r.up],
      ["verify", r.verify],
      ["destroy", r.destroy],
    ] as const) {
      if (s && s.status === "failed" && s.error)
        lines.push(`${r.attendee} ${name}: ${s.error} (log: ${r.logFile})`);
      if (s && s.status === "cancelled" && s.note) lines.push(`${r.attendee} ${name}: ${s.note}`);
    }
    for (const [name, s] of [
      ["up", r.up],
      ["destroy", r.destroy],
    ] as const) {
      if (s?.clearedPending)
        lines.push(
          `${r.attendee} ${name}: cleared from the state: ${s.clearedPending.map((o) => `pending ${o.op} of ${o.type} ${o.name}`).join(", ")}`,
        );
    }
    const d = r.destroy;
    if (d?.swept) lines.push(`${r.attendee} destroy: swept from the live system: ${d.swept.join(", ")}`);
    for (const c of r.verify?.checks ?? []) {
      if (c.status === "failed") lines.push(`${r.attendee} verify/${c.name}: ${c.summary}`);
    }
  }
  return lines;
}
