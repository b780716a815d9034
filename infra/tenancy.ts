/**
 * Plain functions that build a shared cluster's tenant specs (#10): the attendee's ResourceQuota
 * and LimitRange, the NetworkPolicy that isolates attendee namespaces from each other, the sources
 * the app port admits, the namespaced Role of a local attendee, and the kubeconfigs handed out.
 * No Pulumi calls here, so tests assert on the exact objects infra/tenant.ts applies.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import * as k8s from "@pulumi/kubernetes";
import { Target } from "./config";
import { EPHEMERAL_STORAGE, POD_RESOURCES } from "./workload";

/** An RBAC rule with plain lists (a k8s PolicyRule that tests can read). */
export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}
type NetworkPolicyPeer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/**
 * The local cluster's pod ranges (scripts/setup/kube-lib.sh, LAB_KUBE_CLUSTER_CIDR: both nodes'
 * bridges). Its bridge CNI enforces no NetworkPolicy; the policies are written all the same, so a
 * cluster with a policy-enforcing CNI isolates its tenants alike.
 */
export const LOCAL_POD_CIDR = "10.88.0.0/15";

/** Pods a tenant may run: the app twice over (a rolling update's surge and more), and a few of its own. */
export function tenantPods(replicas: number): number {
  return 2 * replicas + 4;
}

/** `250m` → 250, `1` → 1000; `128Mi` → 128, `1Gi` → 1024 (the units the app's resources use). */
function milli(cpu: string): number {
  return cpu.endsWith("m") ? Number(cpu.slice(0, -1)) : Number(cpu) * 1000;
}
function mebi(memory: string): number {
  const m = /^(\d+)(Mi|Gi)$/.exec(memory);
  if (!m) throw new Error(`memory "${memory}" is not <n>Mi or <n>Gi`);
  return Number(m[1]) * (m[2] === "Gi" ? 1024 : 1);
}

/**
 * The tenant's ResourceQuota: room for `tenantPods(replicas)` pods of the app's own shape, one load
 * balancer on AWS (the NLB each attendee's Service has; none on the local target, which has no load
 * balancer) and two node ports, so no attendee takes a shared node from the others.
 */
export function tenantQuotaSpec(
  replicas: number,
  target: Target,
  memoryLimit: string = POD_RESOURCES.memoryLimit,
): k8s.types.input.core.v1.ResourceQuotaSpec {
  const pods = tenantPods(replicas);
  return {
    hard: {
      pods: String(pods),
      "requests.cpu": `${pods * milli(POD_RESOURCES.cpuRequest)}m`,
      "requests.memory": `${pods * mebi(POD_RESOURCES.memoryRequest)}Mi`,
      "limits.cpu": `${pods * milli(POD_RESOURCES.cpuLimit)}m`,
      "limits.memory": `${pods * mebi(memoryLimit)}Mi`,
      "requests.ephemeral-storage": `${pods * mebi(EPHEMERAL_STORAGE)}Mi`,
      "limits.ephemeral-storage": `${pods * mebi(EPHEMERAL_STORAGE)}Mi`,
      services: "4",
      "services.loadbalancers": target === "aws" ? "1" : "0",
      "services.nodeports": "2",
    },
  };
}

/** Largest container a tenant may run: a share of a `.large` node (2 vCPUs, 8 GiB), not all of it. */
export const TENANT_CONTAINER_MAX = { cpu: "1", memory: "1Gi", "ephemeral-storage": "1Gi" } as const;

/**
 * The tenant's LimitRange: a container that states no resources gets the app's (the quota needs
 * every container to state them), and none may exceed TENANT_CONTAINER_MAX.
 */
export function tenantLimitRangeSpec(
  memoryLimit: string = POD_RESOURCES.memoryLimit,
): k8s.types.input.core.v1.LimitRangeSpec {
  return {
    limits: [
      {
        type: "Container",
        default: { cpu: POD_RESOURCES.cpuLimit, memory: memoryLimit, "ephemeral-storage": EPHEMERAL_STORAGE },
        defaultRequest: {
          cpu: POD_RESOURCES.cpuRequest,
          memory: POD_RESOURCES.memoryRequest,
          "ephemeral-storage": EPHEMERAL_STORAGE,
        },
        max: { ...TENANT_CONTAINER_MAX },
      },
    ],
  };
}

/**
 * Every pod of the namespace admits traffic from the namespace's own pods only: another attendee's
 * pods (and anything else in the cluster) are refused. Egress stays open. Kubelet probes come from
 * the pod's own node, which the VPC CNI's policy agent always admits.
 */
export function tenantIsolationSpec(): k8s.types.input.networking.v1.NetworkPolicySpec {
  return { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }] }] };
}

/**
 * What the app port admits besides the isolation policy: the namespace's own pods, and the clients
 * of its Service: any address outside the cluster's own ranges (`internal`: the VPC on AWS, whose
 * addresses pods and nodes share; the pod ranges locally). The Service keeps client addresses
 * (externalTrafficPolicy Local), so another tenant's pod cannot come in under a node's address.
 */
export function serviceClientPeers(internal: string[]): NetworkPolicyPeer[] {
  return [{ podSelector: {} }, { ipBlock: { cidr: "0.0.0.0/0", except: [...internal] } }];
}

const EDIT = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const READ = ["get", "list", "watch"];

/**
 * A local attendee's namespaced Role, close to Kubernetes' `edit`: workloads, services, config and
 * their own secrets; the namespace's quota, limits and NetworkPolicies only to read (they are the
 * workshop's, and the isolation of the others does not depend on them).
 */
export const TENANT_ROLE_RULES: Rule[] = [
  {
    apiGroups: [""],
    resources: [
      "pods",
      "pods/log",
      "pods/exec",
      "pods/portforward",
      "services",
      "endpoints",
      "configmaps",
      "secrets",
      "persistentvolumeclaims",
      "serviceaccounts",
    ],
    verbs: EDIT,
  },
  {
    apiGroups: ["apps"],
    resources: [
      "deployments",
      "deployments/scale",
      "replicasets",
      "replicasets/scale",
      "statefulsets",
      "statefulsets/scale",
      "daemonsets",
    ],
    verbs: EDIT,
  },
  { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: EDIT },
  { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: EDIT },
  { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: EDIT },
  { apiGroups: ["networking.k8s.io"], resources: ["ingresses"], verbs: EDIT },
  { apiGroups: ["", "events.k8s.io"], resources: ["events"], verbs: READ },
  { apiGroups: [""], resources: ["resourcequotas", "limitranges"], verbs: READ },
  { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ },
];

interface KubeconfigDoc {
  "current-context"?: string;
  contexts?: { name: string; context?: { cluster?: string; namespace?: string; user?: string } }[];
  clusters?: {
    name: string;
    cluster?: {
      server?: string;
      "certificate-authority-data"?: string;
      "certificate-authority"?: string;
    };
  }[];
  users?: unknown[];
}

/** The server and CA (base64 PEM) of a kubeconfig's current context; `file` resolves a CA path. */
export function kubeconfigServer(text: string, file = ""): { server: string; caData: string } {
  const doc = (yaml.load(text) ?? {}) as KubeconfigDoc;
  const where = file ? `lab:kubeconfig ${file}` : "the kubeconfig";
  const ctxName = doc["current-context"] ?? doc.contexts?.[0]?.name;
  const context = doc.contexts?.find((c) => c.name === ctxName)?.context;
  const cluster = doc.clusters?.find(
    (c) => c.name === (context?.cluster ?? doc.clusters?.[0]?.name),
  )?.cluster;
  if (!cluster?.server) {
    throw new Error(
      `${where} names no cluster server for context "${ctxName}": give the cluster's admin kubeconfig`,
    );
  }
  let caData = cluster["certificate-authority-data"];
  if (!caData && cluster["certificate-authority"]) {
    const ca = path.resolve(path.dirname(file || "."), cluster["certificate-authority"]);
    caData = fs.readFileSync(ca).toString("base64");
  }
  if (!caData)
    throw new Error(`${where} has no certificate authority for ${cluster.server}: the handout needs it`);
  return { server: cluster.server, caData };
}

/**
 * The local attendee's kubeconfig (JSON, which is YAML too): the cluster's server and CA, the
 * ServiceAccount's token, the attendee's namespace as the default.
 */
export function tokenKubeconfig(o: {
  server: string;
  caData: string;
  token: string;
  namespace: string;
  user: string;
}): string {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "lab", cluster: { server: o.server, "certificate-authority-data": o.caData } }],
    users: [{ name: o.user, user: { token: o.token } }],
    contexts: [{ name: o.user, context: { cluster: "lab", user: o.user, namespace: o.namespace } }],
    "current-context": o.user,
  });
}

/**
 * An EKS attendee's kubeconfig: the shared cluster's (server, CA, `aws eks get-token`, which runs as
 * whoever uses it: the attendee's principal) with the attendee's namespace as the default.
 */
export function namespacedKubeconfig(kubeconfig: string | object, namespace: string): string {
  const doc = (typeof kubeconfig === "string" ? yaml.load(kubeconfig) : kubeconfig) as KubeconfigDoc;
  const current = doc["current-context"];
  return JSON.stringify({
    ...doc,
    contexts: (doc.contexts ?? []).map((c) =>
      c.name === current || doc.contexts?.length === 1 ? { ...c, context: { ...c.context, namespace } } : c,
    ),
  });
}
