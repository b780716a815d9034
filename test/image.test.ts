import {
  ACCOUNT,
  ECR_PASSWORD,
  fakeDigest,
  one,
  ofType,
  recorded,
  recordedCalls,
  REGION,
  resetMocks,
  settle,
} from "./support/mocks";
import assert from "node:assert/strict";
import { buildArgsFor } from "../infra/buildInputs";
import { digestRef, fullTag, Image, lifecyclePolicy } from "../infra/image";
import { ImageArgs } from "../infra/imageTypes";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { valueOf } from "./support/outputs";
import { warningsOf } from "./support/warnings";
import { contentTagged } from "./support/imageTag";

const REPO = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/lab-alice/hello`;
const BOTH = ["linux/amd64", "linux/arm64"];

function build(overrides: Partial<ImageArgs> = {}): Image {
  return new Image("image", {
    attendee: "alice",
    workshop: "lab",
    platforms: BOTH,
    registry: { kind: "ecr", region: REGION },
    ...overrides,
  });
}

describe("infra/image: plain functions", () => {
  it("builds a fully qualified tag and refuses architecture tags or bare names", () => {
    assert.strictEqual(fullTag(REPO, "latest"), `${REPO}:latest`);
    assert.strictEqual(fullTag("127.0.0.1:5000/lab-bob/hello", "v2"), "127.0.0.1:5000/lab-bob/hello:v2");
    for (const tag of ["amd64", "v1-arm64", "x86_64", "1.0_aarch64"]) {
      assert.throws(() => fullTag(REPO, tag), /names an architecture/, tag);
    }
    assert.throws(() => fullTag("hello", "latest"), /not fully qualified/);
    assert.throws(() => fullTag("library/hello", "latest"), /not fully qualified/);
  });

  it("pins by digest and rejects anything but a sha256 digest", () => {
    const digest = fakeDigest("x");
    assert.strictEqual(digestRef(REPO, digest), `${REPO}@${digest}`);
    assert.throws(() => digestRef(REPO, ""), /expected sha256/);
    assert.throws(() => digestRef(REPO, "sha256:abc"), /expected sha256/);
  });

  it("passes build args only for a configured base image", () => {
    assert.strictEqual(buildArgsFor(""), undefined);
    assert.strictEqual(buildArgsFor(undefined), undefined);
    assert.deepStrictEqual(buildArgsFor("mirror.example/node:22"), {
      BASE_IMAGE: "mirror.example/node:22",
      BUILD_IMAGE: "mirror.example/node:22",
    });
    assert.deepStrictEqual(buildArgsFor("r.example/node:18", "r.example/node:18-npm"), {
      BASE_IMAGE: "r.example/node:18",
      BUILD_IMAGE: "r.example/node:18-npm",
    });
    assert.deepStrictEqual(buildArgsFor("", "r.example/node:18-npm"), {
      BUILD_IMAGE: "r.example/node:18-npm",
    });
  });

  it("expires untagged images after a day and keeps the last 10 tagged ones", () => {
    const rules = (lifecyclePolicy() as { rules: { selection: Record<string, unknown> }[] }).rules;
    assert.deepStrictEqual(
      rules.map((r) => r.selection),
      [
        { tagStatus: "untagged", countType: "sinceImagePushed", countUnit: "days", countNumber: 1 },
        { tagStatus: "tagged", tagPatternList: ["*"], countType: "imageCountMoreThan", countNumber: 10 },
      ],
    );
  });
});

describe("infra/image: Image on ECR", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  it("creates a scanned, force-deletable repository with a lifecycle policy", async () => {
    build();
    await settle();
    const repo = one("aws:ecr/repository:Repository");
    assert.strictEqual(repo.name, "image-repo");
    assert.strictEqual(repo.inputs.name, "lab-alice/hello");
    assert.strictEqual(repo.inputs.forceDelete, true);
    assert.deepStrictEqual(repo.inputs.imageScanningConfiguration, { scanOnPush: true });
    const policy = one("aws:ecr/lifecyclePolicy:LifecyclePolicy");
    assert.strictEqual(policy.inputs.repository, "lab-alice/hello");
    assert.deepStrictEqual(JSON.parse(policy.inputs.policy), lifecyclePolicy());
  });

  it("pushes one multi-platform build under a fully qualified, arch-free tag with an ECR cache", async () => {
    build();
    await settle();
    const img = one("docker-build:index:Image").inputs;
    assert.deepStrictEqual(img.platforms, BOTH);
    assert.strictEqual(img.push, true);
    assert.equal(img.tags.length, 1);
    assert.match(img.tags[0], contentTagged(REPO));
    assert.doesNotMatch(img.tags[0].split(":").pop(), /amd64|arm64|x86|aarch64/);
    assert.deepStrictEqual(img.context, { location: "app" });
    assert.deepStrictEqual(img.dockerfile, { location: "app/Dockerfile" });
    assert.strictEqual(img.buildArgs, undefined);
    assert.deepStrictEqual(img.cacheFrom, [{ registry: { ref: `${REPO}:buildcache` } }]);
    assert.deepStrictEqual(img.cacheTo, [
      { registry: { ref: `${REPO}:buildcache`, imageManifest: true, ociMediaTypes: true, mode: "max" } },
    ]);
    // Inputs are kept in state: no registry credentials among them (the push uses Docker's own).
    assert.strictEqual(img.registries, undefined);
    assert.ok(!JSON.stringify(recorded().map((r) => r.inputs)).includes(ECR_PASSWORD));
    assert.ok(
      !recordedCalls().some((c) => c.token === "aws:ecr/getAuthorizationToken:getAuthorizationToken"),
    );
  });

  it("warns in the preview when Docker has no credentials for the ECR registry, naming both fixes", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-docker-"));
    const saved = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = dir;
    try {
      const server = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`;
      const none = await warningsOf(() => build());
      assert.strictEqual(none.length, 1, none.join("\n"));
      assert.match(none[0], new RegExp(`no credentials for ${server.replace(/\./g, "\\.")}`));
      assert.match(none[0], /"credHelpers": \{".*": "ecr-login"\}/);
      assert.match(none[0], /aws ecr get-login-password --region eu-west-1 \| docker login --username AWS/);
      fs.writeFileSync(
        path.join(dir, "config.json"),
        JSON.stringify({ credHelpers: { [server]: "ecr-login" } }),
      );
      assert.deepStrictEqual(await warningsOf(() => build()), []);
      fs.writeFileSync(
        path.join(dir, "config.json"),
        JSON.stringify({ auths: { [`https://${server}`]: {} } }),
      );
      assert.deepStrictEqual(await warningsOf(() => build()), []);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_CONFIG;
      else process.env.DOCKER_CONFIG = saved;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("sets BASE_IMAGE and BUILD_IMAGE when a base image is configured", async () => {
    build({ baseImage: "mirror.example/node:22-slim" });
    await settle();
    assert.deepStrictEqual(one("docker-build:index:Image").inputs.buildArgs, {
      BASE_IMAGE: "mirror.example/node:22-slim",
      BUILD_IMAGE: "mirror.example/node:22-slim",
    });
  });

  it("outputs the digest-pinned index ref, the tag, and the registry server without credentials", async () => {
    const image = build();
    assert.strictEqual(await valueOf(image.ref), `${REPO}@${fakeDigest("image-build")}`);
    assert.match(await valueOf(image.tag), contentTagged(REPO));
    assert.strictEqual(await valueOf(image.repositoryUrl), REPO);
    assert.deepStrictEqual(image.platforms, BOTH);
    assert.deepStrictEqual(await valueOf(image.registry), {
      server: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
    });
  });

  it("builds only the configured platforms", async () => {
    build({ platforms: ["linux/arm64"] });
    await settle();
    assert.deepStrictEqual(one("docker-build:index:Image").inputs.platforms, ["linux/arm64"]);
  });
});

describe("infra/image: Image on a local registry", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  it("pushes to the plain-HTTP registry without ECR, credentials or cache", async () => {
    const image = build({ registry: { kind: "local", address: "127.0.0.1:5000" } });
    const tag = await valueOf(image.tag);
    assert.match(tag, contentTagged("127.0.0.1:5000/lab-alice/hello"));
    assert.strictEqual(
      await valueOf(image.ref),
      `127.0.0.1:5000/lab-alice/hello@${fakeDigest("image-build")}`,
    );
    assert.deepStrictEqual(await valueOf(image.registry), { server: "127.0.0.1:5000" });
    await settle();
    assert.deepStrictEqual(
      recorded().filter((r) => r.type.startsWith("aws:")),
      [],
    );
    const img = one("docker-build:index:Image").inputs;
    assert.deepStrictEqual(img.tags, [tag]);
    assert.strictEqual(img.push, false);
    assert.deepStrictEqual(img.exports, [{ registry: { insecure: true } }]);
    // `lab up` previews first: a build on preview would build every image twice.
    assert.strictEqual(img.buildOnPreview, false);
    assert.strictEqual(img.registries, undefined);
    assert.strictEqual(img.cacheTo, undefined);
    assert.strictEqual(ofType("docker-build:index:Image").length, 1);
  });
});
