import assert from "node:assert/strict";
import { httpGet, localPulls, missingLocalPulls, RegistryGet } from "../infra/baseImages";
import { parseDockerfile, resolveStages } from "../infra/dockerfile";
import { Pusher, Registry, requireRegistry, startRegistry } from "./automation/support/registry";

const REG = "127.0.0.1:5999";
const BOTH = ["linux/amd64", "linux/arm64"];
const APP = `ARG BASE_IMAGE=node:22
ARG BUILD_IMAGE=node:22
FROM --platform=$BUILDPLATFORM \${BUILD_IMAGE} AS build
RUN npm ci
FROM \${BASE_IMAGE}
COPY --from=build /src/dist ./dist
`;
const stages = resolveStages(parseDockerfile(APP), {
  BASE_IMAGE: `${REG}/lab/node:18-bookworm`,
  BUILD_IMAGE: `${REG}/lab/node:18-bookworm-npm`,
});

/** A registry answering `manifests` by path (`repo/manifests/ref`), 404 otherwise. */
const fake =
  (manifests: Record<string, object>): RegistryGet =>
  async (url) => {
    const key = url.replace(`http://${REG}/v2/`, "");
    return key in manifests
      ? { status: 200, body: JSON.stringify(manifests[key]) }
      : { status: 404, body: "" };
  };
const index = (...platforms: [string, string][]) => ({
  manifests: platforms.map(([os, architecture]) => ({ platform: { os, architecture } })),
});

describe("infra/baseImages: the local registry holds the build's FROM images", () => {
  it("lists what the needed stages pull from the local registry, each for the platforms it is built for", () => {
    assert.deepStrictEqual(localPulls(stages, REG, BOTH, "linux/amd64"), [
      {
        image: `${REG}/lab/node:18-bookworm-npm`,
        platforms: ["linux/amd64"],
        where: 'stage "build" (line 3)',
      },
      { image: `${REG}/lab/node:18-bookworm`, platforms: BOTH, where: "stage #2 (line 5)" },
    ]);
    // Images from elsewhere are BuildKit's to pull (the driver explains a failure).
    assert.deepStrictEqual(localPulls(resolveStages(parseDockerfile(APP)), REG, BOTH, "linux/amd64"), []);
  });

  it("all there: no problem", async () => {
    const get = fake({
      "lab/node/manifests/18-bookworm": index(["linux", "amd64"], ["linux", "arm64"]),
      "lab/node/manifests/18-bookworm-npm": index(["linux", "amd64"]),
    });
    assert.deepStrictEqual(
      await missingLocalPulls(localPulls(stages, REG, BOTH, "linux/amd64"), REG, get),
      [],
    );
  });

  it("a missing image or platform: names the stage, the image, the platform and how to provide it", async () => {
    const get = fake({ "lab/node/manifests/18-bookworm": index(["linux", "amd64"]) });
    const problems = await missingLocalPulls(localPulls(stages, REG, BOTH, "linux/amd64"), REG, get);
    assert.strictEqual(problems.length, 2, problems.join("\n"));
    assert.match(
      problems[0],
      /^stage "build" \(line 3\): FROM 127\.0\.0\.1:5999\/lab\/node:18-bookworm-npm \(for linux\/amd64\) is not in the local registry: run `npm run setup:local`/,
    );
    assert.match(
      problems[1],
      /^stage #2 \(line 5\): FROM 127\.0\.0\.1:5999\/lab\/node:18-bookworm in the local registry has no linux\/arm64 variant \(it has linux\/amd64\)/,
    );
    for (const p of problems)
      assert.match(p, /skopeo copy --all .* or point lab:baseImage \/ lab:buildImage/);
  });

  it("a registry that does not answer says how to start it", async () => {
    const down: RegistryGet = async () => new Error("ECONNREFUSED");
    const [p] = await missingLocalPulls(localPulls(stages, REG, BOTH, "linux/amd64"), REG, down);
    assert.match(
      p,
      /the local registry 127\.0\.0\.1:5999 does not answer \(ECONNREFUSED\): start it with `npm run setup:local`$/,
    );
  });

  describe("httpGet against a real registry (docker-registry on loopback)", function () {
    this.timeout(60_000);
    let reg: Registry;
    before(async function () {
      requireRegistry(this);
      reg = await startRegistry();
    });
    after(async () => reg?.stop());

    it("finds an amd64-only index lacking arm64, and a tag that is absent", async () => {
      await new Pusher(reg.host, "lab/node").index("18-bookworm", ["amd64"]);
      const pulls = [
        { image: `${reg.host}/lab/node:18-bookworm`, platforms: BOTH, where: "stage #1 (line 1)" },
        { image: `${reg.host}/lab/node:nope`, platforms: ["linux/amd64"], where: "stage #2 (line 2)" },
      ];
      const problems = await missingLocalPulls(pulls, reg.host, httpGet);
      assert.strictEqual(problems.length, 2, problems.join("\n"));
      assert.match(problems[0], /has no linux\/arm64 variant \(it has linux\/amd64\)/);
      assert.match(problems[1], /lab\/node:nope \(for linux\/amd64\) is not in the local registry/);
    });
  });
});
