// The greeter example runs as the lab will run it: a real process, PORT from the environment.
import assert from "node:assert/strict";
import { spawn } from "child_process";
import * as path from "path";
import { exitCode, firstLine } from "./process";

const SERVER = path.join(__dirname, "..", "..", "examples", "greeter", "server.js");

describe("examples/greeter", function () {
  this.timeout(15_000);

  it("answers /greet without an architecture, /livez until SIGTERM, and exits 0 after draining", async () => {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, PORT: "0", HOST: "127.0.0.1", GREETING: "Hi" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const first = await firstLine(child);
      const { event, port } = JSON.parse(first);
      assert.strictEqual(event, "listening");
      const base = `http://127.0.0.1:${port}`;
      const greet = await fetch(`${base}/greet?name=x`);
      assert.strictEqual(greet.status, 200);
      const body = await greet.text();
      assert.deepStrictEqual(JSON.parse(body), { greeting: "Hi", service: "greeter" });
      assert.doesNotMatch(body, /x86_64|aarch64|amd64|arm64|arch/);
      assert.strictEqual((await fetch(`${base}/livez`)).status, 200);
      assert.strictEqual((await fetch(`${base}/hello`)).status, 404);
      assert.strictEqual((await fetch(`${base}/greet`, { method: "POST" })).status, 405);
      assert.strictEqual(await exitCode(child, "SIGTERM"), 0);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("refuses a PORT that is no port, with exit code 2", async () => {
    const child = spawn(process.execPath, [SERVER], {
      env: { ...process.env, PORT: "http" },
      stdio: "ignore",
    });
    assert.strictEqual(await exitCode(child), 2);
  });
});
