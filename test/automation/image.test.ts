// The image check against a REAL OCI registry on loopback (Debian's docker-registry), holding what
// the test pushes through the registry API: a two-platform index, a one-platform index, a
// single-platform image; plus a missing tag, an authenticating registry, and a refused connection.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { requiredPlatforms, verifyLab } from "../../automation/verify";
import { runImageCheck } from "../../automation/verify/image";
import { parseImageRef } from "../../automation/verify/registry";
import { CREDS, Pusher, Registry, freePort, startRegistry, requireRegistry } from "./support/registry";

describe("verify image (real registry on loopback)", function () {
  this.timeout(60_000);
  let open: Registry;
  let locked: Registry;
  let digest: string;
  let lockedDigest: string;

  before(async function () {
    requireRegistry(this);
    open = await startRegistry();
    locked = await startRegistry({ auth: true });
    const p = new Pusher(open.host, "lab/app");
    digest = await p.index("v1", ["amd64", "arm64"]);
    await p.index("amd-only", ["amd64"]);
    await p.single("single", "amd64");
    lockedDigest = await new Pusher(locked.host, "lab/app", CREDS).index("v1", ["amd64", "arm64"]);
  });

  after(async () => {
    await open?.stop();
    await locked?.stop();
  });

  it("passes for an index with linux/amd64 and linux/arm64 whose digest is imageRef's", async () => {
    const r = await runImageCheck({
      imageTag: `${open.host}/lab/app:v1`,
      imageRef: `${open.host}/lab/app@${digest}`,
    });
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.summary, "index with linux/amd64, linux/arm64, digest matches imageRef");
    assert.deepEqual(r.evidence.platforms, ["linux/amd64", "linux/arm64"]);
    assert.equal(r.evidence.attestations, 1);
    assert.equal(r.evidence.digest, digest);
    assert.equal(r.evidence.auth, "none");
  });

  it("fails when the tag no longer points at the recorded digest", async () => {
    const other = `sha256:${"0".repeat(64)}`;
    const r = await runImageCheck({
      imageTag: `${open.host}/lab/app:v1`,
      imageRef: `${open.host}/lab/app@${other}`,
    });
    assert.equal(r.status, "failed");
    assert.match(r.summary, new RegExp(`the tag points at ${digest}, but the stack recorded ${other}`));
  });

  it("fails for an index lacking linux/arm64", async () => {
    const r = await runImageCheck({ imageTag: `${open.host}/lab/app:amd-only` });
    assert.equal(r.status, "failed");
    assert.match(r.summary, /the index lacks linux\/arm64 \(has linux\/amd64\)/);
  });

  it("a single-platform image counts as its config's platform: fails naming linux/arm64 for both", async () => {
    const r = await runImageCheck({ imageTag: `${open.host}/lab/app:single` });
    assert.equal(r.status, "failed");
    assert.equal(
      r.summary,
      "the tag is a single-platform image (application/vnd.oci.image.manifest.v1+json) for linux/amd64, " +
        "not an index: it lacks linux/arm64",
    );
    assert.deepEqual(r.evidence.platforms, ["linux/amd64"]);
    assert.deepEqual(r.evidence.missing, ["linux/arm64"]);
    // Placement amd64 needs only linux/amd64, which the single image is.
    const amd = await runImageCheck({
      imageTag: `${open.host}/lab/app:single`,
      requiredPlatforms: ["linux/amd64"],
    });
    assert.equal(amd.status, "passed", amd.summary);
    assert.equal(amd.summary, "single-platform image with linux/amd64");
    // …and it is not an arm64 image.
    const arm = await runImageCheck({
      imageTag: `${open.host}/lab/app:single`,
      requiredPlatforms: ["linux/arm64"],
    });
    assert.match(arm.summary, /for linux\/amd64, not an index: it lacks linux\/arm64$/);
  });

  it("verifyLab's image check: the placement's platforms (prefer-arm64 both, amd64 one) for lab:image", async () => {
    const image = `${open.host}/lab/app:amd-only`;
    const check = async (placement: "spread" | "prefer-arm64" | "amd64" | "arm64") =>
      (
        await verifyLab(
          {
            target: "aws",
            imageTag: image,
            imageRef: image,
            placement,
            platforms: ["linux/amd64", "linux/arm64"],
          },
          { requests: 1, trafficDeadlineMs: 100, variants: false },
        )
      )[0];
    for (const p of ["spread", "prefer-arm64", "arm64"] as const) {
      const r = await check(p);
      assert.equal(r.status, "failed", p);
      assert.equal(r.summary, "the index lacks linux/arm64 (has linux/amd64)", p);
    }
    const amd = await check("amd64");
    assert.equal(amd.status, "passed", amd.summary);
    assert.deepEqual(amd.evidence.required, ["linux/amd64"]);
  });

  it("fails for a missing tag", async () => {
    const r = await runImageCheck({ imageTag: `${open.host}/lab/app:nope` });
    assert.equal(r.status, "failed");
    assert.match(r.summary, /tag not found \(HTTP 404/);
  });

  it("authenticates with Basic credentials (as with ECR tokens) from the registry output", async () => {
    const r = await runImageCheck({
      imageTag: `${locked.host}/lab/app:v1`,
      imageRef: `${locked.host}/lab/app@${lockedDigest}`,
      credentials: CREDS,
    });
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.evidence.auth, "basic");
  });

  it("fails when the registry refuses (HTTP 401): no or wrong credentials", async () => {
    for (const credentials of [undefined, { username: "lab", password: "wrong" }]) {
      const r = await runImageCheck({ imageTag: `${locked.host}/lab/app:v1`, credentials });
      assert.equal(r.status, "failed");
      assert.match(r.summary, /registry refused the request \(HTTP 401/);
    }
  });

  it("fails when the registry refuses the connection", async () => {
    const port = await freePort();
    const r = await runImageCheck({ imageTag: `127.0.0.1:${port}/lab/app:v1` });
    assert.equal(r.status, "failed");
    assert.match(r.summary, /registry unreachable: ECONNREFUSED/);
  });

  it("does the WWW-Authenticate: Bearer token dance", async () => {
    // A token-guarded front (like Docker Hub or GHCR) over the open registry.
    const seen: string[] = [];
    const front = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? "-"}`);
      const port = (front.address() as net.AddressInfo).port;
      if (req.url?.startsWith("/token")) {
        const ok =
          req.headers.authorization === `Basic ${Buffer.from("lab:workshop-token").toString("base64")}`;
        res.writeHead(ok ? 200 : 401, { "content-type": "application/json" });
        res.end(ok ? JSON.stringify({ token: "t0k3n" }) : "{}");
        return;
      }
      if (req.headers.authorization !== "Bearer t0k3n") {
        res.writeHead(401, {
          "www-authenticate": `Bearer realm="http://127.0.0.1:${port}/token",service="lab",scope="repository:lab/app:pull"`,
        });
        res.end();
        return;
      }
      const up = http.request(
        {
          host: "127.0.0.1",
          port: Number(open.host.split(":")[1]),
          path: req.url,
          method: req.method,
          headers: { accept: req.headers.accept },
        },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      up.end();
    });
    await new Promise<void>((r) => front.listen(0, "127.0.0.1", r));
    try {
      const host = `127.0.0.1:${(front.address() as net.AddressInfo).port}`;
      const r = await runImageCheck({
        imageTag: `${host}/lab/app:v1`,
        imageRef: `${host}/lab/app@${digest}`,
        credentials: CREDS,
      });
      assert.equal(r.status, "passed", r.summary);
      assert.equal(r.evidence.auth, "bearer");
      assert.ok(
        seen.some((s) => s.startsWith("GET /token?service=lab&scope=repository%3Alab%2Fapp%3Apull Basic")),
        seen.join("\n"),
      );
    } finally {
      front.close();
    }
  });
});

describe("image references", () => {
  it("parses registry, repository, tag and digest", () => {
    const d = `sha256:${"a".repeat(64)}`;
    assert.deepEqual(parseImageRef(`123.dkr.ecr.eu-west-1.amazonaws.com/lab-alice:abc`), {
      registry: "123.dkr.ecr.eu-west-1.amazonaws.com",
      repository: "lab-alice",
      tag: "abc",
      digest: undefined,
    });
    assert.deepEqual(parseImageRef(`127.0.0.1:5000/lab/app@${d}`), {
      registry: "127.0.0.1:5000",
      repository: "lab/app",
      tag: undefined,
      digest: d,
    });
    assert.deepEqual(parseImageRef("node:20"), {
      registry: "registry-1.docker.io",
      repository: "library/node",
      tag: "20",
      digest: undefined,
    });
    assert.ok(parseImageRef("Bad Ref!") instanceof Error);
  });

  it("fails without an imageTag or imageRef output", async () => {
    const r = await runImageCheck({});
    assert.equal(r.status, "failed");
    assert.match(r.summary, /neither an imageTag nor an imageRef output/);
  });
});

describe("verify image: the platforms required", () => {
  it("are the placement's, plus what the lab built (imageTag differs from imageRef)", () => {
    const prebuilt = { imageTag: "r/x:1", imageRef: "r/x:1", platforms: ["linux/amd64", "linux/arm64"] };
    assert.deepEqual(requiredPlatforms(prebuilt, "amd64"), ["linux/amd64"]);
    assert.deepEqual(requiredPlatforms(prebuilt, "arm64"), ["linux/arm64"]);
    assert.deepEqual(requiredPlatforms(prebuilt, "spread"), ["linux/amd64", "linux/arm64"]);
    assert.deepEqual(requiredPlatforms(prebuilt, "prefer-arm64"), ["linux/amd64", "linux/arm64"]);
    const built = { ...prebuilt, imageRef: `r/x@sha256:${"a".repeat(64)}` };
    assert.deepEqual(requiredPlatforms(built, "amd64"), ["linux/amd64", "linux/arm64"]);
  });
});
