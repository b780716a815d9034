// Secrets: `--secret` reaches the engine as secret config only; credentials and held secrets are
// refused in `--config` (exit 2, value never echoed); whatever the engine, the checks or a note
// says, no secret value reaches stdout, stderr, the logs, the report or the JUnit file.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { REDACTED, Redactor, redactedLog, runRedactor } from "../../automation/reports/redact";
import { fileLog, memoryLog } from "../../automation/reports/logs";
import { passphraseFile } from "../../automation/lifecycle/state";
import { FakeEngine } from "./support/fakeEngine";
import { AWS_ENV, runCli } from "./support/harness";
import { leaks } from "../support/leaks";

const rand = (): string => `v${randomBytes(12).toString("hex")}`;
const L = ["--target", "local", "--attendees", "alice"];

describe("--secret and --config: what is refused (exit 2, nothing created, no value echoed)", () => {
  for (const key of ["aws:accessKey", "aws:secretKey", "aws:token"]) {
    it(`--config ${key} is a credential: refused with a hint to --secret or the environment`, async () => {
      const value = rand();
      const r = await runCli(["up", ...L, "--config", `${key}=${value}`]);
      assert.equal(r.code, 2);
      assert.match(r.err, new RegExp(`--config ${key} is a credential: pass it with --secret ${key}=…`));
      assert.match(r.err, /AWS_ACCESS_KEY_ID \+ AWS_SECRET_ACCESS_KEY/);
      assert.ok(!r.err.includes(value) && !r.out.includes(value), "value echoed");
      assert.deepEqual(r.engine.calls, []);
    });
  }

  it("a key marked secret in the same command is refused in --config", async () => {
    const r = await runCli(["up", ...L, "--config", "demo:token=a1b2c3", "--secret", "demo:token=x9y8z7"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--config demo:token is marked secret by --secret demo:token=… in this command/);
    assert.ok(!/a1b2c3|x9y8z7/.test(r.err + r.out));
    assert.deepEqual(r.engine.calls, []);
  });

  it("a key the stack already holds as a secret is refused in --config, before any change", async () => {
    const engine = new FakeEngine({ "lab-alice": { heldSecrets: ["demo:token"] } });
    const r = await runCli(["up", ...L, "--config", "demo:token=plain1"], { engine });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /--config demo:token: stack lab-alice holds it as a secret; pass it with --secret/);
    assert.deepEqual(engine.secretReads, ["lab-alice", "lab.foundation"]);
    assert.deepEqual(engine.mutating, []);
  });

  it("--secret: lab settings and malformed pairs are refused, the text of a pair without = is not shown", async () => {
    const value = rand();
    const r = await runCli(["up", ...L, "--secret", "replicas=3", "--secret", value, "--secret", "x y:z=1"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--secret lab:replicas: lab settings are not secret .*pass it with --config/);
    assert.match(r.err, /--secret #2 is not key=value \(e\.g\. --secret aws:secretKey=…\); it is not shown/);
    assert.match(r.err, /--secret key "x y:z" is not a config key/);
    assert.ok(!r.err.includes(value));
  });
});

describe("--secret-env: the value from the environment, never on a command line", () => {
  it("sets the variable's value as secret config", async () => {
    const value = rand();
    const r = await runCli(["up", ...L, "--secret-env", "demo:token=LAB_TEST_TOKEN"], {
      env: { ...AWS_ENV, LAB_TEST_TOKEN: value },
    });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.engine.lastSecrets["lab-alice"], { "demo:token": value });
    assert.equal(r.engine.lastConfig["lab-alice"]["demo:token"], undefined);
    assert.doesNotMatch(r.out + r.err, new RegExp(value));
  });

  it("an unset variable, a bad pair and a lab setting are refused (exit 2, nothing created)", async () => {
    const r = await runCli(
      [
        "up",
        ...L,
        "--secret-env",
        "demo:token=NOT_SET_HERE",
        "--secret-env",
        "demo:x",
        "--secret-env",
        "replicas=LAB_R",
      ],
      { env: { ...AWS_ENV, LAB_R: "3" } },
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /--secret-env demo:token=NOT_SET_HERE: the environment has no NOT_SET_HERE/);
    assert.match(r.err, /--secret-env "demo:x" is not key=VARIABLE/);
    assert.match(r.err, /--secret-env lab:replicas: lab settings are not secret/);
    assert.deepEqual(r.engine.mutating, []);
  });
});

describe("--secret through a run (fake engine)", () => {
  it("reaches prepare as secret config only, and is redacted from output, logs, report and JUnit", async () => {
    const secret = rand();
    const passphrase = rand();
    const token = rand();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-secret-run-"));
    const report = path.join(dir, "out", "lab.json");
    const junit = path.join(dir, "out", "lab.xml");
    // Everything that could carry the values says them: the engine's output, its error, the checks.
    const engine = new FakeEngine({
      "lab-alice": {
        upOutput: `config demo:token=${secret} passphrase ${passphrase}\n`,
        upFails: `bad ${secret}`,
      },
      "lab-bob": { upOutput: [`partial ${secret.slice(0, 9)}`, `${secret.slice(9)} end\n`] },
    });
    const r = await runCli(
      [
        "run",
        "--target",
        "local",
        "--attendees",
        "alice,bob",
        "--secret",
        `demo:token=${secret}`,
        "--report",
        report,
        "--junit",
        junit,
      ],
      {
        engine,
        env: { ...AWS_ENV, PULUMI_CONFIG_PASSPHRASE: passphrase },
        openLog: (stack) => fileLog(path.join(dir, ".lab-logs"), stack),
        verify: async () => [
          {
            name: "traffic",
            status: "failed",
            summary: `answer said ${secret}`,
            evidence: {
              kubeconfig: `users:\n- user:\n    token: ${token}\n`,
              password: "hunter2-registry",
              note: passphrase,
            },
          },
        ],
      },
    );
    assert.equal(r.code, 1, r.err);
    // The engine got the secret as secret config, never as plain config.
    assert.deepEqual(engine.lastSecrets["lab-alice"], { "demo:token": secret });
    assert.equal(engine.lastConfig["lab-alice"]["demo:token"], undefined);
    const values = { secret, passphrase, token, registry: "hunter2-registry" };
    assert.deepEqual(leaks([dir, r.projectDir], values, { stdout: r.out, stderr: r.err }), []);
    // Redacted, not dropped: the report keeps what happened, with the values replaced.
    const json = JSON.parse(fs.readFileSync(report, "utf8"));
    assert.deepEqual(json.settings.secrets, ["demo:token"]);
    assert.equal(json.settings.config["demo:token"], undefined);
    assert.match(json.labs[0].up.error, /bad \[secret\]/);
    assert.match(
      fs.readFileSync(path.join(dir, ".lab-logs", "lab-bob.log"), "utf8"),
      /partial \[secret\] end/,
    );
    assert.match(fs.readFileSync(junit, "utf8"), /answer said \[secret\]/);
  });
});

describe("Redactor", () => {
  it("leaves values shorter than MIN_REDACTED_LENGTH alone, so names like lab-e2e-a stay readable", () => {
    const r = new Redactor().add("e2e", "lab", "longer-secret").addKubeconfig("password: pw9\n");
    assert.equal(r.text("stack lab-e2e-a, token longer-secret"), `stack lab-e2e-a, token ${REDACTED}`);
    assert.equal(r.text("login pw9"), `login ${REDACTED}`, "a credential field is redacted at any length");
  });

  it("redacts kubeconfig credentials (YAML and JSON), bearer tokens and registry logins by field", () => {
    const yaml =
      "users:\n- name: a\n  user:\n    client-key-data: LS0tS0VZ\n    client-certificate-data: Q0VSVA==\n    token: abc.def\n";
    const json = JSON.stringify({ users: [{ user: { token: "tok123", password: "pw9" } }] });
    const r = new Redactor();
    assert.equal(
      r.text(yaml),
      "users:\n- name: a\n  user:\n    client-key-data: [secret]\n    client-certificate-data: [secret]\n    token: [secret]\n",
    );
    assert.equal(r.text(json), '{"users":[{"user":{"token":"[secret]","password":"[secret]"}}]}');
    assert.equal(r.text("Authorization: Bearer eyJabc.def"), "Authorization: Bearer [secret]");
    assert.equal(r.text("server: 127.0.0.1:6443, replicas: 4"), "server: 127.0.0.1:6443, replicas: 4");
  });

  it("a kubeconfig's credentials and a registry login are redacted wherever they appear later", () => {
    const r = new Redactor()
      .addKubeconfig("users:\n- user:\n    client-key-data: S3CR3TKEYDATA\n")
      .addRegistry({ username: "AWS", password: "ecr-pass-1" });
    const auth = Buffer.from("AWS:ecr-pass-1").toString("base64");
    assert.equal(
      r.text(`key S3CR3TKEYDATA, login ecr-pass-1, auth ${auth}`),
      "key [secret], login [secret], auth [secret]",
    );
  });

  it("redacts values in nested report objects, credential fields by key, and keeps other types", () => {
    const r = new Redactor().add("sekrit");
    const at = new Date(0);
    assert.deepEqual(r.value({ a: ["x sekrit y", 3, null], password: "plainpw", at }), {
      a: [`x ${REDACTED} y`, 3, null],
      password: REDACTED,
      at,
    });
  });

  it("a log redacts a value split across writes (it waits for the end of the line)", async () => {
    const mem = memoryLog();
    const log = redactedLog(mem, new Redactor().add("abcdef123"));
    log.write("one abc");
    log.write("def123 two\nthree abcdef");
    await log.close();
    assert.equal(mem.text(), "one [secret] two\nthree abcdef");
  });

  it("runRedactor knows the passphrase: environment, passphrase file, or the generated one", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-redact-"));
    const generated = fs.readFileSync(passphraseFile(dir).file, "utf8").trim();
    const fileWith = path.join(dir, "pp.txt");
    fs.writeFileSync(fileWith, "from-file-pp\n");
    const r = runRedactor({
      env: { PULUMI_CONFIG_PASSPHRASE: "env-pp-1", PULUMI_CONFIG_PASSPHRASE_FILE: fileWith },
      projectDir: dir,
      secrets: { "demo:token": "tok-val" },
    });
    assert.equal(
      r.text(`${generated} env-pp-1 from-file-pp tok-val`),
      [REDACTED, REDACTED, REDACTED, REDACTED].join(" "),
    );
  });
});
