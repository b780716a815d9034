/**
 * The sweep against moto over real HTTP: it finds exactly the resources carrying the lab's tags for
 * one workshop (and attendee), deletes them in dependency order, and never touches an untagged
 * look-alike or another workshop's resources.
 */
import assert from "node:assert/strict";
import { sweep, sweepLab } from "../../automation/aws/sweep";
import * as ec2 from "@aws-sdk/client-ec2";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../automation/cli/cli";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";
import { Made, createLab, labTagsOf, stillThere } from "./support/awsFixtures";
import { Moto, REGION, startMoto } from "./support/awsMoto";
import { SweepItem } from "../../automation/aws/sweepFind";

const idsByKind = (items: SweepItem[]): Made => {
  const out: Made = {};
  for (const i of items) (out[i.kind] ??= []).push(i.id);
  for (const k of Object.keys(out)) out[k].sort();
  return out;
};
const sorted = (m: Made): Made => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, [...v].sort()]));
const merge = (...ms: Made[]): Made => {
  const out: Made = {};
  for (const m of ms) for (const [k, v] of Object.entries(m)) (out[k] ??= []).push(...v);
  return sorted(out);
};

describe("aws sweep (moto)", function () {
  let moto: Moto;
  let alice: Made, bob: Made, otherWorkshop: Made, lookAlike: Made, labOnly: Made;

  before(async function () {
    moto = await startMoto(this);
  });
  after(async () => moto?.stop());
  beforeEach(async function () {
    // Five labs through moto: seconds when idle, over a minute on two busy cores.
    this.timeout(240_000);
    await moto.reset();
    const c = moto.clients;
    alice = await createLab(c, "ws1-alice", labTagsOf("ws1", "alice"), "10.1");
    bob = await createLab(c, "ws1-bob", labTagsOf("ws1", "bob"), "10.2");
    otherWorkshop = await createLab(c, "ws2-alice", labTagsOf("ws2", "alice"), "10.3");
    // Same names and Kubernetes cluster tag, no lab tags at all.
    lookAlike = await createLab(c, "lab-alice", { Name: "ws1-alice", attendee: "alice" }, "10.4");
    // The lab tag and the attendee, but no workshop tag (e.g. made before workshops existed).
    labOnly = await createLab(c, "lab-alice-old", { lab: "multiarch-lab", attendee: "alice" }, "10.5");
  });

  it("lists exactly one attendee's tagged resources, each with its ID", async () => {
    const r = await sweep(
      { region: REGION, workshop: "ws1", attendee: "alice" },
      { delete: false, clients: moto.clients },
    );
    assert.deepEqual(idsByKind(r.items), sorted(alice));
    assert.ok(r.items.every((i) => i.status === "found"));
  });

  it("lists exactly one attendee's tagged resources, with the ARN where AWS has one", async () => {
    const r = await sweep(
      { region: REGION, workshop: "ws1", attendee: "alice" },
      { delete: false, clients: moto.clients },
    );
    for (const kind of [
      "load-balancer",
      "target-group",
      "ecr-repository",
      "iam-role",
      "eks-cluster",
      "eks-nodegroup",
    ]) {
      const item = r.items.find((i) => i.kind === kind);
      assert.match(String(item?.arn), /^arn:aws:/, kind);
    }
  });

  it("without an attendee, lists the whole workshop and nothing of another workshop or untagged", async () => {
    const items = await sweepLab(
      { region: REGION, workshop: "ws1" },
      { delete: false, clients: moto.clients },
    );
    assert.deepEqual(idsByKind(items), merge(alice, bob));
  });

  it("--delete removes one attendee's resources in dependency order and touches nothing else", async () => {
    const lines: string[] = [];
    const r = await sweep(
      { region: REGION, workshop: "ws1", attendee: "alice" },
      { delete: true, clients: moto.clients, log: (l) => lines.push(l), pollMs: 10 },
    );
    assert.deepEqual(r.left, []);
    assert.deepEqual(idsByKind(r.items), sorted(alice));
    assert.deepEqual(
      r.items.filter((i) => i.status !== "deleted"),
      [],
    );
    assert.deepEqual(await stillThere(moto.clients, alice), {});
    // Every other resource is exactly as it was.
    for (const made of [bob, otherWorkshop, lookAlike, labOnly]) {
      assert.deepEqual(await stillThere(moto.clients, made), sorted(made));
    }
    // Dependents before what they depend on: node groups, clusters, LBs … subnets, IGW, VPC.
    const order = lines.map((l) => l.split(" ")[1]);
    const at = (k: string) => order.indexOf(k);
    assert.ok(at("eks-nodegroup") < at("eks-cluster"), lines.join("\n"));
    assert.ok(at("load-balancer") < at("target-group"));
    assert.ok(at("nat-gateway") < at("elastic-ip") && at("elastic-ip") < at("subnet"));
    assert.ok(at("network-interface") < at("subnet") && at("security-group") < at("vpc"));
    assert.ok(at("subnet") < at("internet-gateway") && at("internet-gateway") < at("vpc"));
  });

  it("another workshop's sweep leaves ws1 alone", async () => {
    const left = await sweepLab(
      { region: REGION, workshop: "ws2" },
      { delete: true, clients: moto.clients, pollMs: 10 },
    );
    assert.deepEqual(left, []);
    assert.deepEqual(await stillThere(moto.clients, otherWorkshop), {});
    assert.deepEqual(await stillThere(moto.clients, alice), sorted(alice));
    assert.deepEqual(await stillThere(moto.clients, bob), sorted(bob));
  });

  it("reports a tagged resource of a kind it does not delete as left, and never deletes it", async () => {
    const run = await moto.clients.ec2.send(
      new ec2.RunInstancesCommand({
        ImageId: "ami-12c6146b",
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "m7i.large",
        TagSpecifications: [
          {
            ResourceType: "instance",
            Tags: Object.entries(labTagsOf("ws1", "alice")).map(([Key, Value]) => ({ Key, Value })),
          },
        ],
      }),
    );
    const id = String(run.Instances?.[0]?.InstanceId);
    const left = await sweepLab(
      { region: REGION, workshop: "ws1", attendee: "alice" },
      { delete: true, clients: moto.clients, pollMs: 10 },
    );
    assert.deepEqual(
      left.map((i) => [i.kind, i.id.split("/").pop()]),
      [["other", id]],
    );
    const still = await moto.clients.ec2.send(new ec2.DescribeInstancesCommand({ InstanceIds: [id] }));
    assert.equal(still.Reservations?.[0]?.Instances?.[0]?.State?.Name, "running");
  });

  it("lab sweep: lists (exit 0), then --delete reports each item and exits 0 with nothing left", async () => {
    const out: string[] = [];
    const io = { out: (t: string) => out.push(t), err: (t: string) => out.push(t) };
    const base = ["sweep", "--stack-prefix", "ws1", "--attendees", "alice", "--region", REGION];
    assert.equal(await main(base, io), 0, out.join("\n"));
    for (const id of Object.values(alice).flat()) assert.ok(out.join("\n").includes(id), id);
    assert.deepEqual(await stillThere(moto.clients, alice), sorted(alice));
    const report = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "lab-sweep-")), "sweep.json");
    assert.equal(await main([...base, "--delete", "--report", report], io), 0, out.join("\n"));
    const json = JSON.parse(fs.readFileSync(report, "utf8"));
    assert.deepEqual(json.left, []);
    assert.deepEqual(idsByKind(json.items), sorted(alice));
    assert.deepEqual(await stillThere(moto.clients, bob), sorted(bob));
    fs.rmSync(path.dirname(report), { recursive: true });
  });

  it("reap --region sweeps the labs whose state is gone, and only those", async function () {
    this.timeout(240_000);
    // bob still has a stack in the backend; alice's state is gone.
    const engine = new FakeEngine();
    engine.listing = [{ name: "ws1-bob", resourceCount: 40 }];
    const r = await runCli(["reap", "--older-than", "1d", "--stack-prefix", "ws1", "--region", REGION], {
      engine,
    });
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /sweeping 1 lab\(s\) whose state is gone, by their tags in us-east-1: alice/);
    assert.deepEqual(await stillThere(moto.clients, alice), {}, "alice's resources are gone");
    assert.deepEqual(await stillThere(moto.clients, bob), sorted(bob));
    assert.deepEqual(await stillThere(moto.clients, otherWorkshop), sorted(otherWorkshop));
    assert.deepEqual(await stillThere(moto.clients, lookAlike), sorted(lookAlike));
    assert.deepEqual(engine.of("destroy"), [], "bob's lab is not old enough to reap");
  });

  it("lab sweep: a bad region or prefix exits 2 and nothing is deleted", async () => {
    for (const argv of [
      ["sweep", "--stack-prefix", "ws1", "--region", "mars-1", "--delete"],
      ["sweep", "--stack-prefix", "WS 1", "--region", REGION, "--delete"],
    ]) {
      const err: string[] = [];
      assert.equal(await main(argv, { out: () => undefined, err: (t) => err.push(t) }), 2);
      assert.match(err.join("\n"), /mars-1|WS 1/);
    }
    assert.deepEqual(await stillThere(moto.clients, alice), sorted(alice));
  });
});
