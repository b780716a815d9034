/**
 * Check 3: every replica is Ready, and the pods sit where the placement mode says:
 * `spread` → on both architectures; `amd64`/`arm64` → only on that one. Given the architectures
 * the cluster has (local target), spread's need for a missing one is `skipped`, never passed.
 */
import { ARCHS } from "../../infra/arch";
import { CheckResult, KubeArch, NodeInfo, PodInfo, failed, passed, skipped } from "./types";

export type PlacementMode = "spread" | KubeArch;

export function checkPods(
  pods: PodInfo[],
  nodes: NodeInfo[],
  placement: PlacementMode,
  replicas: number,
  clusterArchs?: readonly string[],
): CheckResult {
  const archOf = new Map(nodes.map((n) => [n.name, n.arch]));
  const rows = pods.map((p) => ({
    name: p.name,
    node: p.nodeName ?? null,
    arch: (p.nodeName && archOf.get(p.nodeName)) || null,
    phase: p.phase ?? null,
    ready: p.ready,
  }));
  const evidence: Record<string, unknown> = { placement, replicas, pods: rows };
  if (clusterArchs) evidence.clusterArchs = [...clusterArchs];
  const problems: string[] = [];
  const missing: string[] = [];
  const lacks = (arch: string) => clusterArchs !== undefined && !clusterArchs.includes(arch);
  const ready = rows.filter((r) => r.ready);
  if (ready.length < replicas) {
    const notReady = rows.filter((r) => !r.ready).map((r) => `${r.name} (${r.phase ?? "unknown"})`);
    problems.push(
      `${ready.length} of ${replicas} replicas Ready` +
        (notReady.length ? `; not Ready: ${notReady.join(", ")}` : "") +
        (placement !== "spread" && lacks(placement) ? ` (the cluster has no ${placement} node)` : ""),
    );
  }
  const unknownNode = ready.filter((r) => r.arch === null);
  if (unknownNode.length > 0) {
    problems.push(`no architecture known for the node of ${unknownNode.map((r) => r.name).join(", ")}`);
  }
  const archs = new Set(ready.map((r) => r.arch).filter((a): a is string => a !== null));
  if (placement === "spread") {
    for (const want of ARCHS) {
      if (archs.has(want)) continue;
      if (lacks(want)) missing.push(want);
      else problems.push(`placement spread, but no Ready pod runs on an ${want} node`);
    }
  } else {
    const stray = ready.filter((r) => r.arch !== null && r.arch !== placement);
    if (stray.length > 0) {
      problems.push(
        `placement ${placement}, but ${stray.map((r) => `${r.name} runs on ${r.node} (${r.arch})`).join(", ")}`,
      );
    }
  }
  if (problems.length > 0) return failed("pods", problems.join("; "), evidence);
  const byArch = [...archs].sort().map((a) => `${ready.filter((r) => r.arch === a).length} on ${a}`);
  if (missing.length > 0) {
    return skipped(
      "pods",
      `${ready.length}/${replicas} Ready, ${byArch.join(", ")}; placement spread also needs ${missing.join(", ")}, ` +
        `which the cluster has no node of`,
      { ...evidence, missingArchs: missing },
    );
  }
  return passed(
    "pods",
    `${ready.length}/${replicas} Ready, ${byArch.join(", ")} (placement ${placement})`,
    evidence,
  );
}
