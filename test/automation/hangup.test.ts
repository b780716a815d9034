// A closed terminal or a reader gone away never ends a run abruptly: SIGHUP is a cancel like
// SIGTERM, the Pulumi CLI is run with SIGHUP ignored, and a failed stdout/stderr is skipped.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { Writable } from "node:stream";
import { guardStream } from "../../automation/cli/output";
import { hangupProofRoot, resolveCli } from "../../automation/lifecycle/hangup";
import { processSignals } from "../../automation/lifecycle/signals";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-hangup-"));

/** The signals a process ignores, from its SigIgn mask (bit n-1 is signal n). */
function ignoredSignals(status: string): number[] {
  const mask = BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(status)?.[1] ?? "0"}`);
  return Array.from({ length: 64 }, (_, i) => i + 1).filter((n) => (mask >> BigInt(n - 1)) & 1n);
}

describe("SIGHUP (a closed terminal)", () => {
  it("reaches the driver's cancel handler like SIGINT and SIGTERM", async () => {
    const seen: string[] = [];
    const off = processSignals.on((sig) => seen.push(sig));
    try {
      process.kill(process.pid, "SIGHUP");
      await new Promise((r) => setTimeout(r, 50));
    } finally {
      off();
    }
    assert.deepEqual(seen, ["SIGHUP"]);
  });

  it("is ignored by the Pulumi CLI the engine runs, which still gets its arguments as given", () => {
    // A stand-in CLI that reports its arguments and the signals it was started with ignored.
    const cli = path.join(tmp, "it's pulumi");
    fs.writeFileSync(cli, '#!/bin/sh\necho "args: $*"\ngrep SigIgn /proc/self/status\n', { mode: 0o755 });
    const root = hangupProofRoot(cli);
    assert.equal(hangupProofRoot(cli), root, "one wrapper per CLI");
    assert.equal(fs.statSync(path.join(root, "bin", "pulumi")).mode & 0o777, 0o700);
    const r = spawnSync(path.join(root, "bin", "pulumi"), ["up", "--stack", "a b"], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^args: up --stack a b$/m);
    assert.ok(ignoredSignals(r.stdout).includes(1), `SIGHUP ignored: ${r.stdout}`);
    // Without the wrapper the same CLI would die of it: the test's own process ignores nothing.
    const bare = spawnSync(cli, [], { encoding: "utf8" });
    assert.ok(!ignoredSignals(bare.stdout).includes(1));
  });

  it("resolveCli finds a CLI by name on PATH, or says there is none", () => {
    const dir = fs.mkdtempSync(path.join(tmp, "path-"));
    fs.writeFileSync(path.join(dir, "pulumi"), "#!/bin/sh\n", { mode: 0o755 });
    assert.equal(resolveCli("pulumi", `/nonexistent:${dir}`), path.join(dir, "pulumi"));
    assert.equal(resolveCli("pulumi", "/nonexistent"), undefined);
  });
});

describe("a reader that goes away (EPIPE)", () => {
  it("guardStream skips a stream once it failed, without an unhandled error", async () => {
    let writes = 0;
    const broken = new Writable({
      write(_chunk, _enc, cb) {
        writes++;
        cb(Object.assign(new Error("write EPIPE"), { code: "EPIPE" }));
      },
    });
    const g = guardStream(broken);
    g.write("first\n");
    await new Promise((r) => setImmediate(r));
    assert.equal(g.failed, "EPIPE");
    g.write("second\n");
    assert.equal(writes, 1, "nothing more is written to a failed stream");
  });

  it("bin/lab.js whose stdout pipe is closed before it writes still exits with its own code", async () => {
    const bin = path.resolve(__dirname, "..", "..", "bin", "lab.js");
    const child = spawn(process.execPath, [bin, "--help"], { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // as `| head -0` would: the reader is gone before the first line
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const code = await new Promise<number | null>((r) => child.on("close", r));
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /EPIPE|Unhandled/);
  });
});
