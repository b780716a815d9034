// CI cancellation (SIGINT, then SIGTERM, then SIGKILL) and the leftovers record in the backend
// that `reap --leftovers` / `destroy --leftovers` act on.
import assert from "node:assert/strict";
import { OpHooks } from "../../automation/lifecycle/engine";
import { UNFINISHED_TAG, stillUnfinished } from "../../automation/lifecycle/ledger";
import { LabResult } from "../../automation/lifecycle/types";
import { FakeEngine, StackScript } from "./support/fakeEngine";
import { FakeSignals, runCli } from "./support/harness";

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Remembers each stack's tags as they were when its update started. */
class TagWatchingEngine extends FakeEngine {
  readonly tagsAtUp: Record<string, Record<string, string>> = {};
  constructor(scripts: Record<string, StackScript> = {}) {
    super(scripts);
  }
  async up(stack: string, hooks: OpHooks): Promise<Record<string, unknown>> {
    this.tagsAtUp[stack] = { ...this.tagsOf[stack] };
    return super.up(stack, hooks);
  }
}

const cancelDuringUp =
  (signals: FakeSignals, ...sigs: string[]) =>
  async (e: FakeEngine) => {
    await until(() => e.of("up").length === 1);
    for (const s of sigs) signals.send(s);
  };

describe("lab signals from a CI runner (fake engine)", () => {
  for (const [first, second] of [
    ["SIGINT", "SIGTERM"],
    ["SIGTERM", "SIGINT"],
  ]) {
    it(`${first} then ${second}: the graceful cancel goes on (destroy, remove), no immediate exit`, async () => {
      const engine = new FakeEngine({ "lab-alice": { upMs: 10_000 } });
      const signals = new FakeSignals();
      const r = await runCli(["run", "--target", "local", "--attendees", "alice"], {
        engine,
        signals,
        during: cancelDuringUp(signals, first, second),
      });
      assert.deepEqual(r.exits, [], "a different second signal must not exit at once");
      assert.equal(r.code, 1);
      assert.deepEqual(engine.for("lab-alice"), ["prepare", "preview", "up", "destroy", "remove"]);
      assert.match(r.out, new RegExp(`${second} after ${first}: still cancelling gracefully`));
    });
  }

  it("the same signal twice still exits at once", async () => {
    const engine = new FakeEngine({ "lab-alice": { upHangs: true } });
    const signals = new FakeSignals();
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], {
      engine,
      signals,
      during: async (e) => {
        await cancelDuringUp(signals, "SIGTERM", "SIGINT", "SIGTERM")(e);
        e.release();
      },
    });
    assert.deepEqual(r.exits, [1]);
    assert.match(r.out, /SIGTERM again: exiting now/);
  });
});

describe("the leftovers record (stack tag) and reap/destroy --leftovers", () => {
  it("is written before the update of a new stack starts, and goes with the stack when it is destroyed", async () => {
    const engine = new TagWatchingEngine();
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], { engine });
    assert.equal(r.code, 0, r.err);
    assert.match(engine.tagsAtUp["lab-alice"][UNFINISHED_TAG], /^run since \d{4}-.*Z by pid \d+ on /);
    assert.equal(engine.tagsOf["lab-alice"], undefined, "removed with the stack");
  });

  it("stays when the process exits at once mid-update, and the message points to reap --leftovers", async () => {
    const engine = new FakeEngine({ "lab-alice": { upHangs: true } });
    const signals = new FakeSignals();
    let atExit: Record<string, string> | undefined;
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], {
      engine,
      signals,
      during: async (e) => {
        await cancelDuringUp(signals, "SIGINT", "SIGINT")(e);
        // The real process ends here (the test's exit seam only records it).
        atExit = { ...e.tagsOf["lab-alice"] };
        e.release();
      },
    });
    assert.deepEqual(r.exits, [1]);
    assert.match(atExit?.[UNFINISHED_TAG] ?? "", /^up since /);
    assert.match(r.out, /recorded in the backend as unfinished: lab-alice; `npm run lab -- reap --leftovers/);
  });

  it("is cleared after a passed `up` (the lab is meant to stay), and never set on a lab that existed", async () => {
    const engine = new TagWatchingEngine({ "lab-bob": { upHangs: true } });
    engine.listing = [{ name: "lab-bob", resourceCount: 9 }];
    const signals = new FakeSignals();
    let atExit: Record<string, Record<string, string>> = {};
    const r = await runCli(["up", "--target", "local", "--attendees", "alice,bob"], {
      engine,
      signals,
      during: async (e) => {
        await until(() => e.of("up").length === 2 && e.tagCalls.includes(`rm lab-alice ${UNFINISHED_TAG}`));
        signals.send("SIGINT");
        signals.send("SIGINT");
        atExit = JSON.parse(JSON.stringify(e.tagsOf));
        e.release();
      },
    });
    assert.deepEqual(r.exits, [1]);
    assert.equal(
      engine.tagsAtUp["lab-bob"][UNFINISHED_TAG],
      undefined,
      "an existing lab's update is not recorded",
    );
    assert.equal(atExit["lab-bob"][UNFINISHED_TAG], undefined);
    assert.match(engine.tagsAtUp["lab-alice"][UNFINISHED_TAG], /^up since /);
    assert.equal(atExit["lab-alice"][UNFINISHED_TAG], undefined, "alice's up passed: the record is cleared");
  });

  it("stays on a stack whose destroy failed", async () => {
    const engine = new FakeEngine({ "lab-alice": { destroyFailures: 5 } });
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], { engine });
    assert.equal(r.code, 1);
    assert.match(engine.tagsOf["lab-alice"][UNFINISHED_TAG], /^run since /);
  });

  it("stays on a foundation whose destroy ended with resources left (a cancel the CLI took for done)", async () => {
    const engine = new FakeEngine({ "lab.foundation": { destroyLeaves: 5 } });
    const r = await runCli(["run", "--target", "local", "--attendees", "alice", "--destroy-tries", "1"], {
      engine,
    });
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /the destroy ended with 5 resource\(s\) still in the state/);
    assert.ok(!engine.calls.includes("remove lab.foundation"), "the foundation is not removed");
    assert.match(engine.tagsOf["lab.foundation"][UNFINISHED_TAG], /^destroy since /);
    // ... so that the CI recipe's always-run reap finds it.
    const reap = await runCli(["reap", "--leftovers", "--target", "local"], { engine });
    assert.equal(reap.code, 0, reap.out + reap.err);
    assert.equal(engine.calls.filter((c) => c === "remove lab.foundation").length, 1);
  });

  it("a destroy that left resources is tried again (refresh first) and then passes", async () => {
    const engine = new FakeEngine({ "lab-alice": { destroyLeaves: 2 } });
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], { engine });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(engine.of("destroy"), ["lab-alice", "lab-alice"]);
    assert.deepEqual(engine.of("refresh"), ["lab-alice"]);
  });

  it("stays on a stack destroyed but not removed (an empty stack is still left behind)", async () => {
    const engine = new FakeEngine({ "lab-alice": { removeFails: "stack rm cancelled" } });
    const r = await runCli(["run", "--target", "local", "--attendees", "alice"], { engine });
    assert.equal(r.code, 1);
    assert.match(engine.tagsOf["lab-alice"][UNFINISHED_TAG], /^run since /);
  });

  it("when it cannot be written, the update does not start", async () => {
    const engine = new FakeEngine({ "lab-alice": { tagFails: "stack tags are not supported" } });
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], { engine });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.of("up"), []);
    assert.match(r.out, /could not record the stack as unfinished in the backend before the update/);
  });

  for (const argv of [
    ["reap", "--leftovers"],
    ["destroy", "--leftovers"],
  ]) {
    it(`${argv.join(" ")} destroys exactly the recorded stacks of the prefix`, async () => {
      const engine = new FakeEngine();
      engine.listing = ["ci7-a", "ci7-b", "ci7-c", "other-a"].map((name) => ({ name, resourceCount: 5 }));
      engine.tagsOf["ci7-a"] = { [UNFINISHED_TAG]: "run since 2026-01-01T00:00:00.000Z by pid 1 on ci" };
      engine.tagsOf["ci7-c"] = { [UNFINISHED_TAG]: "up since 2026-01-01T00:00:00.000Z by pid 1 on ci" };
      engine.tagsOf["other-a"] = { [UNFINISHED_TAG]: "up since 2026-01-01T00:00:00.000Z by pid 1 on ci" };
      const r = await runCli([...argv, "--stack-prefix", "ci7", "--target", "local"], { engine });
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(engine.of("destroy").sort(), ["ci7-a", "ci7-c"]);
      assert.deepEqual(engine.of("remove").sort(), ["ci7-a", "ci7-c"]);
      assert.match(r.out, /destroying 2 leftover stack\(s\) recorded as unfinished:\n {2}ci7-a: run since/);
    });
  }

  it("reap --leftovers with nothing recorded destroys nothing and exits 0", async () => {
    const engine = new FakeEngine();
    engine.listing = [{ name: "lab-a", resourceCount: 5 }];
    const r = await runCli(["reap", "--leftovers", "--target", "local"], { engine });
    assert.equal(r.code, 0);
    assert.deepEqual(engine.mutating, []);
    assert.match(r.out, /no leftovers: no lab-… stack is recorded as left unfinished/);
  });

  it("destroy --leftovers with --attendees is refused (exit 2, no engine call)", async () => {
    const engine = new FakeEngine();
    const r = await runCli(["destroy", "--leftovers", "--attendees", "a", "--target", "local"], { engine });
    assert.equal(r.code, 2);
    assert.match(r.err, /--leftovers picks the stacks from the backend's record: drop --attendees/);
    assert.deepEqual(engine.calls, []);
  });

  describe("stillUnfinished: what the command meant to leave", () => {
    const r = (holds: boolean, up?: "passed" | "failed" | "cancelled"): LabResult => ({
      attendee: "a",
      stack: "lab-a",
      logFile: "x",
      passed: false,
      holdsResources: holds,
      up: up && { status: up, durationMs: 0 },
    });
    const base = { keep: false, existed: false, interrupted: false };
    it("up: only a new stack whose update did not pass", () => {
      assert.equal(stillUnfinished(r(true, "failed"), { ...base, command: "up" }), true);
      assert.equal(stillUnfinished(r(true, "passed"), { ...base, command: "up" }), false);
      assert.equal(stillUnfinished(r(true, "failed"), { ...base, command: "up", existed: true }), false);
    });
    it("run and destroy: anything still held, except an existing lab a cancel left as it was", () => {
      assert.equal(stillUnfinished(r(true, "passed"), { ...base, command: "run" }), true);
      assert.equal(stillUnfinished(r(false, "passed"), { ...base, command: "run" }), false);
      assert.equal(
        stillUnfinished(r(true, "cancelled"), { ...base, command: "run", existed: true, interrupted: true }),
        false,
      );
      assert.equal(stillUnfinished(r(true), { ...base, command: "destroy", existed: true }), true);
      assert.equal(stillUnfinished(r(true, "failed"), { ...base, command: "run", keep: true }), false);
    });
  });
});

describe("stale locks, orphans and early signals (fake engine)", () => {
  it("a stale lock is broken and said, then the stack is refreshed before its destroy", async () => {
    const engine = new FakeEngine({ "lab-alice": { staleLock: true } });
    engine.orphans = ["pid 77 pulumi-resource-kubernetes 127.0.0.1:1"];
    const r = await runCli(["destroy", "--target", "local", "--attendees", "alice"], { engine });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /lab-alice: lock of pid 4242 of root@vm: that process is gone: broken/);
    assert.match(
      r.out,
      /ended 1 orphaned engine process\(es\) of a dead run:\n {2}pid 77 pulumi-resource-kubernetes/,
    );
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "refresh", "destroy", "remove"]);
  });

  it("a signal before any lab started still releases the local cluster and creates nothing", async () => {
    const engine = new FakeEngine();
    const signals = new FakeSignals();
    const calls: string[] = [];
    let nodesAsked!: () => void;
    const asked = new Promise<void>((r) => (nodesAsked = r));
    const r = await runCli(["up", "--target", "local", "--attendees", "alice"], {
      engine,
      signals,
      env: { LAB_KUBECONFIG: "/nonexistent/kubeconfig" },
      localCluster: {
        start: async () => (calls.push("start"), "started"),
        release: async () => (calls.push("release"), "stopped"),
      },
      // The window between the cluster's start and the runner's own handler.
      listNodes: async () => {
        nodesAsked();
        await new Promise((res) => setTimeout(res, 50));
        return [{ name: "n", arch: "amd64", ready: true }];
      },
      during: async () => {
        await asked;
        signals.send("SIGINT");
      },
    });
    assert.equal(r.code, 1, r.err);
    assert.deepEqual(calls, ["start", "release"]);
    assert.deepEqual(engine.mutating, [], "no stack prepared or updated");
    assert.match(r.err, /SIGINT before any lab started: nothing was created/);
    assert.equal(signals.listening, 0, "every handler is removed at the end");
  });

  it("under CI, `up` with the state in the checkout warns and says how to pass --backend", async () => {
    const env = { CI: "true" };
    const up = await runCli(["up", "--target", "local", "--attendees", "alice"], { env });
    assert.match(
      up.err,
      /CI is set and the lab state is in .*\/\.lab-state, inside the checkout: an ephemeral CI runner/,
    );
    assert.match(up.err, /Pass `--backend <url>`/);
    const keep = await runCli(["run", "--keep", "--target", "local", "--attendees", "alice"], { env });
    assert.match(keep.err, /an ephemeral CI runner/);
    const run = await runCli(["run", "--target", "local", "--attendees", "alice"], { env });
    assert.doesNotMatch(run.err, /ephemeral/);
    const elsewhere = await runCli(
      ["up", "--target", "local", "--attendees", "alice", "--backend", "file:///var/lib/lab-state"],
      { env },
    );
    assert.doesNotMatch(elsewhere.err, /ephemeral/);
  });
});
