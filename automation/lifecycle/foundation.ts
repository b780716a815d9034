/**
 * The workshop's foundation stack (#10): what the attendees' labs share (the one image build, and
 * on AWS the shared network or cluster of the topology). One per workshop, named so that no
 * attendee stack can be called the same: `<prefix>.foundation` (attendee names are DNS labels,
 * which have no dot).
 */

/** Whether the driver runs a foundation per workshop (the program's `lab:role`/`lab:foundation`). */
export const FOUNDATIONS = true;

/** The foundation's name in progress lines, summaries and reports, and its `lab:attendee`. */
export const FOUNDATION = "foundation";

export function foundationStack(prefix: string): string {
  return `${prefix}.${FOUNDATION}`;
}

/** Stack config that names the attendee: not the foundation's. */
const PER_ATTENDEE = new Set(["lab:attendee", "lab:foundation", "lab:attendeePrincipal"]);

/** The foundation's config: the workshop-wide part of the attendees' config, with its role. */
export function foundationConfig(config: Record<string, string>): Record<string, string> {
  const out = Object.fromEntries(Object.entries(config).filter(([k]) => !PER_ATTENDEE.has(k)));
  return { ...out, "lab:role": "foundation", "lab:attendee": FOUNDATION };
}
