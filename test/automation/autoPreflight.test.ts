// The quota preflight before an aws up/run (#10 point 5): nothing is created when the new labs do
// not fit; --no-preflight skips it; labs that already hold resources need nothing new.
import assert from "node:assert/strict";
import { PreflightInput, PreflightResult } from "../../automation/aws/preflight";
import { FakeEngine } from "./support/fakeEngine";
import { AWS_ENV, runCli } from "./support/harness";

function result(input: PreflightInput, fits: boolean): PreflightResult {
  return {
    region: input.region,
    topology: input.topology,
    attendees: input.attendees.length,
    fits,
    rows: [
      {
        resource: "vpcs",
        needed: input.attendees.length,
        inUse: 1,
        limit: 5,
        limitSource: "service-quotas",
        fits,
      },
    ],
    zones: { chosen: [], skipped: [] },
    topologies: { dedicated: fits, "shared-network": true, "shared-cluster": true },
  } as unknown as PreflightResult;
}

describe("the preflight before an aws up/run", () => {
  it("does not fit: exit 1, the table and the way out said, nothing created", async () => {
    const seen: PreflightInput[] = [];
    const r = await runCli(["up", "--attendees", "a,b,c,d,e"], {
      preflight: async (input) => (seen.push(input), result(input, false)),
    });
    assert.equal(r.code, 1);
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0].attendees, ["a", "b", "c", "d", "e"]);
    assert.equal(seen[0].region, "eu-west-1");
    assert.match(r.out, /preflight for 5 new lab\(s\):\n[\s\S]*vpcs\s+5\s+1\s+5/);
    assert.match(r.err, /do not fit the quotas or AZs of eu-west-1 .*nothing was created.*--no-preflight/);
    assert.deepEqual(r.engine.mutating, []);
  });

  it("--no-preflight skips it; the local target never runs it", async () => {
    let calls = 0;
    const count = async (input: PreflightInput) => (calls++, result(input, false));
    const skipped = await runCli(["up", "--attendees", "a", "--no-preflight"], { preflight: count });
    assert.equal(skipped.code, 0, skipped.err);
    const local = await runCli(["up", "--target", "local", "--attendees", "a"], { preflight: count });
    assert.equal(local.code, 0, local.err);
    assert.equal(calls, 0);
  });

  it("counts only the labs that hold no resources yet; none new: no call at all", async () => {
    const engine = new FakeEngine();
    engine.listing = [{ name: "lab-a", resourceCount: 40 }];
    const seen: string[][] = [];
    const fits = async (input: PreflightInput) => (seen.push(input.attendees), result(input, true));
    const r = await runCli(["up", "--attendees", "a,b"], { engine, preflight: fits, env: AWS_ENV });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(seen, [["b"]]);
    const again = await runCli(["up", "--attendees", "a"], { engine, preflight: fits });
    assert.equal(again.code, 0, again.err);
    assert.equal(seen.length, 1, "re-running up over a running lab needs no preflight");
  });
});
