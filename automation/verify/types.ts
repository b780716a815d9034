import { Arch } from "../../infra/arch";

/** What every verify check returns: a verdict, one line saying why, and the evidence behind it. */
export type CheckName = "image" | "variants" | "nodes" | "pods" | "traffic";
export type CheckStatus = "passed" | "failed" | "skipped";

export interface CheckResult {
  name: CheckName;
  status: CheckStatus;
  /** One line: why the check passed or failed. */
  summary: string;
  /** The observations the verdict rests on (manifests, node and pod lists, answers). */
  evidence: Record<string, unknown>;
}

/** `kubernetes.io/arch` values. */
export type KubeArch = Arch;

/** What the checks need to know about a node. */
export interface NodeInfo {
  name: string;
  /** `kubernetes.io/arch` label (undefined when absent). */
  arch?: string;
  ready: boolean;
  /** `node.kubernetes.io/instance-type` label. */
  instanceType?: string;
  /** `eks.amazonaws.com/nodegroup` label. */
  nodeGroup?: string;
}

/** What the checks need to know about a pod. */
export interface PodInfo {
  name: string;
  nodeName?: string;
  phase?: string;
  ready: boolean;
}

export function passed(name: CheckName, summary: string, evidence: Record<string, unknown>): CheckResult {
  return { name, status: "passed", summary, evidence };
}

export function failed(name: CheckName, summary: string, evidence: Record<string, unknown>): CheckResult {
  return { name, status: "failed", summary, evidence };
}

export function skipped(
  name: CheckName,
  summary: string,
  evidence: Record<string, unknown> = {},
): CheckResult {
  return { name, status: "skipped", summary, evidence };
}
