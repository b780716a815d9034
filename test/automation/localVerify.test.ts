// `lab verify`/`lab run` for the local target, through the real CLI entry and the real verifyLab:
// the image check against a REAL registry on loopback, the variants check over a fake DockerRunner;
// the cluster checks are reported skipped with their reason (never passed); the exit code is 0 only
// when every check that could run passed; the reports carry the variants check. No AWS credentials.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { RunReport } from "../../automation/reports/report";
import { LOCAL_NO_CLUSTER, verifyLab } from "../../automation/verify";
import { Clock } from "../../automation/verify/http";
import { CheckResult } from "../../automation/verify/types";
import { VariantsDeps } from "../../automation/verify/variants";
import { FakeDocker } from "./support/fakeDocker";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";
import { Pusher, Registry, startRegistry, requireRegistry } from "./support/registry";

/** A fake engine whose containers answer as the hello app on a CPU of `arch(platform)`. */
const helloDocker = (arch: (platform: string) => string): FakeDocker =>
  new FakeDocker((p) => ({ status: 200, body: JSON.stringify({ arch: arch(p), archSource: "process" }) }));

const clock: Clock = { now: () => Date.now(), sleep: async () => undefined };
const honest = (p: string): string => (p === "linux/arm64" ? "aarch64" : "x86_64");
const fakeDeps = (docker: FakeDocker): Partial<VariantsDeps> => ({
  docker,
  get: docker.get,
  clock,
});

const NO_AWS = { HOME: "/nonexistent", PATH: process.env.PATH };

describe("local target verify (real registry, fake docker)", function () {
  this.timeout(60_000);
  let reg: Registry;
  let digest: string;

  before(async function () {
    requireRegistry(this);
    reg = await startRegistry();
    digest = await new Pusher(reg.host, "lab-alice/hello").index("latest", ["amd64", "arm64"]);
  });
  after(async () => reg?.stop());

  const outputs = (): Record<string, unknown> => ({
    attendee: "alice",
    target: "local",
    placement: "spread",
    replicas: 4,
    platforms: ["linux/amd64", "linux/arm64"],
    imageRef: `${reg.host}/lab-alice/hello@${digest}`,
    imageTag: `${reg.host}/lab-alice/hello:latest`,
    registry: { server: reg.host },
  });

  it("verifyLab: image and variants run, the cluster checks are skipped with their reason", async () => {
    const docker = helloDocker(honest);
    const results = await verifyLab(outputs() as never, {
      requests: 1,
      trafficDeadlineMs: 1000,
      stack: "lab-alice",
      variantsDeps: fakeDeps(docker),
    });
    assert.deepEqual(
      results.map((r) => `${r.name} ${r.status}: ${r.status === "skipped" ? r.summary : ""}`),
      [
        "image passed: ",
        "variants passed: ",
        `nodes skipped: ${LOCAL_NO_CLUSTER}`,
        `pods skipped: ${LOCAL_NO_CLUSTER}`,
        `pods-http skipped: ${LOCAL_NO_CLUSTER}`,
        `traffic skipped: ${LOCAL_NO_CLUSTER}`,
      ],
    );
    assert.equal(LOCAL_NO_CLUSTER, "target local has no cluster (lab:kubeconfig is empty)");
    // The per-platform manifests came from the real index.
    assert.deepEqual(
      docker.specs.map((s) => [
        s.name,
        s.platform,
        s.image.startsWith(`${reg.host}/lab-alice/hello@sha256:`),
      ]),
      [
        ["lab-verify-lab-alice-amd64", "linux/amd64", true],
        ["lab-verify-lab-alice-arm64", "linux/arm64", true],
      ],
    );
    assert.notEqual(docker.specs[0].image, docker.specs[1].image);
    assert.deepEqual([...docker.live], []);
  });

  it("verifyLab: variants is skipped with --no-variants, off by default for aws, on with --variants", async () => {
    const docker = helloDocker(honest);
    const base = { requests: 1, trafficDeadlineMs: 1000, variantsDeps: fakeDeps(docker) };
    const off = await verifyLab(outputs() as never, { ...base, variants: false });
    assert.equal(`${off[1].name} ${off[1].status} ${off[1].summary}`, "variants skipped --no-variants");
    const aws = { ...outputs(), target: "aws" };
    const names = (rs: CheckResult[]): string[] => rs.map((r) => r.name);
    assert.deepEqual(names(await verifyLab(aws as never, base)), [
      "image",
      "nodes",
      "pods",
      "pods-http",
      "traffic",
    ]);
    assert.deepEqual(names(await verifyLab(aws as never, { ...base, variants: true })), [
      "image",
      "variants",
      "nodes",
      "pods",
      "pods-http",
      "traffic",
    ]);
  });

  it("lab run --target local: exit 0, no AWS credentials needed, reports carry the variants check", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-local-"));
    const docker = helloDocker(honest);
    const engine = new FakeEngine({ "ws-alice": { outputs: outputs() } });
    const r = await runCli(
      ["run", "--target", "local", "--attendees", "alice", "--stack-prefix", "ws"].concat([
        "--report",
        path.join(dir, "r.json"),
        "--junit",
        path.join(dir, "r.xml"),
      ]),
      { engine, env: NO_AWS, realVerify: { variantsDeps: fakeDeps(docker) } },
    );
    assert.equal(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.err, /AWS credentials/);
    assert.deepEqual(
      docker.specs.map((s) => s.name),
      ["lab-verify-ws-alice-amd64", "lab-verify-ws-alice-arm64"],
    );
    const report = JSON.parse(fs.readFileSync(path.join(dir, "r.json"), "utf8")) as RunReport;
    assert.equal(report.passed, true);
    assert.equal(report.settings.variants, true);
    const checks = report.labs[0].verify?.checks ?? [];
    assert.deepEqual(
      checks.map((c) => `${c.name} ${c.status}`),
      [
        "image passed",
        "variants passed",
        "nodes skipped",
        "pods skipped",
        "pods-http skipped",
        "traffic skipped",
      ],
    );
    const variants = checks[1].evidence.variants as { platform: string; answer: { arch: string } }[];
    assert.deepEqual(
      variants.map((v) => `${v.platform} ${v.answer.arch}`),
      ["linux/amd64 x86_64", "linux/arm64 aarch64"],
    );
    const xml = fs.readFileSync(path.join(dir, "r.xml"), "utf8");
    assert.match(xml, /<testcase classname="lab.alice" name="verify variants" time="0.000"\/>/);
    assert.match(
      xml,
      /name="verify nodes" time="0.000">\n\s+<skipped message="target local has no cluster \(lab:kubeconfig is empty\)"\/>/,
    );
    assert.match(xml, /tests="10" failures="0" errors="0" skipped="4"/);
  });

  it("lab verify --config target=local: exit 1 when a variant answers the wrong architecture", async () => {
    const docker = helloDocker(() => "x86_64");
    const engine = new FakeEngine({ "lab-alice": { outputs: outputs() } });
    const r = await runCli(["verify", "--config", "target=local", "--attendees", "alice"], {
      engine,
      env: NO_AWS,
      realVerify: { variantsDeps: fakeDeps(docker) },
    });
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /alice verify\/variants: linux\/arm64: answered arch "x86_64", but linux\/arm64 must answer "aarch64"/,
    );
    assert.deepEqual([...docker.live], []);
  });

  it("lab verify --target local --no-variants: exit 0 on the image alone, variants reported skipped", async () => {
    const docker = helloDocker(honest);
    const engine = new FakeEngine({ "lab-alice": { outputs: outputs() } });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lab-local-")), "r.json");
    const r = await runCli(
      ["verify", "--target", "local", "--attendees", "alice", "--no-variants", "--report", file],
      { engine, env: NO_AWS, realVerify: { variantsDeps: fakeDeps(docker) } },
    );
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(docker.specs, []);
    const report = JSON.parse(fs.readFileSync(file, "utf8")) as RunReport;
    assert.equal(report.labs[0].verify?.checks[1].summary, "--no-variants");
  });
});

describe("verify exit semantics", () => {
  const check = (name: CheckResult["name"], status: CheckResult["status"]): CheckResult => ({
    name,
    status,
    summary: status === "skipped" ? LOCAL_NO_CLUSTER : "x",
    evidence: {},
  });

  it("passes only when every check that could run passed; all skipped is not a pass", async () => {
    const cases: [CheckResult[], number][] = [
      [[check("image", "passed"), check("variants", "passed"), check("nodes", "skipped")], 0],
      [[check("image", "passed"), check("variants", "failed"), check("nodes", "skipped")], 1],
      [[check("nodes", "skipped"), check("pods", "skipped")], 1],
      [[], 1],
    ];
    for (const [checks, code] of cases) {
      const r = await runCli(["verify", "--target", "local", "--attendees", "alice"], {
        env: NO_AWS,
        verify: async () => checks,
      });
      assert.equal(r.code, code, checks.map((c) => `${c.name} ${c.status}`).join(", "));
    }
  });
});
