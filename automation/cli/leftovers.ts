/**
 * `reap --leftovers` and `destroy --leftovers`: destroy exactly the stacks an interrupted or killed
 * run recorded as unfinished in the backend (lifecycle/ledger.ts), through the ordinary destroy
 * path. Meant for an always-run CI step after `lab run`, with the same --backend and --stack-prefix.
 */
import { runDestroy } from "./commands";
import { destroyRequest } from "./request";
import { targetEngine } from "./engines";
import { EXIT, usageError } from "./exit";
import { CliDeps } from "./types";
import { findUnfinished } from "../lifecycle/ledger";
import { foundationStack } from "../lifecycle/foundation";
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
  const names = labs.map((u) => u.stack.slice(prefix.length + 1));
  return runDestroy(destroyRequest(o, d.env, names, o.target), d);
}
