/**
 * The lab's own local cluster around a command: started before a local lab needs it and released
 * after, with SIGINT/SIGTERM noted meanwhile (a process killed half-way would leave it half-running).
 */
import { ClusterControl } from "../local/cluster";
import { Command } from "../lifecycle/types";
import type { CliDeps } from "./types";
import { EXIT } from "./exit";
import { errorMessage } from "../errors";

/**
 * Runs `fn` with SIGINT/SIGTERM noted instead of ending the process: starting or stopping the
 * cluster takes seconds, and a process killed half-way would leave it half-running.
 */
async function shielded<T>(d: CliDeps, fn: () => Promise<T>): Promise<{ value: T; interrupted: boolean }> {
  let interrupted = false;
  const off = d.signals.on(() => {
    if (!interrupted) d.err("lab: signal received; finishing the local cluster's start or stop first");
    interrupted = true;
  });
  try {
    return { value: await fn(), interrupted };
  } finally {
    off();
  }
}

/** Starts the lab's own cluster; on failure or a signal, stops it again and returns the exit code. */
export async function startCluster(
  d: CliDeps,
  command: Command,
  cluster: ClusterControl,
): Promise<number | undefined> {
  const { value: error, interrupted } = await shielded(d, () =>
    cluster.start().then(
      (summary) => (d.out(`local cluster: ${summary}`), undefined),
      (e: unknown) => e,
    ),
  );
  if (error === undefined && !interrupted) return undefined;
  if (interrupted) d.err(`lab ${command}: interrupted while the local cluster started; stopping it`);
  else
    d.err(
      `lab ${command}: the local cluster did not start (${errorMessage(error)}): run \`npm run setup:local\` ` +
        "(as root), or join a cluster you run with --config kubeconfig=<file>",
    );
  await releaseCluster(d, command, cluster);
  return interrupted ? EXIT.failed : EXIT.usage;
}

/** Lets go of the lab's own cluster; false when it should have stopped and did not. */
export async function releaseCluster(
  d: CliDeps,
  command: Command,
  cluster: ClusterControl,
): Promise<boolean> {
  const { value } = await shielded(d, () =>
    cluster.release().then(
      (summary) => (d.out(`local cluster: ${summary}`), true),
      (e: unknown) => (d.err(`lab ${command}: the local cluster did not stop (${errorMessage(e)})`), false),
    ),
  );
  return value;
}
