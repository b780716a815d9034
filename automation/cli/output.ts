/**
 * The driver's stdout and stderr, written so that a reader going away never ends a run: `| head`
 * closing the pipe (EPIPE), a killed `| tee`, a cut CI log stream, a closed terminal (EIO). Node
 * reports such a failure as an 'error' event on the stream, which unhandled ends the process with
 * the lab half made. Once a stream fails the driver stops writing to it and carries on: it finishes
 * or cancels as it would, cleans up and exits with its usual code; the per-lab logs under
 * `.lab-logs/` and the reports keep everything.
 */
export interface GuardedStream {
  write(text: string): void;
  /** Why the stream stopped taking output (e.g. EPIPE); undefined while it works. */
  readonly failed?: string;
}

/** Guards `stream` (listening for its errors from now on) and returns a writer that skips it once it failed. */
export function guardStream(stream: NodeJS.WritableStream): GuardedStream {
  const g: { failed?: string; write(text: string): void } = {
    write(text) {
      if (g.failed !== undefined) return;
      try {
        stream.write(text);
      } catch (e) {
        // A stream destroyed by an earlier error may throw synchronously instead.
        g.failed = (e as NodeJS.ErrnoException).code ?? String(e);
      }
    },
  };
  stream.on("error", (e: NodeJS.ErrnoException) => {
    g.failed ??= e.code ?? e.message;
  });
  return g;
}
