// Bad input exits 2 with every problem named, before any engine call and before anything is created.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EngineUnavailableError } from "../../automation/lifecycle/engine";
import { FakeEngine } from "./support/fakeEngine";
import { AWS_ENV, runCli } from "./support/harness";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-bad-"));
const file = (name: string, text: string): string => {
  const p = path.join(tmp, name);
  fs.writeFileSync(p, text);
  return p;
};

const L = ["--target", "local"];
const CASES: { name: string; argv: string[]; expect: RegExp[]; env?: NodeJS.ProcessEnv }[] = [
  { name: "no attendees", argv: ["run", ...L], expect: [/no attendees given/] },
  {
    name: "upper-case name",
    argv: ["run", ...L, "--attendees", "Alice"],
    expect: [/attendee "Alice" is not a DNS-1123 label/],
  },
  {
    name: "name too long",
    argv: ["up", ...L, "--attendees", "a".repeat(21)],
    expect: [/is 21 characters; at most 20/],
  },
  {
    name: "leading dash",
    argv: ["run", ...L, "--attendees", "-bob"],
    expect: [/"-bob" is not a DNS-1123 label/],
  },
  {
    name: "underscore",
    argv: ["run", ...L, "--attendees", "bob_1"],
    expect: [/"bob_1" is not a DNS-1123 label/],
  },
  {
    name: "duplicates",
    argv: ["run", ...L, "--attendees", "bob,alice", "--attendees", "bob"],
    expect: [/duplicate attendees: bob/],
  },
  {
    name: "stray comma",
    argv: ["run", ...L, "--attendees", "alice,,bob"],
    expect: [/empty name \(stray comma\?\)/],
  },
  {
    name: "all bad names listed together",
    argv: ["run", ...L, "--attendees", "Ann,b_b,ok,ok"],
    expect: [/3 problems/, /"Ann"/, /"b_b"/, /duplicate attendees: ok/],
  },
  {
    name: "empty attendees file",
    argv: ["run", ...L, "--attendees-file", file("empty.txt", "# nobody\n\n")],
    expect: [/has no attendee names/],
  },
  {
    name: "bad name in file",
    argv: ["run", ...L, "--attendees-file", file("bad.txt", "alice\nBob # comment\n")],
    expect: [/"Bob" is not a DNS-1123/],
  },
  {
    name: "missing attendees file",
    argv: ["run", ...L, "--attendees-file", path.join(tmp, "nope.txt")],
    expect: [/cannot be read: ENOENT/],
  },
  {
    name: "concurrency zero",
    argv: ["run", ...L, "--attendees", "alice", "--concurrency", "0"],
    expect: [/--concurrency "0" is not a whole number/],
  },
  {
    name: "concurrency text",
    argv: ["run", ...L, "--attendees", "alice", "--concurrency", "many"],
    expect: [/--concurrency "many"/],
  },
  {
    name: "config without =",
    argv: ["run", ...L, "--attendees", "alice", "--config", "replicas"],
    expect: [/"replicas" is not key=value/],
  },
  {
    name: "unknown lab key",
    argv: ["run", ...L, "--attendees", "alice", "--config", "replica=3"],
    expect: [/lab:replica is not a lab setting; known: target, placement, replicas/],
  },
  {
    name: "config sets workshop",
    argv: ["run", ...L, "--attendees", "alice", "--config", "workshop=ci"],
    expect: [/lab:workshop is the stack prefix: pass it with --stack-prefix/],
  },
  {
    name: "config sets attendee",
    argv: ["run", ...L, "--attendees", "alice", "--config", "attendee=bob"],
    expect: [/pass names with --attendees/],
  },
  {
    name: "bad placement",
    argv: ["run", ...L, "--attendees", "alice", "--config", "placement=sideways"],
    expect: [/lab:placement "sideways" is not one of spread, arm64, amd64/],
  },
  {
    name: "replicas not a number",
    argv: ["run", ...L, "--attendees", "alice", "--config", "replicas=two"],
    expect: [/lab:replicas "two" is not a whole number/],
  },
  {
    name: "spread with one replica",
    argv: ["run", ...L, "--attendees", "alice", "--config", "replicas=1"],
    expect: [/placement spread needs at least 2/],
  },
  {
    name: "x86 type in the arm group",
    argv: ["run", ...L, "--attendees", "alice", "--config", "armInstanceType=m7i.large"],
    expect: [/lab:armInstanceType "m7i.large" is amd64/],
  },
  {
    name: "unknown target",
    argv: ["run", "--target", "gcp", "--attendees", "alice"],
    expect: [/lab:target "gcp" is not one of aws, local/],
  },
  {
    name: "target contradiction",
    argv: ["run", ...L, "--attendees", "alice", "--config", "target=aws"],
    expect: [/--target local contradicts --config lab:target=aws/],
  },
  {
    name: "aws target without region",
    argv: ["run", "--attendees", "alice"],
    env: { ...AWS_ENV, AWS_REGION: undefined },
    expect: [/aws:region is required/],
  },
  {
    name: "bad duration",
    argv: ["run", ...L, "--attendees", "alice", "--traffic-deadline", "soon"],
    expect: [/"soon" is not a duration/],
  },
  {
    name: "bad stack prefix",
    argv: ["run", ...L, "--attendees", "alice", "--stack-prefix", "Lab_"],
    expect: [/--stack-prefix "Lab_"/],
  },
  {
    name: "requests zero",
    argv: ["verify", ...L, "--attendees", "alice", "--requests", "0"],
    expect: [/--requests "0"/],
  },
  {
    name: "verify --url not a URL",
    argv: ["verify", "--url", "not a url"],
    expect: [/--url "not a url" is not a URL/],
  },
  {
    name: "verify --url bad arch",
    argv: ["verify", "--url", "http://x/hello", "--expect-arch", "x86_64,arm64"],
    expect: [/--expect-arch "arm64" is not one of x86_64, aarch64/],
  },
  {
    name: "verify --url with attendees",
    argv: ["verify", "--url", "http://x/hello", "--attendees", "a"],
    expect: [/drop --attendees/],
  },
  {
    name: "reap bad duration",
    argv: ["reap", "--older-than", "yesterday"],
    expect: [/--older-than: "yesterday" is not a duration/],
  },
  { name: "unknown option", argv: ["run", "--attendee", "alice"], expect: [/unknown option '--attendee'/] },
  { name: "unknown command", argv: ["deploy"], expect: [/unknown command 'deploy'/] },
  {
    name: "missing option value",
    argv: ["run", "--attendees"],
    expect: [/option '--attendees <names>' argument missing/],
  },
  {
    name: "backend of an unknown scheme",
    argv: ["run", "--attendees", "alice", "--target", "local", "--backend", "notascheme://x"],
    expect: [/--backend "notascheme:\/\/x" is not a Pulumi backend URL: use one of file:\/\/, s3:\/\//],
  },
  {
    name: "backend file path not absolute",
    argv: ["list", "--backend", "file://state"],
    expect: [/--backend "file:\/\/state": a file backend needs an absolute path/],
  },
  {
    name: "local registry with a space",
    argv: ["run", "--attendees", "alice", "--target", "local", "--config", "localRegistry=bad reg"],
    expect: [/lab:localRegistry "bad reg" is not host:port/],
  },
  {
    name: "aws:region that is no region",
    argv: ["up", "--attendees", "alice", "--config", "aws:region=mars-1"],
    expect: [/aws:region "mars-1" is not an AWS region name/],
  },
  {
    name: "reap without --older-than",
    argv: ["reap"],
    expect: [/--older-than <duration> \(e.g. 12h\) or --leftovers is required/],
  },
];

describe("lab bad input (exit 2, no engine call)", () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const engine = new FakeEngine();
      const r = await runCli(c.argv, { engine, env: c.env });
      assert.equal(r.code, 2, `exit code; stderr:\n${r.err}`);
      for (const re of c.expect) assert.match(r.err, re);
      assert.deepEqual(engine.calls, [], "no engine call");
      assert.deepEqual(fs.readdirSync(r.projectDir), [], "nothing created");
    });
  }

  it("missing AWS credentials for the aws target: one message saying how to fix it", async () => {
    const engine = new FakeEngine();
    const r = await runCli(["run", "--attendees", "alice", "--config", "aws:region=eu-west-1"], {
      engine,
      env: { HOME: tmp, PATH: process.env.PATH },
    });
    assert.equal(r.code, 2);
    assert.match(r.err, /no AWS credentials found for the aws target\. Provide one of: AWS_ACCESS_KEY_ID/);
    assert.match(r.err, /--no-aws-check/);
    assert.deepEqual(engine.calls, []);
  });

  it("AWS_PROFILE, a credentials file or --no-aws-check satisfy the check", async () => {
    const home = fs.mkdtempSync(path.join(os.tmpdir(), "lab-home-"));
    fs.mkdirSync(path.join(home, ".aws"));
    fs.writeFileSync(path.join(home, ".aws", "credentials"), "[default]\naws_access_key_id = AKIA\n");
    for (const [env, extra] of [
      [{ HOME: tmp, AWS_PROFILE: "workshop" }, []],
      [{ HOME: home }, []],
      [{ HOME: tmp }, ["--no-aws-check"]],
    ] as const) {
      const r = await runCli(["run", "--attendees", "alice", "--config", "aws:region=eu-west-1", ...extra], {
        env,
      });
      assert.equal(r.code, 0, r.err);
    }
  });

  it("an engine that cannot start (no Pulumi CLI) exits 2 with its message, before any stack call", async () => {
    const engine = new FakeEngine();
    engine.checkError = new EngineUnavailableError("the Pulumi CLI was not found on PATH. Install it");
    const r = await runCli(["run", ...L, "--attendees", "alice"], { engine });
    assert.equal(r.code, 2);
    assert.match(r.err, /lab run: the Pulumi CLI was not found on PATH/);
    assert.deepEqual(engine.calls, ["check"]);
  });

  it("--help for each command shows its examples and exits 0", async () => {
    for (const cmd of ["run", "up", "verify", "destroy", "list", "reap"]) {
      const r = await runCli([cmd, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`Examples:\\n\\s+\\$ npm run lab -- ${cmd}`));
    }
  });
});

describe("bin/lab.js (child process)", () => {
  const bin = path.resolve(__dirname, "..", "..", "bin", "lab.js");
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [bin, ...args], { env, encoding: "utf8", timeout: 60_000 });

  it("exits 2 and lists every bad attendee", () => {
    const r = run(["run", "--target", "local", "--attendees", "Alice,bob,bob"], { PATH: process.env.PATH });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /2 problems, nothing was created/);
    assert.match(r.stderr, /"Alice" is not a DNS-1123 label/);
    assert.match(r.stderr, /duplicate attendees: bob/);
  });

  it("exits 2 with one clear message when the Pulumi CLI is missing", () => {
    const emptyPath = fs.mkdtempSync(path.join(os.tmpdir(), "lab-nopath-"));
    const env = { PATH: emptyPath, PULUMI_CONFIG_PASSPHRASE: "test", HOME: tmp };
    const aws = run(
      ["run", "--attendees", "alice", "--config", "aws:region=eu-west-1", "--no-aws-check"],
      env,
    );
    assert.equal(aws.status, 2, aws.stderr);
    assert.match(aws.stderr, /the Pulumi CLI was not found on PATH\. Install it/);
    // The local target's CLI comes from the local toolchain (no env.json under HOME/.cache here).
    const local = run(["run", "--target", "local", "--attendees", "alice"], env);
    assert.equal(local.status, 2, local.stderr);
    assert.equal(
      local.stderr,
      `lab run: the Pulumi CLI was not found on PATH and the local toolchain is not set up ` +
        `(no ${tmp}/.cache/multiarch-lab/env.json): run \`npm run setup:local\`, then run the command again.\n`,
    );
  });

  it("exits 0 with usage for --help", () => {
    const r = run(["--help"], { PATH: process.env.PATH });
    assert.equal(r.status, 0);
    assert.match(r.stdout, /Usage: lab/);
    assert.match(r.stdout, /Exit codes: 0 all labs passed, 1 any lab failed, 2 bad usage or input/);
  });
});
