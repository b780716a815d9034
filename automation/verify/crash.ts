/**
 * Why a pod's container keeps failing, read from the API: its state (CrashLoopBackOff, the last
 * termination's reason, exit code and message) and its previous run's log. An image without a
 * variant for the node's architecture gets the node's platform's binary wrong, and the kernel
 * refuses it: `exec format error`, in the runtime's message (StartError) or in the log
 * (`exec /usr/local/bin/node: exec format error`); an index without it cannot even be pulled
 * (containerd: "no match for platform in manifest"). Both are named as such, not as a crash loop.
 */
import type { Cluster } from "./kube";
import { ContainerInfo, PodInfo } from "./types";

const EXEC_FORMAT = /exec format error/i;
/** containerd's refusal to pull an index without the node's platform. */
const NO_PLATFORM = /no match for platform in manifest/i;

/** A container that has failed or is failing (worth its previous log). */
export function isCrashing(c: ContainerInfo): boolean {
  return (
    c.waiting?.reason === "CrashLoopBackOff" ||
    c.waiting?.reason === "ErrImagePull" ||
    c.waiting?.reason === "ImagePullBackOff" ||
    (c.terminated !== undefined && c.terminated.reason !== "Completed") ||
    (c.restartCount > 0 && !c.ready)
  );
}

/** What went wrong with one pod's containers, one phrase each ("" when nothing did). */
export function crashText(pod: PodInfo, nodeArch: string | undefined): string {
  const parts: string[] = [];
  for (const c of pod.containers ?? []) {
    if (!isCrashing(c)) continue;
    const said = [c.terminated?.message, c.waiting?.message, c.previousLog].filter(Boolean).join("\n");
    const platform = nodeArch ? `linux/${nodeArch}` : "this node's platform";
    const where = `container ${c.name} of ${pod.name} on ${pod.nodeName ?? "?"}`;
    if (EXEC_FORMAT.test(said)) {
      parts.push(`image has no ${platform} variant: ${where} fails with "exec format error"`);
      continue;
    }
    if (NO_PLATFORM.test(said)) {
      parts.push(
        `image has no ${platform} variant: ${where} cannot pull it (no match for platform in manifest)`,
      );
      continue;
    }
    const how = [
      c.waiting?.reason,
      c.terminated?.reason,
      c.terminated?.exitCode !== undefined ? `exit ${c.terminated.exitCode}` : undefined,
      `${c.restartCount} restart${c.restartCount === 1 ? "" : "s"}`,
    ].filter(Boolean);
    const line = lastLine(c.previousLog ?? c.terminated?.message);
    parts.push(`container ${c.name} of ${pod.name} crashing (${how.join(", ")})${line ? `: ${line}` : ""}`);
  }
  return parts.join("; ");
}

function lastLine(text: string | undefined): string | undefined {
  const line = text
    ?.split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  return line && line.length > 160 ? `${line.slice(0, 160)}…` : line;
}

/** Adds each crashing container's previous log (best effort: a missing log is no error). */
export async function withPreviousLogs(
  cluster: Pick<Cluster, "previousLog">,
  namespace: string,
  pods: PodInfo[],
): Promise<PodInfo[]> {
  return Promise.all(
    pods.map(async (p) => {
      if (p.ready || !(p.containers ?? []).some(isCrashing)) return p;
      const containers = await Promise.all(
        (p.containers ?? []).map(async (c) => {
          if (!isCrashing(c)) return c;
          try {
            return { ...c, previousLog: await cluster.previousLog(namespace, p.name, c.name) };
          } catch {
            return c;
          }
        }),
      );
      return { ...p, containers };
    }),
  );
}
