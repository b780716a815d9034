// Files a killed Pulumi CLI leaves half-written in a file backend (#9 point 10): an empty `.attrs`
// sidecar (every listing then fails with "EOF") is removed before any command lists stacks; an
// unreadable checkpoint is reported with its last good copy and never replaced.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { repairHalfWritten } from "../../automation/lifecycle/halfWritten";
import { runCli } from "./support/harness";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-half-written-"));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A file backend with stacks `a` (its sidecar cut empty), `b` (sound) and `c` (its checkpoint cut). */
function backend(name: string): { dir: string; stacks: string } {
  const dir = path.join(tmp, name);
  const stacks = path.join(dir, ".pulumi", "stacks", "multiarch-lab");
  fs.mkdirSync(stacks, { recursive: true });
  const checkpoint = JSON.stringify({ version: 3, checkpoint: { stack: "x" } });
  fs.writeFileSync(path.join(stacks, "lab-a.json"), checkpoint);
  fs.writeFileSync(path.join(stacks, "lab-a.json.attrs"), "");
  fs.writeFileSync(path.join(stacks, "lab-b.json"), checkpoint);
  fs.writeFileSync(path.join(stacks, "lab-b.json.attrs"), '{"user.content_type":"application/json"}\n');
  fs.writeFileSync(path.join(stacks, "lab-c.json"), checkpoint.slice(0, 20));
  fs.writeFileSync(path.join(stacks, "lab-c.json.bak"), checkpoint);
  const history = path.join(dir, ".pulumi", "history", "multiarch-lab", "lab-a");
  fs.mkdirSync(history, { recursive: true });
  fs.writeFileSync(path.join(history, "lab-a-1.history.json.attrs"), '{"user.content_ty');
  return { dir, stacks };
}

describe("half-written backend files (a killed CLI)", () => {
  it("removes empty and cut sidecars only, and reports a cut checkpoint with its .bak, untouched", () => {
    const { dir, stacks } = backend("repair");
    const before = fs.readFileSync(path.join(stacks, "lab-c.json"), "utf8");
    const found = repairHalfWritten(`file://${dir}`);
    assert.deepEqual(found.map((f) => [path.relative(dir, f.file), f.repaired]).sort(), [
      [".pulumi/history/multiarch-lab/lab-a/lab-a-1.history.json.attrs", true],
      [".pulumi/stacks/multiarch-lab/lab-a.json.attrs", true],
      [".pulumi/stacks/multiarch-lab/lab-c.json", false],
    ]);
    assert.equal(fs.existsSync(path.join(stacks, "lab-a.json.attrs")), false);
    assert.equal(fs.existsSync(path.join(stacks, "lab-b.json.attrs")), true, "a sound sidecar stays");
    assert.equal(fs.readFileSync(path.join(stacks, "lab-c.json"), "utf8"), before, "never replaced");
    assert.match(found.find((f) => !f.repaired)?.text ?? "", /lab-c\.json\.bak: check it, then copy it over/);
    assert.deepEqual(
      repairHalfWritten(`file://${dir}`).map((f) => f.repaired),
      [false],
      "repaired once",
    );
  });

  it("other backends: nothing read", () => {
    assert.deepEqual(repairHalfWritten("s3://bucket/state"), []);
  });

  it("`lab reap --leftovers` repairs before it lists, and says what it removed", async () => {
    const { dir, stacks } = backend("cli");
    const r = await runCli(["reap", "--leftovers", "--target", "local", "--backend", `file://${dir}`]);
    assert.equal(r.code, 0, r.err);
    assert.equal(fs.existsSync(path.join(stacks, "lab-a.json.attrs")), false);
    assert.match(r.err, /lab reap: removed .*lab-a\.json\.attrs: a half-written attributes file/);
    assert.match(r.err, /lab reap: the checkpoint .*lab-c\.json is not readable JSON/);
    assert.equal(r.err.match(/lab-a\.json\.attrs/g)?.length, 1, "said once");
  });
});
