// The variants check: the verdict (pure), the index's per-platform digests, and the run over a fake
// DockerRunner that records every call (every container is removed, whatever happens); the real
// `docker` CLI wrapper over a stand-in script; and a runner backed by the real app as a process.
import assert from "node:assert/strict";
import { ChildProcess } from "node:child_process";
import * as os from "node:os";
import { spawnApp } from "../../app/test/support/app-process";
import { Clock } from "../../automation/verify/http";
import { Answer } from "../../automation/verify/traffic";
import { ContainerSpec, DockerRunner, DockerUnavailableError } from "../../automation/verify/docker";
import {
  VariantsDeps,
  containerName,
  indexPlatforms,
  resolvePlatformDigests,
  runVariantsCheck,
} from "../../automation/verify/variants";
import { checkVariants, judgeVariant } from "../../automation/verify/variantVerdict";
import { Pusher, registryAvailable, startRegistry } from "./registry-support";

const AMD = `sha256:${"a".repeat(64)}`;
const ARM = `sha256:${"b".repeat(64)}`;
const INDEX = `sha256:${"c".repeat(64)}`;
const IMAGE_REF = `127.0.0.1:5000/lab-alice/hello@${INDEX}`;
const PLATFORMS = ["linux/amd64", "linux/arm64"];

const hello = (arch: string, archSource = "process"): Answer => ({
  status: 200,
  body: JSON.stringify({ arch, archSource, message: "Hello, there!", hostname: "vm", version: "0.1.0" }),
});

describe("variants verdict (pure)", () => {
  it("any other service: the platform's container answering expectStatus (and expectBody) passes", () => {
    const greet = { checkPath: "/greet", expectStatus: 200, expectBody: '"service":"greeter"' };
    const body = JSON.stringify({ greeting: "Hi", service: "greeter" });
    assert.deepEqual(judgeVariant("linux/arm64", { status: 200, body }, greet), {
      platform: "linux/arm64",
      expected: "aarch64",
      passed: true,
    });
    assert.equal(
      judgeVariant("linux/arm64", { status: 404, body }, greet).problem,
      "HTTP 404 instead of 200",
    );
    assert.equal(
      judgeVariant("linux/amd64", { status: 200, body: "{}" }, greet).problem,
      'body does not match /"service":"greeter"/',
    );
    // The hello app's expectation still asks for the arch.
    assert.match(
      judgeVariant("linux/amd64", { status: 200, body }, { checkPath: "/hello", expectStatus: 200 })
        .problem ?? "",
      /"arch" is missing/,
    );
  });

  it("passes each platform answering its uname architecture from the CPU", () => {
    assert.deepEqual(judgeVariant("linux/amd64", hello("x86_64")), {
      platform: "linux/amd64",
      expected: "x86_64",
      passed: true,
      arch: "x86_64",
      archSource: "process",
    });
    assert.equal(judgeVariant("linux/arm64", hello("aarch64")).passed, true);
  });

  it("fails the wrong architecture (the engine ran another variant)", () => {
    const v = judgeVariant("linux/arm64", hello("x86_64"));
    assert.equal(v.passed, false);
    assert.equal(v.problem, 'answered arch "x86_64", but linux/arm64 must answer "aarch64"');
  });

  it("flags an override as dishonest, even with the right architecture", () => {
    const v = judgeVariant("linux/arm64", hello("aarch64", "override"));
    assert.equal(v.passed, false);
    assert.match(v.problem ?? "", /archSource is "override": the answer is not the CPU's/);
    const both = judgeVariant("linux/amd64", hello("aarch64", "override"));
    assert.match(both.problem ?? "", /must answer "x86_64"; archSource is "override"/);
    assert.match(
      judgeVariant("linux/amd64", { status: 200, body: '{"arch":"x86_64"}' }).problem ?? "",
      /archSource is undefined, not "process"/,
    );
  });

  it("fails malformed answers", () => {
    const cases: [Answer, RegExp][] = [
      [{ status: 200, body: "<html>" }, /the answer is not JSON/],
      [{ status: 200, body: "[1]" }, /not a JSON object/],
      [{ status: 200, body: '{"archSource":"process"}' }, /"arch" is missing/],
      [{ status: 200, body: '{"arch":7,"archSource":"process"}' }, /"arch" is not a string/],
      [{ status: 404, body: '{"error":"not found"}' }, /HTTP 404 instead of 200/],
    ];
    for (const [answer, re] of cases) {
      const v = judgeVariant("linux/amd64", answer);
      assert.equal(v.passed, false);
      assert.match(v.problem ?? "", re);
    }
  });

  it("fails a timeout (no answer) with the reason given, and unknown platforms", () => {
    const v = judgeVariant("linux/arm64", { error: "no answer within 60.0 s (last try: ECONNREFUSED)" });
    assert.deepEqual(v, {
      platform: "linux/arm64",
      expected: "aarch64",
      passed: false,
      problem: "no answer within 60.0 s (last try: ECONNREFUSED)",
    });
    assert.match(judgeVariant("linux/s390x", hello("s390x")).problem ?? "", /no uname architecture known/);
  });

  it("summarises all platforms; any failure fails the check, so does a container left behind", () => {
    const run = (platform: string, answer: Answer, extra = {}) => ({
      platform,
      name: containerName("lab-alice", platform),
      attempts: 1,
      timeToFirstAnswerMs: 1500,
      verdict: judgeVariant(platform, answer),
      ...extra,
    });
    const ok = checkVariants([run("linux/amd64", hello("x86_64")), run("linux/arm64", hello("aarch64"))]);
    assert.equal(ok.status, "passed");
    assert.equal(
      ok.summary,
      "linux/amd64 → x86_64 in 1.5 s, linux/arm64 → aarch64 in 1.5 s (archSource process)",
    );
    const left = checkVariants([run("linux/amd64", hello("x86_64"), { removeError: "daemon gone" })]);
    assert.equal(left.status, "failed");
    assert.match(left.summary, /container lab-verify-lab-alice-amd64 was not removed: daemon gone/);
    assert.equal(checkVariants([]).status, "failed");
  });

  it("reads per-platform digests from an index, leaving attestations out", () => {
    const body = JSON.stringify({
      manifests: [
        { digest: AMD, platform: { os: "linux", architecture: "amd64" } },
        { digest: ARM, platform: { os: "linux", architecture: "arm64", variant: "v8" } },
        {
          digest: INDEX,
          platform: { os: "unknown", architecture: "unknown" },
          annotations: { "vnd.docker.reference.type": "attestation-manifest" },
        },
      ],
    });
    assert.deepEqual(indexPlatforms(body), {
      "linux/amd64": AMD,
      "linux/arm64": ARM,
      "linux/arm64/v8": ARM,
    });
    assert.match(String(indexPlatforms('{"layers":[]}')), /not an image index/);
    assert.match(String(indexPlatforms("nope")), /not JSON/);
  });

  it("names containers lab-verify-<stack>-<arch>", () => {
    assert.equal(containerName("lab-alice", "linux/arm64"), "lab-verify-lab-alice-arm64");
    assert.equal(containerName("ws-bob", "linux/arm/v7"), "lab-verify-ws-bob-arm-v7");
  });
});

/** Records every docker call; containers "run" until removed. */
class FakeDocker implements DockerRunner {
  readonly calls: string[] = [];
  readonly specs: ContainerSpec[] = [];
  readonly live = new Set<string>();
  maxLive = 0;
  pingError?: Error;
  runError?: (s: ContainerSpec) => Error | undefined;
  removeError?: Error;
  /** Container ids that have exited (inspect says not running). */
  readonly exited = new Set<string>();

  async ping(): Promise<string> {
    this.calls.push("ping");
    if (this.pingError) throw this.pingError;
    return "20.10.24+dfsg1";
  }
  async run(s: ContainerSpec): Promise<string> {
    this.calls.push(`run ${s.name}`);
    this.specs.push(s);
    const e = this.runError?.(s);
    if (e) throw e;
    this.live.add(s.name);
    this.maxLive = Math.max(this.maxLive, this.live.size);
    return `id-${s.name}`;
  }
  async running(id: string): Promise<boolean> {
    this.calls.push(`running ${id}`);
    return !this.exited.has(id);
  }
  async logs(id: string): Promise<string> {
    this.calls.push(`logs ${id}`);
    return "node: starting\n";
  }
  async remove(name: string): Promise<void> {
    this.calls.push(`rm ${name}`);
    if (this.removeError && this.live.has(name)) throw this.removeError;
    this.live.delete(name);
  }
  /** The removals after the last run of `name` (the finally's). */
  removedAfterRun(name: string): boolean {
    const i = this.calls.lastIndexOf(`run ${name}`);
    return i >= 0 && this.calls.slice(i + 1).includes(`rm ${name}`);
  }
}

/** Time passes only when something sleeps. */
class FakeClock implements Clock {
  t = 0;
  now(): number {
    return this.t;
  }
  async sleep(ms: number): Promise<void> {
    this.t += ms;
    await new Promise((r) => setImmediate(r));
  }
}

interface Setup {
  docker: FakeDocker;
  clock: FakeClock;
  deps: Partial<VariantsDeps>;
  gets: string[];
}

/** `answer(platform, attempt)`: what the container of that platform answers on its n-th try. */
function setup(answer: (platform: string, attempt: number) => Answer): Setup {
  const docker = new FakeDocker();
  const clock = new FakeClock();
  const gets: string[] = [];
  const tries = new Map<string, number>();
  const deps: Partial<VariantsDeps> = {
    docker,
    clock,
    ports: async (n) => [41001, 41002, 41003].slice(0, n),
    resolve: async () => ({ "linux/amd64": AMD, "linux/arm64": ARM }),
    get: async (url) => {
      gets.push(url);
      const port = new URL(url).port;
      const spec = docker.specs.find((s) => s.env.PORT === port);
      if (!spec || !docker.live.has(spec.name)) return { error: "ECONNREFUSED: connect ECONNREFUSED" };
      const n = (tries.get(spec.platform) ?? 0) + 1;
      tries.set(spec.platform, n);
      return answer(spec.platform, n);
    },
  };
  return { docker, clock, deps, gets };
}

const TARGET = { stack: "lab-alice", imageRef: IMAGE_REF, platforms: PLATFORMS };
const honest = (platform: string): Answer => hello(platform === "linux/arm64" ? "aarch64" : "x86_64");

describe("variants check (fake docker)", () => {
  it("runs each platform's manifest by digest, in parallel, and passes with evidence", async () => {
    // arm64 (QEMU) answers on its 5th try, amd64 at once; both run at the same time.
    const s = setup((p, n) => (p === "linux/arm64" && n < 5 ? { error: "ECONNREFUSED" } : honest(p)));
    const r = await runVariantsCheck(TARGET, {}, s.deps);
    assert.equal(r.status, "passed", r.summary);
    assert.match(r.summary, /^linux\/amd64 → x86_64 in 0\.\d s, linux\/arm64 → aarch64 in \d\.\d s/);
    assert.deepEqual(
      s.docker.specs.map((x) => [x.name, x.image, x.platform, x.env]),
      [
        [
          "lab-verify-lab-alice-amd64",
          `127.0.0.1:5000/lab-alice/hello@${AMD}`,
          "linux/amd64",
          { HOST: "127.0.0.1", PORT: "41001" },
        ],
        [
          "lab-verify-lab-alice-arm64",
          `127.0.0.1:5000/lab-alice/hello@${ARM}`,
          "linux/arm64",
          { HOST: "127.0.0.1", PORT: "41002" },
        ],
      ],
    );
    assert.equal(s.docker.maxLive, 2, "both containers ran at once");
    assert.deepEqual([...s.docker.live], [], "every container removed");
    for (const name of ["lab-verify-lab-alice-amd64", "lab-verify-lab-alice-arm64"])
      assert.ok(s.docker.removedAfterRun(name), name);
    assert.equal(s.docker.calls[0], "ping");
    assert.equal(s.gets[0], "http://127.0.0.1:41001/hello");
    const ev = r.evidence as { engine: string; imageRef: string; variants: Record<string, unknown>[] };
    assert.equal(ev.engine, "20.10.24+dfsg1");
    assert.equal(ev.imageRef, IMAGE_REF);
    const arm = ev.variants[1];
    assert.equal(arm.platform, "linux/arm64");
    assert.equal(arm.containerId, "id-lab-verify-lab-alice-arm64");
    assert.equal((arm.answer as { arch: string }).arch, "aarch64");
    assert.equal(arm.attempts, 5);
    assert.ok((arm.timeToFirstAnswerMs as number) >= 2000, String(arm.timeToFirstAnswerMs));
  });

  it("a timeout fails, keeps the container's last output, and still removes it", async () => {
    const s = setup((p) => (p === "linux/arm64" ? { error: "ECONNREFUSED" } : honest(p)));
    const r = await runVariantsCheck(TARGET, { deadlineMs: 10_000 }, s.deps);
    assert.equal(r.status, "failed");
    assert.match(
      r.summary,
      /^linux\/arm64: no answer from http:\/\/127\.0\.0\.1:41002\/hello within 10\.0 s \(last try: ECONNREFUSED\)$/,
    );
    const arm = (r.evidence.variants as { logs?: string; timeToFirstAnswerMs?: number }[])[1];
    assert.equal(arm.logs, "node: starting\n");
    assert.equal(arm.timeToFirstAnswerMs, undefined);
    assert.ok(s.docker.removedAfterRun("lab-verify-lab-alice-arm64"));
    assert.deepEqual([...s.docker.live], []);
  });

  it("a container that exits before answering fails early and is removed", async () => {
    const s = setup(() => ({ error: "ECONNREFUSED" }));
    s.docker.exited.add("id-lab-verify-lab-alice-amd64");
    const r = await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /linux\/amd64: the container exited before answering/);
    assert.ok(s.clock.t < 10_000, `gave up after ${s.clock.t} ms, not at the deadline`);
    assert.ok(s.docker.removedAfterRun("lab-verify-lab-alice-amd64"));
  });

  it("wrong architecture and an override fail the check; both containers are removed", async () => {
    const s = setup((p) => (p === "linux/arm64" ? hello("x86_64") : hello("x86_64", "override")));
    const r = await runVariantsCheck(TARGET, {}, s.deps);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /linux\/amd64: archSource is "override"/);
    assert.match(r.summary, /linux\/arm64: answered arch "x86_64", but linux\/arm64 must answer "aarch64"/);
    assert.deepEqual([...s.docker.live], []);
  });

  it("a failing docker run fails that platform; its name is still removed", async () => {
    const s = setup(honest);
    s.docker.runError = (spec) =>
      spec.platform === "linux/arm64" ? new Error("docker run: exec format error") : undefined;
    const r = await runVariantsCheck(TARGET, {}, s.deps);
    assert.equal(r.status, "failed");
    assert.equal(r.summary, "linux/arm64: docker run failed: docker run: exec format error");
    assert.ok(s.docker.removedAfterRun("lab-verify-lab-alice-arm64"));
    assert.ok(s.docker.removedAfterRun("lab-verify-lab-alice-amd64"));
  });

  it("removes a leftover container of the same name before running", async () => {
    const s = setup(honest);
    await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.deepEqual(s.docker.calls.slice(0, 3), [
      "ping",
      "rm lab-verify-lab-alice-amd64",
      "run lab-verify-lab-alice-amd64",
    ]);
  });

  it("cancelling (first Ctrl+C) stops polling and removes the containers", async () => {
    const s = setup(() => ({ error: "ECONNREFUSED" }));
    const ac = new AbortController();
    const clock = s.clock;
    clock.sleep = async (ms) => {
      clock.t += ms;
      if (clock.t >= 3000) ac.abort();
      await new Promise((r) => setImmediate(r));
    };
    const r = await runVariantsCheck(TARGET, { signal: ac.signal }, s.deps);
    assert.equal(r.status, "failed");
    assert.match(r.summary, /linux\/amd64: cancelled; linux\/arm64: cancelled/);
    assert.deepEqual([...s.docker.live], []);
    assert.ok(clock.t < 10_000);
  });

  it("fails when a container cannot be removed (it may still run)", async () => {
    const s = setup(honest);
    s.docker.removeError = new Error("docker rm: Cannot connect to the Docker daemon");
    const r = await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.equal(r.status, "failed");
    assert.match(
      r.summary,
      /container lab-verify-lab-alice-amd64 was not removed: docker rm: Cannot connect/,
    );
  });

  it("no docker CLI or no engine: fails before running anything, saying to run npm run setup:local", async () => {
    const s = setup(honest);
    s.docker.pingError = new DockerUnavailableError("the docker CLI was not found on PATH");
    const r = await runVariantsCheck(TARGET, {}, s.deps);
    assert.equal(r.status, "failed");
    assert.equal(
      r.summary,
      "cannot run containers: the docker CLI was not found on PATH; run `npm run setup:local` " +
        "(it starts the Docker Engine and the local registry)",
    );
    assert.deepEqual(s.docker.calls, ["ping"]);
  });

  it("a platform missing from the index fails without a container; bad imageRefs fail up front", async () => {
    const s = setup(honest);
    s.deps.resolve = async () => ({ "linux/amd64": AMD });
    const r = await runVariantsCheck(TARGET, {}, s.deps);
    assert.equal(r.status, "failed");
    assert.equal(r.summary, "linux/arm64: the index has no linux/arm64 manifest (has linux/amd64)");
    assert.ok(!s.docker.calls.some((c) => c.includes("arm64")));
    const none = await runVariantsCheck({ ...TARGET, imageRef: undefined }, {}, s.deps);
    assert.equal(none.summary, "the stack has no imageRef output");
    const tag = await runVariantsCheck({ ...TARGET, imageRef: "127.0.0.1:5000/x/hello:latest" }, {}, s.deps);
    assert.match(tag.summary, /is not pinned by digest/);
    s.deps.resolve = async () => new Error("registry unreachable: ECONNREFUSED");
    const down = await runVariantsCheck(TARGET, {}, s.deps);
    assert.equal(down.summary, "cannot read the image index: registry unreachable: ECONNREFUSED");
  });
});

describe("variants check (runner backed by the real app as a process)", function () {
  this.timeout(60_000);
  // `docker run` stands in as a local process of the real app: this host's CPU answers for every
  // platform. The amd64 "variant" passes on an x86_64 host; the arm64 one cannot pretend, and an
  // override is caught.
  const procs = new Map<string, ChildProcess>();
  const runner = (extraEnv: (s: ContainerSpec) => Record<string, string>): DockerRunner => ({
    ping: async () => "process",
    run: async (s) => {
      const child = spawnApp({ ...s.env, ...extraEnv(s) });
      procs.set(s.name, child);
      return String(child.pid);
    },
    running: async (id) => [...procs.values()].some((c) => String(c.pid) === id && c.exitCode === null),
    logs: async () => "",
    remove: async (name) => {
      procs.get(name)?.kill("SIGKILL");
      procs.delete(name);
    },
  });
  const host = os.arch() === "arm64" ? "linux/arm64" : "linux/amd64";
  const other = host === "linux/arm64" ? "linux/amd64" : "linux/arm64";
  const resolve = async () => ({ "linux/amd64": AMD, "linux/arm64": ARM });

  it("passes the host's platform, fails the other one, flags an override; no process left", async () => {
    const r = await runVariantsCheck(
      { ...TARGET, platforms: [host, other] },
      { deadlineMs: 20_000 },
      { docker: runner(() => ({})), resolve },
    );
    assert.equal(r.status, "failed");
    const v = r.evidence.variants as { platform: string; verdict: { passed: boolean; problem?: string } }[];
    assert.equal(v[0].verdict.passed, true, v[0].verdict.problem);
    assert.match(v[1].verdict.problem ?? "", /answered arch "(x86_64|aarch64)", but linux\/\w+ must answer/);
    assert.equal(procs.size, 0);
    const o = await runVariantsCheck(
      { ...TARGET, platforms: [other] },
      { deadlineMs: 20_000 },
      { docker: runner(() => ({ APP_ARCH_OVERRIDE: other.split("/")[1] })), resolve },
    );
    assert.equal(o.status, "failed");
    assert.match(o.summary, /archSource is "override"/);
    assert.equal(procs.size, 0);
  });
});

describe("resolvePlatformDigests (real registry on loopback)", function () {
  this.timeout(60_000);
  it("reads the per-platform manifests of the index imageRef names", async function () {
    if (!registryAvailable()) this.skip();
    const reg = await startRegistry();
    try {
      const index = await new Pusher(reg.host, "lab-alice/hello").index("latest", ["amd64", "arm64"]);
      const d = await resolvePlatformDigests(`${reg.host}/lab-alice/hello@${index}`);
      assert.ok(!(d instanceof Error), String(d));
      assert.deepEqual(Object.keys(d).sort(), ["linux/amd64", "linux/arm64"]);
      assert.match(d["linux/arm64"], /^sha256:[a-f0-9]{64}$/);
      const missing = await resolvePlatformDigests(`${reg.host}/lab-alice/hello@${AMD}`);
      assert.match(String(missing), /registry answered HTTP 404/);
    } finally {
      await reg.stop();
    }
  });
});
