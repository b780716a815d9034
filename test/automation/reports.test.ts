// --report (JSON with every check's evidence) and --junit (one case per attendee and check).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { RunReport, junitXml, xmlEscape } from "../../automation/reports/report";
import { summaryTable } from "../../automation/reports/summary";
import { CheckResult } from "../../automation/verify/types";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";

const checks = (trafficOk: boolean): CheckResult[] => [
  {
    name: "image",
    status: "passed",
    summary: "index with linux/amd64, linux/arm64",
    evidence: { platforms: ["linux/amd64", "linux/arm64"] },
  },
  {
    name: "nodes",
    status: "passed",
    summary: "Ready nodes: 1 amd64, 1 arm64",
    evidence: { nodes: [{ name: "n1" }] },
  },
  { name: "pods", status: "passed", summary: "4/4 Ready", evidence: { pods: [] } },
  trafficOk
    ? {
        name: "traffic",
        status: "passed",
        summary: "40 answers",
        evidence: { counts: { x86_64: 20, aarch64: 20 } },
      }
    : {
        name: "traffic",
        status: "failed",
        summary: "no answer from aarch64 <&>",
        evidence: { counts: { x86_64: 40 } },
      },
];

describe("lab reports", () => {
  it("writes a JSON report with each lab's steps and every check's evidence", async () => {
    const engine = new FakeEngine({ "lab-bob": { upFails: "quota exceeded" } });
    const file = path.join(fs.mkdtempSync("/tmp/lab-report-"), "report.json");
    const r = await runCli(["run", "--target", "local", "--attendees", "alice,bob,carol", "--report", file], {
      engine,
      verify: async (url) => checks(!url?.includes("carol")),
    });
    assert.equal(r.code, 1);
    const report = JSON.parse(fs.readFileSync(file, "utf8")) as RunReport;
    assert.equal(report.command, "run");
    assert.equal(report.passed, false);
    assert.equal(report.exitCode, 1);
    assert.deepEqual(
      report.labs.map((l) => [l.attendee, l.passed]),
      [
        ["alice", true],
        ["bob", false],
        ["carol", false],
      ],
    );
    const [alice, bob, carol] = report.labs;
    assert.equal(alice.up?.status, "passed");
    assert.equal(alice.destroy?.status, "passed");
    assert.equal(alice.destroy?.attempts, 1);
    assert.deepEqual(
      alice.verify?.checks.map((c) => c.name),
      ["image", "nodes", "pods", "traffic"],
    );
    assert.deepEqual(alice.verify?.checks[0].evidence, { platforms: ["linux/amd64", "linux/arm64"] });
    assert.equal(bob.up?.status, "failed");
    assert.equal(bob.up?.error, "quota exceeded");
    assert.equal(bob.verify?.status, "skipped");
    assert.equal(bob.destroy?.status, "passed");
    assert.equal(carol.verify?.status, "failed");
    assert.deepEqual(carol.verify?.checks[3].evidence, { counts: { x86_64: 40 } });
    assert.equal(carol.serviceUrl, "http://lab-carol.example/hello");
  });

  it("writes JUnit XML: one case per attendee and step/check, failures with their evidence", async () => {
    const file = path.join(fs.mkdtempSync("/tmp/lab-junit-"), "out", "lab.xml");
    const engine = new FakeEngine({ "lab-bob": { upFails: "quota exceeded" } });
    const r = await runCli(["run", "--target", "local", "--attendees", "alice,bob", "--junit", file], {
      engine,
      verify: async () => checks(false),
    });
    assert.equal(r.code, 1);
    const xml = fs.readFileSync(file, "utf8");
    const cases = [...xml.matchAll(/<testcase classname="([^"]+)" name="([^"]+)"/g)].map(
      (m) => `${m[1]} ${m[2]}`,
    );
    assert.deepEqual(cases, [
      "lab.foundation up",
      "lab.foundation destroy",
      "lab.alice up",
      "lab.alice verify image",
      "lab.alice verify nodes",
      "lab.alice verify pods",
      "lab.alice verify traffic",
      "lab.alice destroy",
      "lab.bob up",
      "lab.bob verify",
      "lab.bob destroy",
    ]);
    assert.match(xml, /<testsuite name="lab run" tests="11" failures="2" errors="0" skipped="1"/);
    assert.match(
      xml,
      /name="verify traffic" time="0.000">\n\s+<failure message="no answer from aarch64 &lt;&amp;&gt;">\{/,
    );
    assert.match(xml, /&quot;x86_64&quot;: 40/);
    assert.match(
      xml,
      /name="up" time="[\d.]+">\n\s+<failure message="quota exceeded">quota exceeded\nlog: lab-bob.log<\/failure>/,
    );
    assert.match(xml, /name="verify" time="0.000">\n\s+<skipped message="up did not succeed"\/>/);
  });

  it("escapes XML and drops control characters", () => {
    assert.equal(xmlEscape(`a<b>&"c"\u0007`), "a&lt;b&gt;&amp;&quot;c&quot;");
    const xml = junitXml({
      command: "verify",
      startedAt: "t",
      finishedAt: "t",
      passed: true,
      interrupted: false,
      exitCode: 0,
      settings: {},
      leftovers: [],
      labs: [],
    });
    assert.match(xml, /<testsuites name="lab verify" tests="0" failures="0"/);
  });
});

describe("lab summary table", () => {
  const lab = (attendee: string, destroy: "passed" | "failed" | undefined) => ({
    attendee,
    stack: `lab-${attendee}`,
    logFile: "x.log",
    passed: destroy === "passed",
    holdsResources: destroy !== "passed",
    up: { status: "passed" as const, durationMs: 1000 },
    destroy: destroy ? { status: destroy, durationMs: 1000 } : undefined,
    serviceUrl: `http://${attendee}.example/hello`,
  });

  it("prints the URL only of labs that still exist (not of those just destroyed)", () => {
    const t = summaryTable([lab("alice", "passed"), lab("bob", "failed"), lab("carol", undefined)]);
    assert.doesNotMatch(t, /alice\.example/);
    assert.match(t, /bob\.example/, "a failed destroy may have left it");
    assert.match(t, /carol\.example/, "up without destroy: the lab is running");
  });
});
