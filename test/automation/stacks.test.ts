// `list` and `reap` over the backend's lab stacks (fake engine).
import assert from "node:assert/strict";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";
import { TARGET_TAG } from "../../automation/lifecycle/targets";

const HOUR = 3_600_000;

function engineWithStacks(): FakeEngine {
  const now = Date.now();
  const e = new FakeEngine({
    "lab-old": { outputs: { serviceUrl: "http://old.example/hello", attendee: "old" } },
    "lab-new": { outputs: { serviceUrl: "http://new.example/hello" } },
    "lab-blank": { outputs: {} },
  });
  e.listing = [
    { name: "lab-old", resourceCount: 40 },
    { name: "lab-new", resourceCount: 38 },
    { name: "lab-blank", resourceCount: 0 },
    { name: "prod", resourceCount: 300 },
  ];
  e.history_ = {
    "lab-old": { createdAt: new Date(now - 30 * HOUR), last: { kind: "update", result: "succeeded" } },
    "lab-new": { createdAt: new Date(now - 2 * HOUR), last: { kind: "update", result: "failed" } },
  };
  return e;
}

describe("lab list and reap (fake engine)", () => {
  it("list: each lab stack with attendee, target, age, resources, last result and URL; other stacks left out", async () => {
    const engine = engineWithStacks();
    engine.tagsOf["lab-old"] = { [TARGET_TAG]: "local" };
    const r = await runCli(["list"], { engine });
    assert.equal(r.code, 0, r.err);
    const lines = r.out.split("\n");
    assert.match(lines[0], /^stack\s+attendee\s+target\s+age\s+resources\s+last result\s+url$/);
    assert.match(r.out, /lab-old\s+old\s+local\s+30h\s+40\s+update succeeded\s+http:\/\/old\.example\/hello/);
    assert.match(r.out, /lab-new\s+new\s+\?\s+2h\s+38\s+update failed\s+http:\/\/new\.example\/hello/);
    assert.match(r.out, /lab-blank\s+blank\s+\?\s+\?\s+0\s+never updated/);
    assert.doesNotMatch(r.out, /prod/);
    assert.deepEqual(
      r.engine.mutating.filter((c) => !c.startsWith("prepare")),
      [],
      "list changes nothing",
    );
  });

  it("reap: destroys and removes only stacks older than the threshold", async () => {
    const engine = engineWithStacks();
    const r = await runCli(["reap", "--older-than", "1d", "--target", "local"], { engine });
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(engine.of("destroy"), ["lab-old"]);
    assert.deepEqual(engine.of("remove"), ["lab-old"]);
    assert.match(r.out, /reaping 1 stack\(s\): lab-old/);
    assert.match(r.out, /skipping lab-blank: age unknown/);
  });

  it("reap: nothing old enough is a success with nothing destroyed", async () => {
    const engine = engineWithStacks();
    const r = await runCli(["reap", "--older-than", "3d", "--target", "local"], { engine });
    assert.equal(r.code, 0);
    assert.deepEqual(engine.of("destroy"), []);
    assert.match(r.out, /no lab stacks older than 3d/);
  });
});
