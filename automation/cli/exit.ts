import type { CliDeps } from "./types";

/** The driver's exit codes: 0 all labs passed, 1 any lab failed, 2 bad usage or input (nothing created). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/**
 * Every problem of a command line at once. `outcome` says what did not happen: the lab commands
 * created nothing, the aws ones (preflight, sweep, audit) did nothing.
 */
export function usageError(
  d: Pick<CliDeps, "err">,
  command: string,
  problems: string[],
  outcome = "nothing was created",
): number {
  const n = problems.length;
  d.err(
    `lab ${command}: ${n} problem${n === 1 ? "" : "s"}, ${outcome}:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  );
  d.err(`Run \`npm run lab -- ${command} --help\` for usage.`);
  return EXIT.usage;
}
