import { ACCOUNT, ofType, one, recorded, Recorded, resetMocks, settle } from "./support/mocks";
import assert from "node:assert/strict";
import * as aws from "@pulumi/aws";
import { Cluster, ClusterArgs, clusterNodeGroupSpecs, NODE_POLICIES } from "../infra/cluster";
import { parseLabConfig } from "../infra/config";
import { nodeGroupSpec } from "../infra/nodegroups";
import { isSecret, isSecretInput, plain, valueOf } from "./support/outputs";

const awsProvider = new aws.Provider("test-aws", { region: "eu-west-1" });

function clusterArgs(overrides: Record<string, string> = {}): ClusterArgs {
  return { ...parseLabConfig({ attendee: "alice", region: "eu-west-1", ...overrides }), awsProvider };
}

const NODE_ROLE_ARN = `arn:aws:iam::${ACCOUNT}:role/lab-alice-node-20250101000000000000000001`;

describe("infra/cluster: node group specs", () => {
  it("derives each group's AMI type from its instance types", () => {
    const [x86, arm] = clusterNodeGroupSpecs(clusterArgs());
    assert.deepStrictEqual(
      [x86.name, x86.arch, x86.instanceTypes, x86.amiType],
      ["lab-alice-x86", "amd64", ["m7i.large"], "AL2023_x86_64_STANDARD"],
    );
    assert.deepStrictEqual(
      [arm.name, arm.arch, arm.instanceTypes, arm.amiType],
      ["lab-alice-arm64", "arm64", ["m6g.large"], "AL2023_ARM_64_STANDARD"],
    );
    assert.strictEqual(arm.labels["lab.multiarch/arch"], "arm64");
    assert.deepStrictEqual(arm.taints, []);
  });

  it("defends itself against an instance type of the wrong architecture", () => {
    const base = {
      attendee: "alice",
      workshop: "lab",
      minSize: 1,
      desiredSize: 1,
      maxSize: 3,
      capacityType: "ON_DEMAND" as const,
    };
    assert.throws(
      () => nodeGroupSpec({ ...base, arch: "arm64", instanceTypes: ["m7i.large"], taint: false }),
      /node group lab-alice-arm64 must run arm64, but instance types m7i\.large are amd64/,
    );
    assert.throws(
      () => nodeGroupSpec({ ...base, arch: "amd64", instanceTypes: ["q9.large"], taint: false }),
      /node group lab-alice-x86: instance family "q9"/,
    );
    assert.throws(
      () => nodeGroupSpec({ ...base, arch: "amd64", instanceTypes: ["m7i.large"], taint: false, minSize: 4 }),
      /must satisfy 0 <= min <= desired <= max/,
    );
  });

  it("taints only the Graviton group when taintArm is on", () => {
    const [x86, arm] = clusterNodeGroupSpecs(clusterArgs({ taintArm: "true" }));
    assert.deepStrictEqual(x86.taints, []);
    assert.deepStrictEqual(arm.taints, [{ key: "arch", value: "arm64", effect: "NO_SCHEDULE" }]);
  });
});

describe("infra/cluster: Cluster", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  it("creates an API-mode EKS cluster without a default node group, with node access", async () => {
    const cluster = new Cluster("lab", clusterArgs());
    assert.strictEqual(await valueOf(cluster.clusterName), "lab-alice");
    await settle();
    const eks = one("eks:index:Cluster");
    assert.strictEqual(eks.name, "lab-eks");
    assert.strictEqual(eks.inputs.name, "lab-alice");
    assert.strictEqual(eks.inputs.version, "1.34");
    assert.strictEqual(eks.inputs.skipDefaultNodeGroup, true);
    assert.strictEqual(eks.inputs.authenticationMode, "API");
    assert.deepStrictEqual(eks.inputs.accessEntries, {
      nodes: { principalArn: NODE_ROLE_ARN, type: "EC2_LINUX" },
    });
    assert.deepStrictEqual(eks.inputs.privateSubnetIds, ["lab-net-private-0-id", "lab-net-private-1-id"]);
    assert.deepStrictEqual(eks.inputs.publicSubnetIds, ["lab-net-public-0-id", "lab-net-public-1-id"]);
    assert.match(eks.providers.aws, /pulumi:providers:aws::test-aws::/, "the AWS provider is forwarded");
    assert.deepStrictEqual(eks.inputs.publicAccessCidrs, ["0.0.0.0/0"], "the default: open (with a warning)");
  });

  it("limits the public API endpoint to lab:apiAllowedCidrs", async () => {
    new Cluster("lab", clusterArgs({ apiAllowedCidrs: "203.0.113.7/32" }));
    await settle();
    assert.deepStrictEqual(one("eks:index:Cluster").inputs.publicAccessCidrs, ["203.0.113.7/32"]);
  });

  it("grants extra admins the cluster admin policy through access entries", async () => {
    new Cluster("lab", {
      ...clusterArgs(),
      adminPrincipalArns: ["arn:aws:iam::123456789012:role/Instructor"],
    });
    await settle();
    assert.deepStrictEqual(one("eks:index:Cluster").inputs.accessEntries["admin-0"], {
      principalArn: "arn:aws:iam::123456789012:role/Instructor",
      type: "STANDARD",
      accessPolicies: {
        admin: {
          policyArn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
          accessScope: { type: "cluster" },
        },
      },
    });
  });

  it("creates the node role explicitly with the three worker policies", async () => {
    new Cluster("lab", clusterArgs());
    await settle();
    const role = one("aws:iam/role:Role");
    assert.strictEqual(role.inputs.namePrefix, "lab-alice-node-");
    assert.deepStrictEqual(JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Principal, {
      Service: "ec2.amazonaws.com",
    });
    const attached = ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map(
      (a) => a.inputs.policyArn,
    );
    assert.deepStrictEqual(attached.sort(), NODE_POLICIES.map((p) => `arn:aws:iam::aws:policy/${p}`).sort());
  });

  it("creates an x86 and a Graviton managed node group with explicit AMI types in private subnets", async () => {
    const cluster = new Cluster("lab", clusterArgs({ nodesDesired: "2", capacityType: "SPOT" }));
    const described = await valueOf(cluster.nodeGroups);
    await settle();
    const groups = Object.fromEntries(
      ofType("aws:eks/nodeGroup:NodeGroup").map((g): [string, Recorded] => [g.inputs.nodeGroupName, g]),
    );
    assert.deepStrictEqual(Object.keys(groups).sort(), ["lab-alice-arm64", "lab-alice-x86"]);
    const x86 = groups["lab-alice-x86"].inputs;
    const arm = groups["lab-alice-arm64"].inputs;
    assert.deepStrictEqual([x86.amiType, x86.instanceTypes], ["AL2023_x86_64_STANDARD", ["m7i.large"]]);
    assert.deepStrictEqual([arm.amiType, arm.instanceTypes], ["AL2023_ARM_64_STANDARD", ["m6g.large"]]);
    for (const g of [x86, arm]) {
      assert.strictEqual(g.clusterName, "lab-alice");
      assert.strictEqual(g.nodeRoleArn, NODE_ROLE_ARN);
      assert.deepStrictEqual(g.subnetIds, ["lab-net-private-0-id", "lab-net-private-1-id"]);
      assert.deepStrictEqual(g.scalingConfig, { minSize: 1, desiredSize: 2, maxSize: 3 });
      assert.strictEqual(g.capacityType, "SPOT");
      assert.strictEqual(g.launchTemplate.version, "1");
    }
    // Nodes bootstrap through the NAT route and need their policies first.
    const needed = [
      one("aws:ec2/natGateway:NatGateway").urn,
      one("aws:ec2/routeTable:RouteTable", "lab-net-private-rt").urn,
      ...ofType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.urn),
    ];
    for (const g of Object.values(groups)) {
      for (const urn of needed)
        assert.ok(g.dependencies.includes(urn as string), `${g.name} waits for ${urn}`);
    }
    assert.strictEqual(x86.labels["lab.multiarch/arch"], "amd64");
    assert.strictEqual(x86.launchTemplate.id, "lt-lab-x86-lt");
    assert.strictEqual(arm.launchTemplate.id, "lt-lab-arm64-lt");
    assert.deepStrictEqual(described, [
      {
        name: "lab-alice-x86",
        arch: "amd64",
        instanceTypes: ["m7i.large"],
        amiType: "AL2023_x86_64_STANDARD",
      },
      {
        name: "lab-alice-arm64",
        arch: "arm64",
        instanceTypes: ["m6g.large"],
        amiType: "AL2023_ARM_64_STANDARD",
      },
    ]);
  });

  it("requires IMDSv2 and tags the instances each launch template starts", async () => {
    new Cluster("lab", clusterArgs());
    await settle();
    const templates = ofType("aws:ec2/launchTemplate:LaunchTemplate");
    assert.strictEqual(templates.length, 2);
    for (const lt of templates) {
      assert.deepStrictEqual(lt.inputs.metadataOptions, {
        httpEndpoint: "enabled",
        httpTokens: "required",
        httpPutResponseHopLimit: 1,
      });
      assert.strictEqual(lt.inputs.imageId, undefined, "the AMI comes from amiType");
      const instance = lt.inputs.tagSpecifications.find(
        (t: { resourceType: string }) => t.resourceType === "instance",
      );
      assert.deepStrictEqual(
        [instance.tags.lab, instance.tags.workshop, instance.tags.attendee, instance.tags["managed-by"]],
        ["multiarch-lab", "lab", "alice", "pulumi"],
      );
    }
  });

  it("outputs the kubeconfig as a secret JSON string and a provider that waits for the node groups", async () => {
    const cluster = new Cluster("lab", clusterArgs());
    assert.strictEqual(await isSecret(cluster.kubeconfig), true);
    const kubeconfig = JSON.parse(await valueOf(cluster.kubeconfig));
    assert.strictEqual(kubeconfig.clusters[0].name, "lab-alice");
    await settle();
    const provider = one("pulumi:providers:kubernetes");
    assert.strictEqual(provider.name, "lab-k8s");
    assert.ok(isSecretInput(provider.inputs.kubeconfig));
    assert.strictEqual(JSON.parse(plain(provider.inputs.kubeconfig)).clusters[0].name, "lab-alice");
    const groupUrns = ofType("aws:eks/nodeGroup:NodeGroup").map((g) => g.urn);
    assert.strictEqual(groupUrns.length, 2);
    for (const urn of groupUrns)
      assert.ok(provider.dependencies.includes(urn as string), `provider waits for ${urn}`);
  });

  it("fails on a mismatched instance type before declaring any resource", async () => {
    assert.throws(
      () => new Cluster("lab", { ...clusterArgs(), armInstanceTypes: ["c7i.large"] }),
      /must run arm64, but instance types c7i\.large are amd64/,
    );
    await settle();
    assert.deepStrictEqual(
      recorded()
        .map((r) => r.type)
        .filter((t) => t !== "lab:index:Cluster"),
      [],
    );
  });
});
