import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  kubeconfigServer,
  namespacedKubeconfig,
  serviceClientPeers,
  TENANT_CONTAINER_MAX,
  TENANT_ROLE_RULES,
  tenantIsolationSpec,
  tenantLimitRangeSpec,
  tenantPods,
  tenantQuotaSpec,
  tokenKubeconfig,
} from "../infra/tenancy";
import { podTemplate } from "../infra/workload";

describe("infra/tenancy: a shared cluster's tenant specs", () => {
  it("quota: room for twice the app plus 4 pods, of the app's own shape; one NLB on aws", () => {
    assert.strictEqual(tenantPods(4), 12);
    assert.deepStrictEqual(tenantQuotaSpec(4, "aws").hard, {
      pods: "12",
      "requests.cpu": "600m",
      "requests.memory": "768Mi",
      "limits.cpu": "3000m",
      "limits.memory": "1536Mi",
      "requests.ephemeral-storage": "1536Mi",
      "limits.ephemeral-storage": "1536Mi",
      services: "4",
      "services.loadbalancers": "1",
      "services.nodeports": "2",
    });
    const local = tenantQuotaSpec(2, "local", "256Mi").hard as Record<string, string>;
    assert.deepStrictEqual(
      [local.pods, local["limits.memory"], local["services.loadbalancers"]],
      ["8", "2048Mi", "0"],
    );
  });

  it("the app's own pods fit the quota and the limit range, twice over", () => {
    const c = podTemplate({
      image: "r/x@sha256:0",
      placement: "spread",
      taintArm: false,
      selector: {},
      labels: {},
    }).spec as {
      containers: { resources: { requests: Record<string, string>; limits: Record<string, string> } }[];
    };
    const { requests, limits } = c.containers[0].resources;
    const hard = tenantQuotaSpec(4, "aws").hard as Record<string, string>;
    const n = (q: string) => (q.endsWith("m") ? Number(q.slice(0, -1)) / 1000 : Number(q.replace("Mi", "")));
    assert.ok(n(hard["requests.cpu"]) >= 8 * n(requests.cpu));
    assert.ok(n(hard["limits.memory"]) >= 8 * n(limits.memory));
    const range = tenantLimitRangeSpec().limits as {
      default: Record<string, string>;
      max: Record<string, string>;
    }[];
    assert.deepStrictEqual(range[0].default, limits, "a container without resources gets the app's");
    assert.deepStrictEqual(range[0].max, TENANT_CONTAINER_MAX);
  });

  it("isolation: the namespace's own pods only; the app port also admits clients outside the cluster ranges", () => {
    assert.deepStrictEqual(tenantIsolationSpec(), {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: {} }] }],
    });
    assert.deepStrictEqual(serviceClientPeers(["10.0.0.0/16"]), [
      { podSelector: {} },
      { ipBlock: { cidr: "0.0.0.0/0", except: ["10.0.0.0/16"] } },
    ]);
  });

  it("the local Role: namespaced edit, quota/limits/policies read-only, nothing cluster-wide", () => {
    const verbsOf = (group: string, resource: string) =>
      TENANT_ROLE_RULES.filter(
        (r) => r.apiGroups?.includes(group) && r.resources?.includes(resource),
      ).flatMap((r) => r.verbs as string[]);
    assert.ok(verbsOf("apps", "deployments").includes("create"));
    assert.ok(verbsOf("", "pods/exec").includes("create"));
    assert.deepStrictEqual(verbsOf("networking.k8s.io", "networkpolicies"), ["get", "list", "watch"]);
    assert.deepStrictEqual(verbsOf("", "resourcequotas"), ["get", "list", "watch"]);
    for (const r of ["namespaces", "nodes", "roles", "rolebindings", "clusterroles"]) {
      assert.deepStrictEqual(
        TENANT_ROLE_RULES.filter((x) => x.resources.includes(r)),
        [],
        `${r} is not the attendee's`,
      );
    }
  });

  describe("kubeconfigs", () => {
    const text = (cluster: string) =>
      [
        "apiVersion: v1",
        "clusters:",
        "- name: other",
        "  cluster: {server: https://other:6443, certificate-authority-data: T1RIRVI=}",
        `- name: lab`,
        `  cluster: {server: https://127.0.0.1:6443, ${cluster}}`,
        "contexts:",
        "- {name: admin, context: {cluster: lab, user: admin}}",
        "current-context: admin",
      ].join("\n");

    it("kubeconfigServer: the current context's server and CA (inline, or a file relative to the kubeconfig)", () => {
      assert.deepStrictEqual(kubeconfigServer(text("certificate-authority-data: Q0E=")), {
        server: "https://127.0.0.1:6443",
        caData: "Q0E=",
      });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-kc-"));
      try {
        fs.writeFileSync(path.join(dir, "ca.crt"), "PEM");
        const file = path.join(dir, "admin.kubeconfig");
        assert.strictEqual(kubeconfigServer(text("certificate-authority: ca.crt"), file).caData, "UEVN");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      assert.throws(
        () => kubeconfigServer(text("insecure-skip-tls-verify: true"), "/k/admin"),
        /lab:kubeconfig \/k\/admin has no certificate authority for https:\/\/127.0.0.1:6443/,
      );
    });

    it("tokenKubeconfig: server, CA, token and namespace, nothing of the admin's credentials", () => {
      const kc = JSON.parse(
        tokenKubeconfig({
          server: "https://s",
          caData: "Q0E=",
          token: "t0k",
          namespace: "ns1",
          user: "ns1-attendee",
        }),
      );
      assert.deepStrictEqual(kc, {
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "lab", cluster: { server: "https://s", "certificate-authority-data": "Q0E=" } }],
        users: [{ name: "ns1-attendee", user: { token: "t0k" } }],
        contexts: [
          { name: "ns1-attendee", context: { cluster: "lab", user: "ns1-attendee", namespace: "ns1" } },
        ],
        "current-context": "ns1-attendee",
      });
    });

    it("namespacedKubeconfig: the EKS kubeconfig (object or text) with the current context's namespace set", () => {
      const eks = {
        apiVersion: "v1",
        clusters: [{ name: "kubernetes", cluster: { server: "https://x.eks" } }],
        contexts: [
          { name: "aws", context: { cluster: "kubernetes", user: "aws" } },
          { name: "other", context: { cluster: "kubernetes", user: "aws" } },
        ],
        "current-context": "aws",
        users: [{ name: "aws", user: { exec: { command: "aws" } } }],
      };
      for (const input of [eks, JSON.stringify(eks)]) {
        const out = JSON.parse(namespacedKubeconfig(input, "ns1"));
        assert.deepStrictEqual(out.contexts, [
          { name: "aws", context: { cluster: "kubernetes", user: "aws", namespace: "ns1" } },
          { name: "other", context: { cluster: "kubernetes", user: "aws" } },
        ]);
        assert.deepStrictEqual(out.users, eks.users);
      }
    });
  });
});
