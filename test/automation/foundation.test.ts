// The workshop foundation (#10 point 2), driver side (fake engine): up once before any attendee,
// destroyed only once no attendee stack is left; its failure stops the attendees, theirs never it.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { FakeEngine } from "./support/fakeEngine";
import { FakeSignals, runCli } from "./support/harness";
import { UNFINISHED_TAG } from "../../automation/lifecycle/ledger";

const LOCAL = ["--target", "local"];

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 2));
  }
}
const F = "lab.foundation";

describe("the workshop foundation (fake engine)", () => {
  it("run: the foundation comes up first, once; the labs read it; it goes after the last lab", async () => {
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lab-f-")), "r.json");
    const r = await runCli(["run", ...LOCAL, "--attendees", "a,b", "--report", report]);
    assert.equal(r.code, 0, r.out + r.err);
    const e = r.engine;
    assert.deepEqual(e.for(F), ["prepare", "preview", "up", "prepare", "destroy", "remove"]);
    const firstLab = e.calls.findIndex((c) => c.endsWith(" lab-a") || c.endsWith(" lab-b"));
    assert.ok(e.calls.indexOf(`up ${F}`) < firstLab, "the foundation is up before any lab starts");
    assert.ok(e.calls.lastIndexOf(`destroy ${F}`) > e.calls.lastIndexOf("remove lab-b"));
    assert.ok(e.calls.lastIndexOf(`destroy ${F}`) > e.calls.lastIndexOf("remove lab-a"));
    assert.deepEqual(e.lastConfig[F], {
      "lab:target": "local",
      "lab:role": "foundation",
      "lab:attendee": "foundation",
      "lab:attendees": "2",
      "lab:workshop": "lab",
    });
    assert.equal(e.lastConfig["lab-a"]["lab:foundation"], F);
    assert.match(r.out, /^foundation\s+ok/m);
    assert.match(r.out, /2 of 2 labs passed/);
    const json = JSON.parse(fs.readFileSync(report, "utf8"));
    assert.equal(json.foundation.up.status, "passed");
    assert.equal(json.foundation.destroy.status, "passed");
    assert.equal(json.labs.length, 2);
  });

  it("a foundation that does not come up stops the labs before they start (exit 1)", async () => {
    const engine = new FakeEngine({ [F]: { upFails: "ECR repository quota exceeded" } });
    const r = await runCli(["up", ...LOCAL, "--attendees", "a,b"], { engine });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-a"), []);
    assert.deepEqual(engine.for("lab-b"), []);
    assert.match(r.out, /foundation up: .*ECR repository quota exceeded/);
    // As any failed `up` of a new stack: kept for a look, and recorded for `reap --leftovers`.
    assert.deepEqual(engine.for(F), ["prepare", "preview", "up"]);
    assert.match(engine.tagsOf[F][UNFINISHED_TAG], /^up since /);
  });

  it("a cancel during the foundation's first up takes it down too (it is new); the labs never start", async () => {
    for (const command of ["run", "up"]) {
      const engine = new FakeEngine({ [F]: { upMs: 10_000 } });
      const signals = new FakeSignals();
      const r = await runCli([command, ...LOCAL, "--attendees", "a"], {
        engine,
        signals,
        during: async (e) => {
          await until(() => e.for(F).includes("up"));
          signals.send("SIGINT");
        },
      });
      assert.equal(r.code, 1, command);
      assert.ok(
        engine.for(F).includes("destroy") && engine.for(F).at(-1) === "remove",
        `${command}: ${engine.for(F)}`,
      );
      assert.deepEqual(engine.for("lab-a"), [], command);
    }
  });

  it("a cancel leaves a foundation that existed before the command", async () => {
    const engine = new FakeEngine({ [F]: { upMs: 10_000 } });
    engine.listing = [{ name: F, resourceCount: 4 }];
    const signals = new FakeSignals();
    const r = await runCli(["run", ...LOCAL, "--attendees", "a"], {
      engine,
      signals,
      during: async (e) => {
        await until(() => e.for(F).includes("up"));
        signals.send("SIGINT");
      },
    });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for(F), ["prepare", "preview", "up"]);
  });

  it("a lab that fails never takes the foundation down", async () => {
    const engine = new FakeEngine({ "lab-b": { upFails: "boom" } });
    const r = await runCli(["up", ...LOCAL, "--attendees", "a,b"], { engine });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for(F), ["prepare", "preview", "up"]);
  });

  it("destroy keeps the foundation while a lab of the workshop is left, and removes it with the last", async () => {
    const engine = new FakeEngine();
    engine.listing = [
      { name: F, resourceCount: 3 },
      { name: "lab-a", resourceCount: 9 },
      { name: "lab-b", resourceCount: 9 },
    ];
    const one = await runCli(["destroy", ...LOCAL, "--attendees", "a"], { engine });
    assert.equal(one.code, 0, one.out + one.err);
    assert.deepEqual(engine.for(F), []);
    assert.match(one.out + one.err, /lab\.foundation: kept, the workshop's labs still use it: lab-b/);
    const last = await runCli(["destroy", ...LOCAL, "--attendees", "b"], { engine });
    assert.equal(last.code, 0, last.out + last.err);
    assert.deepEqual(engine.for(F), ["prepare", "destroy", "remove"]);
  });

  it("sized for every lab of the workshop, not only this command's", async () => {
    const engine = new FakeEngine();
    engine.listing = [
      { name: "lab-a", resourceCount: 9 },
      { name: "lab-b", resourceCount: 9 },
    ];
    const r = await runCli(["up", ...LOCAL, "--attendees", "c"], { engine });
    assert.equal(r.code, 0, r.err);
    assert.equal(engine.lastConfig[F]["lab:attendees"], "3");
  });

  it("`foundation` is no attendee name (exit 2)", async () => {
    const r = await runCli(["up", ...LOCAL, "--attendees", "a,foundation"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /attendee "foundation" is reserved for the workshop's shared stack/);
    assert.deepEqual(r.engine.mutating, []);
  });
});
