/** The Automation API's typed errors, each turned into one clear line (STYLE habit 8). */
import {
  CommandError,
  ConcurrentUpdateError,
  StackAlreadyExistsError,
  StackNotFoundError,
} from "@pulumi/pulumi/automation";
import { StackMissingError } from "./engine";

/** The lines of a CLI error worth showing: Pulumi's `error:` lines, else the first lines. */
function essence(text: string): string {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean);
  const errors = lines.filter((l) => /^error:/i.test(l)).map((l) => l.replace(/^error:\s*/i, ""));
  const chosen = errors.length > 0 ? errors : lines.slice(0, 2);
  const joined = chosen.join(" | ");
  return joined.length > 400 ? `${joined.slice(0, 400)}…` : joined;
}

export function explain(e: unknown, stack: string): string {
  if (e instanceof ConcurrentUpdateError) {
    return (
      `stack ${stack} is locked by another update. If no other run is active, a crashed run left the lock: ` +
      `\`pulumi cancel --stack ${stack}\` (Pulumi Cloud) or remove the lock under .lab-state/.pulumi/locks, then refresh`
    );
  }
  if (e instanceof StackNotFoundError || e instanceof StackMissingError)
    return `stack ${stack} does not exist`;
  if (e instanceof StackAlreadyExistsError) return `stack ${stack} already exists`;
  if (e instanceof CommandError) return essence(e.message.replace(/^code: -?\d+\s*/m, ""));
  return e instanceof Error ? e.message : String(e);
}
