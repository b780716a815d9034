import {
  ACCOUNT,
  fakeDigest,
  ISSUER_ARN,
  ofType,
  one,
  recorded,
  recordedCalls,
  resetMocks,
  settle,
} from "./support/mocks";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { isSecret, valueOf } from "./support/outputs";
import { awsConfig, loadProgram } from "./support/program";
import { labNames } from "../infra/names";
import { sharedClusterNodes } from "../infra/topology";
import { contentTagged } from "./support/imageTag";

const ID = { workshop: "ws1", attendee: "foundation" };
const BASE = labNames(ID).base;
const REPO = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${BASE}/hello`;

function foundationConfig(topology: string, overrides: Record<string, string | undefined> = {}) {
  return awsConfig({
    "lab:attendee": "foundation",
    "lab:workshop": "ws1",
    "lab:role": "foundation",
    "lab:topology": topology,
    ...overrides,
  });
}

/** Recorded resource types, without duplicates, sorted. */
function types(): string[] {
  return [...new Set(recorded().map((r) => r.type))].sort();
}

describe("infra/foundation: a workshop's foundation stack", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });
  after(() => pulumi.runtime.setAllConfig({}));

  it("dedicated: the one image build in ECR, nothing else", async () => {
    const p = loadProgram(foundationConfig("dedicated"));
    assert.strictEqual(p.role, "foundation");
    assert.strictEqual(p.topology, "dedicated");
    assert.strictEqual(p.workshop, "ws1");
    assert.strictEqual(p.attendee, "foundation");
    assert.strictEqual(await valueOf(p.imageRef), `${REPO}@${fakeDigest("image-build")}`);
    assert.match(await valueOf(p.imageTag), contentTagged(REPO));
    assert.deepStrictEqual(await valueOf(p.registry), {
      server: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`,
    });
    assert.deepStrictEqual(p.platforms, ["linux/amd64", "linux/arm64"]);
    for (const key of [
      "vpcId",
      "clusterName",
      "kubeconfig",
      "nodeGroups",
      "serviceUrl",
      "namespace",
    ] as const) {
      assert.strictEqual(p[key], undefined, key);
    }
    await settle();
    assert.deepStrictEqual(types(), [
      "aws:ecr/lifecyclePolicy:LifecyclePolicy",
      "aws:ecr/repository:Repository",
      "docker-build:index:Image",
      "lab:index:Image",
      "pulumi:providers:aws",
    ]);
    assert.strictEqual(one("aws:ecr/repository:Repository").inputs.name, `${BASE}/hello`);
    // Tagged as the workshop's foundation, so the workshop's sweep finds it.
    assert.deepStrictEqual(JSON.parse(one("pulumi:providers:aws").inputs.defaultTags).tags, {
      lab: "multiarch-lab",
      workshop: "ws1",
      attendee: "foundation",
      "managed-by": "pulumi",
    });
  });

  it("lab:image: nothing to build; the reference passes through", async () => {
    const image = "ghcr.io/acme/api@sha256:" + "a".repeat(64);
    const p = loadProgram(foundationConfig("dedicated", { "lab:image": image, "lab:appDir": undefined }));
    assert.strictEqual(await valueOf(p.imageRef), image);
    assert.deepStrictEqual(await valueOf(p.registry), { server: "ghcr.io" });
    await settle();
    assert.deepStrictEqual(types(), ["pulumi:providers:aws"]);
  });

  it("shared-network: the image and a VPC whose subnets every attendee cluster may use", async () => {
    const p = loadProgram(foundationConfig("shared-network"));
    assert.strictEqual(p.topology, "shared-network");
    assert.strictEqual(await valueOf(p.vpcId!), "lab-net-vpc-id");
    assert.strictEqual(await valueOf(p.vpcCidr!), "10.0.0.0/16");
    assert.deepStrictEqual(await valueOf(p.publicSubnetIds!), ["lab-net-public-0-id", "lab-net-public-1-id"]);
    assert.deepStrictEqual(await valueOf(p.privateSubnetIds!), [
      "lab-net-private-0-id",
      "lab-net-private-1-id",
    ]);
    assert.strictEqual(p.clusterName, undefined);
    await settle();
    assert.deepStrictEqual(ofType("eks:index:Cluster"), []);
    assert.deepStrictEqual(ofType("aws:eks/nodeGroup:NodeGroup"), []);
    assert.strictEqual(ofType("aws:ec2/natGateway:NatGateway").length, 1);
    const subnets = ofType("aws:ec2/subnet:Subnet");
    assert.strictEqual(subnets.length, 4);
    for (const s of subnets) {
      // A subnet tagged for one cluster is skipped by the others' load balancers.
      const clusterTags = Object.keys(s.inputs.tags).filter((k) => k.startsWith("kubernetes.io/cluster/"));
      assert.deepStrictEqual(clusterTags, [], s.name);
    }
    assert.strictEqual(
      one("aws:ec2/subnet:Subnet", "lab-net-public-0").inputs.tags["kubernetes.io/role/elb"],
      "1",
    );
    assert.strictEqual(one("lab:index:Image").name, "image");
  });

  it("shared-cluster: one cluster, node groups sized for lab:attendees, NetworkPolicies enforced", async () => {
    const attendees = 10;
    const p = loadProgram(foundationConfig("shared-cluster", { "lab:attendees": String(attendees) }));
    const nodes = sharedClusterNodes(attendees, 1);
    assert.strictEqual(nodes, 3, "a node per 4 attendees in each group");
    assert.strictEqual(p.attendees, attendees);
    assert.strictEqual(await valueOf(p.clusterName!), BASE);
    assert.strictEqual(await isSecret(p.kubeconfig!), true);
    assert.strictEqual(JSON.parse(await valueOf(p.kubeconfig!)).kind, "Config");
    assert.strictEqual(await valueOf(p.clusterAdmin!), ISSUER_ARN);
    assert.strictEqual(await valueOf(p.vpcCidr!), "10.0.0.0/16");
    assert.strictEqual(await valueOf(p.vpcId!), "lab-net-vpc-id");
    assert.deepStrictEqual(
      (await valueOf(p.nodeGroups!)).map((g) => [g.name, g.arch]),
      [
        [`${BASE}-x86`, "amd64"],
        [`${BASE}-arm64`, "arm64"],
      ],
    );
    await settle();
    for (const g of ofType("aws:eks/nodeGroup:NodeGroup")) {
      // nodesMax (3) is raised to the desired size when that is larger; here they are equal.
      assert.deepStrictEqual(g.inputs.scalingConfig, { minSize: 1, desiredSize: nodes, maxSize: 3 }, g.name);
    }
    const eks = one("eks:index:Cluster").inputs;
    assert.strictEqual(eks.useDefaultVpcCni, false);
    // The managed vpc-cni addon, its configuration `enableNetworkPolicy: "true"` (pulumi-eks writes it).
    assert.strictEqual(eks.vpcCniOptions.enableNetworkPolicy, true);
    assert.strictEqual(eks.name, BASE);
    // Its own subnets are tagged for it, as a self-contained lab's are.
    const tags = one("aws:ec2/subnet:Subnet", "lab-net-public-0").inputs.tags;
    assert.strictEqual(tags[`kubernetes.io/cluster/${BASE}`], "shared");
    // No app on the foundation: the attendees are its tenants.
    assert.deepStrictEqual(ofType("kubernetes:apps/v1:Deployment"), []);
    assert.strictEqual(p.serviceUrl, undefined);
  });

  it("shared-cluster for 30 attendees: desired 8 per group, max raised to it", async () => {
    loadProgram(foundationConfig("shared-cluster", { "lab:attendees": "30", "lab:nodesMax": "5" }));
    await settle();
    for (const g of ofType("aws:eks/nodeGroup:NodeGroup")) {
      assert.deepStrictEqual(g.inputs.scalingConfig, { minSize: 1, desiredSize: 8, maxSize: 8 }, g.name);
    }
  });

  it("a self-contained lab's cluster keeps EKS's default VPC CNI (no network policy addon)", async () => {
    loadProgram(awsConfig());
    await settle();
    const eks = one("eks:index:Cluster").inputs;
    assert.strictEqual(eks.useDefaultVpcCni, undefined);
    assert.strictEqual(eks.vpcCniOptions, undefined);
  });

  it("local: the image in the local registry only; the topology is shared-cluster", async () => {
    const p = loadProgram({
      "lab:attendee": "foundation",
      "lab:workshop": "ws1",
      "lab:role": "foundation",
      "lab:target": "local",
      "lab:kubeconfig": "/the/local/cluster.kubeconfig",
    });
    assert.strictEqual(p.topology, "shared-cluster");
    assert.strictEqual(
      await valueOf(p.imageRef),
      `127.0.0.1:5000/${BASE}/hello@${fakeDigest("image-build")}`,
    );
    assert.strictEqual(p.kubeconfig, undefined, "the foundation does not touch the cluster");
    await settle();
    assert.deepStrictEqual(types(), [
      "docker-build:index:Image",
      "lab:index:Image",
      "pulumi-nodejs:dynamic/lab-local-registry:Resource",
    ]);
    assert.deepStrictEqual(recordedCalls(), []);
  });
});
