/**
 * `reap --leftovers` and `destroy --leftovers`: destroy exactly the stacks an interrupted or killed
 * run recorded as unfinished in the backend (lifecycle/ledger.ts), through the ordinary destroy
 * path. Meant for an always-run CI step after `lab run`, with the same --backend and --stack-prefix.
 * Also the warning that a CI runner's checkout is a poor home for the state.
 */
import * as path from "node:path";
import { CliDeps, labCommand, usageError } from "./commands";
import { targetEngine } from "./engines";
import { EXIT } from "./exit";
import { findUnfinished } from "../lifecycle/ledger";
import { foundationStack } from "../lifecycle/foundation";
import { fileBackendDir } from "../lifecycle/locks";
import { defaultBackendUrl } from "../lifecycle/state";
import { Command } from "../lifecycle/types";
import * as v from "./validate";

export async function leftoversCommand(
  command: "reap" | "destroy",
  o: v.RawOptions,
  d: CliDeps,
): Promise<number> {
  const problems = new v.Problems();
  const prefix = v.stackPrefix(o.stackPrefix, problems);
  v.backend(o.backend, problems);
  if (o.attendees || o.attendeesFile)
    problems.add("--leftovers picks the stacks from the backend's record: drop --attendees/--attendees-file");
  if (o.olderThan !== undefined)
    problems.add("--leftovers and --older-than select stacks differently: pick one");
  if (problems.list.length > 0) return usageError(d, command, problems.list);
  // Any CLI reads the record; each stack is then destroyed by its own target's engine.
  const engine = await targetEngine(d, command, o, undefined);
  if (typeof engine === "number") return engine;
  const found = await findUnfinished(engine, prefix);
  if (found.length === 0) {
    d.out(`no leftovers: no ${prefix}-… stack is recorded as left unfinished`);
    return EXIT.ok;
  }
  d.out(
    `destroying ${found.length} leftover stack(s) recorded as unfinished:\n` +
      found.map((u) => `  ${u.stack}: ${u.record}`).join("\n"),
  );
  // The foundation is not named: it goes after the last of its labs (or alone, when only it is left).
  const labs = found.filter((u) => u.stack !== foundationStack(prefix));
  return labCommand(
    "destroy",
    {
      ...o,
      leftovers: false,
      attendees: labs.length > 0 ? [labs.map((u) => u.stack.slice(prefix.length + 1)).join(",")] : [],
      foundationOnly: labs.length === 0,
      attendeesFile: undefined,
      config: [],
    },
    d,
  );
}

/**
 * Under CI, labs that outlive the command (`up`, `run --keep`) with the state in the checkout's
 * default file backend: an ephemeral runner deletes the only record of them when the job ends.
 */
export function ephemeralStateWarning(
  command: Command,
  o: v.RawOptions,
  env: NodeJS.ProcessEnv,
  projectDir: string,
): string | undefined {
  if (!env.CI || env.CI === "false" || env.CI === "0") return undefined;
  if (!(command === "up" || (command === "run" && o.keep))) return undefined;
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
