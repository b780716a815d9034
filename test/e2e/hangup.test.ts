// End to end, for real: a run whose terminal closes (SIGHUP to its process group, as a terminal's
// hang-up sends it), whose output reader goes away (`| head -2`), or that is cancelled while it
// destroys the workshop's foundation. Each must end as a graceful cancel or a normal run would: no
// crash, every stack it created destroyed or recorded for `reap --leftovers`, the cluster stopped.
// Needs `npm run setup:local` first.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  Report,
  ROOT,
  assertNothingLeft,
  freshDirEach,
  fromAStoppedCluster,
  labPlain,
  stacksIn,
} from "./support";

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  report?: Report;
}

/**
 * `lab run` in a process group of its own, as a terminal's foreground job or a CI job runs it.
 * `when` sees the output so far and may signal the group; `closeStdoutAfter` closes the stdout
 * pipe after that many lines, as `| head -N` does.
 */
function runGroup(
  dir: string,
  attendee: string,
  when?: (out: string, signalGroup: (s: NodeJS.Signals) => void) => void,
  closeStdoutAfter?: number,
): Promise<Run> {
  const reportFile = path.join(dir, "report.json");
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, "bin/lab.js"),
      ...["run", "--target", "local", "--attendees", attendee, "--no-preview"],
      ...["--backend", `file://${dir}/state`, "--report", reportFile],
    ],
    {
      cwd: ROOT,
      env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "e2e", CI: "true" },
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  let stdoutLines = 0;
  const signalGroup = (s: NodeJS.Signals) => process.kill(-(child.pid as number), s);
  child.stdout.on("data", (b: Buffer) => {
    out += String(b);
    stdoutLines += String(b).split("\n").length - 1;
    if (closeStdoutAfter !== undefined && stdoutLines >= closeStdoutAfter) child.stdout.destroy();
    when?.(out, signalGroup);
  });
  child.stderr.on("data", (b: Buffer) => {
    out += String(b);
    when?.(out, signalGroup);
  });
  return new Promise((resolve) =>
    child.on("exit", (code, signal) => {
      const report = fs.existsSync(reportFile)
        ? (JSON.parse(fs.readFileSync(reportFile, "utf8")) as Report)
        : undefined;
      resolve({ code, signal, out, report });
    }),
  );
}

describe("e2e: a closed terminal, a closed pipe, a cancel during the foundation's destroy", function () {
  const suffix = Math.random().toString(36).slice(2, 6);
  const dir = freshDirEach("lab-e2e-hup-");
  fromAStoppedCluster();

  it("SIGHUP to the run's process group mid-update: cancelled, what it created destroyed, exit 1", async () => {
    const attendee = `hup-${suffix}`;
    let sent = false;
    const r = await runGroup(dir(), attendee, (out, signalGroup) => {
      if (!sent && new RegExp(`\\[${attendee}\\] up`).test(out)) {
        sent = true;
        signalGroup("SIGHUP");
      }
    });
    assert.ok(sent, `the attendee's up never started:\n${r.out}`);
    assert.equal(r.signal, null, `the driver died of the signal:\n${r.out}`);
    assert.equal(r.code, 1, r.out);
    assert.match(r.out, /SIGHUP: cancelling updates, then destroying what this command created/);
    assert.ok(r.report, "the report is written");
    assert.equal(r.report.interrupted, true);
    assert.equal(r.report.foundation?.destroy?.status, "passed", r.out);
    assert.equal(r.report.labs[0].holdsResources, false, r.out);
    await assertNothingLeft(dir(), [attendee]);
  });

  it("stdout closed after two lines (`| head -2`): the run goes on, passes and leaves nothing", async () => {
    const attendee = `pipe-${suffix}`;
    const r = await runGroup(dir(), attendee, undefined, 2);
    assert.equal(r.signal, null, r.out);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.report?.passed, true);
    assert.doesNotMatch(r.out, /EPIPE|unexpected error/);
    await assertNothingLeft(dir(), [attendee]);
  });

  it("SIGTERM while the foundation is destroyed: never 'passed' with resources left; reap --leftovers ends it", async () => {
    const attendee = `fd-${suffix}`;
    let sent = false;
    const r = await runGroup(dir(), attendee, (out, signalGroup) => {
      if (!sent && /\[foundation\] destroy/.test(out)) {
        sent = true;
        // Once the engine is deleting: the group's SIGTERM reaches the CLI too, as a CI cancel's does.
        setTimeout(() => signalGroup("SIGTERM"), 1500);
      }
    });
    assert.ok(sent, `the foundation's destroy never started:\n${r.out}`);
    assert.equal(r.signal, null, r.out);
    const left = stacksIn(dir());
    if (r.report?.foundation?.destroy?.status === "passed") assert.deepEqual(left, [], r.out);
    // Whatever the run left is recorded: one always-run reap ends with nothing left.
    const reap = labPlain(["reap", "--leftovers", "--target", "local"], dir());
    assert.equal(reap.code, 0, reap.out);
    if (left.length > 0) assert.match(reap.out, /lab\.foundation: destroy since /, `${r.out}\n${reap.out}`);
    await assertNothingLeft(dir(), [attendee]);
  });
});
