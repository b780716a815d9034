// The variants check: the verdict (pure), the index's per-platform digests, and a runner backed by
// the real app as a process. The runs over a fake Docker Engine are variantsRun.test.ts.
import assert from "node:assert/strict";
import * as os from "node:os";
import { AppProcess, startApp } from "../../app/test/support/appProcess";
import { ContainerSpec, DockerRunner } from "../../automation/verify/docker";
import {
  containerName,
  indexPlatforms,
  resolvePlatformDigests,
  runVariantsCheck,
} from "../../automation/verify/variants";
import { checkVariants, judgeVariant } from "../../automation/verify/variantVerdict";
import { Pusher, registryAvailable, startRegistry } from "./support/registry";
import { Answer } from "../../automation/verify/types";

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
      judgeVariant(
        "linux/amd64",
        { status: 200, body },
        { checkPath: "/hello", expectStatus: 200, archField: "arch" },
      ).problem ?? "",
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

const TARGET = { stack: "lab-alice", imageRef: IMAGE_REF, platforms: PLATFORMS };

describe("variants check (runner backed by the real app as a process)", function () {
  this.timeout(60_000);
  // `docker run` stands in as a local process of the real app: this host's CPU answers for every
  // platform. The amd64 "variant" passes on an x86_64 host; the arm64 one cannot pretend, and an
  // override is caught. A process has no network namespace of its own, so it listens on a free port
  // (PORT=0) that stands for Docker's published one.
  const procs = new Map<string, AppProcess>();
  const runner = (extraEnv: (s: ContainerSpec) => Record<string, string>): DockerRunner => ({
    ping: async () => "process",
    run: async (s) => {
      const app = await startApp({ ...s.env, ...extraEnv(s), PORT: "0" });
      procs.set(s.name, app);
      return String(app.child.pid);
    },
    hostPort: async (id) => [...procs.values()].find((a) => String(a.child.pid) === id)?.port ?? 0,
    state: async (id) => ({
      running: [...procs.values()].some((a) => String(a.child.pid) === id && a.child.exitCode === null),
    }),
    logs: async () => "",
    remove: async (name) => {
      await procs.get(name)?.stop();
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
