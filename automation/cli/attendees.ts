/**
 * The attendee list: from `--attendees a,b,c` or `--attendees-file` (one per line, blank lines
 * and `#` comments ignored). Every name follows infra/config.ts's `attendeeProblems`; the list
 * must be non-empty and without duplicates. All problems are reported together.
 */
import { attendeeProblems } from "../../infra/configRules";

export interface AttendeeSource {
  /** `--attendees` values (each may hold a comma-separated list). */
  list?: string[];
  /** `--attendees-file` path and its text (already read). */
  file?: { path: string; text: string };
}

export function parseAttendeeFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.replace(/#.*$/, "").trim())
    .filter((line) => line !== "");
}

export function splitList(values: string[]): string[] {
  return values.flatMap((v) => v.split(",")).map((s) => s.trim());
}

/** The attendees, or every problem found. */
export function resolveAttendees(src: AttendeeSource): { attendees: string[]; problems: string[] } {
  const problems: string[] = [];
  const names: string[] = [];
  if (src.list) {
    const items = splitList(src.list);
    if (items.some((s) => s === "") && items.some((s) => s !== "")) {
      problems.push(`--attendees has an empty name (stray comma?): "${src.list.join(",")}"`);
    }
    names.push(...items.filter((s) => s !== ""));
  }
  if (src.file) names.push(...parseAttendeeFile(src.file.text));
  if (names.length === 0) {
    const where = src.file ? `${src.file.path} has no attendee names` : "no attendees given";
    problems.push(`${where}: pass --attendees alice,bob or --attendees-file attendees.txt`);
    return { attendees: [], problems };
  }
  for (const name of names) {
    for (const p of attendeeProblems(name)) problems.push(p.replace(/^lab:attendee /, "attendee "));
  }
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const n of names) (seen.has(n) ? dups : seen).add(n);
  if (dups.size > 0)
    problems.push(`duplicate attendees: ${[...dups].join(", ")} (each attendee gets one stack)`);
  return { attendees: names, problems };
}
