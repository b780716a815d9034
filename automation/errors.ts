/** The message of anything thrown: an Error's own message, anything else as text. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** For an unexpected failure: the Error's stack (which starts with its message), else as errorMessage. */
export function errorDetail(e: unknown): string {
  return e instanceof Error ? (e.stack ?? e.message) : String(e);
}
