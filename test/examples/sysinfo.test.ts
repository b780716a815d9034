// The sysinfo example runs as its image runs it: `perl server.pl --port N`, PORT ignored. Skipped
// where the host has no perl (every Debian image has perl-base, so the image itself always does).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "child_process";
import * as os from "os";
import * as path from "path";
import { exitCode, firstLine } from "./process";

const SERVER = path.join(__dirname, "..", "..", "examples", "sysinfo", "server.pl");
const UNAME: Record<string, string> = { x64: "x86_64", arm64: "aarch64" };

describe("examples/sysinfo", function () {
  this.timeout(15_000);
  before(function () {
    if (spawnSync("perl", ["-v"], { stdio: "ignore" }).status !== 0) this.skip();
  });

  it("listens on --port whatever PORT says, answers /info with its machine, /ready, and stops on SIGTERM", async () => {
    const child = spawn("perl", [SERVER, "--port", "0", "--host", "127.0.0.1"], {
      env: { ...process.env, PORT: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const first = await firstLine(child);
      const m = /^sysinfo: listening on 127\.0\.0\.1:(\d+) \(PORT=1 is not used\)$/.exec(first);
      assert.ok(m, first);
      const base = `http://127.0.0.1:${m[1]}`;
      const info = await fetch(`${base}/info?x=1`);
      assert.strictEqual(info.status, 200);
      assert.strictEqual(info.headers.get("content-type"), "application/json");
      const body = (await info.json()) as Record<string, unknown>;
      assert.strictEqual(body.service, "sysinfo");
      assert.strictEqual(body.port, Number(m[1]));
      assert.strictEqual(body.machine, UNAME[os.arch()] ?? body.machine);
      assert.match(String(body.perlArch), new RegExp(`^${body.machine}-linux`));
      assert.deepStrictEqual(await (await fetch(`${base}/ready`)).json(), { status: "ok" });
      assert.strictEqual((await fetch(`${base}/hello`)).status, 404);
      assert.strictEqual((await fetch(`${base}/info`, { method: "POST" })).status, 405);
      const head = await fetch(`${base}/info`, { method: "HEAD" });
      assert.strictEqual(head.status, 200);
      assert.strictEqual(await head.text(), "");
      assert.strictEqual(await exitCode(child, "SIGTERM"), 0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("without --port it refuses to start (exit 2): PORT alone is not read", async () => {
    const child = spawn("perl", [SERVER], { env: { ...process.env, PORT: "7070" }, stdio: "ignore" });
    assert.strictEqual(await exitCode(child), 2);
  });
});
