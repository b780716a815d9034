/**
 * The local target's cluster, for `up` and `run`: `npm run setup:local` starts a Kubernetes
 * cluster and records its admin kubeconfig as LAB_KUBECONFIG (env.json). Unless the user set
 * `lab:kubeconfig`, the driver passes that path, and `lab:clusterArchs` as the live cluster's nodes
 * report them (`kubernetes.io/arch`), so the program places pods only where nodes exist.
 */
import * as fs from "node:fs";
import { clusterFromKubeconfig } from "./verify/kube";
import { NodeInfo } from "./verify/types";

/** Lists the nodes of the cluster a kubeconfig file names. */
export type NodeLister = (kubeconfigFile: string) => Promise<NodeInfo[]>;

export const listNodesOf: NodeLister = async (file) =>
  (await clusterFromKubeconfig(fs.readFileSync(file, "utf8"))).nodes();

const ARCH_ORDER = ["amd64", "arm64"];

/** The architectures nodes have, in a stable order (amd64, arm64); unknown labels are ignored. */
export function clusterArchsOf(nodes: NodeInfo[]): string[] {
  const seen = new Set(nodes.map((n) => n.arch).filter((a): a is string => !!a));
  return ARCH_ORDER.filter((a) => seen.has(a));
}

export interface LocalClusterPlan {
  /** Keys to add to the stack config (none when there is no cluster or the user set them). */
  config: Record<string, string>;
  problems: string[];
}

/** The cluster keys for a local lab; `config` is the stack config as the user gave it. */
export async function localClusterConfig(
  config: Record<string, string>,
  env: NodeJS.ProcessEnv,
  listNodes: NodeLister = listNodesOf,
): Promise<LocalClusterPlan> {
  const add: Record<string, string> = {};
  const given = config["lab:kubeconfig"];
  const kubeconfig = given ?? env.LAB_KUBECONFIG ?? "";
  if (given === undefined && kubeconfig !== "") add["lab:kubeconfig"] = kubeconfig;
  if (kubeconfig === "" || config["lab:clusterArchs"] !== undefined) return { config: add, problems: [] };
  let nodes: NodeInfo[];
  try {
    nodes = await listNodes(kubeconfig);
  } catch (e) {
    const why = e instanceof Error ? e.message : String(e);
    return {
      config: {},
      problems: [
        `the cluster of ${kubeconfig} does not answer (${why}): start it with \`npm run setup:local\`, ` +
          `or run without one: --config kubeconfig=`,
      ],
    };
  }
  const archs = clusterArchsOf(nodes);
  if (archs.length === 0) {
    return { config: {}, problems: [`the cluster of ${kubeconfig} has no amd64 or arm64 node`] };
  }
  add["lab:clusterArchs"] = archs.join(",");
  return { config: add, problems: [] };
}
