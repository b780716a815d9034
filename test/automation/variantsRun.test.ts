// The variants check's runs over a fake Docker Engine (./support/fakeDocker.ts) whose containers each have a
// network namespace of their own, published on a loopback port: each platform's manifest runs by
// digest, in parallel, and is asked on lab:appPort whatever port the service takes (PORT, or one it
// fixes itself); what does not answer fails with its platform, exit code and last log line; every
// container is removed, whatever happens.
import assert from "node:assert/strict";
import { DockerUnavailableError } from "../../automation/verify/docker";
import { Clock } from "../../automation/verify/http";
import { VariantsDeps, runVariantsCheck } from "../../automation/verify/variants";
import { Answering, FakeDocker } from "./support/fakeDocker";
import { Answer } from "../../automation/verify/types";

const AMD = `sha256:${"a".repeat(64)}`;
const ARM = `sha256:${"b".repeat(64)}`;
const IMAGE_REF = `127.0.0.1:5000/lab-foundation/hello@sha256:${"c".repeat(64)}`;
const TARGET = { stack: "lab-alice", imageRef: IMAGE_REF, platforms: ["linux/amd64", "linux/arm64"] };
const AMD_NAME = "lab-verify-lab-alice-amd64";
const ARM_NAME = "lab-verify-lab-alice-arm64";

const hello = (arch: string, archSource = "process"): Answer => ({
  status: 200,
  body: JSON.stringify({ arch, archSource, message: "Hello, there!", hostname: "vm", version: "0.1.0" }),
});
const honest = (platform: string): Answer => hello(platform === "linux/arm64" ? "aarch64" : "x86_64");

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

/** `answer(platform, attempt)`: what the container of that platform answers on its n-th try. */
function setup(answer: Answering) {
  const docker = new FakeDocker(answer);
  const clock = new FakeClock();
  const gets: string[] = [];
  const deps: Partial<VariantsDeps> = {
    docker,
    clock,
    resolve: async () => ({ "linux/amd64": AMD, "linux/arm64": ARM }),
    get: async (url, ms) => {
      gets.push(url);
      return docker.get(url, ms);
    },
  };
  return { docker, clock, deps, gets };
}

/** A service that ignores PORT: its port is a flag in its image's CMD. */
const PORT_FIXED = { checkPath: "/info", expectStatus: 200, expectBody: '"service":"sysinfo"' };
const sysinfo = (platform: string): Answer => ({
  status: 200,
  body: JSON.stringify({ service: "sysinfo", machine: platform === "linux/arm64" ? "aarch64" : "x86_64" }),
});

describe("variants check (fake docker): the service's own port", () => {
  it("a service that ignores PORT is asked on lab:appPort: both platforms pass on the one port", async () => {
    const s = setup(sysinfo);
    s.docker.listensOn = () => 7070;
    const r = await runVariantsCheck(
      { ...TARGET, appPort: 7070, expect: PORT_FIXED, checkPath: "/info" },
      {},
      s.deps,
    );
    assert.equal(r.status, "passed", r.summary);
    assert.equal(
      r.summary,
      "linux/amd64 → HTTP 200 in 0.0 s, linux/arm64 → HTTP 200 in 0.0 s (port 7070 in each container)",
    );
    // PORT is still passed (= appPort, as in the pod); each container publishes 7070 on its own host port.
    assert.deepEqual(
      s.docker.specs.map((x) => [x.name, x.port, x.env]),
      [
        [AMD_NAME, 7070, { PORT: "7070" }],
        [ARM_NAME, 7070, { PORT: "7070" }],
      ],
    );
    assert.deepEqual(s.gets, ["http://127.0.0.1:49001/info", "http://127.0.0.1:49002/info"]);
    const v = r.evidence.variants as { appPort: number; hostPort: number }[];
    assert.deepEqual(
      v.map((x) => [x.appPort, x.hostPort]),
      [
        [7070, 49001],
        [7070, 49002],
      ],
    );
    assert.deepEqual([...s.docker.live], []);
  });

  it("each variant gets lab:appEnv as the pods do, after PORT (a same-named entry replaces it)", async () => {
    const s = setup(sysinfo);
    s.docker.listensOn = () => 7070;
    const env = { GREETING: "Hi", PORT: "7070" };
    const r = await runVariantsCheck({ ...TARGET, appPort: 7070, expect: PORT_FIXED, env }, {}, s.deps);
    assert.equal(r.status, "passed", r.summary);
    assert.deepEqual(
      s.docker.specs.map((x) => x.env),
      [
        { PORT: "7070", GREETING: "Hi" },
        { PORT: "7070", GREETING: "Hi" },
      ],
    );
  });

  it("two labs at once (--concurrency): distinct containers and host ports, both pass", async () => {
    const s = setup(sysinfo);
    s.docker.listensOn = () => 7070;
    const t = { ...TARGET, appPort: 7070, expect: PORT_FIXED, checkPath: "/info" };
    const [alice, bob] = await Promise.all([
      runVariantsCheck(t, {}, s.deps),
      runVariantsCheck({ ...t, stack: "lab-bob" }, {}, s.deps),
    ]);
    assert.equal(alice.status, "passed", alice.summary);
    assert.equal(bob.status, "passed", bob.summary);
    assert.equal(s.docker.maxLive, 4, "all four containers ran at once");
    const hostPorts = [alice, bob].flatMap((r) =>
      (r.evidence.variants as { hostPort: number }[]).map((v) => v.hostPort),
    );
    assert.equal(new Set(hostPorts).size, 4, hostPorts.join(", "));
    assert.deepEqual([...s.docker.live], []);
  });

  it("a service not listening on lab:appPort fails naming its platform, the port and its last log line", async () => {
    const s = setup(sysinfo);
    s.docker.listensOn = () => 7070;
    s.docker.log = () => "sysinfo: starting\nsysinfo: listening on 0.0.0.0:7070\n";
    const r = await runVariantsCheck(
      { ...TARGET, platforms: ["linux/arm64"], expect: PORT_FIXED },
      { deadlineMs: 10_000 },
      s.deps,
    );
    assert.equal(r.status, "failed");
    assert.equal(
      r.summary,
      "linux/arm64: no answer on port 8080 (published at 127.0.0.1:49001) within 10.0 s (last try: socket hang up): " +
        'does the service listen on lab:appPort 8080, on all interfaces?; its log ends: "sysinfo: listening on 0.0.0.0:7070"',
    );
    const [arm] = r.evidence.variants as { logs?: string; exitCode?: number }[];
    assert.equal(arm.logs, "sysinfo: starting\nsysinfo: listening on 0.0.0.0:7070\n");
    assert.equal(arm.exitCode, undefined);
    assert.ok(s.docker.removedAfterRun(ARM_NAME));
  });

  it("a container that exits is reported with its exit code and log, early, and removed", async () => {
    const s = setup(() => ({ error: "connect ECONNREFUSED" }));
    s.docker.exited.set(`id-${AMD_NAME}`, 2);
    s.docker.log = () => 'greeter: PORT "x" is not a port number (0-65535)\n';
    const r = await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.equal(r.status, "failed");
    assert.match(
      r.summary,
      /^linux\/amd64: the container exited with code 2 before answering; its log ends: "greeter: PORT \\"x\\" is not a port number \(0-65535\)"$/,
    );
    const [amd] = r.evidence.variants as { exitCode?: number; logs?: string }[];
    assert.equal(amd.exitCode, 2);
    assert.match(amd.logs ?? "", /not a port number/);
    assert.ok(s.clock.t < 10_000, `gave up after ${s.clock.t} ms, not at the deadline`);
    assert.ok(s.docker.removedAfterRun(AMD_NAME));
  });

  it("a container that exits while being polled: exit code, last try and log", async () => {
    const s = setup(() => ({ error: "connect ECONNREFUSED" }));
    const docker = s.docker;
    const sleep = s.clock.sleep.bind(s.clock);
    s.clock.sleep = async (ms) => {
      if (s.clock.t >= 3000) docker.exited.set(`id-${AMD_NAME}`, 137);
      await sleep(ms);
    };
    docker.listensOn = () => 0;
    const r = await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.match(
      r.summary,
      /^linux\/amd64: the container exited with code 137 before answering \(last try: connect ECONNREFUSED\); its log ends: "node: starting"$/,
    );
  });
});

describe("variants check (fake docker)", () => {
  it("runs each platform's manifest by digest, in parallel, and passes with evidence", async () => {
    // arm64 (QEMU) answers on its 5th try, amd64 at once; both run at the same time.
    const s = setup((p, n) => (p === "linux/arm64" && n < 5 ? { error: "ECONNREFUSED" } : honest(p)));
    const r = await runVariantsCheck(TARGET, {}, s.deps);
    assert.equal(r.status, "passed", r.summary);
    assert.match(
      r.summary,
      /^linux\/amd64 → x86_64 in 0\.\d s, linux\/arm64 → aarch64 in \d\.\d s \(archSource process; port 8080 in each container\)$/,
    );
    assert.deepEqual(
      s.docker.specs.map((x) => [x.name, x.image, x.platform, x.port, x.env]),
      [
        [AMD_NAME, `127.0.0.1:5000/lab-foundation/hello@${AMD}`, "linux/amd64", 8080, { PORT: "8080" }],
        [ARM_NAME, `127.0.0.1:5000/lab-foundation/hello@${ARM}`, "linux/arm64", 8080, { PORT: "8080" }],
      ],
    );
    assert.equal(s.docker.maxLive, 2, "both containers ran at once");
    assert.deepEqual([...s.docker.live], [], "every container removed");
    for (const name of [AMD_NAME, ARM_NAME]) assert.ok(s.docker.removedAfterRun(name), name);
    assert.equal(s.docker.calls[0], "ping");
    assert.equal(s.gets[0], "http://127.0.0.1:49001/hello");
    const ev = r.evidence as { engine: string; imageRef: string; variants: Record<string, unknown>[] };
    assert.equal(ev.engine, "20.10.24+dfsg1");
    assert.equal(ev.imageRef, IMAGE_REF);
    const arm = ev.variants[1];
    assert.equal(arm.platform, "linux/arm64");
    assert.equal(arm.containerId, `id-${ARM_NAME}`);
    assert.equal((arm.answer as { arch: string }).arch, "aarch64");
    assert.equal(arm.attempts, 5);
    assert.ok((arm.timeToFirstAnswerMs as number) >= 2000, String(arm.timeToFirstAnswerMs));
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
    assert.ok(s.docker.removedAfterRun(ARM_NAME));
    assert.ok(s.docker.removedAfterRun(AMD_NAME));
  });

  it("an engine without a bridge network says how to get one; a taken host port is tried once more", async () => {
    const s = setup(honest);
    s.docker.runError = () => new Error("docker run: network bridge not found");
    const r = await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.match(
      r.summary,
      /network bridge not found; the Docker Engine has no bridge network: run `npm run setup:local`/,
    );
    let first = true;
    s.docker.runError = () =>
      first ? ((first = false), new Error("docker run: address already in use")) : undefined;
    const again = await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.equal(again.status, "passed", again.summary);
  });

  it("removes a leftover container of the same name before running", async () => {
    const s = setup(honest);
    await runVariantsCheck({ ...TARGET, platforms: ["linux/amd64"] }, {}, s.deps);
    assert.deepEqual(s.docker.calls.slice(0, 4), [
      "ping",
      `rm ${AMD_NAME}`,
      `run ${AMD_NAME}`,
      `port id-${AMD_NAME} 8080`,
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
