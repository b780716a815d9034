import type { CliDeps } from "./types";

/** The driver's exit codes: 0 all labs passed, 1 any lab failed, 2 bad usage or input (nothing created). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Every problem of a command line at once; nothing was created. */
export function usageError(d: Pick<CliDeps, "err">, command: string, problems: string[]): number {
  const n = problems.length;
  d.err(
    `lab ${command}: ${n} problem${n === 1 ? "" : "s"}, nothing was created:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  );
  d.err(`Run \`npm run lab -- ${command} --help\` for usage.`);
  return EXIT.usage;
}
