import { Arch } from "../../infra/arch";
import { Placement } from "../../infra/config";

/** What every verify check returns: a verdict, one line saying why, and the evidence behind it. */
export type CheckName = "image" | "variants" | "nodes" | "pods" | "pods-http" | "traffic";
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
  /** False when cordoned (`spec.unschedulable`); undefined when unknown. */
  schedulable?: boolean;
  taints?: Taint[];
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
}

/** A container's state, as the pod status reports it (for recognising crashes). */
export interface ContainerInfo {
  name: string;
  ready: boolean;
  restartCount: number;
  /** `state.waiting`: e.g. CrashLoopBackOff, with the kubelet's message. */
  waiting?: { reason?: string; message?: string };
  /** `state.terminated`, else `lastState.terminated`: how the container last ended. */
  terminated?: { reason?: string; exitCode?: number; message?: string };
  /** The previous run's last log lines (fetched only for a crashing container). */
  previousLog?: string;
}

/** What the checks need to know about a pod. */
export interface PodInfo {
  name: string;
  nodeName?: string;
  phase?: string;
  ready: boolean;
  /** Container states (absent in lists that do not carry them). */
  containers?: ContainerInfo[];
  tolerations?: Toleration[];
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

/** One HTTP exchange with the service. */
export interface Answer {
  status?: number;
  body?: string;
  /** Transport error (connection refused, timeout…). */
  error?: string;
}

/** Where the app's pods are placed (the program's `lab:placement`). */
export type PlacementMode = Placement;
