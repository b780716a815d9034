// The default state directory and its passphrase are private to their owner, however they came to be.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { passphraseFile, resolveState } from "../../automation/lifecycle/state";

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe("lab state directory", () => {
  let project: string;
  beforeEach(() => (project = fs.mkdtempSync(path.join(os.tmpdir(), "lab-state-"))));
  afterEach(() => fs.rmSync(project, { recursive: true, force: true }));

  it("makes .lab-state 0700 even when it already existed world-readable", () => {
    const dir = path.join(project, ".lab-state");
    fs.mkdirSync(dir, { mode: 0o755 });
    fs.chmodSync(dir, 0o755);
    resolveState(project, undefined, {});
    assert.equal(mode(dir), 0o700);
    assert.equal(mode(passphraseFile(project).file), 0o600);
  });

  it("makes a file:// backend directory it creates 0700", () => {
    const dir = path.join(project, "elsewhere", "state");
    resolveState(project, `file://${dir}`, { PULUMI_CONFIG_PASSPHRASE: "x" });
    assert.equal(mode(dir), 0o700);
  });
});
