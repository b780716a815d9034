import "./support/mocks";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS, parseLabConfig, readLabConfig } from "../infra/config";
import { ConfigError } from "../infra/configRules";
import { problemsOf, validConfig } from "./support/config";

const valid = validConfig;

describe("infra/config: parseLabConfig", () => {
  it("applies every default to a minimal config", () => {
    const cfg = parseLabConfig(valid);
    assert.deepStrictEqual(cfg, {
      attendee: "alice",
      workshop: "lab",
      target: "aws",
      placement: "spread",
      replicas: 4,
      x86InstanceTypes: ["m7i.large"],
      armInstanceTypes: ["m6g.large"],
      taintArm: false,
      kubernetesVersion: DEFAULTS.kubernetesVersion,
      apiAllowedCidrs: ["0.0.0.0/0"],
      nodesMin: 1,
      nodesDesired: 1,
      nodesMax: 3,
      capacityType: "ON_DEMAND",
      platforms: ["linux/amd64", "linux/arm64"],
      baseImage: "",
      buildImage: "",
      localRegistry: "127.0.0.1:5000",
      kubeconfig: "",
      clusterArchs: ["amd64", "arm64"],
      region: "eu-west-1",
      // The bundled hello app is the app keys' defaults (infra/appConfig.ts).
      appDir: "app",
      dockerfile: "Dockerfile",
      image: "",
      appPort: 8080,
      healthPath: "/healthz",
      checkPath: "/hello",
      expectStatus: 200,
      expectBody: "",
      archField: "arch",
      appEnv: {},
      // The workshop keys (infra/workshopConfig.ts): a self-contained lab.
      role: "attendee",
      foundation: "",
      topology: "dedicated",
      attendees: 1,
      attendeePrincipal: "",
    });
  });

  it("lab:kubeconfig and lab:clusterArchs: a path (trimmed) and a deduplicated list of known archs", () => {
    const cfg = parseLabConfig({
      ...valid,
      kubeconfig: " /k/admin.kubeconfig ",
      clusterArchs: "amd64, amd64",
    });
    assert.strictEqual(cfg.kubeconfig, "/k/admin.kubeconfig");
    assert.deepStrictEqual(cfg.clusterArchs, ["amd64"]);
    assert.throws(
      () => parseLabConfig({ ...valid, clusterArchs: "amd64,riscv64" }),
      /lab:clusterArchs has "riscv64"; known: amd64, arm64/,
    );
    assert.throws(() => parseLabConfig({ ...valid, clusterArchs: " , " }), /lab:clusterArchs is empty/);
  });

  it("local target: defaults to the base and build images that setup:local pushes to its registry", () => {
    const cfg = parseLabConfig({ attendee: "bob", target: "local", localRegistry: "127.0.0.1:5999" });
    assert.strictEqual(cfg.baseImage, "127.0.0.1:5999/lab/node:18-bookworm");
    assert.strictEqual(cfg.buildImage, "127.0.0.1:5999/lab/node:18-bookworm-npm");
    assert.strictEqual(cfg.region, undefined);
    // A configured base image (a mirror) replaces both, unless the build image is given too.
    const mirror = parseLabConfig({ attendee: "bob", target: "local", baseImage: "m.example/node:22" });
    assert.deepStrictEqual([mirror.baseImage, mirror.buildImage], ["m.example/node:22", ""]);
    const both = parseLabConfig({ ...valid, baseImage: "m.example/node:22", buildImage: "m.example/b:1" });
    assert.deepStrictEqual([both.baseImage, both.buildImage], ["m.example/node:22", "m.example/b:1"]);
  });

  it("rejects an x86 instance type in the Graviton group, naming key, arch and fix", () => {
    const [p, ...rest] = problemsOf({ ...valid, armInstanceType: "m7i.large" });
    assert.strictEqual(rest.length, 0);
    assert.match(p, /^lab:armInstanceType "m7i\.large" is amd64, but this node group is Graviton \(arm64\)/);
    assert.match(p, /m6g\.large/);
  });

  it("rejects a Graviton instance type in the x86 group", () => {
    const [p] = problemsOf({ ...valid, x86InstanceType: "c7g.xlarge" });
    assert.match(p, /^lab:x86InstanceType "c7g\.xlarge" is arm64, but this node group is x86 \(amd64\)/);
  });

  it("rejects an unknown instance family and a mixed group", () => {
    assert.match(
      problemsOf({ ...valid, x86InstanceType: "zz9.large" })[0],
      /instance family "zz9" .* is unknown/,
    );
    assert.match(
      problemsOf({ ...valid, x86InstanceType: "m7i.large,m7g.large" })[0],
      /mix x86 and Graviton families/,
    );
  });

  it("rejects an unknown placement", () => {
    const problems = problemsOf({ ...valid, placement: "diagonal" });
    assert.ok(
      problems.includes('lab:placement "diagonal" is not one of spread, arm64, amd64, prefer-arm64'),
      problems.join("|"),
    );
  });

  it("rejects replicas below 1 and spread with a single replica", () => {
    assert.deepStrictEqual(problemsOf({ ...valid, replicas: "0" }), [
      "lab:replicas is 0; it must be at least 1",
    ]);
    assert.deepStrictEqual(problemsOf({ ...valid, replicas: "1" }), [
      "lab:replicas is 1, but placement spread needs at least 2 (one pod per architecture)",
    ]);
    assert.strictEqual(parseLabConfig({ ...valid, replicas: "1", placement: "arm64" }).replicas, 1);
  });

  it("requires an attendee, and a DNS-1123 label of at most 20 characters", () => {
    assert.match(problemsOf({ region: "eu-west-1" })[0], /^lab:attendee is required/);
    assert.match(problemsOf({ ...valid, attendee: "  " })[0], /^lab:attendee is required/);
    assert.match(problemsOf({ ...valid, attendee: "Alice_1" })[0], /"Alice_1" is not a DNS-1123 label/);
    assert.match(problemsOf({ ...valid, attendee: "-alice" })[0], /not a DNS-1123 label/);
    const long = "a".repeat(21);
    assert.deepStrictEqual(problemsOf({ ...valid, attendee: long }), [
      `lab:attendee "${long}" is 21 characters; at most 20 keep every AWS name valid`,
    ]);
    assert.strictEqual(parseLabConfig({ ...valid, attendee: "a".repeat(20) }).attendee, "a".repeat(20));
  });

  it("rejects an aws:region that is no AWS region, naming the value, before anything else", () => {
    for (const bad of ["eu-west", "europe-west-1", "EU-WEST-1", "us-east-1 ", "localhost"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, region: bad }), [
        `aws:region "${bad}" is not an AWS region name (such as eu-west-1 or us-east-2): fix the region`,
      ]);
    }
    for (const good of ["eu-west-1", "us-gov-west-1", "ap-southeast-7", "cn-north-1", "me-central-1"])
      assert.strictEqual(parseLabConfig({ ...valid, region: good }).region, good);
  });

  it("lab:apiAllowedCidrs: a list of IPv4 CIDRs, each bad one named", () => {
    assert.deepStrictEqual(
      parseLabConfig({ ...valid, apiAllowedCidrs: "203.0.113.7/32, 10.0.0.0/8" }).apiAllowedCidrs,
      ["203.0.113.7/32", "10.0.0.0/8"],
    );
    assert.deepStrictEqual(problemsOf({ ...valid, apiAllowedCidrs: "203.0.113.7,300.1.1.1/8,10.0.0.0/33" }), [
      'lab:apiAllowedCidrs has "203.0.113.7", which is not an IPv4 CIDR such as 203.0.113.0/24',
      'lab:apiAllowedCidrs has "300.1.1.1/8", which is not an IPv4 CIDR such as 203.0.113.0/24',
      'lab:apiAllowedCidrs has "10.0.0.0/33", which is not an IPv4 CIDR such as 203.0.113.0/24',
    ]);
  });

  it("rejects a lab:localRegistry that is not host:port", () => {
    for (const bad of ["bad reg", "127.0.0.1", "http://127.0.0.1:5000", "reg:5000/path", ":5000"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, target: "local", localRegistry: bad }), [
        `lab:localRegistry "${bad}" is not host:port (such as 127.0.0.1:5000): no scheme, path or spaces`,
      ]);
    }
    assert.strictEqual(
      parseLabConfig({ ...valid, localRegistry: "registry.lan:5001" }).localRegistry,
      "registry.lan:5001",
    );
  });

  it("lab:workshop: the stack prefix rule, 1-30 of [a-z0-9-], no '-' at either end", () => {
    for (const ok of ["lab", "a", "ci-42", "w".repeat(30)]) {
      assert.strictEqual(parseLabConfig({ ...valid, workshop: ok }).workshop, ok);
    }
    for (const bad of ["w".repeat(31), "-ci", "ci-", "CI", "ci_42", "ci 42"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, workshop: bad }), [
        `lab:workshop "${bad}" must be 1-30 lowercase letters, digits or '-', not starting or ending ` +
          `with '-' (e.g. lab or ci-1234; the lab driver sets it to --stack-prefix)`,
      ]);
    }
  });

  it("requires aws:region for the aws target only", () => {
    assert.match(problemsOf({ attendee: "alice" })[0], /^aws:region is required/);
    assert.strictEqual(parseLabConfig({ attendee: "alice", target: "local" }).region, undefined);
  });

  it("requires the image platforms to cover the placement", () => {
    const problems = problemsOf({ ...valid, platforms: "linux/amd64" });
    assert.deepStrictEqual(problems, [
      'lab:platforms "linux/amd64" lacks linux/arm64, which placement spread needs',
    ]);
    assert.deepStrictEqual(
      parseLabConfig({ ...valid, platforms: "linux/amd64", placement: "amd64" }).platforms,
      ["linux/amd64"],
    );
  });

  it("reports every problem together, in one error message", () => {
    const raw = { attendee: "Bob!", placement: "diagonal", replicas: "0", x86InstanceType: "m6g.large" };
    let error: unknown;
    try {
      parseLabConfig(raw);
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof ConfigError);
    assert.strictEqual(error.problems.length, 5, error.message);
    for (const fragment of [
      '"Bob!" is not a DNS-1123',
      "lab:placement",
      "lab:replicas is 0",
      "x86InstanceType",
    ]) {
      assert.ok(error.message.includes(fragment), `missing ${fragment} in:\n${error.message}`);
    }
    assert.ok(error.message.includes("aws:region is required"));
    assert.match(error.message, /^invalid lab configuration:\n {2}- /);
  });
});

describe("infra/config: readLabConfig", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}));

  it("reads lab:* keys and aws:region from the stack configuration", () => {
    pulumi.runtime.setAllConfig({
      "lab:attendee": "bob",
      "lab:placement": "arm64",
      "lab:replicas": "3",
      "lab:taintArm": "true",
      "lab:armInstanceType": "c7g.large,m7g.large",
      "aws:region": "us-west-2",
    });
    const cfg = readLabConfig();
    assert.strictEqual(cfg.attendee, "bob");
    assert.strictEqual(cfg.placement, "arm64");
    assert.strictEqual(cfg.replicas, 3);
    assert.strictEqual(cfg.taintArm, true);
    assert.deepStrictEqual(cfg.armInstanceTypes, ["c7g.large", "m7g.large"]);
    assert.strictEqual(cfg.region, "us-west-2");
  });

  it("throws ConfigError when the stack configuration is invalid", () => {
    pulumi.runtime.setAllConfig({ "lab:attendee": "bob", "lab:nodesMin": "4" });
    assert.throws(
      () => readLabConfig(),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.problems.some((p) => p.includes("lab:nodesMin/nodesDesired/nodesMax are 4/1/3")) &&
        err.problems.some((p) => p.startsWith("aws:region is required")),
    );
  });
});
