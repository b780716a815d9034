// The traffic check on a load balancer that is still settling, for real on loopback: a TCP front
// that resets chosen connections (as an NLB does while DNS and target registration settle) and
// forwards the others, alternately, to the project's app started as "x86_64" and as "aarch64".
import assert from "node:assert/strict";
import * as net from "node:net";
import { AppProcess, startApp } from "../../app/test/support/appProcess";
import { verifyUrl } from "../../automation/verify";
import { Clock, STABLE_ANSWERS, realClock } from "../../automation/verify/http";

interface FlakyLb {
  url: string;
  /** Connections reset so far, by connection number (1-based, in accept order). */
  dropped: number[];
  close(): void;
}

/** Resets connection n when `drop(n)`; forwards the others round-robin over `ports`. */
async function flakyLb(ports: number[], drop: (n: number) => boolean): Promise<FlakyLb> {
  let accepted = 0;
  let forwarded = 0;
  const dropped: number[] = [];
  const server = net.createServer((client) => {
    const n = ++accepted;
    client.on("error", () => undefined);
    if (drop(n)) {
      dropped.push(n);
      client.resetAndDestroy(); // a TCP RST: the client sees ECONNRESET, no answer at all
      return;
    }
    const upstream = net.connect(ports[forwarded++ % ports.length], "127.0.0.1");
    client.pipe(upstream).pipe(client);
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hello`,
    dropped,
    close: () => server.close(),
  };
}

// Real time and real connections; only the pauses between tries are shortened (1 s → 50 ms).
const fastClock: Clock = { now: () => Date.now(), sleep: (ms, signal) => realClock.sleep(ms / 20, signal) };
const EXPECT = { expectArchs: ["x86_64", "aarch64"] };

describe("verify traffic on a settling load balancer (loopback, connection resets)", function () {
  this.timeout(60_000);
  let x86: AppProcess;
  let arm: AppProcess;
  const lbs: FlakyLb[] = [];
  before(async () => {
    [x86, arm] = await Promise.all([
      startApp({ APP_ARCH_OVERRIDE: "x86_64" }),
      startApp({ APP_ARCH_OVERRIDE: "aarch64" }),
    ]);
  });
  after(async () => {
    lbs.forEach((lb) => lb.close());
    await Promise.all([x86?.stop(), arm?.stop()]);
  });
  const lb = async (drop: (n: number) => boolean): Promise<FlakyLb> => {
    const l = await flakyLb([x86.port, arm.port], drop);
    lbs.push(l);
    return l;
  };

  it("waits for a streak of answers, then retries resets while sampling, and passes", async () => {
    // Connections 1, 2 and 4 are reset: a lone 200 (#3) is no reason to start. Then every 6th
    // connection is reset while sampling: each is retried and counted, never judged.
    const l = await lb((n) => n === 1 || n === 2 || n === 4 || (n > 8 && n % 6 === 0));
    const r = await verifyUrl(l.url, EXPECT, { requests: 20, trafficDeadlineMs: 20_000, clock: fastClock });
    assert.equal(r.status, "passed", `${r.summary} ${JSON.stringify(r.evidence)}`);
    assert.equal(STABLE_ANSWERS, 3);
    assert.equal(r.evidence.pollAttempts, 7, "#1, #2 reset, #3 ok, #4 reset, #5-#7 ok");
    const duringSampling = l.dropped.filter((n) => n > 7).length;
    assert.ok(duringSampling >= 2, `resets while sampling: ${l.dropped.join(",")}`);
    assert.equal(r.evidence.retries, duringSampling, "each reset retried and counted");
    const retried = r.evidence.retried as { request: number; error: string }[];
    assert.equal(retried.length, duringSampling);
    assert.match(retried[0].error, /ECONNRESET/);
    assert.deepEqual(r.evidence.counts, { x86_64: 10, aarch64: 10 }, "20 real answers judged");
  });

  it("fails with the evidence when the load balancer never settles", async () => {
    const l = await lb((n) => n % 2 === 1); // every other connection reset: never 3 answers in a row
    const r = await verifyUrl(l.url, EXPECT, { requests: 20, trafficDeadlineMs: 3_000, clock: fastClock });
    assert.equal(r.status, "failed");
    assert.match(r.summary, /did not answer HTTP 200 3 times in a row within 3 s/);
    assert.equal(r.evidence.bestStreak, 1);
    assert.equal(r.evidence.stableAnswers, 3);
    assert.ok((r.evidence.attempts as number) > 6, `attempts: ${r.evidence.attempts}`);
    const problems = r.evidence.recentProblems as string[];
    assert.ok(problems.length > 0 && problems.every((p) => /^#\d+: ECONNRESET/.test(p)), problems.join("; "));
  });
});
