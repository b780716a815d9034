/** The driver's exit codes: 0 all labs passed, 1 any lab failed, 2 bad usage or input (nothing created). */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
