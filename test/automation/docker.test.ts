// The docker CLI runner of the local variants check (automation/verify/docker.ts): a stand-in
// docker script records the calls; the real Docker Engine, where there is one, answers the rest.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { DockerUnavailableError, dockerCli } from "../../automation/verify/docker";
import { runVariantsCheck } from "../../automation/verify/variants";

const ARM = `sha256:${"b".repeat(64)}`;
const INSPECT = "{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}";
const TARGET = {
  stack: "lab-alice",
  imageRef: `127.0.0.1:5000/lab-alice/hello@sha256:${"c".repeat(64)}`,
  platforms: ["linux/amd64", "linux/arm64"],
};

describe("dockerCli (stand-in docker script)", function () {
  this.timeout(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-docker-"));
  const bin = path.join(dir, "docker");
  const log = path.join(dir, "calls.jsonl");
  fs.writeFileSync(
    bin,
    `#!${process.execPath}
const fs = require("node:fs");
const args = process.argv.slice(2);
fs.appendFileSync(${JSON.stringify(log)}, JSON.stringify(args) + "\\n");
const mode = process.env.FAKE_DOCKER_MODE || "ok";
if (mode === "down") {
  process.stderr.write("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\\n");
  process.exit(1);
}
if (args[0] === "version") process.stdout.write("20.10.24+dfsg1\\n");
else if (args[0] === "run") {
  process.stderr.write("Unable to find image locally\\nPulling...\\n");
  process.stdout.write("c0ffee\\n");
} else if (args[0] === "port") {
  process.stdout.write("127.0.0.1:49153\\n");
} else if (args[0] === "inspect" && mode === "exited") {
  process.stdout.write("false 3 true\\n");
} else if (args[0] === "rm" || args[0] === "inspect") {
  process.stderr.write("Error: No such container: " + args[args.length - 1] + "\\n");
  process.exit(1);
}
`,
    { mode: 0o755 },
  );
  const calls = (): string[][] =>
    fs
      .readFileSync(log, "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as string[]);

  it("builds the docker run line (bridge, port published on loopback, no --rm); reads the host port", async () => {
    fs.rmSync(log, { force: true });
    const d = dockerCli({ PATH: process.env.PATH }, bin);
    assert.equal(await d.ping(), "20.10.24+dfsg1");
    const id = await d.run({
      name: "lab-verify-lab-alice-arm64",
      image: `127.0.0.1:5000/lab-alice/hello@${ARM}`,
      platform: "linux/arm64",
      env: { PORT: "7070" },
      port: 7070,
    });
    assert.equal(id, "c0ffee");
    assert.equal(await d.hostPort(id, 7070), 49153);
    await d.remove("lab-verify-lab-alice-arm64");
    assert.deepEqual(await d.state("c0ffee"), { running: false });
    const exited = dockerCli({ PATH: process.env.PATH, FAKE_DOCKER_MODE: "exited" }, bin);
    assert.deepEqual(await exited.state("c0ffee"), { running: false, exitCode: 3, oomKilled: true });
    assert.deepEqual(calls(), [
      ["version", "--format", "{{.Server.Version}}"],
      [
        "run",
        "-d",
        "--network",
        "bridge",
        "-p",
        "127.0.0.1::7070/tcp",
        "--platform",
        "linux/arm64",
        "-e",
        "PORT=7070",
        "--name",
        "lab-verify-lab-alice-arm64",
        `127.0.0.1:5000/lab-alice/hello@${ARM}`,
      ],
      ["port", "c0ffee", "7070/tcp"],
      ["rm", "-f", "lab-verify-lab-alice-arm64"],
      ["inspect", "--format", INSPECT, "c0ffee"],
      ["inspect", "--format", INSPECT, "c0ffee"],
    ]);
  });

  it("a process that exits at once (second Ctrl+C) still removes the containers it started", () => {
    fs.rmSync(log, { force: true });
    const script = path.join(dir, "exit-early.ts");
    fs.writeFileSync(
      script,
      `import { dockerCli } from ${JSON.stringify(path.resolve(__dirname, "../../automation/verify/docker"))};
const d = dockerCli(process.env, ${JSON.stringify(bin)});
d.run({ name: "lab-verify-lab-bob-arm64", image: "x@sha256:${"b".repeat(64)}", platform: "linux/arm64", env: {}, port: 8080 })
  .then(() => process.exit(1));
`,
    );
    const r = spawnSync(process.execPath, ["-r", "ts-node/register", script], {
      cwd: path.resolve(__dirname, "..", ".."),
      env: { PATH: process.env.PATH, TS_NODE_PROJECT: path.resolve(__dirname, "..", "..", "tsconfig.json") },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(r.status, 1, r.stderr);
    assert.deepEqual(
      calls().map((c) => c.slice(0, 1).concat(c.slice(-1))),
      [
        ["run", `x@sha256:${"b".repeat(64)}`],
        ["rm", "lab-verify-lab-bob-arm64"],
      ],
    );
  });

  it("an unreachable engine or a missing CLI is DockerUnavailableError, and the check says setup:local", async () => {
    await assert.rejects(
      dockerCli({ PATH: process.env.PATH, FAKE_DOCKER_MODE: "down" }, bin).ping(),
      (e: unknown) => {
        assert.ok(e instanceof DockerUnavailableError);
        assert.match(e.message, /the Docker Engine is not reachable \(docker version: Cannot connect/);
        return true;
      },
    );
    const r = await runVariantsCheck(TARGET, {}, { docker: dockerCli({}, path.join(dir, "nope")) });
    assert.equal(r.status, "failed");
    assert.match(r.summary, /the docker CLI was not found on PATH; run `npm run setup:local`/);
  });
});

describe("dockerCli (the real Docker Engine, when there is one)", function () {
  this.timeout(30_000);
  before(function () {
    if (spawnSync("docker", ["info"], { stdio: "ignore", timeout: 15_000 }).status !== 0) this.skip();
  });
  it("pings the engine; a container that does not exist is neither running nor an error to remove", async () => {
    const d = dockerCli();
    assert.match(await d.ping(), /^\d+\.\d+/);
    const name = `lab-verify-test-${process.pid}-absent`;
    assert.deepEqual(await d.state(name), { running: false });
    await d.remove(name);
  });
});
