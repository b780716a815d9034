// Each stack's own target (#9 points 3 and 4): recorded when `up` creates it, read back by verify,
// destroy, reap and list, each stack routed to its target's engine; the local toolchain only for local.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CREATED_TAG, TARGET_TAG, configFileTarget } from "../../automation/lifecycle/targets";
import { StateSettings } from "../../automation/lifecycle/state";
import { Toolchain, loadToolchain } from "../../automation/local/toolchain";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";

const CREDS = { AWS_ACCESS_KEY_ID: "AKIAFAKE", AWS_SECRET_ACCESS_KEY: "fake", HOME: "/nonexistent" };
const HOUR = 3_600_000;

function toolchain(): Toolchain {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-tc-"));
  fs.mkdirSync(path.join(dir, "bin"));
  fs.writeFileSync(path.join(dir, "bin", "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
  fs.writeFileSync(
    path.join(dir, "env.json"),
    JSON.stringify({
      path: [path.join(dir, "bin")],
      env: { PULUMI_HOME: `${dir}/pulumi`, PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" },
    }),
  );
  return loadToolchain({ LAB_CACHE_DIR: dir, PATH: "/usr/bin" });
}

/** One fake engine per target, so that a test sees which engine each call reached. */
function perTarget(local: FakeEngine, aws: FakeEngine): (s: StateSettings) => FakeEngine {
  return (s) => (s.target === "aws" ? aws : local);
}

describe("each stack's own target", () => {
  it("up records the target and the creation time on a new stack, once", async () => {
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], { env: CREDS });
    assert.equal(r.code, 0, r.err);
    assert.equal(r.engine.tagsOf["lab-alice"][TARGET_TAG], "local");
    assert.match(r.engine.tagsOf["lab-alice"][CREATED_TAG], /^\d{4}-\d\d-\d\dT/);
    const created = r.engine.tagsOf["lab-alice"][CREATED_TAG];
    await runCli(["up", "--target", "local", "--attendees", "alice"], { env: CREDS, engine: r.engine });
    assert.equal(r.engine.tagsOf["lab-alice"][CREATED_TAG], created, "an update keeps the creation time");
  });

  it("verify and destroy need no region, credentials only for an aws lab", async () => {
    const engine = new FakeEngine();
    engine.tagsOf["lab-alice"] = { [TARGET_TAG]: "aws" };
    const v = await runCli(["verify", "--attendees", "alice"], { env: CREDS, engine });
    assert.equal(v.code, 0, v.err);
    const d = await runCli(["destroy", "--attendees", "alice"], { env: CREDS, engine });
    assert.equal(d.code, 0, d.err);
    assert.deepEqual(engine.of("destroy"), ["lab-alice"]);
    const local = new FakeEngine();
    local.tagsOf["lab-bob"] = { [TARGET_TAG]: "local" };
    const l = await runCli(["destroy", "--attendees", "bob"], {
      env: { HOME: "/nonexistent" },
      engine: local,
    });
    assert.equal(l.code, 0, l.err);
    assert.deepEqual(local.of("destroy"), ["lab-bob"]);
  });

  it("up refuses a stack of the other target (its resources would be replaced); nothing changes", async () => {
    const engine = new FakeEngine();
    engine.tagsOf["lab-alice"] = { [TARGET_TAG]: "aws" };
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], { env: CREDS, engine });
    assert.equal(r.code, 2);
    assert.match(r.err, /stack lab-alice is a aws lab \(its tag says so\), not local: use --target aws/);
    assert.deepEqual(engine.mutating, []);
  });

  it("destroy with a --target that contradicts the stack's record is refused", async () => {
    const engine = new FakeEngine();
    engine.tagsOf["lab-alice"] = { [TARGET_TAG]: "local" };
    const r = await runCli(["destroy", "--target", "aws", "--attendees", "alice"], { env: CREDS, engine });
    assert.equal(r.code, 2);
    assert.match(r.err, /--target aws: stack lab-alice is a local lab \(its tag says so\); drop --target/);
    assert.deepEqual(engine.mutating, []);
  });

  it("a stack made before the tags falls back to lab:target in its Pulumi.<stack>.yaml", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-proj-"));
    fs.writeFileSync(
      path.join(dir, "Pulumi.lab-a.yaml"),
      "config:\n  lab:attendee: a\n  lab:target: local\n",
    );
    fs.writeFileSync(path.join(dir, "Pulumi.lab-b.yaml"), "config:\n  lab:attendee: b\n");
    assert.equal(configFileTarget(dir, "lab-a"), "local");
    assert.equal(configFileTarget(dir, "lab-b"), undefined);
    assert.equal(configFileTarget(dir, "lab-c"), undefined);
  });

  it("destroy of a stack that does not exist needs no credentials on a machine with the toolchain", async () => {
    const engine = new FakeEngine({ "lab-ghost": { missing: true } });
    const r = await runCli(["destroy", "--attendees", "ghost"], {
      engine,
      env: { HOME: "/nonexistent" },
      toolchain: toolchain(),
    });
    assert.equal(r.code, 0, r.out + r.err);
    assert.doesNotMatch(r.err, /AWS credentials/);
  });

  it("one reap destroys local and aws labs, each through its own target's engine", async () => {
    const local = new FakeEngine();
    const aws = new FakeEngine();
    const now = Date.now();
    for (const e of [local, aws]) {
      e.listing = [
        { name: "lab-l", resourceCount: 9 },
        { name: "lab-a", resourceCount: 40 },
        { name: "lab-crashed", resourceCount: 2 },
      ];
      e.history_ = {
        "lab-l": { createdAt: new Date(now - 30 * HOUR) },
        "lab-a": { createdAt: new Date(now - 30 * HOUR) },
      };
      e.tagsOf["lab-l"] = { [TARGET_TAG]: "local" };
      e.tagsOf["lab-a"] = { [TARGET_TAG]: "aws" };
      // A first update that never finished: no history, aged from its creation tag.
      e.tagsOf["lab-crashed"] = {
        [TARGET_TAG]: "aws",
        [CREATED_TAG]: new Date(now - 48 * HOUR).toISOString(),
      };
    }
    const tc = toolchain();
    const r = await runCli(["reap", "--older-than", "1d"], {
      env: CREDS,
      toolchain: tc,
      engineFor: perTarget(local, aws),
    });
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(local.of("destroy"), ["lab-l"]);
    assert.deepEqual(aws.of("destroy").sort(), ["lab-a", "lab-crashed"]);
    const localSettings = r.settings.find((s) => s.target === "local");
    const awsSettings = r.settings.find((s) => s.target === "aws");
    assert.equal(localSettings?.pulumiRoot, path.dirname(tc.pathAdded[0]));
    assert.equal(localSettings?.envVars.PULUMI_HOME, tc.envVars.PULUMI_HOME);
    assert.equal(awsSettings?.pulumiRoot, undefined, "an aws lab runs the user's own pulumi");
    assert.equal(awsSettings?.envVars.PATH, undefined);
    assert.equal(awsSettings?.envVars.PULUMI_HOME, undefined);
    assert.equal(awsSettings?.envVars.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, undefined);
  });

  it("on a machine with the local toolchain, an aws up gets none of it", async () => {
    const tc = toolchain();
    const r = await runCli(
      ["up", "--target", "aws", "--attendees", "alice", "--config", "aws:region=eu-west-1"],
      {
        env: CREDS,
        toolchain: tc,
      },
    );
    assert.equal(r.code, 0, r.err);
    assert.equal(r.settings.length, 1);
    assert.equal(r.settings[0].pulumiRoot, undefined);
    assert.deepEqual(
      Object.keys(r.settings[0].envVars).filter((k) => k in tc.envVars),
      [],
      "no PATH, PULUMI_HOME or plugin setting from env.json",
    );
  });
});
