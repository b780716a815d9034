// End to end, for real: the `lab` driver runs the Pulumi engine (file backend), the docker-build
// provider builds app/ for linux/amd64 + linux/arm64 with BuildKit and pushes the index to the
// loopback registry, verify runs each variant (arm64 under QEMU), destroy removes it all.
// Needs `npm run setup:local` first (CI runs it); nothing here is mocked.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { MANIFEST_TYPES } from "../../automation/verify/registry";

const ROOT = path.resolve(__dirname, "../..");
const CACHE =
  process.env.LAB_CACHE_DIR ??
  path.join(process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), ".cache"), "multiarch-lab");
const REGISTRY = "127.0.0.1:5000";

interface Check {
  name: string;
  status: string;
  summary: string;
  evidence: Record<string, unknown>;
}
interface Report {
  passed: boolean;
  interrupted: boolean;
  exitCode: number;
  labs: {
    attendee: string;
    stack: string;
    passed: boolean;
    holdsResources: boolean;
    up?: { status: string; error?: string };
    verify?: { status: string; checks: Check[] };
    destroy?: { status: string; attempts?: number };
  }[];
}

/**
 * Runs the real CLI; resolves with its exit code, output and JSON report. `onOutput` sees the
 * output so far (and the child), e.g. to send a signal at a given phase.
 */
function lab(
  args: string[],
  dir: string,
  onOutput?: (out: string, child: ReturnType<typeof spawn>) => void,
): Promise<{ code: number; out: string; report: Report }> {
  const reportFile = path.join(dir, "report.json");
  const child = spawn(
    process.execPath,
    [path.join(ROOT, "bin/lab.js"), ...args, "--backend", `file://${dir}/state`, "--report", reportFile],
    { cwd: ROOT, env: { ...process.env, PULUMI_CONFIG_PASSPHRASE: "e2e", CI: "true" } },
  );
  let out = "";
  const collect = (c: Buffer) => {
    out += String(c);
    onOutput?.(out, child);
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      try {
        resolve({ code: code ?? -1, out, report: JSON.parse(fs.readFileSync(reportFile, "utf8")) });
      } catch (err) {
        reject(new Error(`lab exited ${code} without a report: ${err}\n${out}`));
      }
    });
  });
}

/** Stacks the file backend still has (the engine keeps `.bak` copies of removed ones). */
function stacksIn(dir: string): string[] {
  const stacks = path.join(dir, "state", ".pulumi", "stacks");
  if (!fs.existsSync(stacks)) return [];
  return fs
    .readdirSync(stacks, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith(".json"));
}

async function tagStatus(attendee: string): Promise<number> {
  const res = await fetch(`http://${REGISTRY}/v2/lab-${attendee}/hello/manifests/latest`, {
    headers: { accept: [MANIFEST_TYPES.ociIndex, MANIFEST_TYPES.dockerList].join(", ") },
  });
  return res.status;
}

function verifyContainers(): string[] {
  const ps = spawnSync("docker", ["ps", "-aq", "--filter", "name=lab-verify-"], { encoding: "utf8" });
  assert.equal(ps.status, 0, ps.stderr);
  return ps.stdout.split("\n").filter(Boolean);
}

/** Nothing of these labs is left: no stack, no image in the registry, no verify container. */
async function assertNothingLeft(dir: string, attendees: string[]): Promise<void> {
  assert.deepEqual(stacksIn(dir), [], "stacks left in the backend");
  for (const a of attendees)
    assert.equal(await tagStatus(a), 404, `lab-${a}/hello:latest still in the registry`);
  assert.deepEqual(verifyContainers(), [], "verify containers left");
}

describe("e2e: the local target through the real engine", function () {
  const suffix = Math.random().toString(36).slice(2, 6);
  let dir: string;

  before(function () {
    const envJson = path.join(CACHE, "env.json");
    if (!fs.existsSync(envJson)) throw new Error(`${envJson} is missing: run \`npm run setup:local\` first`);
  });
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-e2e-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("run: two attendees build, push, verify both variants and leave nothing", async () => {
    const attendees = [`e2e-${suffix}-a`, `e2e-${suffix}-b`];
    const { code, out, report } = await lab(
      ["run", "--target", "local", "--attendees", attendees.join(",")],
      dir,
    );
    assert.equal(code, 0, out);
    assert.equal(report.passed, true);
    assert.deepEqual(report.labs.map((l) => l.attendee).sort(), attendees);
    for (const l of report.labs) {
      assert.equal(l.up?.status, "passed", `${l.attendee} up`);
      assert.equal(l.destroy?.status, "passed", `${l.attendee} destroy`);
      assert.equal(l.holdsResources, false);
      const checks = Object.fromEntries((l.verify?.checks ?? []).map((c) => [c.name, c]));
      assert.equal(checks.image.status, "passed", checks.image.summary);
      assert.deepEqual(checks.image.evidence.platforms, ["linux/amd64", "linux/arm64"]);
      assert.equal(checks.variants.status, "passed", checks.variants.summary);
      const answers = (
        checks.variants.evidence.variants as { platform: string; answer: { arch: string } }[]
      ).map((v) => [v.platform, v.answer.arch]);
      assert.deepEqual(answers, [
        ["linux/amd64", "x86_64"],
        ["linux/arm64", "aarch64"],
      ]);
      // No cluster on the local target yet: those checks are skipped, never passed.
      for (const name of ["nodes", "pods", "traffic"]) assert.equal(checks[name].status, "skipped", name);
    }
    await assertNothingLeft(dir, attendees);
  });

  it("a build that fails mid-way still ends with no stack and no resources", async () => {
    const attendee = `e2e-${suffix}-f`;
    // The runtime base image has no npm, so the build stage's `npm ci` fails after the pull.
    const noNpm = `${REGISTRY}/lab/node:18-bookworm`;
    const { code, out, report } = await lab(
      ["run", "--target", "local", "--attendees", attendee, "--config", `buildImage=${noNpm}`],
      dir,
    );
    assert.equal(code, 1, out);
    const [l] = report.labs;
    assert.equal(l.up?.status, "failed");
    assert.match(l.up?.error ?? "", /npm/);
    assert.equal(l.destroy?.status, "passed");
    assert.equal(l.holdsResources, false);
    await assertNothingLeft(dir, [attendee]);
  });

  it("SIGINT during up cancels the update, destroys, exits 1 and leaves nothing", async () => {
    const attendee = `e2e-${suffix}-s`;
    const engineLog = path.join(ROOT, ".lab-logs", `lab-${attendee}.log`);
    let sent = false;
    // As a user pressing Ctrl+C while the engine is building the image.
    const poll = setInterval(() => {
      if (
        !sent &&
        fs.existsSync(engineLog) &&
        /image-build creating/.test(fs.readFileSync(engineLog, "utf8"))
      ) {
        sent = true;
        child?.kill("SIGINT");
      }
    }, 50);
    let child: ReturnType<typeof spawn> | undefined;
    try {
      const { code, out, report } = await lab(
        ["run", "--target", "local", "--attendees", attendee, "--no-preview"],
        dir,
        (_text, c) => (child = c),
      );
      assert.ok(sent, `the build never started:\n${out}`);
      assert.equal(code, 1, out);
      assert.equal(report.interrupted, true);
      const [l] = report.labs;
      // Whether the engine stopped the build or let it finish, an interrupted lab is not verified.
      assert.notEqual(l.verify?.status, "passed");
      assert.equal(l.passed, false);
      assert.equal(l.destroy?.status, "passed");
      assert.equal(l.holdsResources, false);
      await assertNothingLeft(dir, [attendee]);
    } finally {
      clearInterval(poll);
    }
  });
});
