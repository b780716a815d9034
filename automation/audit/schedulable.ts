/**
 * Which of the cluster's nodes a pod spec can land on, by the scheduler's node rules: the
 * `nodeSelector`, required node affinity (`In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`;
 * `matchFields` on `metadata.name`) and NoSchedule/NoExecute taints against the pod's tolerations.
 * Every label is matched, not only `kubernetes.io/arch`, so a pod pinned by hostname or node group
 * is judged by where it really can go. Preferred affinity and PreferNoSchedule taints steer but do
 * not forbid, and inter-pod affinity depends on other pods: none of them narrows the set.
 */
import type {
  V1Node,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1PodSpec,
  V1Taint,
  V1Toleration,
} from "@kubernetes/client-node";
import { NodeFacts, Platform } from "./types";

type Labels = Record<string, string>;

/** One requirement against a label set (or, for matchFields, `{"metadata.name": …}`). */
export function requirementMatches(req: V1NodeSelectorRequirement, labels: Labels): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, req.key);
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case "In":
      return has && values.includes(value);
    case "NotIn":
      return !has || !values.includes(value);
    case "Exists":
      return has;
    case "DoesNotExist":
      return !has;
    case "Gt":
    case "Lt": {
      const n = Number.parseInt(value ?? "", 10);
      const bound = Number.parseInt(values[0] ?? "", 10);
      if (!has || Number.isNaN(n) || Number.isNaN(bound)) return false;
      return req.operator === "Gt" ? n > bound : n < bound;
    }
    default:
      // An operator the API would reject: matches nothing, as the scheduler treats a bad term.
      return false;
  }
}

/** A term ANDs its expressions and fields; an empty term matches no node. */
export function termMatches(term: V1NodeSelectorTerm, node: V1Node): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata?.labels ?? {};
  const nodeFields = { "metadata.name": node.metadata?.name ?? "" };
  return (
    exprs.every((r) => requirementMatches(r, labels)) &&
    fields.every((r) => requirementMatches(r, nodeFields))
  );
}

/** Does the toleration tolerate the taint (the scheduler's ToleratesTaint)? */
export function tolerates(t: V1Toleration, taint: V1Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  const operator = t.operator ?? "Equal";
  // An empty key with Exists tolerates every taint (of the effect, if one is given).
  if (!t.key) return operator === "Exists";
  if (t.key !== taint.key) return false;
  if (operator === "Exists") return true;
  return operator === "Equal" && (t.value ?? "") === (taint.value ?? "");
}

export function taintText(t: V1Taint): string {
  return `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`;
}

/** Why the pod cannot land on the node, or undefined when it can. */
export function exclusion(spec: V1PodSpec, node: V1Node): string | undefined {
  const labels = node.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(spec.nodeSelector ?? {})) {
    if (labels[k] !== v)
      return `nodeSelector ${k}=${v} (node has ${k in labels ? `${k}=${labels[k]}` : `no ${k}`})`;
  }
  const required = spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required && !(required.nodeSelectorTerms ?? []).some((t) => termMatches(t, node))) {
    return "required node affinity matches no term";
  }
  const taints = [...(node.spec?.taints ?? [])];
  // A cordoned node: the scheduler checks this taint even before the node controller adds it.
  const cordon = { key: "node.kubernetes.io/unschedulable", effect: "NoSchedule" };
  if (node.spec?.unschedulable && !taints.some((t) => t.key === cordon.key)) taints.push(cordon);
  for (const taint of taints) {
    if (taint.effect !== "NoSchedule" && taint.effect !== "NoExecute") continue;
    if (!(spec.tolerations ?? []).some((t) => tolerates(t, taint)))
      return `taint ${taintText(taint)} not tolerated`;
  }
  return undefined;
}

/** `os/arch` from the node's labels, else what the kubelet reports. */
export function nodePlatform(node: V1Node): Platform {
  const l = node.metadata?.labels ?? {};
  const info = node.status?.nodeInfo;
  const os = l["kubernetes.io/os"] ?? l["beta.kubernetes.io/os"] ?? info?.operatingSystem ?? "linux";
  const arch = l["kubernetes.io/arch"] ?? l["beta.kubernetes.io/arch"] ?? info?.architecture ?? "?";
  return `${os}/${arch}`;
}

export function nodeFacts(node: V1Node): NodeFacts {
  return {
    name: node.metadata?.name ?? "?",
    platform: nodePlatform(node),
    taints: (node.spec?.taints ?? []).map(taintText),
    ready: (node.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"),
  };
}

/** The platforms the spec can be scheduled on, and the nodes it cannot, with why. */
export function schedulablePlatforms(
  spec: V1PodSpec,
  nodes: V1Node[],
): { platforms: Platform[]; excluded: { node: string; reason: string }[] } {
  const platforms = new Set<Platform>();
  const excluded: { node: string; reason: string }[] = [];
  for (const node of nodes) {
    const why = exclusion(spec, node);
    if (why) excluded.push({ node: node.metadata?.name ?? "?", reason: why });
    else platforms.add(nodePlatform(node));
  }
  return { platforms: [...platforms].sort(), excluded };
}
