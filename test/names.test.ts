import * as assert from "assert";
import { ATTENDEE_MAX_LENGTH, parseLabConfig } from "../infra/config";
import { labNames, labTags, NAME_LIMITS, nameLimitProblems } from "../infra/names";

describe("infra/names", () => {
  it("derives every physical name from the attendee", () => {
    assert.deepStrictEqual(labNames("alice"), {
      base: "lab-alice",
      cluster: "lab-alice",
      namespace: "lab-alice",
      repository: "lab-alice/hello",
      nodeGroup: { amd64: "lab-alice-x86", arm64: "lab-alice-arm64" },
      nodeRolePrefix: "lab-alice-node-",
      launchTemplatePrefix: { amd64: "lab-alice-x86-", arm64: "lab-alice-arm64-" },
    });
  });

  it("fits every AWS limit for the longest accepted attendee", () => {
    const longest = "a".repeat(ATTENDEE_MAX_LENGTH);
    assert.strictEqual(parseLabConfig({ attendee: longest, region: "eu-west-1" }).attendee, longest);
    const names = labNames(longest);
    assert.deepStrictEqual(nameLimitProblems(names), []);
    assert.strictEqual(names.nodeGroup.arm64.length, 30);
    assert.ok(names.nodeGroup.arm64.length <= NAME_LIMITS.nodeGroup);
    assert.strictEqual(names.nodeRolePrefix.length, 30);
    assert.ok(names.nodeRolePrefix.length <= NAME_LIMITS.iamRolePrefix);
    assert.ok(names.cluster.length <= NAME_LIMITS.cluster);
    assert.ok(names.repository.length <= NAME_LIMITS.repository);
  });

  it("reports names over their limit", () => {
    const problems = nameLimitProblems(labNames("b".repeat(40)));
    assert.deepStrictEqual(problems, [
      `node IAM role name prefix "lab-${"b".repeat(40)}-node-" is 50 characters; the limit is 38`,
    ]);
    const what = nameLimitProblems(labNames("c".repeat(60))).map((p) => p.split(' "')[0]);
    assert.deepStrictEqual(what, [
      "namespace",
      "x86 node group name",
      "arm64 node group name",
      "node IAM role name prefix",
    ]);
  });

  it("tags with lab, attendee and managed-by", () => {
    assert.deepStrictEqual(labTags("alice"), {
      lab: "multiarch-lab",
      attendee: "alice",
      "managed-by": "pulumi",
    });
  });
});
