/**
 * SIGINT/SIGTERM/SIGHUP. The first cancels the updates gracefully; only the same signal again exits
 * at once. CI runners cancel a job with SIGINT, then SIGTERM seconds later, then SIGKILL (GitLab,
 * GitHub Actions, Jenkins alike): a SIGTERM after a SIGINT is the same cancel, not a second Ctrl+C.
 * SIGHUP is a closed terminal (SSH dropped, tab closed): nobody is left to press Ctrl+C again, so it
 * is a cancel like SIGTERM; the Pulumi CLI ignores it (hangup.ts) and gets the cancel from us.
 */
import type { RunSettings, RunnerDeps, SignalSource } from "./types";

export const CANCEL_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export const processSignals: SignalSource = {
  on(handler) {
    const h = (sig: NodeJS.Signals): void => handler(sig);
    for (const sig of CANCEL_SIGNALS) process.on(sig, h);
    return () => {
      for (const sig of CANCEL_SIGNALS) process.off(sig, h);
    };
  },
};

/** Notes the first signal instead of letting it end the process (until `off`). */
export function noteSignals(source: SignalSource): { readonly signal?: string; off: () => void } {
  const noted: { signal?: string; off: () => void } = { off: () => undefined };
  noted.off = source.on((sig) => (noted.signal ??= sig));
  return noted;
}

/** A signal handler that cancels once, and exits at once only on the same signal again. */
export function signalHandler(
  s: RunSettings,
  d: RunnerDeps,
  cancel: AbortController,
  holding: Set<string>,
  recorded: Set<string>,
) {
  let first: string | undefined;
  return (sig: string): void => {
    if (first === undefined) {
      first = sig;
      d.say(
        `\n${sig}: cancelling updates, then destroying what this command created (labs that existed before are left as they were)${s.keep ? " (--keep: not destroying)" : ""}. ` +
          (sig === "SIGINT" ? "Press Ctrl+C again to exit at once." : `Send ${sig} again to exit at once.`),
      );
      cancel.abort();
      return;
    }
    if (sig !== first) {
      d.say(`\n${sig} after ${first}: still cancelling gracefully (send ${first} again to exit at once).`);
      return;
    }
    const list = [...holding].sort();
    const kept = list.filter((n) => recorded.has(n));
    // The foundation goes with the last of its labs (`destroy` removes it when none is left).
    const attendees = list
      .filter((n) => n.startsWith(`${s.prefix}-`))
      .map((n) => n.slice(s.prefix.length + 1));
    const hint =
      attendees.length > 0
        ? `\`npm run lab -- destroy --attendees ${attendees.join(",")}\``
        : `\`npm run lab -- reap --leftovers --stack-prefix ${s.prefix}\``;
    d.say(
      `\n${sig} again: exiting now. ` +
        (list.length > 0
          ? `These stacks may still hold resources: ${list.join(", ")}. Destroy them with ${hint}` +
            (kept.length > 0
              ? ` (recorded in the backend as unfinished: ${kept.join(", ")}; \`npm run lab -- reap --leftovers --stack-prefix ${s.prefix}\` finds them).`
              : ".")
          : "No stack holds resources."),
    );
    d.exit(1);
  };
}
