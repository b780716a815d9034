/**
 * Placement over architectures: which architectures a placement (spread, amd64, arm64,
 * prefer-arm64) lets pods run on, on a cluster that may lack one of them, and the scheduling terms
 * (node affinity on kubernetes.io/arch, a topology spread, the arm64 taint's toleration) that say it.
 * Plain functions: tests assert on the exact terms the pod template carries.
 */
import * as k8s from "@pulumi/kubernetes";
import { ARCH_KEY, ARCHS, Arch } from "./arch";
import { Placement, PLACEMENTS } from "./config";
import { ARM_TAINT } from "./nodegroups";

type PodSpec = k8s.types.input.core.v1.PodSpec;

/** Problems with a placement/replica combination (empty when valid); mirrors parseLabConfig. */
export function placementProblems(placement: string, replicas: number): string[] {
  const problems: string[] = [];
  if (!(PLACEMENTS as readonly string[]).includes(placement)) {
    problems.push(`placement "${placement}" is not one of ${PLACEMENTS.join(", ")}`);
  }
  if (!Number.isInteger(replicas) || replicas < 1)
    problems.push(`replicas is ${replicas}; it must be at least 1`);
  else if (placement === "spread" && replicas < 2) {
    problems.push(
      `replicas is ${replicas}, but placement spread needs at least 2 (one pod per architecture)`,
    );
  }
  return problems;
}

/** What a placement becomes on a cluster with nodes of `clusterArchs` only. */
export interface EffectivePlacement {
  /** Architectures pods may be scheduled on (node affinity). */
  archs: Arch[];
  /** Spread over architectures with a topology constraint (only when the cluster has both). */
  spread: boolean;
  /** Whether the cluster has a node for the placement at all. */
  schedulable: boolean;
  /** `spread`, `amd64`, or what spread fell back to and why (the `placementEffective` output). */
  summary: string;
  /** Set when the placement could not be applied as asked. */
  warning?: string;
}

/**
 * Spread over what the cluster has: with one architecture missing, spread falls back to the
 * architectures that exist (affinity on those, no topology constraint that could never be met).
 * A pinned placement stays pinned, even where no node can take it (verify then reports it).
 * prefer-arm64 runs on what the cluster has (arm64 preferred), so it is never unschedulable by arch.
 */
export function effectivePlacement(
  placement: Placement,
  clusterArchs: readonly Arch[] = ARCHS,
): EffectivePlacement {
  if (placement === "prefer-arm64") {
    // A preference, not a requirement: whatever the cluster has may run the pods.
    const have = ARCHS.filter((a) => clusterArchs.includes(a));
    const noArm = !have.includes("arm64");
    return {
      archs: have,
      spread: false,
      schedulable: have.length > 0,
      summary: noArm
        ? `prefer-arm64 (the cluster has no arm64 node: ${have.join(", ") || "none"})`
        : placement,
    };
  }
  if (placement !== "spread") {
    const ok = clusterArchs.includes(placement);
    return {
      archs: [placement],
      spread: false,
      schedulable: ok,
      summary: placement,
      warning: ok
        ? undefined
        : `placement ${placement}, but the cluster has only ${clusterArchs.join(", ")} nodes: pods cannot be scheduled`,
    };
  }
  const have = ARCHS.filter((a) => clusterArchs.includes(a));
  const missing = ARCHS.filter((a) => !clusterArchs.includes(a));
  if (missing.length === 0) return { archs: [...ARCHS], spread: true, schedulable: true, summary: "spread" };
  const summary = `spread fell back to ${have.join(", ") || "nothing"}: the cluster has no ${missing.join(", ")} node`;
  return {
    archs: have,
    spread: false,
    schedulable: have.length > 0,
    summary,
    warning: `placement ${summary}`,
  };
}

/** prefer-arm64's node affinity term: the scheduler's strongest preference for arm64 nodes. */
export const PREFER_ARM64: k8s.types.input.core.v1.PreferredSchedulingTerm = {
  weight: 100,
  preference: { matchExpressions: [{ key: ARCH_KEY, operator: "In", values: ["arm64"] }] },
};

/** Scheduling constraints of a placement; pods that may land on arm64 tolerate the arm taint. */
export function scheduling(
  placement: Placement,
  taintArm: boolean,
  selector: Record<string, string>,
  clusterArchs: readonly Arch[] = ARCHS,
): Pick<PodSpec, "affinity" | "topologySpreadConstraints" | "tolerations"> {
  const eff = effectivePlacement(placement, clusterArchs);
  const archs: string[] = eff.archs;
  const result: Pick<PodSpec, "affinity" | "topologySpreadConstraints" | "tolerations"> = {
    affinity: {
      nodeAffinity:
        placement === "prefer-arm64"
          ? // Graviton's price-performance where there is room; x86 when not (no required arch term).
            { preferredDuringSchedulingIgnoredDuringExecution: [PREFER_ARM64] }
          : {
              requiredDuringSchedulingIgnoredDuringExecution: {
                nodeSelectorTerms: [{ matchExpressions: [{ key: ARCH_KEY, operator: "In", values: archs }] }],
              },
            },
    },
  };
  if (eff.spread) {
    // minDomains 2: while only one architecture has nodes, at most maxSkew pods land on it.
    result.topologySpreadConstraints = [
      {
        maxSkew: 1,
        minDomains: 2,
        topologyKey: ARCH_KEY,
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: selector },
      },
    ];
  }
  if (taintArm && archs.includes("arm64")) {
    result.tolerations = [
      { key: ARM_TAINT.key, operator: "Equal", value: ARM_TAINT.value, effect: ARM_TAINT.effect },
    ];
  }
  return result;
}
