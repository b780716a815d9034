// End to end, for real (#9): what the driver does to a lab that is already running. An update
// interrupted by SIGINT leaves the lab as it was and verifiable (never destroyed); a `--secret` value
// lands in no file under the project, the state or the report paths, while the lab runs or after.
// Needs `npm run setup:local` first; run it under the machine-wide e2e lock.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { leaks } from "../support/leaks";
import { fromAStoppedCluster, ROOT, assertNothingLeft, lab, labNamespaces } from "./support";

/** The state's pending operations for a stack of a file backend in `dir`. */
function pendingIn(dir: string, stack: string): unknown[] {
  const file = path.join(dir, "state", ".pulumi", "stacks", "lab", `${stack}.json`);
  const state = JSON.parse(fs.readFileSync(file, "utf8")) as {
    checkpoint?: { latest?: { pending_operations?: unknown[] } };
  };
  return state.checkpoint?.latest?.pending_operations ?? [];
}

describe("e2e: live labs (the real engine on the local target)", function () {
  const suffix = Math.random().toString(36).slice(2, 6);
  let dir: string;

  fromAStoppedCluster();
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-e2e-live-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("SIGINT during an update of a running lab: cancelled, left as it was, verifiable, not destroyed", async () => {
    const attendee = `e2e-${suffix}-l`;
    const stack = `lab-${attendee}`;
    const args = ["--target", "local", "--attendees", attendee];
    const first = await lab(["up", ...args, "--config", "replicas=2"], dir);
    assert.equal(first.code, 0, first.out);
    const engineLog = path.join(ROOT, ".lab-logs", `${stack}.log`);
    const mark = fs.readFileSync(engineLog, "utf8").length;
    let sent = false;
    let child: ReturnType<typeof spawn> | undefined;
    // As an organiser's Ctrl+C while the Deployment rolls out the new replicas (arm64 ones start
    // under emulation, which gives the cancel time to land mid-update).
    const poll = setInterval(() => {
      const text = fs.readFileSync(engineLog, "utf8").slice(mark);
      if (!sent && /kubernetes:apps\/v1:Deployment \S+ updating/.test(text)) {
        sent = true;
        child?.kill("SIGINT");
      }
    }, 50);
    try {
      const second = await lab(
        ["up", ...args, "--config", "replicas=4", "--no-preview"],
        dir,
        (_t, c) => (child = c),
      );
      assert.ok(sent, `the update never reached the Deployment:\n${second.out}`);
      assert.equal(second.code, 1, second.out);
      const [l] = second.report.labs;
      assert.equal(l.up?.status, "cancelled", second.out);
      assert.match((l.up as { note?: string }).note ?? "", /^update cancelled, lab left as it was/);
      assert.equal(l.destroy, undefined, "an existing lab is never destroyed by a cancel");
      assert.match(second.out, new RegExp(`${attendee} up: update cancelled, lab left as it was`));
    } finally {
      clearInterval(poll);
    }
    try {
      assert.deepEqual(pendingIn(dir, stack), [], "no pending operation left in the state");
      assert.deepEqual(labNamespaces([attendee]), [stack], "the lab is still there");
      // Right after the cancel a new replica may still be starting: verify waits for it.
      const verify = await lab(["verify", ...args], dir);
      assert.equal(verify.code, 0, verify.out);
    } finally {
      // Whatever failed above, the lab goes, so the next test starts from nothing.
      const destroy = await lab(["destroy", ...args], dir);
      assert.equal(destroy.code, 0, destroy.out);
    }
    await assertNothingLeft(dir, [attendee]);
  });

  it("--secret: the value is in no file under the project, the state or the reports", async () => {
    const attendee = `e2e-${suffix}-k`;
    const value = `s3cr3t-${randomBytes(12).toString("hex")}`;
    const junit = path.join(dir, "lab.xml");
    const args = ["--target", "local", "--attendees", attendee, "--junit", junit];
    const up = await lab(
      [
        "up",
        ...args,
        "--config",
        "placement=amd64",
        "--config",
        "replicas=1",
        "--secret",
        `demo:token=${value}`,
      ],
      dir,
    );
    assert.equal(up.code, 0, up.out);
    // It is set, encrypted: the stack's config holds it as `secure:`.
    const config = fs.readFileSync(path.join(ROOT, `Pulumi.lab-${attendee}.yaml`), "utf8");
    assert.match(config, /demo:token:\n\s+secure: /);
    const roots = [ROOT, dir];
    assert.deepEqual(leaks(roots, { token: value }, { output: up.out }), [], "while the lab runs");
    const destroy = await lab(["destroy", ...args], dir);
    assert.equal(destroy.code, 0, destroy.out);
    assert.deepEqual(leaks(roots, { token: value }, { output: destroy.out }), [], "after the destroy");
    await assertNothingLeft(dir, [attendee]);
  });
});
