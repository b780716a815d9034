/**
 * Check 3: every replica is Ready, and the pods sit where the placement mode says:
 * `spread` → on both architectures; `amd64`/`arm64` → only on that one; `prefer-arm64` → any split,
 * reported, with at least one pod on arm64 whenever an arm64 node has room for it (Ready,
 * schedulable, no taint the pods do not tolerate). Given the architectures the cluster has (local
 * target), spread's need for a missing one is `skipped`, never passed. A pod that crashes is named
 * with why (crash.ts): an image lacking the node's platform reads "image has no linux/arm64 variant".
 */
import { ARCHS } from "../../infra/arch";
import { crashText, isCrashing } from "./crash";
import {
  CheckResult,
  NodeInfo,
  PlacementMode,
  PodInfo,
  Taint,
  Toleration,
  failed,
  passed,
  skipped,
} from "./types";

function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === "Exists") return t.key === undefined || t.key === "" || t.key === taint.key;
  return t.key === taint.key && (t.value ?? "") === (taint.value ?? "");
}

/** Nodes of `arch` a pod with these tolerations could be scheduled on (capacity aside). */
export function nodesWithRoom(nodes: NodeInfo[], arch: string, tolerations: Toleration[] = []): NodeInfo[] {
  return nodes.filter(
    (n) =>
      n.arch === arch &&
      n.ready &&
      n.schedulable !== false &&
      (n.taints ?? [])
        .filter((t) => t.effect === "NoSchedule" || t.effect === "NoExecute")
        .every((taint) => tolerations.some((t) => tolerates(t, taint))),
  );
}

export function checkPods(
  pods: PodInfo[],
  nodes: NodeInfo[],
  placement: PlacementMode,
  replicas: number,
  clusterArchs?: readonly string[],
): CheckResult {
  const archOf = new Map(nodes.map((n) => [n.name, n.arch]));
  const rows = pods.map((p) => {
    const arch = (p.nodeName && archOf.get(p.nodeName)) || null;
    const crash = p.ready ? "" : crashText(p, arch ?? undefined);
    return {
      name: p.name,
      node: p.nodeName ?? null,
      arch,
      phase: p.phase ?? null,
      ready: p.ready,
      ...(crash ? { crash, containers: p.containers } : {}),
    };
  });
  const evidence: Record<string, unknown> = { placement, replicas, pods: rows };
  if (clusterArchs) evidence.clusterArchs = [...clusterArchs];
  const problems: string[] = [];
  const missing: string[] = [];
  const lacks = (arch: string) => clusterArchs !== undefined && !clusterArchs.includes(arch);
  const pinned = placement === "amd64" || placement === "arm64";
  const ready = rows.filter((r) => r.ready);
  // A missing platform is the cause to name first: it explains every crash after it.
  const crashes = rows.filter((r) => r.crash).map((r) => r.crash as string);
  const noVariant = crashes.filter((c) => c.startsWith("image has no "));
  problems.push(...noVariant);
  if (ready.length < replicas) {
    const notReady = rows
      .filter((r) => !r.ready && !r.crash?.startsWith("image has no "))
      .map((r) => `${r.name} (${r.crash ?? r.phase ?? "unknown"})`);
    problems.push(
      `${ready.length} of ${replicas} replicas Ready` +
        (notReady.length ? `; not Ready: ${notReady.join(", ")}` : "") +
        (pinned && lacks(placement) ? ` (the cluster has no ${placement} node)` : ""),
    );
  }
  const unknownNode = ready.filter((r) => r.arch === null);
  if (unknownNode.length > 0) {
    problems.push(`no architecture known for the node of ${unknownNode.map((r) => r.name).join(", ")}`);
  }
  const archs = new Set(ready.map((r) => r.arch).filter((a): a is string => a !== null));
  let note = "";
  if (placement === "spread") {
    for (const want of ARCHS) {
      if (archs.has(want)) continue;
      if (lacks(want)) missing.push(want);
      else problems.push(`placement spread, but no Ready pod runs on an ${want} node`);
    }
  } else if (placement === "prefer-arm64") {
    const room = nodesWithRoom(nodes, "arm64", pods[0]?.tolerations);
    evidence.arm64NodesWithRoom = room.map((n) => n.name);
    if (ready.length > 0 && !archs.has("arm64")) {
      if (room.length > 0)
        problems.push(
          `placement prefer-arm64, but no Ready pod runs on arm64 although ${room.map((n) => n.name).join(", ")} ` +
            `(arm64) ${room.length === 1 ? "is" : "are"} Ready, schedulable and untainted for the pods`,
        );
      else note = "; no arm64 node has room (none Ready, schedulable and untainted for the pods)";
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
  const order = placement === "prefer-arm64" ? [...ARCHS].reverse() : ARCHS;
  const byArch = order
    .filter((a) => archs.has(a))
    .map((a) => `${ready.filter((r) => r.arch === a).length} on ${a}`);
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
    `${ready.length}/${replicas} Ready, ${byArch.join(", ")} (placement ${placement}${note})`,
    evidence,
  );
}

/**
 * Whether the pod list is still settling: fewer pods than replicas, or a pod that is scheduled and
 * starting (Pending on a node, or Running but not Ready) with no container crashing. A lab whose
 * update was just cancelled, or a rollout still under way, is judged once that is over; a pod
 * that cannot be scheduled or that crashes is judged at once.
 */
export function podsSettling(pods: PodInfo[], replicas: number): boolean {
  if (pods.filter((p) => p.ready).length >= replicas) return false;
  const crashing = (p: PodInfo) => (p.containers ?? []).some(isCrashing);
  const starting = (p: PodInfo) =>
    !p.ready &&
    !crashing(p) &&
    ((p.phase === "Pending" && p.nodeName !== undefined) || p.phase === "Running");
  return pods.length < replicas || pods.some(starting);
}
