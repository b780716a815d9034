// The lifecycle through the real CLI entry, against a fake engine: ordering, concurrency, destroy
// whatever happened, --keep, destroy retries, removal, exit codes.
import assert from "node:assert/strict";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";

const RUN = ["run", "--target", "local"];

describe("lab lifecycle (fake engine)", () => {
  it("runs up, then verify, then destroy and removeStack, for every attendee", async () => {
    const r = await runCli([...RUN, "--attendees", "alice,bob"]);
    assert.equal(r.code, 0, r.err);
    for (const stack of ["lab-alice", "lab-bob"]) {
      assert.deepEqual(r.engine.for(stack), ["prepare", "preview", "up", "destroy", "remove"]);
    }
    assert.deepEqual(r.verified.sort(), ["http://lab-alice.example/hello", "http://lab-bob.example/hello"]);
    // Plugins installed once, before fanning out; preflight before anything else.
    assert.equal(r.engine.calls[0], "check");
    assert.equal(r.engine.calls.filter((c) => c === "setup").length, 1);
    assert.match(r.out, /alice\s+ok\s.*ok.*ok/);
    assert.match(r.out, /2 of 2 labs passed/);
  });

  it("sets lab:attendee and the --config values on each stack", async () => {
    const r = await runCli([
      ...RUN,
      "--attendees",
      "alice",
      "--config",
      "replicas=6",
      "--config",
      "kubernetes:context=x",
    ]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.engine.lastConfig["lab-alice"], {
      "lab:replicas": "6",
      "kubernetes:context": "x",
      "lab:target": "local",
      "lab:workshop": "lab",
      "lab:attendee": "alice",
      "lab:foundation": "lab.foundation",
    });
  });

  it("gives every stack lab:workshop=<stack prefix>, so names and tags carry the workshop", async () => {
    const r = await runCli([...RUN, "--attendees", "alice", "--stack-prefix", "ci-42"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.engine.lastConfig["ci-42-alice"]["lab:workshop"], "ci-42");
  });

  for (const [concurrency, expected] of [
    [undefined, 4],
    ["2", 2],
    ["1", 1],
  ] as const) {
    it(`keeps at most ${expected} updates in flight (--concurrency ${concurrency ?? "default"})`, async () => {
      const names = ["a1", "a2", "a3", "a4", "a5", "a6"];
      const engine = new FakeEngine(Object.fromEntries(names.map((n) => [`lab-${n}`, { upMs: 40 }])));
      const args = [...RUN, "--attendees", names.join(",")];
      if (concurrency) args.push("--concurrency", concurrency);
      const r = await runCli(args, { engine });
      assert.equal(r.code, 0, r.err);
      assert.equal(engine.maxInFlight, expected);
      assert.equal(engine.of("up").length, 6);
    });
  }

  it("destroys after a failed up, and the other attendees carry on (exit 1)", async () => {
    const engine = new FakeEngine({ "lab-bob": { upFails: "error: creating EKS cluster: AccessDenied" } });
    const r = await runCli([...RUN, "--attendees", "alice,bob,carol"], { engine });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-bob"), ["prepare", "preview", "up", "destroy", "remove"]);
    assert.deepEqual(engine.for("lab-carol"), ["prepare", "preview", "up", "destroy", "remove"]);
    assert.deepEqual(r.verified.sort(), ["http://lab-alice.example/hello", "http://lab-carol.example/hello"]);
    assert.match(r.out, /bob up: (error: )?creating EKS cluster: AccessDenied/);
    assert.match(r.out, /2 of 3 labs passed/);
  });

  it("destroys after a failed verify (exit 1)", async () => {
    const r = await runCli([...RUN, "--attendees", "alice"], {
      verify: async () => [
        { name: "traffic", status: "failed", summary: "no answer from aarch64", evidence: {} },
      ],
    });
    assert.equal(r.code, 1);
    assert.deepEqual(r.engine.for("lab-alice"), ["prepare", "preview", "up", "destroy", "remove"]);
    assert.match(r.out, /alice verify\/traffic: no answer from aarch64/);
  });

  it("--keep skips destroy and removal, and the lab still passes", async () => {
    const r = await runCli([...RUN, "--attendees", "alice", "--keep"]);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.engine.for("lab-alice"), ["prepare", "preview", "up"]);
    assert.match(r.out, /alice\s+ok.*ok.*skip/);
  });

  it("retries destroy with a refresh between tries, then removes the stack", async () => {
    const engine = new FakeEngine({ "lab-alice": { destroyFailures: 2 } });
    const r = await runCli([...RUN, "--attendees", "alice"], { engine });
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(engine.for("lab-alice"), [
      "prepare",
      "preview",
      "up",
      "destroy",
      "refresh",
      "destroy",
      "refresh",
      "destroy",
      "remove",
    ]);
  });

  it("gives up after --destroy-tries, keeps the stack, and fails", async () => {
    const engine = new FakeEngine({ "lab-alice": { destroyFailures: 5 } });
    const r = await runCli([...RUN, "--attendees", "alice", "--destroy-tries", "2"], { engine });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "preview", "up", "destroy", "refresh", "destroy"]);
    assert.match(r.out, /alice destroy: DependencyViolation/);
  });

  it("fails the lab when removeStack fails after a successful destroy", async () => {
    const engine = new FakeEngine({ "lab-alice": { removeFails: "stack has resources" } });
    const r = await runCli([...RUN, "--attendees", "alice"], { engine });
    assert.equal(r.code, 1);
    assert.match(r.out, /destroyed, but removing the stack failed/);
  });

  it("up alone neither verifies nor destroys, even when it fails", async () => {
    const engine = new FakeEngine({ "lab-bob": { upFails: "boom" } });
    const r = await runCli(["up", "--target", "local", "--attendees", "alice,bob", "--no-preview"], {
      engine,
    });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "up"]);
    assert.deepEqual(engine.for("lab-bob"), ["prepare", "up"]);
    assert.deepEqual(r.verified, []);
  });

  it("verify alone reads outputs of existing stacks and never updates", async () => {
    const engine = new FakeEngine({ "lab-bob": { missing: true } });
    const r = await runCli(["verify", "--target", "local", "--attendees", "alice,bob"], { engine });
    assert.equal(r.code, 1);
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "outputs"]);
    assert.deepEqual(engine.for("lab-bob"), ["prepare"]);
    assert.match(r.out, /bob verify: preparing the stack: stack lab-bob does not exist/);
  });

  it("destroy alone destroys and removes; a missing stack is nothing to destroy", async () => {
    const engine = new FakeEngine({ "lab-bob": { missing: true } });
    const r = await runCli(["destroy", "--target", "local", "--attendees", "alice,bob"], { engine });
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(engine.for("lab-alice"), ["prepare", "destroy", "remove"]);
    assert.deepEqual(engine.for("lab-bob"), ["prepare"]);
  });

  it("reports stacks an earlier run left holding resources", async () => {
    const engine = new FakeEngine();
    engine.listing = [
      { name: "lab-ghost", resourceCount: 42 },
      { name: "lab-empty", resourceCount: 0 },
      { name: "other-x", resourceCount: 9 },
    ];
    const r = await runCli([...RUN, "--attendees", "alice"], { engine });
    assert.equal(r.code, 0);
    assert.match(
      r.out,
      /found 1 lab stack\(s\) from an earlier run still holding resources:\n\s+lab-ghost: 42 resources/,
    );
    assert.doesNotMatch(r.out, /lab-empty: |other-x/);
  });
});
