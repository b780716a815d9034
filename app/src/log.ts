// Structured logs: one JSON object per line on stdout, e.g.
//   {"ts":"…","event":"listening","msg":"listening on http://0.0.0.0:8080","host":"0.0.0.0","port":8080,…}
//   {"ts":"…","event":"request","method":"GET","path":"/hello","status":200,"durationMs":0.42}
export type LogFields = Readonly<Record<string, unknown>>;
export type Logger = (event: string, fields?: LogFields) => void;

/** One log line (without the newline). */
export function formatLogLine(event: string, fields: LogFields, now: Date): string {
  return JSON.stringify({ ts: now.toISOString(), event, ...fields });
}

/** A logger that writes one line per event through `write` (normally stdout). */
export function jsonLogger(write: (text: string) => void, now: () => Date = () => new Date()): Logger {
  return (event, fields = {}) => write(formatLogLine(event, fields, now()) + "\n");
}

/** The address the app bound, as its start line reports it. */
export interface ListeningInfo {
  host: string;
  port: number;
  url: string;
}

export function listeningFields(host: string, port: number): ListeningInfo & { msg: string } {
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return { msg: `listening on ${url}`, host, port, url };
}

/**
 * Reads the start line ("event":"listening"); undefined for any other line. Tests and tools that start
 * the app with PORT=0 use it to learn the port that was bound.
 */
export function parseListeningLine(line: string): ListeningInfo | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const entry = parsed as Record<string, unknown>;
  if (entry.event !== "listening") return undefined;
  const { host, port, url } = entry;
  if (typeof host !== "string" || typeof url !== "string") return undefined;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { host, port, url };
}
