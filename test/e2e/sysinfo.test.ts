// End to end, for real: examples/sysinfo, a service of another kind than the greeter (Perl on
// perl-base; its port fixed at 7070 by a flag in its image's CMD, PORT never read), built for both
// platforms and run by two attendees in ONE `lab run`, whose labs go up, verify and destroy side by
// side: every check passes, `variants` included, which asks each platform's container on
// lab:appPort through a loopback port of its own (two platforms times two labs, no collision).
// Needs `npm run setup:local` first (CI runs it); nothing here is mocked.
import assert from "node:assert/strict";
import { contentTagged } from "../support/imageTag";
import { REGISTRY, assertNothingLeft, checksOf, freshDirEach, fromAStoppedCluster, lab } from "./support";

/** The app keys that run sysinfo: its port is the one its image fixes. */
const SYSINFO = [
  "appDir=examples/sysinfo",
  "appPort=7070",
  "healthPath=/ready",
  "checkPath=/info",
  'expectBody="service":"sysinfo"',
  // Its `machine` is the CPU's, but the answer does not name its pod: judged by status and body.
  "archField=",
  "replicas=2",
].flatMap((c) => ["--config", c]);

interface VariantEvidence {
  platform: string;
  appPort: number;
  hostPort: number;
  startedAt: string;
  removedAt: string;
  answer: { machine: string; perlArch: string; port: number };
}

describe("e2e: a service that fixes its port (sysinfo), two attendees at once (local target)", function () {
  const suffix = Math.random().toString(36).slice(2, 6);
  fromAStoppedCluster();
  const dir = freshDirEach("lab-e2e-sysinfo-");

  it("run: every check passes for both labs; each platform answers on port 7070 from its own machine", async () => {
    const attendees = [`e2e-${suffix}-p`, `e2e-${suffix}-q`];
    const args = ["run", "--target", "local", "--attendees", attendees.join(","), "--concurrency", "2"];
    const { code, out, report } = await lab([...args, ...SYSINFO], dir());
    assert.equal(code, 0, out);
    assert.equal(report.passed, true);
    const variants: VariantEvidence[] = [];
    for (const a of attendees) {
      const c = checksOf(report, a);
      for (const name of ["image", "variants", "nodes", "pods", "pods-http", "traffic"])
        assert.equal(c[name]?.status, "passed", `${a} ${name}: ${c[name]?.summary}`);
      // Named after the service, tagged after its inputs (the workshop's one build, in its foundation).
      assert.match(String(c.image.evidence.image), contentTagged(`${REGISTRY}/lab-foundation/sysinfo`));
      assert.match(
        c.variants.summary,
        /^linux\/amd64 → HTTP 200 in \d+\.\d s, linux\/arm64 → HTTP 200 in \d+\.\d s \(port 7070 in each container\)$/,
      );
      const v = c.variants.evidence.variants as VariantEvidence[];
      assert.deepEqual(
        v.map((x) => [
          x.platform,
          x.appPort,
          x.answer.machine,
          x.answer.perlArch.split("-")[0],
          x.answer.port,
        ]),
        [
          ["linux/amd64", 7070, "x86_64", "x86_64", 7070],
          ["linux/arm64", 7070, "aarch64", "aarch64", 7070],
        ],
      );
      variants.push(...v);
      assert.match(
        c["pods-http"].summary,
        /^2 pods answered GET \/info with HTTP 200 matching \/"service":"sysinfo"\/: 1 on amd64, 1 on arm64$/,
      );
    }
    assert.equal(new Set(variants.map((v) => v.hostPort)).size, 4, "each container had its own host port");
    // Each lab's two containers ran at once, both on port 7070 (with the host's network they would
    // have collided); the labs' own windows overlap or not, as their ups happen to end.
    const overlap = (x: VariantEvidence, y: VariantEvidence) =>
      x.startedAt < y.removedAt && y.startedAt < x.removedAt;
    const [p, q] = [variants.slice(0, 2), variants.slice(2)];
    for (const [amd, arm] of [p, q]) assert.ok(overlap(amd, arm), JSON.stringify([amd, arm]));
    const across = p.some((x) => q.some((y) => overlap(x, y)));
    const spans = variants.map((v) => `${v.startedAt.slice(11, 23)}–${v.removedAt.slice(11, 23)}`);
    console.log(`      variants containers ${spans.join(", ")}; the two labs' overlapped: ${across}`);
    await assertNothingLeft(dir(), attendees);
  });
});
