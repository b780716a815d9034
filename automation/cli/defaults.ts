/** The command line's defaults and bounds: one table, read by the help texts and the validators alike. */
import { parseDuration } from "./duration";

export const CLI_DEFAULTS = {
  concurrency: 4,
  requests: 40,
  destroyTries: 3,
  /** As the help text states it, and parsed as --traffic-deadline is. */
  trafficDeadline: "10m",
} as const;

/** Upper bounds of the numeric options that have one. */
export const CLI_MAX = { concurrency: 64, destroyTries: 10 } as const;

function durationMs(text: string): number {
  const ms = parseDuration(text);
  if (ms instanceof Error) throw ms;
  return ms;
}

export const DEFAULT_TRAFFIC_DEADLINE_MS = durationMs(CLI_DEFAULTS.trafficDeadline);
