// The image check on ECR: a fresh token from ecr:GetAuthorizationToken (a REAL moto server on
// loopback, reached through AWS_ENDPOINT_URL like every AWS SDK v3 call) is what the manifest
// request authenticates with; the stack outputs carry no password.
import assert from "node:assert/strict";
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { ecrDockerConfig } from "../../automation/aws/ecrLogin";
import { parseOutputs } from "../../automation/lifecycle/outputs";
import { ecrRegistry, ecrToken } from "../../automation/verify/ecr";
import { runImageCheck } from "../../automation/verify/image";
import { MANIFEST_TYPES, fetchManifest } from "../../automation/verify/registry";
import { runCli } from "./support/harness";
import { freePort } from "./support/registry";

const HOST = "123456789012.dkr.ecr.eu-west-1.amazonaws.com";
/** What moto answers: `AWS:<account>-auth-token`. */
const MOTO_AUTH = `Basic ${Buffer.from("AWS:123456789012-auth-token").toString("base64")}`;
const INDEX = JSON.stringify({
  schemaVersion: 2,
  mediaType: MANIFEST_TYPES.ociIndex,
  manifests: ["amd64", "arm64"].map((architecture, i) => ({
    mediaType: MANIFEST_TYPES.ociManifest,
    digest: `sha256:${String(i).repeat(64)}`,
    size: 1,
    platform: { os: "linux", architecture },
  })),
});

async function waitFor(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`${url} did not answer`);
}

describe("verify image on ECR (real moto server)", function () {
  this.timeout(60_000);
  let moto: ChildProcess | undefined;
  let registry: http.Server;
  let registryPort = 0;
  const seen: (string | undefined)[] = [];
  const saved = { ...process.env };

  before(async function () {
    if (spawnSync("moto_server", ["--help"]).status !== 0) {
      if (process.env.CI) throw new Error("moto_server is not installed: pip install 'moto[server]'");
      console.log("    (skipped: moto_server not installed; pip install 'moto[server]')");
      this.skip();
    }
    const port = await freePort();
    moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    });
    delete process.env.AWS_PROFILE;
    await waitFor(`http://127.0.0.1:${port}/`);
    // Stands in for ECR's registry API: the index only for moto's token.
    registry = http.createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.headers.authorization !== MOTO_AUTH) {
        res.writeHead(401, { "www-authenticate": `Basic realm="${HOST}"` }).end();
        return;
      }
      res.writeHead(200, { "content-type": MANIFEST_TYPES.ociIndex }).end(INDEX);
    });
    await new Promise<void>((r) => registry.listen(0, "127.0.0.1", r));
    registryPort = (registry.address() as { port: number }).port;
  });

  after(async () => {
    moto?.kill();
    await new Promise((r) => (registry ? registry.close(r) : r(undefined)));
    for (const k of ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("knows ECR registry hosts, and only them", () => {
    assert.deepEqual(ecrRegistry(HOST), { account: "123456789012", region: "eu-west-1" });
    assert.deepEqual(ecrRegistry("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")?.region, "cn-north-1");
    for (const host of [
      "127.0.0.1:5000",
      "ghcr.io",
      "public.ecr.aws",
      "1234.dkr.ecr.eu-west-1.amazonaws.com",
    ]) {
      assert.equal(ecrRegistry(host), undefined, host);
    }
  });

  it("fetches a token with the caller's credentials", async () => {
    const token = await ecrToken("eu-west-1");
    assert.equal(token.username, "AWS");
    assert.equal(token.password, "123456789012-auth-token");
  });

  it("reads the index with the fresh token, though the outputs hold no password", async () => {
    const out = parseOutputs({
      imageTag: `${HOST}/lab-alice/hello:latest`,
      // What an older stack exported: the stale password is not kept.
      registry: { server: HOST, username: "AWS", password: "expired-yesterday" },
    });
    assert.deepEqual(out.registry, { server: HOST });
    seen.length = 0;
    const r = await runImageCheck({ imageTag: out.imageTag }, undefined, {
      // ECR's host is reached on the stand-in registry; everything else is the real client.
      fetchManifest: (image, ref, creds, signal) =>
        fetchManifest({ ...image, registry: `127.0.0.1:${registryPort}` }, ref, creds, signal),
    });
    assert.equal(r.status, "passed", r.summary);
    assert.deepEqual(seen, [MOTO_AUTH], "one request, with moto's token");
    assert.deepEqual((r.evidence.ecrToken as { region: string }).region, "eu-west-1");
    assert.ok(!JSON.stringify(r).includes("123456789012-auth-token"), "the token is not in the evidence");
  });

  it("fails clearly when no token can be had", async () => {
    const endpoint = process.env.AWS_ENDPOINT_URL;
    process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${await freePort()}`;
    try {
      const r = await runImageCheck({ imageTag: `${HOST}/lab-alice/hello:latest` });
      assert.equal(r.status, "failed");
      assert.match(
        r.summary,
        /^could not get an ECR token for 123456789012\.dkr\.ecr\.eu-west-1\.amazonaws\.com/,
      );
      assert.match(r.summary, /ecr:GetAuthorizationToken in eu-west-1/);
    } finally {
      process.env.AWS_ENDPOINT_URL = endpoint;
    }
  });
});

describe("ECR credentials for the engine's push (real moto server)", function () {
  this.timeout(60_000);
  let moto: ChildProcess | undefined;
  const saved = { ...process.env };
  let home = "";

  before(async function () {
    if (spawnSync("moto_server", ["--help"]).status !== 0) this.skip();
    const port = await freePort();
    moto = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
      AWS_ACCESS_KEY_ID: "testing",
      AWS_SECRET_ACCESS_KEY: "testing",
    });
    await waitFor(`http://127.0.0.1:${port}/`);
    home = fs.mkdtempSync(path.join(os.tmpdir(), "lab-home-"));
    fs.mkdirSync(path.join(home, ".docker", "buildx"), { recursive: true });
  });

  after(() => {
    moto?.kill();
    if (home) fs.rmSync(home, { recursive: true, force: true });
    for (const k of ["AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it("gives the engine a DOCKER_CONFIG with the user's config, builders and a fresh token; 0600", async () => {
    const user = { auths: { "ghcr.io": { auth: "eDp5" } }, credHelpers: { "gcr.io": "gcloud" } };
    fs.writeFileSync(path.join(home, ".docker", "config.json"), JSON.stringify(user));
    const login = await ecrDockerConfig("eu-west-1", { HOME: home });
    try {
      const dir = login.envVars.DOCKER_CONFIG;
      assert.equal(login.server, HOST);
      const file = path.join(dir, "config.json");
      assert.deepEqual(JSON.parse(fs.readFileSync(file, "utf8")), {
        auths: {
          ...user.auths,
          [HOST]: { auth: Buffer.from("AWS:123456789012-auth-token").toString("base64") },
        },
        credHelpers: user.credHelpers,
      });
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
      assert.equal(fs.readlinkSync(path.join(dir, "buildx")), path.join(home, ".docker", "buildx"));
      login.cleanup();
      assert.ok(!fs.existsSync(dir));
    } finally {
      login.cleanup();
    }
  });

  it("leaves a user with the ECR credential helper to it", async () => {
    fs.writeFileSync(
      path.join(home, ".docker", "config.json"),
      JSON.stringify({ credHelpers: { [HOST]: "ecr-login" } }),
    );
    assert.deepEqual((await ecrDockerConfig("eu-west-1", { HOME: home })).envVars, {});
  });

  it("lab up on aws hands that environment to the engine; a local lab asks for none", async () => {
    const regions: string[] = [];
    const registryLogin = async (region: string) => {
      regions.push(region);
      return { envVars: { DOCKER_CONFIG: "/tmp/lab-docker-test" } };
    };
    const aws = await runCli(["up", "--attendees", "alice", "--no-preview"], { registryLogin });
    assert.equal(aws.code, 0, aws.err);
    assert.equal(aws.settings[0].envVars.DOCKER_CONFIG, "/tmp/lab-docker-test");
    assert.deepEqual(regions, ["eu-west-1"]);
    const local = await runCli(["up", "--target", "local", "--attendees", "alice"], { registryLogin });
    assert.equal(local.code, 0, local.err);
    assert.equal(local.settings[0].envVars.DOCKER_CONFIG, undefined);
    assert.deepEqual(regions, ["eu-west-1"]);
  });
});
