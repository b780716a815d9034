import { ofType, one, recorded, resetMocks, settle } from "./support/mocks";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  attendeeConfig,
  FOUNDATION,
  FOUNDATION_IMAGE,
  FOUNDATION_REF,
  foundationOutputs,
  holdFoundation,
  SHARED_ADMIN,
  SHARED_CLUSTER,
  SHARED_KUBECONFIG,
  SHARED_NODE_GROUPS,
} from "./support/foundation";
import { isSecret, isSecretInput, plain, valueOf } from "./support/outputs";
import { awsConfig, loadProgram } from "./support/program";
import { labNames } from "../infra/names";

const BASE = labNames({ workshop: "ws1", attendee: "alice" }).base;
const PRINCIPAL = "arn:aws:iam::123456789012:role/attendees/alice";

/** Nothing of an image build: no Image component, ECR repository or BuildKit build. */
function assertNoImageBuilt(): void {
  for (const type of ["lab:index:Image", "aws:ecr/repository:Repository", "docker-build:index:Image"]) {
    assert.deepStrictEqual(ofType(type), [], `${type} in an attendee stack`);
  }
}

/** The one StackReference, to the foundation, fully qualified. */
function assertReadsFoundation(): void {
  const refs = ofType("pulumi:pulumi:StackReference");
  assert.strictEqual(refs.length, 1);
  assert.strictEqual(refs[0].inputs.name, FOUNDATION_REF);
}

function deploymentImage(): string {
  return one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0].image;
}

describe("infra/attendee: an attendee of a workshop's foundation", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });
  after(() => pulumi.runtime.setAllConfig({}));

  it("a self-contained lab reads no foundation and exports no workshop outputs", async () => {
    const p = loadProgram(awsConfig());
    for (const key of [
      "role",
      "topology",
      "foundation",
      "handoutKubeconfig",
      "vpcId",
      "attendees",
    ] as const) {
      assert.strictEqual(p[key], undefined, key);
    }
    await settle();
    assert.deepStrictEqual(ofType("pulumi:pulumi:StackReference"), []);
    assert.strictEqual(ofType("lab:index:Image").length, 1);
  });

  it("dedicated: its own VPC and cluster, the foundation's image, no build", async () => {
    holdFoundation(foundationOutputs("aws", "dedicated"));
    const p = loadProgram(attendeeConfig("dedicated"));
    assert.strictEqual(p.role, "attendee");
    assert.strictEqual(p.topology, "dedicated");
    assert.strictEqual(p.foundation, FOUNDATION);
    assert.strictEqual(await valueOf(p.imageRef), FOUNDATION_IMAGE);
    assert.strictEqual(await valueOf(p.clusterName!), BASE);
    assert.strictEqual(await valueOf(p.namespace!), BASE);
    await settle();
    assertReadsFoundation();
    assertNoImageBuilt();
    assert.strictEqual(deploymentImage(), FOUNDATION_IMAGE, "pods run the foundation's digest-pinned index");
    assert.strictEqual(ofType("aws:ec2/vpc:Vpc").length, 1);
    assert.strictEqual(one("eks:index:Cluster").inputs.vpcId, "lab-net-vpc-id");
    // No access entry beyond the node role's: the principal is optional.
    assert.deepStrictEqual(Object.keys(one("eks:index:Cluster").inputs.accessEntries), ["nodes"]);
  });

  it("dedicated with lab:attendeePrincipal: that principal is admin of the attendee's own cluster", async () => {
    holdFoundation(foundationOutputs("aws", "dedicated"));
    loadProgram(attendeeConfig("dedicated", { "lab:attendeePrincipal": PRINCIPAL }));
    await settle();
    const entries = one("eks:index:Cluster").inputs.accessEntries;
    assert.strictEqual(entries["admin-0"].principalArn, PRINCIPAL);
    assert.deepStrictEqual(entries["admin-0"].accessPolicies.admin.accessScope, { type: "cluster" });
  });

  it("shared-network: its own cluster in the foundation's VPC and subnets; no VPC of its own", async () => {
    holdFoundation(foundationOutputs("aws", "shared-network"));
    const p = loadProgram(attendeeConfig("shared-network"));
    assert.strictEqual(p.topology, "shared-network");
    assert.strictEqual(await valueOf(p.imageRef), FOUNDATION_IMAGE);
    await settle();
    assertReadsFoundation();
    assertNoImageBuilt();
    for (const type of [
      "aws:ec2/vpc:Vpc",
      "aws:ec2/subnet:Subnet",
      "aws:ec2/natGateway:NatGateway",
      "aws:ec2/eip:Eip",
      "lab:index:Network",
    ]) {
      assert.deepStrictEqual(ofType(type), [], type);
    }
    const eks = one("eks:index:Cluster").inputs;
    assert.strictEqual(eks.vpcId, "vpc-shared");
    assert.deepStrictEqual(eks.publicSubnetIds, ["subnet-pub-0", "subnet-pub-1"]);
    assert.deepStrictEqual(eks.privateSubnetIds, ["subnet-priv-0", "subnet-priv-1"]);
    for (const g of ofType("aws:eks/nodeGroup:NodeGroup")) {
      assert.deepStrictEqual(g.inputs.subnetIds, ["subnet-priv-0", "subnet-priv-1"], g.name);
    }
    assert.strictEqual(deploymentImage(), FOUNDATION_IMAGE);
  });

  it("shared-cluster: a tenant of the foundation's cluster (namespace, quota, limits, isolation)", async () => {
    holdFoundation(foundationOutputs("aws", "shared-cluster"));
    const p = loadProgram(attendeeConfig("shared-cluster"));
    assert.strictEqual(await valueOf(p.imageRef), FOUNDATION_IMAGE);
    // verify's contract, from the foundation: the cluster, its node groups, its admin.
    assert.strictEqual(await valueOf(p.clusterName!), SHARED_CLUSTER);
    assert.deepStrictEqual(await valueOf(p.nodeGroups!), SHARED_NODE_GROUPS);
    assert.strictEqual(await valueOf(p.clusterAdmin!), SHARED_ADMIN);
    assert.strictEqual(await valueOf(p.kubeconfig!), SHARED_KUBECONFIG);
    assert.strictEqual(await isSecret(p.kubeconfig!), true);
    assert.strictEqual(await valueOf(p.namespace!), BASE);
    assert.strictEqual(
      await valueOf(p.serviceUrl!),
      "http://app-service-0123.elb.eu-west-1.amazonaws.com/hello",
    );
    const handout = JSON.parse(await valueOf(p.handoutKubeconfig!));
    assert.strictEqual(await isSecret(p.handoutKubeconfig!), true);
    assert.strictEqual(handout.contexts[0].context.namespace, BASE);
    assert.strictEqual(handout.clusters[0].cluster.server, "https://shared.eks.example");
    await settle();
    assertReadsFoundation();
    assertNoImageBuilt();
    for (const type of [
      "eks:index:Cluster",
      "aws:eks/nodeGroup:NodeGroup",
      "aws:ec2/vpc:Vpc",
      "lab:index:Cluster",
    ]) {
      assert.deepStrictEqual(ofType(type), [], type);
    }
    // Every Kubernetes object goes through the provider made from the foundation's kubeconfig.
    const provider = one("pulumi:providers:kubernetes");
    assert.strictEqual(isSecretInput(provider.inputs.kubeconfig), true);
    assert.strictEqual(plain(provider.inputs.kubeconfig), SHARED_KUBECONFIG);
    const ref = `${provider.urn}::${provider.id}`;
    for (const r of recorded().filter((x) => x.type.startsWith("kubernetes:"))) {
      assert.strictEqual(r.provider, ref, `${r.type} ${r.name}`);
    }
    // One namespace (the tenant's), Pod Security restricted; the app uses it.
    const ns = one("kubernetes:core/v1:Namespace").inputs.metadata;
    assert.strictEqual(ns.name, BASE);
    assert.strictEqual(ns.labels["pod-security.kubernetes.io/enforce"], "restricted");
    assert.strictEqual(ns.labels.attendee, "alice");
    for (const type of [
      "kubernetes:core/v1:ResourceQuota",
      "kubernetes:core/v1:LimitRange",
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:Service",
    ]) {
      assert.strictEqual(one(type).inputs.metadata.namespace, BASE, type);
    }
    assert.strictEqual(
      one("kubernetes:core/v1:ResourceQuota").inputs.spec.hard["services.loadbalancers"],
      "1",
    );
    const policies = ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    assert.deepStrictEqual(policies.map((x) => x.inputs.metadata.name).sort(), ["hello", "tenant-isolation"]);
    const isolation = policies.find((x) => x.inputs.metadata.name === "tenant-isolation")!.inputs.spec;
    assert.deepStrictEqual(isolation.ingress, [{ from: [{ podSelector: {} }] }]);
    // The app port: the namespace's own pods, and clients outside the VPC (the NLB keeps their address).
    const app = policies.find((x) => x.inputs.metadata.name === "hello")!.inputs.spec;
    assert.deepStrictEqual(app.ingress, [
      {
        from: [{ podSelector: {} }, { ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/16"] } }],
        ports: [{ port: 8080, protocol: "TCP" }],
      },
    ]);
    const service = one("kubernetes:core/v1:Service").inputs.spec;
    assert.strictEqual(service.type, "LoadBalancer");
    assert.strictEqual(service.externalTrafficPolicy, "Local");
    assert.strictEqual(deploymentImage(), FOUNDATION_IMAGE);
    // No principal given: no access entry, nothing of AWS at all.
    assert.deepStrictEqual(
      recorded().filter((r) => r.type.includes("aws")),
      [],
    );
    assert.deepStrictEqual(ofType("aws:eks/accessEntry:AccessEntry"), []);
    assert.deepStrictEqual(ofType("aws:eks/accessPolicyAssociation:AccessPolicyAssociation"), []);
  });

  it("shared-cluster with lab:attendeePrincipal: EKS edit access scoped to the attendee's namespace", async () => {
    holdFoundation(foundationOutputs("aws", "shared-cluster"));
    loadProgram(attendeeConfig("shared-cluster", { "lab:attendeePrincipal": PRINCIPAL }));
    await settle();
    const entry = one("aws:eks/accessEntry:AccessEntry").inputs;
    assert.deepStrictEqual(
      [entry.clusterName, entry.principalArn, entry.type],
      [SHARED_CLUSTER, PRINCIPAL, "STANDARD"],
    );
    const assoc = one("aws:eks/accessPolicyAssociation:AccessPolicyAssociation");
    assert.deepStrictEqual(
      [assoc.inputs.clusterName, assoc.inputs.principalArn, assoc.inputs.policyArn],
      [SHARED_CLUSTER, PRINCIPAL, "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"],
    );
    assert.deepStrictEqual(assoc.inputs.accessScope, { type: "namespace", namespaces: [BASE] });
    const entryUrn = one("aws:eks/accessEntry:AccessEntry").urn!;
    assert.ok(assoc.dependencies.includes(entryUrn), "the association waits for the entry");
    // Tagged through the attendee's provider, like every AWS resource of the lab.
    const provider = one("pulumi:providers:aws");
    assert.strictEqual(one("aws:eks/accessEntry:AccessEntry").provider, `${provider.urn}::${provider.id}`);
    assert.strictEqual(JSON.parse(provider.inputs.defaultTags).tags.attendee, "alice");
  });
});
