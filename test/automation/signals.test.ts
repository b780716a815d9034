// SIGINT/SIGTERM: the first cancels the updates, destroys, and exits 1; the second exits at once,
// naming the stacks that still hold resources.
import assert from "node:assert/strict";
import { FakeEngine } from "./support/fakeEngine";
import { FakeSignals, runCli } from "./support/harness";

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 2));
  }
}

describe("lab signals (fake engine)", () => {
  it("first signal: cancels the running update, destroys it, never starts queued labs, exits 1", async () => {
    const engine = new FakeEngine({ "lab-alice": { upMs: 10_000 } });
    const signals = new FakeSignals();
    const r = await runCli(
      ["run", "--target", "local", "--attendees", "alice,bob,carol", "--concurrency", "1"],
      {
        engine,
        signals,
        during: async (e) => {
          await until(() => e.of("up").length === 1);
          signals.send("SIGTERM");
        },
      },
    );
    assert.equal(r.code, 1);
    assert.deepEqual(r.exits, [], "no immediate exit on the first signal");
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "preview", "up", "destroy", "remove"]);
    assert.deepEqual(engine.for("lab-bob"), [], "queued labs are not started");
    assert.deepEqual(engine.for("lab-carol"), []);
    assert.deepEqual(r.verified, []);
    assert.match(r.out, /SIGTERM: cancelling updates, then destroying/);
    assert.match(r.out, /alice\s+cancel.*cancel\s+ok/);
    assert.match(r.out, /0 of 3 labs passed \(interrupted\)/);
  });

  it("first signal during `up` alone also destroys what was created", async () => {
    const engine = new FakeEngine({ "lab-alice": { upMs: 10_000 } });
    const signals = new FakeSignals();
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], {
      engine,
      signals,
      during: async (e) => {
        await until(() => e.of("up").length === 1);
        signals.send("SIGINT");
      },
    });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "preview", "up", "destroy", "remove"]);
  });

  it("a cancel never destroys a lab that existed before the command: left as it was, and said so", async () => {
    for (const command of ["up", "run"]) {
      const engine = new FakeEngine({ "lab-alice": { upMs: 10_000 }, "lab-bob": { upMs: 10_000 } });
      // alice is a running lab (resources in the backend); bob is new in this command.
      engine.listing = [{ name: "lab-alice", resourceCount: 12 }];
      const signals = new FakeSignals();
      const r = await runCli([command, "--target", "local", "--attendees", "alice,bob"], {
        engine,
        signals,
        during: async (e) => {
          await until(() => e.of("up").length === 2);
          signals.send("SIGINT");
        },
      });
      assert.equal(r.code, 1, command);
      assert.deepEqual(engine.for("lab-alice"), ["prepare", "preview", "up"], `${command}: alice kept`);
      assert.deepEqual(engine.for("lab-bob"), ["prepare", "preview", "up", "destroy", "remove"], command);
      assert.match(r.out, /alice up: update cancelled, lab left as it was/, command);
      assert.doesNotMatch(r.out, /bob up: update cancelled, lab left/, command);
    }
  });

  it("a cancelled update of an existing lab that left a pending step: listed, state refreshed, not destroyed", async () => {
    const step = { op: "updating", type: "kubernetes:apps/v1:Deployment", name: "app" };
    const engine = new FakeEngine({ "lab-alice": { upMs: 10_000, pending: [step] } });
    engine.listing = [{ name: "lab-alice", resourceCount: 12 }];
    const signals = new FakeSignals();
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], {
      engine,
      signals,
      during: async (e) => {
        await until(() => e.of("up").length === 1);
        signals.send("SIGINT");
      },
    });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "preview", "up", "refresh"]);
    assert.match(r.out, /alice up: update cancelled, lab left as it was \(state refreshed\)/);
    assert.match(
      r.out,
      /alice up: cleared from the state: pending updating of kubernetes:apps\/v1:Deployment app/,
    );
  });

  it("first signal with --keep cancels but does not destroy", async () => {
    const engine = new FakeEngine({ "lab-alice": { upMs: 10_000 } });
    const signals = new FakeSignals();
    const r = await runCli(["up", "--target", "local", "--attendees", "alice", "--keep"], {
      engine,
      signals,
      during: async (e) => {
        await until(() => e.of("up").length === 1);
        signals.send("SIGINT");
      },
    });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "preview", "up"]);
    assert.match(r.err, /interrupted: these stacks may still hold resources: lab\.foundation, lab-alice/);
  });

  it("second signal: exits 1 at once, naming the stacks that still hold resources", async () => {
    // The update ignores the cancel (a hung CLI, pulumi #12627), so only the second signal ends the run.
    const engine = new FakeEngine({ "lab-alice": { upHangs: true }, "lab-bob": { upHangs: true } });
    const signals = new FakeSignals();
    const r = await runCli(
      ["run", "--target", "local", "--attendees", "alice,bob,carol", "--concurrency", "2"],
      {
        engine,
        signals,
        during: async (e) => {
          await until(() => e.of("up").length === 2);
          signals.send("SIGINT");
          signals.send("SIGINT");
          e.release(); // let the test's main() settle
        },
      },
    );
    assert.deepEqual(r.exits, [1]);
    assert.match(
      r.out,
      /SIGINT again: exiting now\. These stacks may still hold resources: lab-alice, lab-bob, lab\.foundation\. Destroy them with `npm run lab -- destroy --attendees alice,bob`/,
    );
    assert.match(r.out, /destroy --attendees alice,bob/);
    assert.doesNotMatch(r.out.split("SIGINT again")[1].split("\n")[0], /lab-carol/);
  });
});
