/**
 * The live display: one line per attendee (phase, resources done/total, elapsed), redrawn in a
 * terminal by log-update; in CI (no TTY) a plain line on each phase change instead.
 */
import logUpdate from "log-update";
import { Phase, ProgressSink } from "../lifecycle/types";
import { formatDuration } from "./format";

interface Row {
  attendee: string;
  phase: Phase;
  detail?: string;
  done: number;
  total?: number;
  started: number;
  phaseStarted: number;
  /** Set when the lab reached done/failed/cancelled: the elapsed time stops there. */
  ended?: number;
  note?: string;
}

export interface Display extends ProgressSink {
  /** Stops redrawing and leaves the last frame on screen. */
  stop(): void;
  /** Prints a message above the live lines. */
  say(text: string): void;
}

const ACTIVE: Phase[] = ["prepare", "preview", "up", "verify", "refresh", "destroy", "remove"];

export class ProgressModel {
  readonly rows = new Map<string, Row>();
  constructor(private readonly now: () => number) {}

  row(attendee: string): Row {
    let r = this.rows.get(attendee);
    if (!r) {
      const t = this.now();
      r = { attendee, phase: "queued", done: 0, started: t, phaseStarted: t };
      this.rows.set(attendee, r);
    }
    return r;
  }

  /** Moves a lab to `phase`; resource counts restart with each phase. */
  enter(attendee: string, phase: Phase, detail?: string): Row {
    const r = this.row(attendee);
    const t = this.now();
    if (r.phase === "queued" && phase !== "queued") r.started = t;
    const ended = ["done", "failed", "cancelled"].includes(phase) ? t : undefined;
    Object.assign(r, { phase, detail, note: undefined, phaseStarted: t, done: 0, total: undefined, ended });
    return r;
  }

  /** Text of one line: `alice   up        12/45   3m02s  creating…`. */
  line(r: Row, width: number): string {
    const res = r.total !== undefined || r.done > 0 ? `${r.done}/${r.total ?? "?"}` : "";
    const elapsed = r.phase === "queued" ? "" : formatDuration((r.ended ?? this.now()) - r.started);
    const tail = r.note ?? r.detail ?? "";
    return `${r.attendee.padEnd(width)}  ${r.phase.padEnd(9)} ${res.padEnd(9)} ${elapsed.padEnd(7)} ${tail}`.trimEnd();
  }

  frame(): string {
    const width = Math.max(8, ...[...this.rows.keys()].map((a) => a.length));
    return [...this.rows.values()].map((r) => this.line(r, width)).join("\n");
  }
}

/** Plain lines on phase changes: the CI form. */
export function plainDisplay(write: (line: string) => void, now: () => number): Display {
  const model = new ProgressModel(now);
  return {
    phase(attendee, phase, detail) {
      const r = model.row(attendee);
      const prev = r.phase;
      const took =
        prev !== "queued" && ACTIVE.includes(prev)
          ? ` (${prev} took ${formatDuration(now() - r.phaseStarted)}${r.total !== undefined || r.done > 0 ? `, ${r.done}/${r.total ?? "?"} resources` : ""})`
          : "";
      const row = model.enter(attendee, phase, detail);
      if (phase === "queued") return;
      const total =
        row.ended !== undefined && prev !== "queued"
          ? ` [total ${formatDuration(row.ended - row.started)}]`
          : "";
      write(`[${attendee}] ${phase}${detail ? `: ${detail}` : ""}${took}${total}`);
    },
    resources(attendee, done, total) {
      Object.assign(model.row(attendee), { done, total });
    },
    note(attendee, text) {
      model.row(attendee).note = text;
      if (/failed|waiting/i.test(text)) write(`[${attendee}] ${text}`);
    },
    stop() {},
    say: (text) => write(text),
  };
}

/** The TTY form: live lines redrawn every 250 ms and on every change. */
export function liveDisplay(stream: NodeJS.WriteStream, now: () => number): Display {
  // showCursor: true keeps log-update off cli-cursor, whose exit hooks interfere with SIGINT handlers.
  const draw = logUpdate.create(stream, { showCursor: true });
  const model = new ProgressModel(now);
  const render = (): void => {
    if (!stopped) draw(model.frame());
  };
  const timer = setInterval(render, 250);
  let stopped = false;
  timer.unref();
  return {
    phase(attendee, phase, detail) {
      Object.assign(model.row(attendee), {
        phase,
        detail,
        note: undefined,
        phaseStarted: now(),
        done: 0,
        total: undefined,
      });
      render();
    },
    resources(attendee, done, total) {
      Object.assign(model.row(attendee), { done, total });
      render();
    },
    note(attendee, text) {
      model.row(attendee).note = text;
      render();
    },
    stop() {
      if (stopped) return;
      clearInterval(timer);
      render();
      draw.done();
      stopped = true;
    },
    say(text) {
      draw.clear();
      stream.write(`${text}\n`);
      render();
    },
  };
}
