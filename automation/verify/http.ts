/**
 * Thin HTTP fetchers for the traffic check. Each request opens its own connection (no keep-alive)
 * so that a per-connection load balancer (NLB, kube-proxy) can spread them over the pods. A real
 * load balancer settles for minutes (DNS, target registration, one AZ before another): sampling
 * starts after a streak of answers, and a connection that gets no answer at all is retried.
 */
import * as http from "node:http";
import * as https from "node:https";
import { Answer } from "./types";

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done(): void {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        resolve();
      }
      signal?.addEventListener("abort", done, { once: true });
    }),
};

/** One GET on a fresh connection; never throws (errors are part of the answer). */
export function getOnce(url: string, timeoutMs = 10_000, signal?: AbortSignal): Promise<Answer> {
  return new Promise((resolve) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      resolve({ error: `invalid URL ${url}` });
      return;
    }
    const mod = u.protocol === "https:" ? https : http;
    const req = mod.get(u, {
      agent: false,
      headers: { connection: "close", accept: "application/json" },
      signal,
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on("error", (e: NodeJS.ErrnoException) =>
      resolve({ error: e.code ? `${e.code}: ${e.message}` : e.message }),
    );
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", (e) => resolve({ status: res.statusCode, error: e.message }));
      res.on("end", () => resolve({ status: res.statusCode, body: Buffer.concat(chunks).toString("utf8") }));
    });
  });
}

/** Consecutive HTTP 200 answers before sampling starts: one 200 proves little while DNS and targets settle. */
export const STABLE_ANSWERS = 3;
/** Pause between the answers of a streak (short: the streak should prove the present, not the past). */
export const STABLE_INTERVAL_MS = 500;
/** Sampling may retry transport errors until the deadline, and at least this long after it started. */
export const RETRY_GRACE_MS = 30_000;

export interface PollResult {
  /** STABLE_ANSWERS answers of the awaited status in a row were seen. */
  answering: boolean;
  attempts: number;
  waitedMs: number;
  last: Answer;
  /** The longest run of consecutive awaited answers seen (evidence when it never settled). */
  bestStreak: number;
  /** The last answers that were not awaited, newest last (status or error), for the evidence. */
  recentProblems: string[];
}

const problemText = (a: Answer): string => a.error ?? `HTTP ${a.status}`;

/**
 * Polls until the URL has answered `okStatus` (HTTP 200 unless lab:expectStatus says otherwise) STABLE_ANSWERS times in a row (load-balancer DNS
 * and target registration take minutes, and flap meanwhile). A failed poll breaks the streak and
 * backs off from 1 s to 15 s (from 1 s again after a success); gives up once `deadlineMs` has passed.
 */
export async function pollUntilStable(
  url: string,
  deadlineMs: number,
  clock: Clock = realClock,
  signal?: AbortSignal,
  onWait?: (attempt: number, last: Answer) => void,
  okStatus = 200,
): Promise<PollResult> {
  const start = clock.now();
  let delay = 1000;
  let streak = 0;
  let bestStreak = 0;
  const recentProblems: string[] = [];
  for (let attempts = 1; ; attempts++) {
    const last = await getOnce(url, 10_000, signal);
    const waitedMs = clock.now() - start;
    const ok = last.status === okStatus && last.error === undefined;
    streak = ok ? streak + 1 : 0;
    bestStreak = Math.max(bestStreak, streak);
    const result = { attempts, waitedMs, last, bestStreak, recentProblems };
    if (streak >= STABLE_ANSWERS) return { answering: true, ...result };
    const pause = ok ? STABLE_INTERVAL_MS : delay;
    if (signal?.aborted || waitedMs + pause > deadlineMs) return { answering: false, ...result };
    if (ok)
      delay = 1000; // it came close: start backing off from the beginning again
    else {
      recentProblems.push(`#${attempts}: ${problemText(last)}`);
      if (recentProblems.length > 5) recentProblems.shift();
      onWait?.(attempts, last);
      delay = Math.min(delay * 2, 15_000);
    }
    await clock.sleep(pause, signal);
  }
}

export interface SampleResult {
  /** One per request: the real answer, or the last transport error once retrying ran out of time. */
  answers: Answer[];
  /** Transport errors retried (each one counted). */
  retries: number;
  /** The first retried errors, by request number. */
  retried: { request: number; error: string }[];
}

/**
 * `n` GETs, each on its own connection, a few at a time. A transport error (reset, refused,
 * timeout: no answer at all) is retried, backing off from 250 ms to 2 s, until `retryUntil`;
 * only answers are judged.
 */
export async function sample(
  url: string,
  n: number,
  o: { parallel?: number; signal?: AbortSignal; clock?: Clock; retryUntil?: number } = {},
): Promise<SampleResult> {
  const clock = o.clock ?? realClock;
  const retryUntil = o.retryUntil ?? clock.now();
  const answers: Answer[] = new Array(n);
  const result: SampleResult = { answers: [], retries: 0, retried: [] };
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n && !o.signal?.aborted) {
      const i = next++;
      for (let delay = 250; ; delay = Math.min(delay * 2, 2_000)) {
        const a = await getOnce(url, 10_000, o.signal);
        if (a.error === undefined || o.signal?.aborted || clock.now() + delay > retryUntil) {
          answers[i] = a;
          break;
        }
        result.retries++;
        if (result.retried.length < 10) result.retried.push({ request: i + 1, error: a.error });
        await clock.sleep(delay, o.signal);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(o.parallel ?? 4, n) }, worker));
  result.answers = answers.filter((a) => a !== undefined);
  return result;
}
