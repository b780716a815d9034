// The local toolchain file (env.json, written by `npm run setup:local`): where it is, what loading
// it does to the environment (explicit environment wins), how it reaches the workspace, what the
// driver says when the Pulumi CLI is missing, and bin/lab.js finding a `pulumi` only env.json names.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { missingCliMessage } from "../../automation/cli/engines";
import { EngineUnavailableError } from "../../automation/lifecycle/engine";
import {
  emptyToolchain,
  labCacheDir,
  loadToolchain,
  localEnv,
  parseToolchainFile,
  toolchainFile,
} from "../../automation/local/toolchain";
import { FakeEngine } from "./support/fakeEngine";
import { AWS_ENV, runCli } from "./support/harness";

function cacheWith(json: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cache-"));
  fs.writeFileSync(path.join(dir, "env.json"), typeof json === "string" ? json : JSON.stringify(json));
  return dir;
}

describe("local toolchain file (env.json)", () => {
  it("lives in LAB_CACHE_DIR, else XDG_CACHE_HOME/multiarch-lab, else HOME/.cache/multiarch-lab", () => {
    assert.equal(labCacheDir({ LAB_CACHE_DIR: "/c", XDG_CACHE_HOME: "/x", HOME: "/h" }), "/c");
    assert.equal(labCacheDir({ LAB_CACHE_DIR: "", XDG_CACHE_HOME: "/x", HOME: "/h" }), "/x/multiarch-lab");
    assert.equal(labCacheDir({ XDG_CACHE_HOME: "", HOME: "/h" }), "/h/.cache/multiarch-lab");
    assert.equal(toolchainFile({ LAB_CACHE_DIR: "/c" }), "/c/env.json");
  });

  it("absent: nothing changes", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-cache-"));
    const env = { LAB_CACHE_DIR: dir, PATH: "/usr/bin" };
    const t = loadToolchain(env);
    assert.deepEqual(t, {
      file: path.join(dir, "env.json"),
      loaded: false,
      pathAdded: [],
      envSet: [],
      envVars: {},
      fileEnv: {},
      problems: [],
    });
    assert.deepEqual(env, { LAB_CACHE_DIR: dir, PATH: "/usr/bin" });
  });

  it("present: its path (once, in order) and the variables not already set, for the local target only", () => {
    const dir = cacheWith({
      path: ["/lab/bin", "/usr/bin", "/lab/go/bin"],
      env: {
        PULUMI_HOME: "/lab/pulumi",
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        DOCKER_CONFIG: "/lab/docker",
        BUILDX_BUILDER: "lab",
      },
    });
    const env: NodeJS.ProcessEnv = { LAB_CACHE_DIR: dir, PATH: "/usr/bin:/bin", DOCKER_CONFIG: "/mine" };
    const t = loadToolchain(env);
    assert.equal(t.loaded, true);
    assert.deepEqual(t.problems, []);
    assert.deepEqual(
      env,
      { LAB_CACHE_DIR: dir, PATH: "/usr/bin:/bin", DOCKER_CONFIG: "/mine" },
      "the driver's own environment (and so an aws lab's) is left as it is",
    );
    assert.deepEqual(t.pathAdded, ["/lab/bin", "/lab/go/bin"]);
    assert.deepEqual(t.envSet, [
      "PULUMI_HOME",
      "PULUMI_SKIP_UPDATE_CHECK",
      "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION",
      "BUILDX_BUILDER",
    ]);
    assert.deepEqual(t.envVars, {
      PATH: "/lab/bin:/lab/go/bin:/usr/bin:/bin",
      PULUMI_HOME: "/lab/pulumi",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      DOCKER_CONFIG: "/mine",
      BUILDX_BUILDER: "lab",
    });
    assert.equal(t.fileEnv.DOCKER_CONFIG, "/lab/docker", "the file's own value is kept too");
    assert.equal(localEnv(env, t).PULUMI_HOME, "/lab/pulumi");
    assert.equal(localEnv(env, t).DOCKER_CONFIG, "/mine", "explicit environment wins");
    // A shell that has the toolchain's PATH already (sourced env.sh) gets nothing added.
    const again = loadToolchain({ ...env, PATH: t.envVars.PATH });
    assert.deepEqual(again.pathAdded, []);
    assert.equal(again.envVars.PATH, "/lab/bin:/lab/go/bin:/usr/bin:/bin");
  });

  it("malformed: nothing applied, the problem named; bad entries skipped one by one", () => {
    const env: NodeJS.ProcessEnv = { LAB_CACHE_DIR: cacheWith("{not json"), PATH: "/usr/bin" };
    const t = loadToolchain(env);
    assert.equal(t.loaded, false);
    assert.match(t.problems[0], /^not JSON/);
    assert.equal(env.PATH, "/usr/bin");
    assert.deepEqual(parseToolchainFile("[]").problems, [
      'not a JSON object of the form {"path": [...], "env": {...}}',
    ]);
    const partly = parseToolchainFile(
      JSON.stringify({ path: ["relative/bin", "/ok", 3], env: { PATH: "/x", A: "1", B: 2, "no-name": "x" } }),
    );
    assert.deepEqual(partly.file, { path: ["/ok"], env: { A: "1" } });
    assert.equal(partly.problems.length, 5);
    assert.match(partly.problems.join("\n"), /"relative\/bin" is not an absolute directory/);
    assert.match(partly.problems.join("\n"), /"env" sets PATH; use "path"/);
  });

  it("reaches the workspace env; the driver's own backend and passphrase win", async () => {
    const env: NodeJS.ProcessEnv = {
      HOME: "/nonexistent",
      LAB_CACHE_DIR: cacheWith({
        path: ["/lab/bin"],
        env: {
          PULUMI_HOME: "/lab/pulumi",
          PULUMI_BACKEND_URL: "file:///elsewhere",
          PULUMI_CONFIG_PASSPHRASE: "tc",
        },
      }),
      PATH: "/usr/bin",
      PULUMI_CONFIG_PASSPHRASE: "mine",
    };
    const toolchain = loadToolchain(env);
    const r = await runCli(["verify", "--target", "local", "--attendees", "alice"], { env, toolchain });
    assert.equal(r.code, 0, r.err);
    const vars = r.settings[0].envVars;
    assert.equal(vars.PATH, "/lab/bin:/usr/bin");
    assert.equal(vars.PULUMI_HOME, "/lab/pulumi");
    assert.equal(vars.PULUMI_BACKEND_URL, `file://${r.projectDir}/.lab-state`);
    assert.equal(vars.PULUMI_CONFIG_PASSPHRASE, "mine");
  });

  it("problems in the file are warnings on stderr, not failures", async () => {
    const env = { ...AWS_ENV, LAB_CACHE_DIR: cacheWith({ path: "/lab/bin" }) };
    const r = await runCli(["verify", "--target", "local", "--attendees", "alice"], {
      env,
      toolchain: loadToolchain({ ...env }),
    });
    assert.equal(r.code, 0);
    assert.match(r.err, /lab: warning: .*env\.json: "path" is not a list of directories/);
  });
});

describe("missing Pulumi CLI message", () => {
  const base = "the Pulumi CLI was not found on PATH. Install it (https://www.pulumi.com/docs/install/)";
  const absent = emptyToolchain("/c/env.json");

  it("local target: run npm run setup:local (again, when env.json did not help)", () => {
    assert.equal(
      missingCliMessage(base, "local", absent, {}),
      "the Pulumi CLI was not found on PATH and the local toolchain is not set up (no /c/env.json): " +
        "run `npm run setup:local`, then run the command again.",
    );
    assert.match(
      missingCliMessage(base, "local", { ...absent, loaded: true }, {}),
      /even with the local toolchain's PATH from \/c\/env\.json: run `npm run setup:local` again/,
    );
    assert.equal(missingCliMessage(base, "aws", absent, {}), base);
    assert.equal(
      missingCliMessage(base, undefined, absent, {}),
      `${base} For the local target, run \`npm run setup:local\` instead.`,
    );
  });

  it("through the CLI: --target local and --config target=local both point at setup:local", async () => {
    for (const argv of [
      ["run", "--target", "local", "--attendees", "alice"],
      ["verify", "--config", "target=local", "--attendees", "alice"],
    ]) {
      const engine = new FakeEngine();
      engine.checkError = new EngineUnavailableError(base, "missing-cli");
      const r = await runCli(argv, { engine, env: { HOME: "/nonexistent", LAB_CACHE_DIR: "/c" } });
      assert.equal(r.code, 2);
      assert.match(r.err, /not set up \(no \/c\/env\.json\): run `npm run setup:local`/);
    }
  });
});

describe("bin/lab.js with env.json (child process)", function () {
  this.timeout(60_000);
  it("finds the pulumi env.json puts on PATH, and passes env.json's variables to it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-tc-"));
    const bin = path.join(dir, "bin");
    const state = path.join(dir, "state");
    const log = path.join(dir, "calls.jsonl");
    fs.mkdirSync(bin);
    fs.mkdirSync(state);
    fs.copyFileSync(path.join(__dirname, "support", "fakePulumi.js"), path.join(bin, "pulumi"));
    fs.chmodSync(path.join(bin, "pulumi"), 0o755);
    fs.writeFileSync(path.join(state, "lab-alice.json"), "{}");
    fs.writeFileSync(
      path.join(dir, "env.json"),
      JSON.stringify({
        path: [bin],
        env: { FAKE_PULUMI_LOG: log, FAKE_PULUMI_STATE: state },
      }),
    );
    // PATH has node (the fake CLI is a node script) but no pulumi: only env.json names it.
    const emptyPath = path.dirname(process.execPath);
    assert.ok(!fs.existsSync(path.join(emptyPath, "pulumi")), "this test needs a PATH without pulumi");
    const r = spawnSync(
      process.execPath,
      [path.resolve(__dirname, "..", "..", "bin", "lab.js"), "list", "--backend", `file://${dir}/backend`],
      { env: { PATH: emptyPath, HOME: dir, LAB_CACHE_DIR: dir }, encoding: "utf8", timeout: 60_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /lab-alice/);
    const calls = fs
      .readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { args: string[]; backend: string });
    const ls = calls.find((c) => c.args[0] === "stack" && c.args[1] === "ls");
    assert.ok(ls, JSON.stringify(calls));
    assert.equal(ls.backend, `file://${dir}/backend`);
  });
});
