// The real LocalLabEngine over a stand-in `pulumi` CLI on PATH: which CLI calls it makes, with which
// environment, and that stack creation/selection and config writes never overlap (pulumi #8186).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { EngineUnavailableError, StackMissingError } from "../../automation/lifecycle/engine";
import { LocalLabEngine } from "../../automation/lifecycle/localEngine";

interface Call {
  args: string[];
  stdin?: string;
  start: number;
  end: number;
  backend?: string;
  passphrase?: string;
  skipUpdateCheck?: string;
}

describe("LocalLabEngine (stand-in pulumi CLI)", function () {
  this.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-engine-"));
  const bin = path.join(dir, "bin");
  const log = path.join(dir, "calls.jsonl");
  const state = path.join(dir, "state");
  const savedPath = process.env.PATH;
  const env = {
    PULUMI_BACKEND_URL: `file://${dir}/.lab-state`,
    PULUMI_CONFIG_PASSPHRASE: "pw",
    PULUMI_SKIP_UPDATE_CHECK: "true",
  };
  const calls = (): Call[] =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, "utf8")
          .trim()
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as Call)
      : [];
  const engine = (): LocalLabEngine =>
    new LocalLabEngine({
      workDir: dir,
      envVars: { ...env, FAKE_PULUMI_LOG: log, FAKE_PULUMI_STATE: state },
      secretsProvider: "passphrase",
    });

  before(() => {
    fs.mkdirSync(bin);
    fs.mkdirSync(state);
    fs.copyFileSync(path.join(__dirname, "support", "fakePulumi.js"), path.join(bin, "pulumi"));
    fs.chmodSync(path.join(bin, "pulumi"), 0o755);
    process.env.PATH = `${bin}:${path.dirname(process.execPath)}:${savedPath}`;
  });
  after(() => {
    process.env.PATH = savedPath;
  });
  beforeEach(() => fs.rmSync(log, { force: true }));

  it("creates the stack (select, then init with the passphrase provider) and sets its config", async () => {
    const e = engine();
    await e.check();
    await e.prepare("lab-alice", { "lab:attendee": "alice", "lab:replicas": "6" }, true);
    assert.deepEqual(
      calls().map((c) => c.args.join(" ")),
      [
        "stack select --stack lab-alice",
        "stack init lab-alice --secrets-provider passphrase",
        "config set-all --stack lab-alice --plaintext lab:attendee=alice --plaintext lab:replicas=6",
      ],
    );
    for (const c of calls()) {
      assert.equal(c.backend, env.PULUMI_BACKEND_URL);
      assert.equal(c.passphrase, "pw");
      assert.equal(c.skipUpdateCheck, "true");
    }
  });

  it("sets secrets encrypted with the value on stdin, never on a command line", async () => {
    const secret = "s3cr3t-Value with spaces\n";
    await engine().prepare("lab-sec", { "lab:replicas": "2" }, true, { "demo:token": secret });
    const cs = calls();
    assert.deepEqual(
      cs.map((c) => c.args.join(" ")),
      [
        "stack select --stack lab-sec",
        "stack init lab-sec --secrets-provider passphrase",
        "config set-all --stack lab-sec --plaintext lab:replicas=2",
        "config set --secret --stack lab-sec -- demo:token",
      ],
    );
    // One trailing newline is the CLI's to strip; the value's own newline survives.
    assert.equal(cs[3].stdin, `${secret}\n`);
    assert.equal(cs[3].passphrase, "pw", "the workspace's environment");
    for (const c of cs) assert.ok(!c.args.join(" ").includes("s3cr3t"), c.args.join(" "));
  });

  it("refuses to set in plain a key the stack holds as a secret, before writing any config", async () => {
    fs.writeFileSync(
      path.join(dir, "Pulumi.lab-held.yaml"),
      'config:\n  demo:token:\n    secure: v1:abc\n  lab:replicas: "2"\n',
    );
    const e = engine();
    assert.deepEqual(await e.secretKeys("lab-held"), ["demo:token"]);
    assert.deepEqual(await e.secretKeys("lab-nothing"), []);
    await assert.rejects(
      e.prepare("lab-held", { "demo:token": "plain" }, true),
      /stack lab-held holds demo:token as secret: set it with --secret, not --config/,
    );
    assert.ok(!calls().some((c) => c.args[0] === "config"), "no config written");
  });

  it("serializes concurrent stack creation and config writes", async () => {
    const e = engine();
    await Promise.all(
      ["b1", "b2", "b3", "b4"].map((n) => e.prepare(`lab-${n}`, { "lab:attendee": n }, true)),
    );
    const cs = calls().sort((a, b) => a.start - b.start);
    assert.equal(cs.length, 12);
    for (let i = 1; i < cs.length; i++) {
      assert.ok(
        cs[i].start >= cs[i - 1].end,
        `${cs[i].args.join(" ")} overlapped ${cs[i - 1].args.join(" ")}`,
      );
    }
  });

  it("select-only preparation of a missing stack is StackMissingError", async () => {
    await assert.rejects(engine().prepare("lab-nobody", {}, false), StackMissingError);
  });

  it("destroys, then removes the stack; lists stacks and reads history", async () => {
    const e = engine();
    await e.prepare("lab-alice", {}, false);
    await e.destroy("lab-alice", {});
    await e.remove("lab-alice");
    const args = calls().map((c) => c.args);
    assert.equal(args[1][0], "destroy");
    assert.ok(args[1].includes("--stack") && args[1].includes("lab-alice"));
    assert.deepEqual(args[args.length - 1], ["stack", "rm", "--yes", "lab-alice"]);
    await e.prepare("lab-carol", {}, true);
    const list = await e.list();
    assert.ok(
      list.some((s) => s.name === "lab-carol" && s.resourceCount === 7 && s.lastUpdate instanceof Date),
    );
    const h = await e.history("lab-carol");
    assert.equal(h.createdAt?.toISOString(), "2026-01-01T00:00:00.000Z");
    assert.deepEqual(h.last?.kind, "update");
    assert.deepEqual(h.last?.result, "succeeded");
  });

  it("a missing CLI is EngineUnavailableError saying how to fix it", async () => {
    process.env.PATH = dir; // no pulumi here
    try {
      await assert.rejects(engine().check(), (e: unknown) => {
        assert.ok(e instanceof EngineUnavailableError);
        assert.match(e.message, /the Pulumi CLI was not found on PATH\. Install it/);
        return true;
      });
    } finally {
      process.env.PATH = `${bin}:${path.dirname(process.execPath)}:${savedPath}`;
    }
  });
});
