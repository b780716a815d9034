// #9 point 5: a destroy never drops pending operations from the state unsaid, and passes only when
// the sweep of the live system finds nothing of the lab left (fake engine; the local sweep's registry
// half against a real registry on loopback).
import assert from "node:assert/strict";
import { TARGET_TAG } from "../../automation/lifecycle/targets";
import { registryTags, sweepLocalLab } from "../../automation/local/sweep";
import { memoryLog } from "../../automation/reports/logs";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";
import { Pusher, Registry, requireRegistry, startRegistry } from "./support/registry";
import { SweepRef } from "../../automation/cli/sweeps";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const NS = { op: "creating", type: "kubernetes:core/v1:Namespace", name: "app" };

function engineWithPending(): FakeEngine {
  // The first destroy fails, so the retry's refresh clears the pending create.
  const e = new FakeEngine({ "lab-alice": { destroyFailures: 1, pending: [NS] } });
  e.tagsOf["lab-alice"] = { [TARGET_TAG]: "local" };
  return e;
}

describe("pending operations and the sweep after destroy", () => {
  it("a cleared pending create is listed (log, summary, report); the sweep removes its resource: passed", async () => {
    const logs: Record<string, ReturnType<typeof memoryLog>> = {};
    const swept: { target: string; lab: SweepRef }[] = [];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-pending-"));
    const report = path.join(dir, "r.json");
    const r = await runCli(["destroy", "--attendees", "alice", "--report", report], {
      engine: engineWithPending(),
      openLog: (stack) => (logs[stack] = memoryLog(`${stack}.log`)),
      sweepLab: async (target, lab) => {
        swept.push({ target, lab });
        return { found: ["namespace lab-alice"], left: [] };
      },
    });
    assert.equal(r.code, 0, r.out + r.err);
    assert.deepEqual(swept, [
      { target: "local", lab: { stack: "lab-alice", attendee: "alice", workshop: "lab" } },
    ]);
    assert.deepEqual(r.engine.for("lab-alice"), ["prepare", "destroy", "refresh", "destroy", "remove"]);
    assert.match(
      logs["lab-alice"].text(),
      /cleared from the state: pending creating of kubernetes:core\/v1:Namespace app/,
    );
    assert.match(logs["lab-alice"].text(), /swept: namespace lab-alice/);
    assert.match(
      r.out,
      /alice destroy: cleared from the state: pending creating of kubernetes:core\/v1:Namespace app/,
    );
    assert.match(r.out, /alice destroy: swept from the live system: namespace lab-alice/);
    const d = JSON.parse(fs.readFileSync(report, "utf8")).labs[0].destroy;
    assert.equal(d.status, "passed");
    assert.deepEqual(d.clearedPending, [NS]);
    assert.deepEqual(d.swept, ["namespace lab-alice"]);
  });

  it("what the sweep cannot remove fails the destroy with the list, and the stack stays for a retry", async () => {
    const r = await runCli(["destroy", "--attendees", "alice"], {
      engine: engineWithPending(),
      sweepLab: async () => ({
        found: ["namespace lab-alice"],
        left: ["namespace lab-alice (still terminating)"],
      }),
    });
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /alice destroy: destroyed, but the live system still holds: namespace lab-alice \(still terminating\)/,
    );
    assert.deepEqual(r.engine.of("remove"), [], "the stack (and its leftovers record) stays");
  });

  it("a cleared pending create with no sweep to check it fails: nothing is dropped silently", async () => {
    const r = await runCli(["destroy", "--attendees", "alice"], { engine: engineWithPending() });
    assert.equal(r.code, 1);
    assert.match(
      r.out,
      /cleared 1 pending operation\(s\) with no check of the live system: kubernetes:core\/v1:Namespace app/,
    );
  });

  it("a clean destroy still sweeps, and passes with nothing found", async () => {
    let calls = 0;
    const r = await runCli(["destroy", "--target", "local", "--attendees", "alice"], {
      sweepLab: async () => (calls++, { found: [], left: [] }),
    });
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(calls, 1);
    assert.doesNotMatch(r.out, /cleared from the state|swept/);
  });
});

describe("the local sweep's registry half (real registry on loopback)", function () {
  this.timeout(60_000);
  let reg: Registry;
  before(async function () {
    requireRegistry(this);
    reg = await startRegistry({ deletable: true });
  });
  after(async () => reg?.stop());

  it("deletes the lab's image tags in each of its repositories, keeps the build cache and other labs' images", async () => {
    const mine = new Pusher(reg.host, "lab-alice/hello");
    await mine.index("latest", ["amd64", "arm64"]);
    await mine.single("buildcache", "amd64");
    // Another service the same lab built: its repository is named after it.
    await new Pusher(reg.host, "lab-alice/greeter").index("src-0123456789ab", ["amd64", "arm64"]);
    const other = new Pusher(reg.host, "lab-bob/hello");
    await other.index("latest", ["amd64"]);
    // Not under `lab-alice/`, although its name starts the same.
    await new Pusher(reg.host, "lab-alice2/hello").index("latest", ["amd64"]);
    const s = await sweepLocalLab({ workshop: "lab", attendee: "alice", registry: reg.host });
    for (const image of ["lab-alice/greeter:src-0123456789ab", "lab-alice/hello:latest"])
      assert.ok(s.found.includes(`image ${reg.host}/${image}`), s.found.join(", "));
    assert.ok(!s.found.some((f) => /lab-(bob|alice2)\//.test(f)), s.found.join(", "));
    assert.deepEqual(s.left, []);
    assert.deepEqual(await registryTags(reg.host, "lab-alice/hello"), []);
    assert.deepEqual(await registryTags(reg.host, "lab-alice/greeter"), []);
    assert.ok(
      (await registryTags(reg.host, "lab-bob/hello")).includes("latest"),
      "another lab's image is kept",
    );
    assert.deepEqual(await registryTags(reg.host, "lab-alice2/hello"), ["latest"]);
    const again = await sweepLocalLab({ workshop: "lab", attendee: "alice", registry: reg.host });
    assert.deepEqual(again, { found: [], left: [] });
  });
});
