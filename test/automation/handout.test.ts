// `lab handout` (#10 point 4), fake engine: one folder per attendee, the scoped kubeconfig when the
// lab has one, credentials 0600 in 0700 folders, a clear error per attendee without one.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { TARGET_TAG } from "../../automation/lifecycle/targets";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";

describe("lab handout (fake engine)", () => {
  it("writes each attendee's URL, kubeconfig (the namespace-scoped one) and README", async () => {
    const engine = new FakeEngine({
      "lab-alice": {
        outputs: {
          serviceUrl: "http://127.0.0.1:31000/hello",
          namespace: "lab-alice",
          kubeconfig: "admin-kubeconfig",
          handoutKubeconfig: "scoped-kubeconfig",
        },
      },
      "lab-bob": { outputs: { serviceUrl: "http://bob.example/hello", kubeconfig: "bob-cluster" } },
    });
    engine.tagsOf["lab-alice"] = { [TARGET_TAG]: "local" };
    engine.tagsOf["lab-bob"] = { [TARGET_TAG]: "local" };
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lab-handout-")), "h");
    const r = await runCli(["handout", "--attendees", "alice,bob", "--out", out], { engine });
    assert.equal(r.code, 0, r.out + r.err);
    assert.equal(fs.readFileSync(path.join(out, "alice", "kubeconfig"), "utf8"), "scoped-kubeconfig");
    assert.equal(fs.readFileSync(path.join(out, "bob", "kubeconfig"), "utf8"), "bob-cluster");
    assert.equal(fs.statSync(path.join(out, "alice", "kubeconfig")).mode & 0o777, 0o600);
    assert.equal(fs.statSync(path.join(out, "alice")).mode & 0o777, 0o700);
    const readme = fs.readFileSync(path.join(out, "alice", "README.md"), "utf8");
    assert.match(readme, /Your service: http:\/\/127\.0\.0\.1:31000\/hello/);
    assert.match(readme, /can act only in your namespace lab-alice/);
    assert.match(fs.readFileSync(path.join(out, "bob", "README.md"), "utf8"), /administers your own cluster/);
    assert.match(r.out, /alice: .* \(namespace lab-alice only\)/);
    assert.match(r.out, /2 of 2 hand-outs written/);
  });

  it("a lab without a kubeconfig output fails its hand-out (exit 1); no --out is exit 2", async () => {
    const engine = new FakeEngine({ "lab-carol": { outputs: { serviceUrl: "http://c/hello" } } });
    engine.tagsOf["lab-carol"] = { [TARGET_TAG]: "local" };
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "lab-handout-"));
    const r = await runCli(["handout", "--attendees", "carol", "--out", out], { engine });
    assert.equal(r.code, 1);
    assert.match(r.err, /carol: no hand-out: the stack has no kubeconfig output/);
    const bad = await runCli(["handout", "--attendees", "carol"], { engine });
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--out <dir> is required/);
  });
});
