/** Durations as people write them: `90s`, `10m`, `2h`, `1d`, `1h30m`. */
const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

export function parseDuration(text: string): number | Error {
  const t = text.trim();
  const parts = [...t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (t === "" || parts.map((p) => p[0]).join("") !== t) {
    return new Error(`"${text}" is not a duration (use e.g. 90s, 10m, 2h, 1d, 1h30m)`);
  }
  const ms = parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]], 0);
  return ms;
}
