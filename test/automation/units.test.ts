// Small pieces of the driver: durations, attendee files, config planning, state, events, display.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseAttendeeFile, resolveAttendees } from "../../automation/cli/attendees";
import { parseDuration } from "../../automation/cli/duration";
import { toProgress } from "../../automation/lifecycle/localEngine";
import { parseConfigPairs, planStackConfig } from "../../automation/cli/labconfig";
import { parseOutputs } from "../../automation/lifecycle/outputs";
import { plainDisplay } from "../../automation/reports/progress";
import { resolveState } from "../../automation/lifecycle/state";
import { formatDuration } from "../../automation/reports/format";

describe("driver units", () => {
  it("parses durations and rejects nonsense", () => {
    assert.equal(parseDuration("10m"), 600_000);
    assert.equal(parseDuration("1h30m"), 5_400_000);
    assert.equal(parseDuration("2d"), 172_800_000);
    assert.ok(parseDuration("10") instanceof Error);
    assert.ok(parseDuration("m10") instanceof Error);
    assert.equal(formatDuration(3_723_000), "1h02m");
    assert.equal(formatDuration(62_000), "1m02s");
  });

  it("reads attendee files: blank lines and # comments ignored", () => {
    assert.deepEqual(parseAttendeeFile("# workshop\nalice\n\n  bob  # late\r\n#carol\n"), ["alice", "bob"]);
    assert.deepEqual(resolveAttendees({ list: ["alice", "bob,carol"] }), {
      attendees: ["alice", "bob", "carol"],
      problems: [],
    });
  });

  it("maps config keys: bare keys mean lab:, namespaced keys pass through, later wins", () => {
    assert.deepEqual(
      parseConfigPairs(["replicas=3", "aws:region=eu-west-1", "replicas=5", "baseImage=node:20=x"]),
      {
        config: { "lab:replicas": "5", "aws:region": "eu-west-1", "lab:baseImage": "node:20=x" },
        problems: [],
      },
    );
  });

  it("takes aws:region from AWS_REGION for the aws target, and not for local", () => {
    const aws = planStackConfig({ pairs: [] }, ["alice"], { AWS_REGION: "us-west-2" });
    assert.deepEqual(aws, {
      config: { "aws:region": "us-west-2" },
      secrets: {},
      target: "aws",
      problems: [],
    });
    const local = planStackConfig({ pairs: [], target: "local" }, ["alice"], { AWS_REGION: "us-west-2" });
    assert.deepEqual(local.config, { "lab:target": "local" });
  });

  it("state: a file backend in the project and a generated 0600 passphrase, reused next time", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-state-"));
    const first = resolveState(dir, undefined, {});
    assert.equal(first.backendUrl, `file://${dir}/.lab-state`);
    assert.equal(first.secretsProvider, "passphrase");
    assert.equal(first.createdPassphraseFile, path.join(dir, ".lab-state", "passphrase"));
    assert.equal(fs.statSync(first.createdPassphraseFile as string).mode & 0o777, 0o600);
    assert.ok((first.envVars.PULUMI_CONFIG_PASSPHRASE ?? "").length >= 24);
    assert.equal(first.envVars.PULUMI_SKIP_UPDATE_CHECK, "true");
    assert.equal(first.envVars.PULUMI_NODEJS_TRANSPILE_ONLY, "true");
    const again = resolveState(dir, undefined, { PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" });
    assert.equal(again.envVars.PULUMI_CONFIG_PASSPHRASE, first.envVars.PULUMI_CONFIG_PASSPHRASE);
    assert.equal(again.createdPassphraseFile, undefined);
    assert.equal(again.envVars.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION, "true");
  });

  it("state: PULUMI_CONFIG_PASSPHRASE wins; a Pulumi Cloud backend uses its own secrets", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-state-"));
    const env = resolveState(dir, "s3://bucket/labs", {
      PULUMI_CONFIG_PASSPHRASE: "pw",
      PULUMI_NODEJS_TRANSPILE_ONLY: "false",
    });
    assert.deepEqual(env.envVars, {
      PULUMI_BACKEND_URL: "s3://bucket/labs",
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_NODEJS_TRANSPILE_ONLY: "false",
      PULUMI_CONFIG_PASSPHRASE: "pw",
    });
    const cloud = resolveState(dir, "https://api.pulumi.com", {});
    assert.equal(cloud.secretsProvider, undefined);
    assert.equal(cloud.envVars.PULUMI_CONFIG_PASSPHRASE, undefined);
    assert.equal(fs.existsSync(path.join(dir, ".lab-state", "passphrase")), false);
  });

  it("turns engine events into progress: planning steps and default providers ignored", () => {
    const meta = { op: "create", urn: "urn:a", type: "aws:ec2/vpc:Vpc" } as never;
    assert.deepEqual(toProgress({ sequence: 1, timestamp: 0, resOutputsEvent: { metadata: meta } }), {
      kind: "step-done",
      urn: "urn:a",
      op: "create",
    });
    assert.equal(
      toProgress({ sequence: 2, timestamp: 0, resourcePreEvent: { metadata: meta, planning: true } }),
      undefined,
    );
    // Default providers have step events but are not in the summary's counts (the total).
    const provider = {
      op: "create",
      urn: "urn:pulumi:lab-alice::multiarch-lab::pulumi:providers:docker-build::default_0_0_22",
      type: "pulumi:providers:docker-build",
    } as never;
    assert.equal(
      toProgress({ sequence: 4, timestamp: 0, resOutputsEvent: { metadata: provider } }),
      undefined,
    );
    assert.equal(
      toProgress({ sequence: 5, timestamp: 0, resourcePreEvent: { metadata: provider } }),
      undefined,
    );
    // A read (a StackReference) is not in the summary's counts either.
    const read = {
      op: "read",
      urn: "urn:pulumi:s::p::pulumi:pulumi:StackReference::f",
      type: "pulumi:pulumi:StackReference",
    } as never;
    assert.equal(toProgress({ sequence: 7, timestamp: 0, resOutputsEvent: { metadata: read } }), undefined);
    // An explicit provider (the lab's kubernetes provider) is a counted resource like any other.
    const explicit = {
      op: "create",
      urn: "urn:pulumi:lab-alice::multiarch-lab::lab:index:Lab$pulumi:providers:kubernetes::lab-alice",
      type: "pulumi:providers:kubernetes",
    } as never;
    assert.equal(
      toProgress({ sequence: 6, timestamp: 0, resOutputsEvent: { metadata: explicit } })?.kind,
      "step-done",
    );
    assert.deepEqual(
      toProgress({
        sequence: 3,
        timestamp: 0,
        summaryEvent: {
          maybeCorrupt: false,
          durationSeconds: 1,
          resourceChanges: { create: 4, same: 2 },
          policyPacks: {},
        },
      }),
      { kind: "summary", changes: { create: 4, same: 2 } },
    );
  });

  it("plain display: one line per phase change, with the previous phase's time and resources", () => {
    const lines: string[] = [];
    let t = 0;
    const d = plainDisplay(
      (l) => lines.push(l),
      () => t,
    );
    d.phase("alice", "queued");
    d.phase("alice", "up");
    d.resources("alice", 7, 9);
    t = 65_000;
    d.phase("alice", "verify");
    d.note("alice", "waiting for http://x/hello (try 1: HTTP 503)");
    assert.deepEqual(lines, [
      "[alice] up",
      "[alice] verify (up took 1m05s, 7/9 resources)",
      "[alice] waiting for http://x/hello (try 1: HTTP 503)",
    ]);
  });

  it("reads stack outputs tolerantly", () => {
    const o = parseOutputs({
      kubeconfig: { apiVersion: "v1" },
      replicas: "4",
      placement: "diagonal",
      nodeGroups: [{ name: "g", arch: "arm64" }, 7],
    });
    assert.equal(o.kubeconfig, '{"apiVersion":"v1"}');
    assert.equal(o.replicas, 4);
    assert.equal(o.placement, undefined);
    assert.deepEqual(o.nodeGroups, [{ name: "g", arch: "arm64", instanceTypes: [], amiType: undefined }]);
    assert.equal(o.registry, undefined);
  });
});
