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
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { acceptsTags } from "./support/awsSchema";
import { isSecret, isSecretInput, plain, valueOf } from "./support/outputs";
import { awsConfig, loadProgram } from "./support/program";
import { labNames } from "../infra/names";
import { contentTagged } from "./support/imageTag";

const LAB_TAGS = { lab: "multiarch-lab", workshop: "lab", attendee: "alice", "managed-by": "pulumi" };
const REPO = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/lab-alice/hello`;

describe("infra/index: the whole program", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });
  after(() => pulumi.runtime.setAllConfig({}));

  it("aws target: exports the full contract with values", async () => {
    const p = loadProgram(awsConfig());
    const imageRef = `${REPO}@${fakeDigest("image-build")}`;
    assert.strictEqual(p.attendee, "alice");
    assert.strictEqual(p.target, "aws");
    assert.strictEqual(p.region, "eu-west-1");
    assert.strictEqual(p.placement, "spread");
    assert.strictEqual(p.replicas, 4);
    assert.deepStrictEqual(p.platforms, ["linux/amd64", "linux/arm64"]);
    assert.strictEqual(await valueOf(p.imageRef), imageRef);
    assert.match(await valueOf(p.imageTag), contentTagged(REPO));
    assert.strictEqual(await valueOf(p.clusterName!), "lab-alice");
    assert.strictEqual(
      await valueOf(p.serviceUrl!),
      "http://app-service-0123.elb.eu-west-1.amazonaws.com/hello",
    );
    assert.strictEqual(await valueOf(p.namespace!), "lab-alice");
    assert.deepStrictEqual(p.podSelector, {
      "app.kubernetes.io/name": "hello",
      "app.kubernetes.io/instance": "lab-alice",
    });
    assert.deepStrictEqual(await valueOf(p.nodeGroups!), [
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
    // No registry password in the outputs: verify fetches a fresh token itself.
    assert.deepStrictEqual(await valueOf(p.registry), {
      server: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com`,
    });
    assert.strictEqual(await isSecret(p.kubeconfig!), true);
    assert.strictEqual(JSON.parse(await valueOf(p.kubeconfig!)).kind, "Config");
    assert.strictEqual(
      await valueOf(p.clusterAdmin!),
      ISSUER_ARN,
      "the role behind the session, with its path",
    );
    await settle();
    const container = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0];
    assert.strictEqual(container.image, imageRef, "pods run the exported digest-pinned index");
  });

  it("tags every taggable AWS resource through the lab provider's defaultTags", async () => {
    loadProgram(awsConfig());
    await settle();
    const provider = one("pulumi:providers:aws");
    assert.deepStrictEqual(JSON.parse(provider.inputs.defaultTags), { tags: LAB_TAGS });
    assert.strictEqual(provider.inputs.region, "eu-west-1");
    const providerRef = `${provider.urn}::${provider.id}`;

    const awsResources = recorded().filter((r) => r.type.startsWith("aws:"));
    assert.ok(awsResources.length >= 20, `only ${awsResources.length} AWS resources recorded`);
    const taggable = awsResources.filter((r) => acceptsTags(r.type));
    assert.ok(taggable.length >= 15 && taggable.length < awsResources.length);
    for (const r of awsResources) {
      assert.strictEqual(r.provider, providerRef, `${r.type} ${r.name} uses the lab provider`);
    }
    for (const r of taggable) {
      const effective = { ...JSON.parse(provider.inputs.defaultTags).tags, ...(r.inputs.tags ?? {}) };
      for (const [k, v] of Object.entries(LAB_TAGS)) {
        assert.strictEqual(effective[k], v, `${r.type} ${r.name} tag ${k}`);
      }
    }
    // The remote @pulumi/eks component gets the provider explicitly; its children inherit it.
    assert.strictEqual(one("eks:index:Cluster").providers.aws, providerRef);
    for (const call of recordedCalls().filter((c) => c.token.startsWith("aws:"))) {
      assert.strictEqual(call.provider, providerRef, `${call.token} uses the lab provider`);
    }
    // Kubernetes objects carry the same values as labels.
    for (const type of [
      "kubernetes:core/v1:Namespace",
      "kubernetes:apps/v1:Deployment",
      "kubernetes:core/v1:Service",
    ]) {
      const labels = one(type).inputs.metadata.labels;
      assert.deepStrictEqual(
        [labels.lab, labels.workshop, labels.attendee, labels["managed-by"]],
        Object.values(LAB_TAGS),
        type,
      );
    }
  });

  it("another workshop: every name carries workshop and attendee, every tag and label the workshop", async () => {
    const p = loadProgram(awsConfig({ "lab:workshop": "ci-42" }));
    const base = labNames({ workshop: "ci-42", attendee: "alice" }).base;
    assert.match(base, /^ci-42-alice-[0-9a-f]{8}$/);
    assert.strictEqual(p.workshop, "ci-42");
    assert.strictEqual(await valueOf(p.clusterName!), base);
    assert.strictEqual(await valueOf(p.namespace!), base);
    assert.match(
      await valueOf(p.imageTag),
      contentTagged(`${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/${base}/hello`),
    );
    assert.deepStrictEqual(
      (await valueOf(p.nodeGroups!)).map((g) => g.name),
      [`${base}-x86`, `${base}-arm64`],
    );
    await settle();
    assert.strictEqual(one("aws:iam/role:Role").inputs.namePrefix, `${base}-node-`);
    assert.strictEqual(one("aws:ecr/repository:Repository").inputs.name, `${base}/hello`);
    const tags = { lab: "multiarch-lab", workshop: "ci-42", attendee: "alice" };
    const has = (what: string, got: Record<string, string>) =>
      assert.deepStrictEqual({ lab: got.lab, workshop: got.workshop, attendee: got.attendee }, tags, what);
    has("provider defaultTags", JSON.parse(one("pulumi:providers:aws").inputs.defaultTags).tags);
    for (const lt of ofType("aws:ec2/launchTemplate:LaunchTemplate")) {
      assert.match(lt.inputs.namePrefix, new RegExp(`^${base}-(x86|arm64)-$`));
      for (const spec of lt.inputs.tagSpecifications) has(`${lt.name} ${spec.resourceType}`, spec.tags);
    }
    for (const g of ofType("aws:eks/nodeGroup:NodeGroup")) has(`${g.name} node labels`, g.inputs.labels);
    has("image labels", one("docker-build:index:Image").inputs.labels);
    const deployment = one("kubernetes:apps/v1:Deployment").inputs;
    has("pod template", deployment.spec.template.metadata.labels);
    has("namespace", one("kubernetes:core/v1:Namespace").inputs.metadata.labels);
    has("deployment", deployment.metadata.labels);
    const service = one("kubernetes:core/v1:Service").inputs.metadata;
    has("service", service.labels);
    assert.strictEqual(
      service.annotations["service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags"],
      "lab=multiarch-lab,workshop=ci-42,attendee=alice,managed-by=pulumi",
      "the NLB is tagged through the Service",
    );
  });

  it("rejects a workshop that breaks the stack prefix rule, naming it", () => {
    assert.throws(
      () => loadProgram(awsConfig({ "lab:workshop": "CI_42-" })),
      /lab:workshop "CI_42-" must be 1-30 lowercase letters, digits or '-'/,
    );
  });

  it("longest attendee, taint on, arm64 placement: names fit, IMDSv2 everywhere, tolerations follow", async () => {
    const attendee = "a".repeat(20);
    const p = loadProgram(
      awsConfig({
        "lab:attendee": attendee,
        "lab:placement": "arm64",
        "lab:replicas": "2",
        "lab:taintArm": "true",
      }),
    );
    const groups = await valueOf(p.nodeGroups!);
    await settle();
    assert.deepStrictEqual(
      groups.map((g) => g.name),
      [`lab-${attendee}-x86`, `lab-${attendee}-arm64`],
    );
    for (const g of ofType("aws:eks/nodeGroup:NodeGroup")) assert.ok(g.inputs.nodeGroupName.length <= 63);
    assert.ok(one("aws:iam/role:Role").inputs.namePrefix.length <= 38);
    assert.strictEqual(one("eks:index:Cluster").inputs.name, `lab-${attendee}`);
    for (const lt of ofType("aws:ec2/launchTemplate:LaunchTemplate")) {
      assert.strictEqual(lt.inputs.metadataOptions.httpTokens, "required");
    }
    const arm = ofType("aws:eks/nodeGroup:NodeGroup").find(
      (g) => g.inputs.amiType === "AL2023_ARM_64_STANDARD",
    );
    assert.deepStrictEqual(arm?.inputs.taints, [{ key: "arch", value: "arm64", effect: "NO_SCHEDULE" }]);
    const pod = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
    assert.deepStrictEqual(pod.tolerations, [
      { key: "arch", operator: "Equal", value: "arm64", effect: "NoSchedule" },
    ]);
    assert.deepStrictEqual(
      pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["arm64"] }] }],
    );
  });

  it("local target: builds and pushes the image only, with no AWS at all", async () => {
    const p = loadProgram({
      "lab:attendee": "alice",
      "lab:target": "local",
      "lab:baseImage": "mirror.example/node:22",
    });
    assert.strictEqual(p.target, "local");
    const tag = await valueOf(p.imageTag);
    assert.match(tag, contentTagged("127.0.0.1:5000/lab-alice/hello"));
    assert.strictEqual(
      await valueOf(p.imageRef),
      `127.0.0.1:5000/lab-alice/hello@${fakeDigest("image-build")}`,
    );
    assert.deepStrictEqual(await valueOf(p.registry), { server: "127.0.0.1:5000" });
    for (const key of [
      "clusterName",
      "kubeconfig",
      "nodeGroups",
      "serviceUrl",
      "namespace",
      "region",
    ] as const) {
      assert.strictEqual(p[key], undefined, key);
    }
    await settle();
    assert.deepStrictEqual(
      recorded()
        .map((r) => r.type)
        .sort(),
      ["docker-build:index:Image", "lab:index:Image", "pulumi-nodejs:dynamic/lab-local-registry:Resource"],
    );
    // Destroy deletes the pushed index from the local registry (ECR has forceDelete instead); the
    // resource that does it exists before the build, which depends on it.
    const pushedRes = one("pulumi-nodejs:dynamic/lab-local-registry:Resource");
    const pushed = plain<Record<string, unknown>>(pushedRes.inputs);
    assert.deepStrictEqual(
      [pushed.registry, pushed.repository, `127.0.0.1:5000/lab-alice/hello:${pushed.tag}`, pushed.digest],
      ["127.0.0.1:5000", "lab-alice/hello", tag, undefined],
    );
    assert.ok(pushedRes.urn && one("docker-build:index:Image").dependencies.includes(pushedRes.urn));
    assert.deepStrictEqual(plain(one("docker-build:index:Image").inputs.buildArgs), {
      BASE_IMAGE: "mirror.example/node:22",
      BUILD_IMAGE: "mirror.example/node:22",
    });
    assert.deepStrictEqual(recordedCalls(), []);
  });

  it("local target with lab:kubeconfig: the same App on that cluster, NodePort on 127.0.0.1", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-stack-"));
    const file = path.join(dir, "admin.kubeconfig");
    const text = "apiVersion: v1\nkind: Config\n# admin of a local cluster\n";
    fs.writeFileSync(file, text);
    try {
      const p = loadProgram({
        "lab:attendee": "alice",
        "lab:target": "local",
        "lab:kubeconfig": file,
        "lab:clusterArchs": "amd64",
      });
      const imageRef = `127.0.0.1:5000/lab-alice/hello@${fakeDigest("image-build")}`;
      assert.strictEqual(await valueOf(p.kubeconfig!), text);
      assert.strictEqual(await isSecret(p.kubeconfig!), true);
      assert.strictEqual(await valueOf(p.namespace!), "lab-alice");
      assert.deepStrictEqual(p.podSelector, {
        "app.kubernetes.io/name": "hello",
        "app.kubernetes.io/instance": "lab-alice",
      });
      assert.strictEqual(await valueOf(p.serviceUrl!), "http://127.0.0.1:30080/hello");
      assert.strictEqual(p.placementEffective, "spread fell back to amd64: the cluster has no arm64 node");
      for (const key of ["clusterName", "nodeGroups", "clusterAdmin", "region"] as const) {
        assert.strictEqual(p[key], undefined, key);
      }
      await settle();
      // The provider gets the file's contents, as a secret; every Kubernetes object uses it.
      const provider = one("pulumi:providers:kubernetes");
      assert.strictEqual(plain(provider.inputs.kubeconfig), text);
      assert.strictEqual(isSecretInput(provider.inputs.kubeconfig), true);
      const ref = `${provider.urn}::${provider.id}`;
      for (const type of [
        "kubernetes:core/v1:Namespace",
        "kubernetes:apps/v1:Deployment",
        "kubernetes:core/v1:Service",
      ]) {
        assert.strictEqual(one(type).provider, ref, type);
      }
      assert.strictEqual(one("kubernetes:core/v1:Namespace").inputs.metadata.name, "lab-alice");
      assert.strictEqual(one("kubernetes:core/v1:Service").inputs.spec.type, "NodePort");
      const pod = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
      assert.strictEqual(
        pod.containers[0].image,
        imageRef,
        "pods run the pushed index from the local registry",
      );
      assert.strictEqual(pod.topologySpreadConstraints, undefined);
      // Room for Node.js under QEMU on an emulated arm64 node (128Mi on AWS, app.test.ts).
      assert.deepStrictEqual(pod.containers[0].resources.limits, {
        cpu: "250m",
        memory: "256Mi",
        "ephemeral-storage": "128Mi",
      });
      assert.deepStrictEqual(
        pod.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
        [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values: ["amd64"] }] }],
      );
      assert.ok(!recorded().some((r) => r.type.startsWith("aws:") || r.type.startsWith("eks:")));
      assert.deepStrictEqual(recordedCalls(), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("local target: a kubeconfig path that cannot be read fails before anything is created", async () => {
    assert.throws(
      () =>
        loadProgram({ "lab:attendee": "alice", "lab:target": "local", "lab:kubeconfig": "/nonexistent/kc" }),
      /lab:kubeconfig "\/nonexistent\/kc" cannot be read \(ENOENT\)/,
    );
    await settle();
    assert.ok(!recorded().some((r) => r.type.startsWith("kubernetes:")));
  });

  it("bad config: fails with every problem listed before creating anything", async () => {
    const config = awsConfig({
      "lab:attendee": "Alice",
      "lab:x86InstanceType": "m6g.large",
      "lab:placement": "everywhere",
      "lab:replicas": "0",
      "aws:region": undefined,
    });
    let error: unknown;
    try {
      loadProgram(config);
    } catch (err) {
      error = err;
    }
    assert.ok(pulumi.RunError.isInstance(error), `expected a RunError, got ${error}`);
    const message = (error as Error).message;
    for (const fragment of [
      'lab:attendee "Alice" is not a DNS-1123 label',
      'lab:placement "everywhere" is not one of spread, arm64, amd64',
      "lab:replicas is 0; it must be at least 1",
      'lab:x86InstanceType "m6g.large" is arm64, but this node group is x86 (amd64)',
      "aws:region is required",
    ]) {
      assert.ok(message.includes(fragment), `missing "${fragment}" in:\n${message}`);
    }
    await settle();
    assert.deepStrictEqual(recorded(), []);
    assert.deepStrictEqual(recordedCalls(), []);
  });

  it("missing attendee: fails with the command that sets it", () => {
    assert.throws(
      () => loadProgram(awsConfig({ "lab:attendee": undefined })),
      /lab:attendee is required: set it with `pulumi config set lab:attendee <name>`/,
    );
  });
});
