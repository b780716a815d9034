/** The user's own service: the app keys through the whole program, the App and the Image. */
import { ofType, one, recorded, resetMocks, settle } from "./support/mocks";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { App } from "../infra/app";
import { Image } from "../infra/image";
import { appSettings, containerEnv } from "../infra/workload";
import { parseOutputs } from "../automation/lifecycle/outputs";
import { plain, valueOf } from "./support/outputs";
import { awsConfig, loadProgram } from "./support/program";
import { warningsOf } from "./support/warnings";
import { contentTagged } from "./support/imageTag";

const IMAGE = "ghcr.io/acme/greeter:1.0";
const SELECTOR = { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "lab-alice" };

describe("the user's own service", () => {
  let kubeDir: string;
  let kubeconfig: string;
  before(() => {
    kubeDir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-user-"));
    kubeconfig = path.join(kubeDir, "admin.kubeconfig");
    fs.writeFileSync(kubeconfig, "apiVersion: v1\nkind: Config\n");
  });
  after(() => {
    fs.rmSync(kubeDir, { recursive: true, force: true });
    pulumi.runtime.setAllConfig({});
  });
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  it("lab:image on aws: no build and no repository; the reference is deployed and exported as is", async () => {
    const p = loadProgram(awsConfig({ "lab:image": IMAGE }));
    assert.strictEqual(await valueOf(p.imageRef), IMAGE);
    assert.strictEqual(await valueOf(p.imageTag), IMAGE);
    assert.deepStrictEqual(await valueOf(p.registry), { server: "ghcr.io" });
    await settle();
    assert.deepStrictEqual(ofType("docker-build:index:Image"), []);
    assert.deepStrictEqual(ofType("aws:ecr/repository:Repository"), []);
    assert.deepStrictEqual(ofType("lab:index:Image"), []);
    const c = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0];
    assert.strictEqual(c.image, IMAGE);
  });

  it("lab:image on local: nothing pushed to the local registry; the cluster runs the reference", async () => {
    const p = loadProgram({
      "lab:attendee": "alice",
      "lab:target": "local",
      "lab:kubeconfig": kubeconfig,
      "lab:image": IMAGE,
    });
    assert.strictEqual(await valueOf(p.imageRef), IMAGE);
    await settle();
    assert.ok(
      !recorded().some((r) => r.type.startsWith("docker-build:") || r.type.includes("local-registry")),
    );
    assert.strictEqual(
      one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0].image,
      IMAGE,
    );
  });

  it("the greeter example: built from examples/greeter with only BASE_IMAGE; port, probes, env and URL follow the keys", async () => {
    const p = loadProgram({
      "lab:attendee": "alice",
      "lab:target": "local",
      "lab:kubeconfig": kubeconfig,
      "lab:appDir": "examples/greeter",
      "lab:appPort": "9090",
      "lab:healthPath": "/livez",
      "lab:checkPath": "/greet",
      "lab:expectStatus": "200",
      "lab:expectBody": '"service":"greeter"',
      "lab:appEnv": "GREETING=Hi,PORT=9091",
    });
    assert.strictEqual(await valueOf(p.serviceUrl!), "http://127.0.0.1:30080/greet");
    assert.deepStrictEqual(
      [p.checkPath, p.expectStatus, p.expectBody, p.appPort],
      ["/greet", 200, '"service":"greeter"', 9090],
    );
    await settle();
    const build = one("docker-build:index:Image").inputs;
    assert.deepStrictEqual(build.context, { location: "examples/greeter" });
    assert.deepStrictEqual(build.dockerfile, { location: "examples/greeter/Dockerfile" });
    // The greeter's Dockerfile declares BASE_IMAGE only: BUILD_IMAGE is not passed.
    assert.deepStrictEqual(plain(build.buildArgs), { BASE_IMAGE: "127.0.0.1:5000/lab/node:18-bookworm" });
    // Its repository is named after it, its tag after its inputs.
    assert.match(plain<string[]>(build.tags)[0], contentTagged("127.0.0.1:5000/lab-alice/greeter"));
    const c = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec.containers[0];
    assert.deepStrictEqual(c.ports, [{ name: "http", containerPort: 9090, protocol: "TCP" }]);
    assert.deepStrictEqual(c.readinessProbe.httpGet, { path: "/livez", port: "http" });
    assert.deepStrictEqual(c.livenessProbe.tcpSocket, { port: "http" });
    // lab:appEnv adds GREETING and replaces the built-in PORT (kept once, at the user's value).
    assert.deepStrictEqual(
      c.env.map((e: { name: string; value?: string }) => [e.name, e.value]),
      [
        ["NODE_NAME", undefined],
        ["POD_NAME", undefined],
        ["POD_NAMESPACE", undefined],
        ["GREETING", "Hi"],
        ["PORT", "9091"],
      ],
    );
    assert.deepStrictEqual(one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs.spec.ingress, [
      { ports: [{ port: 9090, protocol: "TCP" }] },
    ]);
    // The same environment is an output, for verify's variant containers.
    assert.deepStrictEqual(p.appEnv, { GREETING: "Hi", PORT: "9091" });
  });

  it("the driver reads the new outputs, with the hello app's values for a stack from before them", () => {
    const now = parseOutputs({
      checkPath: "/greet",
      expectStatus: 204,
      expectBody: "hi",
      appPort: 9090,
      appEnv: { GREETING: "Hi" },
    });
    assert.deepStrictEqual(
      [now.checkPath, now.expectStatus, now.expectBody, now.appPort, now.appEnv],
      ["/greet", 204, "hi", 9090, { GREETING: "Hi" }],
    );
    const old = parseOutputs({ serviceUrl: "http://x/hello" });
    assert.deepStrictEqual(
      [old.checkPath, old.expectStatus, old.expectBody, old.appPort],
      ["/hello", 200, undefined, 8080],
    );
    const odd = parseOutputs({ checkPath: "greet", expectStatus: 42, expectBody: "", appPort: "9090" });
    assert.deepStrictEqual(
      [odd.checkPath, odd.expectStatus, odd.expectBody, odd.appPort],
      ["/hello", 200, undefined, 8080],
    );
  });
});

describe("infra/app: PodDisruptionBudget and NetworkPolicy", () => {
  const provider = new k8s.Provider("user-k8s", { kubeconfig: "{}" });
  const app = (replicas: number, placement: "spread" | "amd64" = "spread") =>
    new App("app", {
      provider,
      image: IMAGE,
      attendee: "alice",
      workshop: "lab",
      placement,
      replicas,
      settings: appSettings({ appPort: 9090, healthPath: "/livez", checkPath: "/greet", appEnv: {} }),
    });
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  it("more than one replica: a budget keeping one pod, selecting the app's pods in its namespace", async () => {
    const a = app(4);
    assert.strictEqual(await valueOf(a.url), "http://app-service-0123.elb.eu-west-1.amazonaws.com/greet");
    await settle();
    const pdb = one("kubernetes:policy/v1:PodDisruptionBudget").inputs;
    assert.strictEqual(pdb.metadata.namespace, "lab-alice");
    assert.deepStrictEqual(pdb.spec, { minAvailable: 1, selector: { matchLabels: SELECTOR } });
    const np = one("kubernetes:networking.k8s.io/v1:NetworkPolicy").inputs;
    assert.strictEqual(np.metadata.namespace, "lab-alice");
    assert.deepStrictEqual(np.spec, {
      podSelector: { matchLabels: SELECTOR },
      policyTypes: ["Ingress", "Egress"],
      ingress: [{ ports: [{ port: 9090, protocol: "TCP" }] }],
      egress: [{}],
    });
  });

  it("one replica: no budget (minAvailable 1 would block every node drain)", async () => {
    app(1, "amd64");
    await settle();
    assert.deepStrictEqual(ofType("kubernetes:policy/v1:PodDisruptionBudget"), []);
    assert.strictEqual(ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").length, 1);
  });

  it("containerEnv: built-ins first, then lab:appEnv in order", () => {
    const env = containerEnv(
      appSettings({ appPort: 1, healthPath: "/", checkPath: "/", appEnv: { B: "2" } }),
    );
    assert.deepStrictEqual(
      env.map((e) => e.name),
      ["PORT", "NODE_NAME", "POD_NAME", "POD_NAMESPACE", "B"],
    );
  });
});

describe("infra/image: a user's Dockerfile", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-df-"));
    fs.mkdirSync(path.join(dir, "build"));
    fs.writeFileSync(
      path.join(dir, "build", "api.Dockerfile"),
      "ARG BUILD_IMAGE=golang:1.23\nFROM ${BUILD_IMAGE}\nRUN go build ./...\nRUN go vet ./...\n",
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  const build = (builderPlatform: string, platforms = ["linux/amd64", "linux/arm64"]) =>
    new Image("image", {
      attendee: "alice",
      workshop: "lab",
      platforms,
      registry: { kind: "local", address: "127.0.0.1:5000" },
      baseImage: "127.0.0.1:5000/lab/node:18-bookworm",
      buildImage: "127.0.0.1:5000/lab/node:18-bookworm-npm",
      context: dir,
      dockerfile: "build/api.Dockerfile",
      builderPlatform,
    });

  it("RUN steps in a target-platform stage: the preview warns, naming the emulated platform and the fix", async () => {
    const warnings = await warningsOf(() => build("linux/amd64"));
    assert.strictEqual(warnings.length, 1, warnings.join("\n"));
    assert.match(warnings[0], /^image: .*build\/api\.Dockerfile: 2 RUN step\(s\) in stage #1 \(line 2\)/);
    assert.match(warnings[0], /under QEMU emulation for linux\/arm64/);
    assert.match(warnings[0], /docs\/APP\.md/);
    const img = one("docker-build:index:Image").inputs;
    assert.deepStrictEqual(img.context, { location: path.relative(process.cwd(), dir) });
    assert.deepStrictEqual(img.dockerfile, {
      location: path.relative(process.cwd(), path.join(dir, "build", "api.Dockerfile")),
    });
    // Only the declared build arg is passed.
    assert.deepStrictEqual(plain(img.buildArgs), { BUILD_IMAGE: "127.0.0.1:5000/lab/node:18-bookworm-npm" });
    assert.strictEqual(img.labels["org.opencontainers.image.title"], path.basename(dir));
  });

  it("no warning when every platform is the builder's own, nor for the bundled app", async () => {
    assert.deepStrictEqual(await warningsOf(() => build("linux/arm64", ["linux/arm64"])), []);
    resetMocks();
    const bundled = await warningsOf(
      () =>
        new Image("image", {
          attendee: "alice",
          workshop: "lab",
          platforms: ["linux/amd64", "linux/arm64"],
          registry: { kind: "local", address: "127.0.0.1:5000" },
          builderPlatform: "linux/amd64",
        }),
    );
    assert.deepStrictEqual(bundled, []);
  });

  it("local target: a base image missing from the local registry fails before the build, naming it", async () => {
    const errors: unknown[] = [];
    const collect = (e: unknown) => void errors.push(e);
    process.on("unhandledRejection", collect);
    try {
      new Image("image", {
        attendee: "alice",
        workshop: "lab",
        platforms: ["linux/amd64", "linux/arm64"],
        registry: { kind: "local", address: "127.0.0.1:5000" },
        baseImage: "127.0.0.1:5000/lab/node:18-bookworm",
        builderPlatform: "linux/amd64",
        registryGet: async () => ({ status: 404, body: "" }),
      });
      await settle();
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      process.off("unhandledRejection", collect);
    }
    assert.ok(errors.length > 0 && errors.every((e) => pulumi.RunError.isInstance(e)), String(errors[0]));
    const message = (errors[0] as Error).message;
    assert.match(message, /image: the build cannot pull its base images from the local registry:/);
    assert.match(
      message,
      /stage #2 \(line \d+\): FROM 127\.0\.0\.1:5000\/lab\/node:18-bookworm \(for linux\/amd64, linux\/arm64\) is not in the local registry: run `npm run setup:local`/,
    );
    assert.deepStrictEqual(ofType("docker-build:index:Image"), [], "nothing is built");
  });
});
