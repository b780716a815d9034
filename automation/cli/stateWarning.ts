/** The warning that a CI runner's checkout is a poor home for the state. */
import * as path from "node:path";
import { fileBackendDir } from "../lifecycle/locks";
import { defaultBackendUrl } from "../lifecycle/state";
import { Command } from "../lifecycle/types";
import { leavesLabs } from "../lifecycle/commands";
import * as v from "./validate";

/**
 * Under CI, labs that outlive the command (`up`, `run --keep`) with the state in the checkout's
 * default file backend: an ephemeral runner deletes the only record of them when the job ends.
 */
export function ephemeralStateWarning(
  command: Command,
  o: Pick<v.RawOptions, "keep" | "backend">,
  env: NodeJS.ProcessEnv,
  projectDir: string,
): string | undefined {
  if (!env.CI || env.CI === "false" || env.CI === "0") return undefined;
  if (!leavesLabs(command, !!o.keep)) return undefined;
  const dir = fileBackendDir(o.backend ?? defaultBackendUrl(projectDir));
  const root = path.resolve(projectDir) + path.sep;
  if (dir === undefined || !(path.resolve(dir) + path.sep).startsWith(root)) return undefined;
  return (
    `warning: CI is set and the lab state is in ${dir}, inside the checkout: an ephemeral CI runner ` +
    "deletes it when the job ends, and with it the only way to destroy these labs. Pass " +
    "`--backend <url>` (e.g. s3://<bucket>/lab-state, or a file:// path on a disk that persists) " +
    "to this and every later lab command (verify, destroy, reap --leftovers)."
  );
}
