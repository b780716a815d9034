import { ofType, resetMocks, settle } from "./support/mocks";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { attendeeConfig, FOUNDATION, foundationOutputs, holdFoundation } from "./support/foundation";
import { loadProgram } from "./support/program";
import { foundationProblems } from "../infra/foundationRef";

const cfg = { foundation: FOUNDATION, workshop: "ws1", target: "aws", topology: "shared-cluster" } as const;

describe("infra/foundationRef: the attendee checks its foundation", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });
  after(() => pulumi.runtime.setAllConfig({}));

  it("a foundation of the same workshop, target and topology with the outputs it needs: no problem", () => {
    for (const topology of ["dedicated", "shared-network", "shared-cluster"] as const) {
      assert.deepStrictEqual(
        foundationProblems({ ...cfg, topology }, foundationOutputs("aws", topology)),
        [],
        topology,
      );
    }
    assert.deepStrictEqual(
      foundationProblems({ ...cfg, target: "local" }, foundationOutputs("local", "shared-cluster")),
      [],
    );
  });

  it("names what is wrong and the fix", () => {
    assert.deepStrictEqual(foundationProblems(cfg, {}), [
      `foundation stack ${FOUNDATION} has no outputs: bring it up before its attendees (lab up does), or fix lab:foundation`,
    ]);
    assert.match(
      foundationProblems(cfg, { ...foundationOutputs("aws", "shared-cluster"), role: undefined })[0],
      /is not a workshop foundation \(its role output is undefined\): set lab:foundation to the stack made with lab:role foundation/,
    );
    assert.deepStrictEqual(foundationProblems(cfg, foundationOutputs("aws", "shared-network")), [
      `foundation stack ${FOUNDATION} has topology "shared-network", this attendee shared-cluster: ` +
        "set lab:topology like the foundation's (the topology is the workshop's)",
    ]);
    const other = { ...foundationOutputs("aws", "shared-cluster"), workshop: "ws2", target: "local" };
    const problems = foundationProblems(cfg, other);
    assert.strictEqual(problems.length, 2);
    assert.match(problems[0], /has workshop "ws2", this attendee ws1/);
    assert.match(problems[1], /has target "local", this attendee aws: set lab:target/);
    const { kubeconfig: _kc, nodeGroups: _ng, ...partial } = foundationOutputs("aws", "shared-cluster");
    assert.deepStrictEqual(foundationProblems(cfg, partial), [
      `foundation stack ${FOUNDATION} lacks the outputs kubeconfig, nodeGroups: update it (lab up) before its attendees`,
    ]);
  });

  it("a mismatched foundation: nothing is deployed from it", async () => {
    holdFoundation(foundationOutputs("aws", "shared-network"));
    const p = loadProgram(attendeeConfig("shared-cluster"));
    const error = await (p.imageRef as unknown as { promise(): Promise<string> }).promise().then(
      () => undefined,
      (e: Error) => e,
    );
    assert.ok(pulumi.RunError.isInstance(error), `expected a RunError, got ${error}`);
    assert.match((error as Error).message, /has topology "shared-network", this attendee shared-cluster/);
    await settle();
    assert.deepStrictEqual(ofType("kubernetes:apps/v1:Deployment"), []);
  });
});
