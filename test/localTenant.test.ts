import { ofType, one, resetMocks, SA_TOKEN, settle } from "./support/mocks";
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { FOUNDATION, foundationOutputs, holdFoundation, WORKSHOP } from "./support/foundation";
import { isSecret, valueOf } from "./support/outputs";
import { loadProgram } from "./support/program";
import { labNames } from "../infra/names";
import { TENANT_ROLE_RULES } from "../infra/tenancy";

const BASE = labNames({ workshop: WORKSHOP, attendee: "alice" }).base;
const SERVER = "https://127.0.0.1:6443";
const CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("infra/attendee: a tenant of the local cluster", () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    await settle();
    resetMocks();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-tenant-"));
    file = path.join(dir, "admin.kubeconfig");
    // The CA as a file next to the kubeconfig, as the local setup writes it.
    fs.writeFileSync(path.join(dir, "ca.crt"), CA_PEM);
    fs.writeFileSync(
      file,
      [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        "- name: lab-local",
        "  cluster:",
        `    server: ${SERVER}`,
        "    certificate-authority: ca.crt",
        "contexts:",
        "- name: admin@lab-local",
        "  context: {cluster: lab-local, user: admin}",
        "current-context: admin@lab-local",
        "users:",
        "- name: admin",
        "  user: {client-certificate-data: QUJD, client-key-data: REVG}",
        "",
      ].join("\n"),
    );
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  after(() => pulumi.runtime.setAllConfig({}));

  const config = () => ({
    "lab:attendee": "alice",
    "lab:workshop": WORKSHOP,
    "lab:target": "local",
    "lab:foundation": FOUNDATION,
    "lab:kubeconfig": file,
  });

  it("the foundation's image on a NodePort, a namespaced Role and a token kubeconfig handed out", async () => {
    const local = foundationOutputs("local", "shared-cluster");
    holdFoundation(local);
    const p = loadProgram(config());
    assert.strictEqual(p.topology, "shared-cluster");
    assert.strictEqual(await valueOf(p.imageRef), local.imageRef);
    assert.strictEqual(await valueOf(p.namespace!), BASE);
    assert.strictEqual(await valueOf(p.serviceUrl!), "http://127.0.0.1:30080/hello");
    assert.strictEqual(await isSecret(p.handoutKubeconfig!), true);
    const handout = JSON.parse(await valueOf(p.handoutKubeconfig!));
    // The cluster's server and CA from lab:kubeconfig, the ServiceAccount's token, the namespace set.
    assert.deepStrictEqual(handout.clusters, [
      {
        name: "lab",
        cluster: { server: SERVER, "certificate-authority-data": Buffer.from(CA_PEM).toString("base64") },
      },
    ]);
    const user = `${BASE}-attendee`;
    assert.deepStrictEqual(handout.users, [{ name: user, user: { token: SA_TOKEN } }]);
    assert.deepStrictEqual(handout.contexts, [
      { name: user, context: { cluster: "lab", user, namespace: BASE } },
    ]);
    assert.strictEqual(handout["current-context"], user);
    await settle();
    assert.deepStrictEqual(ofType("lab:index:Image"), []);
    assert.deepStrictEqual(ofType("docker-build:index:Image"), []);
    assert.ok(!ofType("pulumi:providers:aws").length, "no AWS on the local target");
    const pod = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
    assert.strictEqual(pod.containers[0].image, local.imageRef);
    assert.strictEqual(pod.containers[0].resources.limits.memory, "256Mi");
    assert.strictEqual(one("kubernetes:core/v1:Service").inputs.spec.type, "NodePort");

    const sa = one("kubernetes:core/v1:ServiceAccount").inputs.metadata;
    assert.deepStrictEqual([sa.name, sa.namespace], ["attendee", BASE]);
    const role = one("kubernetes:rbac.authorization.k8s.io/v1:Role").inputs;
    assert.strictEqual(role.metadata.namespace, BASE);
    assert.deepStrictEqual(role.rules, TENANT_ROLE_RULES);
    const binding = one("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding").inputs;
    assert.strictEqual(binding.metadata.namespace, BASE);
    assert.deepStrictEqual(binding.roleRef, {
      apiGroup: "rbac.authorization.k8s.io",
      kind: "Role",
      name: "attendee",
    });
    assert.deepStrictEqual(binding.subjects, [{ kind: "ServiceAccount", name: "attendee", namespace: BASE }]);
    assert.deepStrictEqual(ofType("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"), []);
    const token = one("kubernetes:core/v1:Secret");
    assert.strictEqual(token.inputs.type, "kubernetes.io/service-account-token");
    assert.strictEqual(token.inputs.metadata.annotations["kubernetes.io/service-account.name"], "attendee");
    const saUrn = one("kubernetes:core/v1:ServiceAccount").urn!;
    assert.ok(token.dependencies.includes(saUrn), "the token Secret waits for its ServiceAccount");
    // No load balancer on the local target; the isolation policy is written as on EKS.
    assert.strictEqual(
      one("kubernetes:core/v1:ResourceQuota").inputs.spec.hard["services.loadbalancers"],
      "0",
    );
    assert.strictEqual(ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").length, 2);
  });

  it("a kubeconfig without a server fails before anything is created", async () => {
    holdFoundation(foundationOutputs("local", "shared-cluster"));
    fs.writeFileSync(file, "apiVersion: v1\nkind: Config\nclusters: []\n");
    assert.throws(() => loadProgram(config()), /lab:kubeconfig .* names no cluster server/);
    await settle();
    assert.deepStrictEqual(ofType("kubernetes:core/v1:Namespace"), []);
  });

  it("needs lab:kubeconfig: a local tenant without a cluster is a config error", () => {
    assert.throws(
      () => loadProgram(Object.fromEntries(Object.entries(config()).filter(([k]) => k !== "lab:kubeconfig"))),
      /lab:foundation is set on the local target, so this attendee is a tenant of the local cluster: set lab:kubeconfig/,
    );
  });
});
