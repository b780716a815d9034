// The local target's PushedImage deletes what a push left in the registry. Tested against a REAL
// registry on loopback (Debian's docker-registry), with indexes pushed through the registry API.
import assert from "node:assert/strict";
import { MANIFEST_TYPES } from "../automation/verify/registry";
import { registryTags } from "../automation/local/sweep";
import { deletePushedImage } from "../infra/localRegistry";
import { Pusher, Registry, startRegistry, requireRegistry } from "./automation/support/registry";

const REPO = "lab-alice/hello";

describe("infra/localRegistry: deletePushedImage (real registry on loopback)", function () {
  this.timeout(60_000);
  let reg: Registry;
  let strict: Registry;

  before(async function () {
    requireRegistry(this);
    reg = await startRegistry({ deletable: true });
    strict = await startRegistry();
  });
  after(async () => {
    await reg?.stop();
    await strict?.stop();
  });

  const status = async (host: string, ref: string): Promise<number> =>
    (
      await fetch(`http://${host}/v2/${REPO}/manifests/${ref}`, {
        method: "HEAD",
        headers: { accept: `${MANIFEST_TYPES.ociIndex}, ${MANIFEST_TYPES.ociManifest}` },
      })
    ).status;

  async function pushIndex(p: Pusher, tag: string, children: { digest: string; size: number }[]) {
    const archs = ["amd64", "arm64"];
    const index = await p.manifest(tag, MANIFEST_TYPES.ociIndex, {
      schemaVersion: 2,
      mediaType: MANIFEST_TYPES.ociIndex,
      manifests: children.map((c, i) => ({
        mediaType: MANIFEST_TYPES.ociManifest,
        ...c,
        platform: { os: "linux", architecture: archs[i] },
      })),
    });
    return index.digest;
  }

  it("deletes the index the tag names and both platform manifests; the tag no longer resolves", async () => {
    const p = new Pusher(reg.host, REPO);
    const amd = await p.image("amd64");
    const arm = await p.image("arm64");
    const digest = await pushIndex(p, "latest", [amd, arm]);
    assert.equal(await status(reg.host, "latest"), 200);

    const deleted = await deletePushedImage({ registry: reg.host, repository: REPO, tag: "latest" });
    assert.deepEqual(deleted, [digest, amd.digest, arm.digest]);
    for (const ref of ["latest", digest, amd.digest, arm.digest])
      assert.equal(await status(reg.host, ref), 404, ref);
    // Deleting again is a no-op, so a retried destroy succeeds.
    assert.deepEqual(await deletePushedImage({ registry: reg.host, repository: REPO, tag: "latest" }), []);
  });

  it("after a rebuild, deletes what the tag points to now", async () => {
    const p = new Pusher(reg.host, REPO);
    const amd = await p.image("amd64");
    await pushIndex(p, "latest", [amd, await p.image("arm64")]);
    const newArm = await p.image("arm64");
    const newDigest = await pushIndex(p, "latest", [amd, newArm]);

    const deleted = await deletePushedImage({ registry: reg.host, repository: REPO, tag: "latest" });
    assert.deepEqual(deleted, [newDigest, amd.digest, newArm.digest]);
    assert.equal(await status(reg.host, "latest"), 404);
  });

  it("keeps what another tag still names, and still removes the tag: an alias of the same build, a shared manifest", async () => {
    const p = new Pusher(reg.host, REPO);
    const amd = await p.image("amd64");
    const arm = await p.image("arm64");
    // The same build under a new content tag (only a Dockerfile comment changed): nothing is
    // deleted, but the old tag is gone.
    const same = await pushIndex(p, "src-000000000001", [amd, arm]);
    await pushIndex(p, "src-000000000002", [amd, arm]);
    const tags = () => registryTags(reg.host, REPO);
    assert.deepEqual(
      await deletePushedImage({ registry: reg.host, repository: REPO, tag: "src-000000000001" }),
      [],
    );
    assert.deepEqual(await tags(), ["src-000000000002"]);
    assert.equal(await status(reg.host, same), 200);
    // A rebuild that changed arm64 only: the old index and its arm64 go, the shared amd64 stays.
    const newArm = await p.image("arm64");
    const next = await pushIndex(p, "src-000000000003", [amd, newArm]);
    const deleted = await deletePushedImage({
      registry: reg.host,
      repository: REPO,
      tag: "src-000000000002",
    });
    assert.deepEqual(deleted, [same, arm.digest]);
    assert.deepEqual(await tags(), ["src-000000000003"]);
    for (const ref of [next, amd.digest, newArm.digest]) assert.equal(await status(reg.host, ref), 200, ref);
    // The last tag takes everything with it.
    const last = await deletePushedImage({ registry: reg.host, repository: REPO, tag: "src-000000000003" });
    assert.deepEqual(last, [next, amd.digest, newArm.digest]);
    assert.deepEqual(await tags(), []);
  });

  it("finds nothing to delete when nothing was pushed (a cancel before the push)", async () => {
    assert.deepEqual(
      await deletePushedImage({ registry: reg.host, repository: "lab-none/hello", tag: "latest" }),
      [],
    );
  });

  it("fails naming the cause when the registry does not allow deletes", async () => {
    const p = new Pusher(strict.host, REPO);
    await pushIndex(p, "latest", [await p.image("amd64"), await p.image("arm64")]);
    await assert.rejects(
      deletePushedImage({ registry: strict.host, repository: REPO, tag: "latest" }),
      /DELETE lab-alice\/hello@sha256:[0-9a-f]{64} → HTTP 405 \(is deletion enabled\?/,
    );
  });
});
