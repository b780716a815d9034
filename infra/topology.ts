/**
 * What each stack of a workshop creates, per role and topology (#10), as plain data: the program
 * composes from `stackPlan`, and the tests and docs read the same table. Also the shared cluster's
 * node-group sizing, which the driver's preflight (automation/aws/topology.ts) uses too.
 *
 * | stack                          | image | VPC        | cluster    | app            |
 * | ------------------------------ | ----- | ---------- | ---------- | -------------- |
 * | self-contained, aws            | own   | own        | own        | own cluster    |
 * | self-contained, local          | own   | —          | kubeconfig | with a cluster |
 * | foundation, dedicated          | build | —          | —          | —              |
 * | foundation, shared-network     | build | build      | —          | —              |
 * | foundation, shared-cluster     | build | build      | build      | —              |
 * | foundation, local              | build | —          | —          | —              |
 * | attendee, dedicated            | ref   | own        | own        | own cluster    |
 * | attendee, shared-network       | ref   | foundation | own        | own cluster    |
 * | attendee, shared-cluster       | ref   | foundation | foundation | tenant         |
 * | attendee, local                | ref   | —          | kubeconfig | tenant         |
 */
import { LabConfig } from "./config";

/**
 * Attendees one node of each group carries in `shared-cluster`: each attendee adds a few small pods
 * per architecture (4 replicas spread over two groups), and a `.large` node holds 29 pods with the
 * VPC CNI, of which the system takes a handful; 4 attendees per node leaves room for rollouts.
 */
export const ATTENDEES_PER_SHARED_NODE = 4;

/** Nodes per node group of the one shared cluster, for `attendees` attendees. */
export function sharedClusterNodes(attendees: number, nodesDesired: number): number {
  return Math.max(nodesDesired, Math.ceil(attendees / ATTENDEES_PER_SHARED_NODE));
}

/** The shared cluster's node-group scaling: desired for the attendees, max raised to at least that. */
export function sharedClusterScaling(
  cfg: Pick<LabConfig, "attendees" | "nodesMin" | "nodesDesired" | "nodesMax">,
): { nodesMin: number; nodesDesired: number; nodesMax: number } {
  const desired = sharedClusterNodes(cfg.attendees, cfg.nodesDesired);
  return { nodesMin: cfg.nodesMin, nodesDesired: desired, nodesMax: Math.max(cfg.nodesMax, desired) };
}

/**
 * `own`: this stack creates it; `foundation`: the foundation's is used; `kubeconfig`: the existing
 * cluster lab:kubeconfig names (local target); `none`: not on this stack.
 */
export type Source = "own" | "foundation" | "kubeconfig" | "none";

export interface StackPlan {
  /** Which composition runs (infra/stack.ts, infra/foundation.ts, infra/attendee.ts). */
  kind: "self-contained" | "foundation" | "attendee";
  /** `own`: the Image component (or lab:image passed through); `foundation`: its imageRef. */
  image: Source;
  network: Source;
  cluster: Source;
  /** `cluster`: the App on a cluster of its own; `tenant`: a namespace of the shared cluster. */
  app: "cluster" | "tenant" | "none";
}

/** What a stack of this configuration creates (see the table above). */
export function stackPlan(
  cfg: Pick<LabConfig, "role" | "foundation" | "topology" | "target" | "kubeconfig">,
): StackPlan {
  const local = cfg.target === "local";
  if (cfg.role === "foundation") {
    const shares = local ? "dedicated" : cfg.topology;
    return {
      kind: "foundation",
      image: "own",
      network: shares === "dedicated" ? "none" : "own",
      cluster: shares === "shared-cluster" ? "own" : "none",
      app: "none",
    };
  }
  if (cfg.foundation === "") {
    if (local)
      return {
        kind: "self-contained",
        image: "own",
        network: "none",
        cluster: cfg.kubeconfig === "" ? "none" : "kubeconfig",
        app: cfg.kubeconfig === "" ? "none" : "cluster",
      };
    return { kind: "self-contained", image: "own", network: "own", cluster: "own", app: "cluster" };
  }
  if (local || cfg.topology === "shared-cluster") {
    return {
      kind: "attendee",
      image: "foundation",
      network: local ? "none" : "foundation",
      cluster: local ? "kubeconfig" : "foundation",
      app: "tenant",
    };
  }
  return {
    kind: "attendee",
    image: "foundation",
    network: cfg.topology === "shared-network" ? "foundation" : "own",
    cluster: "own",
    app: "cluster",
  };
}
