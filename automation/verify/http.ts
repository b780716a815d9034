/**
 * Thin HTTP fetchers for the traffic check. Each request opens its own connection (no keep-alive)
 * so that a per-connection load balancer (NLB, kube-proxy) can spread them over the pods.
 */
import * as http from "node:http";
import * as https from "node:https";
import { Answer } from "./traffic";

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

export interface PollResult {
  answering: boolean;
  attempts: number;
  waitedMs: number;
  last: Answer;
}

/**
 * Polls until the URL answers HTTP 200 (load-balancer DNS and target registration take minutes),
 * backing off from 1 s to 15 s, until `deadlineMs` has passed.
 */
export async function pollUntilAnswering(
  url: string,
  deadlineMs: number,
  clock: Clock = realClock,
  signal?: AbortSignal,
  onWait?: (attempt: number, last: Answer) => void,
): Promise<PollResult> {
  const start = clock.now();
  let delay = 1000;
  for (let attempts = 1; ; attempts++) {
    const last = await getOnce(url, 10_000, signal);
    const waitedMs = clock.now() - start;
    if (last.status === 200) return { answering: true, attempts, waitedMs, last };
    if (signal?.aborted || waitedMs + delay > deadlineMs)
      return { answering: false, attempts, waitedMs, last };
    onWait?.(attempts, last);
    await clock.sleep(delay, signal);
    delay = Math.min(delay * 2, 15_000);
  }
}

/** `n` GETs, each on its own connection, a few at a time. */
export async function sample(url: string, n: number, parallel = 4, signal?: AbortSignal): Promise<Answer[]> {
  const answers: Answer[] = new Array(n);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < n && !signal?.aborted) {
      const i = next++;
      answers[i] = await getOnce(url, 10_000, signal);
    }
  };
  await Promise.all(Array.from({ length: Math.min(parallel, n) }, worker));
  return answers.filter((a) => a !== undefined);
}
