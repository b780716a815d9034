/**
 * Check 2: Ready nodes exist for both `kubernetes.io/arch` values, and every node runs the
 * architecture its node group declares (a Graviton group booting an x86 AMI is the classic
 * failure: pulumi-eks #738, #582, #1323). On a cluster known to lack an architecture (the local
 * target), that requirement is `skipped` with the reason, never passed; the rest still fails.
 */
import { ARCHS } from "../../infra/arch";
import { CheckResult, KubeArch, NodeInfo, failed, passed, skipped } from "./types";

export const BOTH_ARCHS: readonly KubeArch[] = ARCHS;

/** A node group as the stack declares it (the `nodeGroups` output). */
export interface DeclaredNodeGroup {
  name: string;
  arch: string;
}

export function checkNodes(
  nodes: NodeInfo[],
  required: readonly KubeArch[] = BOTH_ARCHS,
  groups: DeclaredNodeGroup[] = [],
  opts: { skipMissingArchs?: boolean } = {},
): CheckResult {
  const evidence = {
    nodes: nodes.map((n) => ({
      name: n.name,
      arch: n.arch ?? null,
      ready: n.ready,
      instanceType: n.instanceType ?? null,
      nodeGroup: n.nodeGroup ?? null,
    })),
    required: [...required],
  };
  const problems: string[] = [];
  const missing: string[] = [];
  const readyArchs = new Set(nodes.filter((n) => n.ready && n.arch).map((n) => n.arch as string));
  for (const arch of required) {
    if (!readyArchs.has(arch)) {
      const notReady = nodes.filter((n) => n.arch === arch && !n.ready).length;
      if (notReady === 0 && opts.skipMissingArchs) {
        missing.push(arch);
        continue;
      }
      problems.push(
        notReady > 0
          ? `no Ready ${arch} node (${notReady} ${arch} node(s) not Ready)`
          : `no ${arch} node in the cluster`,
      );
    }
  }
  for (const n of nodes) {
    const group = groups.find((g) => g.name !== "" && g.name === n.nodeGroup);
    if (group && n.arch && group.arch !== n.arch) {
      problems.push(`node ${n.name} of node group ${group.name} (declared ${group.arch}) runs ${n.arch}`);
    }
  }
  if (problems.length > 0) return failed("nodes", problems.join("; "), evidence);
  const counts = required
    .filter((a) => !missing.includes(a))
    .map((a) => `${nodes.filter((n) => n.ready && n.arch === a).length} ${a}`);
  if (missing.length > 0) {
    return skipped(
      "nodes",
      `the cluster has no ${missing.join(", ")} node (Ready nodes: ${counts.join(", ") || "none"})`,
      { ...evidence, missingArchs: missing },
    );
  }
  return passed("nodes", `Ready nodes: ${counts.join(", ")}`, evidence);
}
