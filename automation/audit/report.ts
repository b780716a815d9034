/** `lab audit`'s table (one row per image and workload), the lines saying why, and the JSON report. */
import { table } from "../reports/summary";
import { ClusterAudit, VERDICT_ORDER, Verdict, emptyCounts } from "./types";
import { short } from "./verdict";

const csv = (ps: string[] | undefined): string => (ps && ps.length > 0 ? ps.map(short).join(",") : "-");

function nodeLine(a: ClusterAudit): string {
  const by = new Map<string, number>();
  for (const n of a.nodes) by.set(short(n.platform), (by.get(short(n.platform)) ?? 0) + 1);
  const parts = [...by.entries()].sort().map(([p, n]) => `${n} ${p}`);
  return `${a.nodes.length} node${a.nodes.length === 1 ? "" : "s"}${parts.length ? ` (${parts.join(", ")})` : ""}`;
}

export function countsLine(counts: Record<Verdict, number>): string {
  const total = Object.values(counts).reduce((x, y) => x + y, 0);
  const parts = (["ok", "at risk", "broken", "unknown"] as const).map((v) => `${counts[v]} ${v}`);
  return `${total} workload${total === 1 ? "" : "s"}: ${parts.join(", ")}`;
}

/** The table of one cluster, then one line per workload that is not ok, saying why. */
export function auditTable(a: ClusterAudit): string {
  const head = `cluster ${a.source}${a.namespace ? ` (namespace ${a.namespace})` : ""}`;
  if (a.error) return `${head}: not audited: ${a.error}`;
  if (a.images.length === 0) return `${head}: ${nodeLine(a)}; no pods`;
  const rows = [["image", "index", "platforms", "workload", "pods", "runs on", "can run on", "verdict"]];
  const why: string[] = [];
  for (const img of a.images) {
    img.workloads.forEach((w, i) => {
      rows.push([
        i === 0 ? img.image : "",
        i > 0 ? "" : img.index === undefined ? "?" : img.index ? "index" : "single",
        i > 0 ? "" : img.error !== undefined ? "unknown" : csv(img.platforms),
        `${w.namespace}/${w.kind}/${w.name}`,
        String(w.pods.length),
        csv(w.runsOn),
        csv(w.canRunOn),
        w.verdict,
      ]);
      if (w.verdict !== "ok")
        why.push(`  ${w.verdict}: ${w.namespace}/${w.kind}/${w.name} (${img.image}): ${w.reason}`);
    });
  }
  return [`${head}: ${nodeLine(a)}`, table(rows), ...why, countsLine(a.counts)].join("\n");
}

export interface AuditReport {
  command: "audit";
  generatedAt: string;
  exitCode: number;
  /** Workload verdicts over every cluster. */
  counts: Record<Verdict, number>;
  clusters: ClusterAudit[];
}

/** 0 when every workload of every cluster is ok; 1 when anything is at risk, broken, unknown or unread. */
export function auditExitCode(audits: ClusterAudit[]): number {
  const bad = audits.some((a) => a.error !== undefined || a.workloads.some((w) => w.verdict !== "ok"));
  return bad ? 1 : 0;
}

export function auditReport(audits: ClusterAudit[], now: Date): AuditReport {
  const counts = emptyCounts();
  for (const a of audits) for (const v of VERDICT_ORDER) counts[v] += a.counts[v];
  return {
    command: "audit",
    generatedAt: now.toISOString(),
    exitCode: auditExitCode(audits),
    counts,
    clusters: audits,
  };
}
