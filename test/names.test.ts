import assert from "node:assert/strict";
import { createHash } from "crypto";
import { parseLabConfig } from "../infra/config";
import { ATTENDEE_MAX_LENGTH, WORKSHOP_MAX_LENGTH } from "../infra/configRules";
import {
  imageRepository,
  LabIdentity,
  labNames,
  LabNames,
  labTags,
  NAME_LIMITS,
  nameLimitProblems,
  SERVICE_NAME_MAX,
  TAG_KEYS,
} from "../infra/names";

const sha8 = (s: string) => createHash("sha256").update(s).digest("hex").slice(0, 8);

/** Every name of a lab as [field, value] pairs. */
function fields(n: LabNames): [string, string][] {
  return [
    ["base", n.base],
    ["cluster", n.cluster],
    ["namespace", n.namespace],
    ["nodeGroup.amd64", n.nodeGroup.amd64],
    ["nodeGroup.arm64", n.nodeGroup.arm64],
    ["nodeRolePrefix", n.nodeRolePrefix],
    ["launchTemplatePrefix.amd64", n.launchTemplatePrefix.amd64],
    ["launchTemplatePrefix.arm64", n.launchTemplatePrefix.arm64],
  ];
}

const LONGEST: LabIdentity = {
  workshop: "w".repeat(WORKSHOP_MAX_LENGTH),
  attendee: "a".repeat(ATTENDEE_MAX_LENGTH),
};

describe("infra/names", () => {
  it("keeps today's names for the default workshop", () => {
    assert.deepStrictEqual(labNames({ workshop: "lab", attendee: "alice" }), {
      base: "lab-alice",
      cluster: "lab-alice",
      namespace: "lab-alice",
      nodeGroup: { amd64: "lab-alice-x86", arm64: "lab-alice-arm64" },
      nodeRolePrefix: "lab-alice-node-",
      launchTemplatePrefix: { amd64: "lab-alice-x86-", arm64: "lab-alice-arm64-" },
    });
    const longest = labNames({ workshop: "lab", attendee: LONGEST.attendee });
    assert.strictEqual(longest.nodeRolePrefix, `lab-${LONGEST.attendee}-node-`);
  });

  it("names another workshop's lab <workshop>-<attendee>-<hash of both>", () => {
    const h = sha8("ci-42/alice");
    assert.deepStrictEqual(labNames({ workshop: "ci-42", attendee: "alice" }), {
      base: `ci-42-alice-${h}`,
      cluster: `ci-42-alice-${h}`,
      namespace: `ci-42-alice-${h}`,
      nodeGroup: { amd64: `ci-42-alice-${h}-x86`, arm64: `ci-42-alice-${h}-arm64` },
      nodeRolePrefix: `ci-42-alice-${h}-node-`,
      launchTemplatePrefix: { amd64: `ci-42-alice-${h}-x86-`, arm64: `ci-42-alice-${h}-arm64-` },
    });
  });

  it("fits every limit for the longest workshop and attendee accepted, cutting only what must be cut", () => {
    const cfg = parseLabConfig({ ...LONGEST, region: "eu-west-1" });
    const names = labNames(cfg);
    assert.deepStrictEqual(nameLimitProblems(names), []);
    const h = sha8(`${LONGEST.workshop}/${LONGEST.attendee}`);
    const full = `${LONGEST.workshop}-${LONGEST.attendee}-${h}`; // 60 characters
    assert.strictEqual(names.cluster, full);
    assert.strictEqual(names.namespace, full);
    const longestRepository = imageRepository(names, "s".repeat(SERVICE_NAME_MAX));
    assert.strictEqual(longestRepository, `${full}/${"s".repeat(SERVICE_NAME_MAX)}`);
    assert.ok(longestRepository.length <= NAME_LIMITS.repository);
    assert.strictEqual(names.launchTemplatePrefix.arm64, `${full}-arm64-`);
    // Cut: the readable part shortened, the hash kept, the suffix kept.
    assert.strictEqual(names.nodeRolePrefix, `${"w".repeat(23)}-${h}-node-`);
    assert.strictEqual(names.nodeRolePrefix.length, NAME_LIMITS.iamRolePrefix);
    assert.strictEqual(names.nodeGroup.arm64, `${full.slice(0, 48)}-${h}-arm64`);
    assert.strictEqual(names.nodeGroup.arm64.length, NAME_LIMITS.nodeGroup);
    assert.ok(names.nodeGroup.amd64.length <= NAME_LIMITS.nodeGroup);
  });

  it("never gives two identities one name, even where plain concatenation or a cut would", () => {
    const workshops = ["lab", "ci", "ci-pr", "lab-x", "w".repeat(30), `${"w".repeat(29)}x`, "a-b", "a"];
    const attendees = ["alice", "pr-alice", "x-alice", "b-c", "c", "a".repeat(20), `${"a".repeat(19)}b`];
    const seen = new Map<string, string>();
    for (const workshop of workshops) {
      for (const attendee of attendees) {
        for (const [field, name] of fields(labNames({ workshop, attendee }))) {
          const key = `${field}=${name}`;
          const who = `${workshop}/${attendee}`;
          assert.ok(!seen.has(key), `${field} "${name}" of ${who} is also ${seen.get(key)}'s`);
          seen.set(key, who);
        }
      }
    }
    // The ambiguous pair of plain concatenation, and two identities whose cut names share a prefix.
    assert.notStrictEqual(
      labNames({ workshop: "ci", attendee: "pr-alice" }).cluster,
      labNames({ workshop: "ci-pr", attendee: "alice" }).cluster,
    );
    const one = labNames({ workshop: "w".repeat(30), attendee: "a".repeat(20) });
    const two = labNames({ workshop: "w".repeat(30), attendee: `${"a".repeat(19)}b` });
    assert.strictEqual(one.nodeRolePrefix.slice(0, 23), two.nodeRolePrefix.slice(0, 23));
    assert.notStrictEqual(one.nodeRolePrefix, two.nodeRolePrefix);
  });

  it("makes names of valid characters for each service", () => {
    for (const id of [LONGEST, { workshop: "lab", attendee: "alice" }, { workshop: "a", attendee: "b" }]) {
      const n = labNames(id);
      assert.match(n.namespace, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "DNS-1123 label");
      assert.match(n.cluster, /^[0-9A-Za-z][A-Za-z0-9_-]*$/, "EKS cluster name");
      for (const g of Object.values(n.nodeGroup)) assert.match(g, /^[0-9A-Za-z][A-Za-z0-9_-]*$/);
      assert.match(n.nodeRolePrefix, /^[\w+=,.@-]+$/, "IAM role name");
      assert.match(
        imageRepository(n, "greeter"),
        /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/,
      );
      for (const t of Object.values(n.launchTemplatePrefix)) assert.match(t, /^[a-zA-Z0-9().\-/_]+$/);
    }
  });

  it("reports names over their limit", () => {
    const names = labNames({ workshop: "lab", attendee: "alice" });
    const problems = nameLimitProblems({ ...names, nodeRolePrefix: `lab-${"b".repeat(40)}-node-` });
    assert.deepStrictEqual(problems, [
      `node IAM role name prefix "lab-${"b".repeat(40)}-node-" is 50 characters; the limit is 38`,
    ]);
    const long = "c".repeat(64);
    const what = nameLimitProblems({ ...names, namespace: long, base: long }).map((p) => p.split(' "')[0]);
    assert.deepStrictEqual(what, ["namespace", "instance label"]);
  });

  it("tags with lab, workshop, attendee and managed-by, under exported keys", () => {
    assert.deepStrictEqual(labTags("ci-42", "alice"), {
      lab: "multiarch-lab",
      workshop: "ci-42",
      attendee: "alice",
      "managed-by": "pulumi",
    });
    assert.deepStrictEqual(TAG_KEYS, { lab: "lab", workshop: "workshop", attendee: "attendee" });
  });
});
