import { fakeDigest, ofType, one, resetMocks, settle } from "./support/mocks";
import assert from "node:assert/strict";
import * as k8s from "@pulumi/kubernetes";
import { App, AppArgs } from "../infra/app";
import * as pulumi from "@pulumi/pulumi";
import { effectivePlacement, scheduling } from "../infra/placement";
import { loadBalancerAnnotations, serviceUrl } from "../infra/workload";
import { valueOf } from "./support/outputs";

const IMAGE = `123456789012.dkr.ecr.eu-west-1.amazonaws.com/lab-alice/hello@${fakeDigest("x")}`;
const SELECTOR = { "app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "lab-alice" };
const TOLERATION = { key: "arch", operator: "Equal", value: "arm64", effect: "NoSchedule" };
const provider = new k8s.Provider("test-k8s", { kubeconfig: "{}" });

const archTerm = (values: string[]) => ({
  nodeAffinity: {
    requiredDuringSchedulingIgnoredDuringExecution: {
      nodeSelectorTerms: [{ matchExpressions: [{ key: "kubernetes.io/arch", operator: "In", values }] }],
    },
  },
});

/** The pod affinity: node affinity on the archs, and the preferred spread over hosts. */
const placed = (values: string[]) => ({
  ...archTerm(values),
  podAntiAffinity: {
    preferredDuringSchedulingIgnoredDuringExecution: [
      {
        weight: 100,
        podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: SELECTOR } },
      },
    ],
  },
});

type Env = { name: string; value?: string; valueFrom?: { fieldRef: { fieldPath: string } } };
/** A container's env as name → value (or downward-API field path). */
const envOf = (c: { env: Env[] }) =>
  Object.fromEntries(c.env.map((e) => [e.name, e.value ?? e.valueFrom?.fieldRef.fieldPath]));

function app(overrides: Partial<AppArgs> = {}): App {
  return new App("app", {
    provider,
    image: IMAGE,
    attendee: "alice",
    workshop: "lab",
    placement: "spread",
    ...overrides,
  });
}

describe("infra/workload: scheduling", () => {
  it("spread: both architectures allowed, spread by kubernetes.io/arch with skew 1", () => {
    assert.deepStrictEqual(scheduling("spread", false, SELECTOR), {
      affinity: archTerm(["amd64", "arm64"]),
      topologySpreadConstraints: [
        {
          maxSkew: 1,
          minDomains: 2,
          topologyKey: "kubernetes.io/arch",
          whenUnsatisfiable: "DoNotSchedule",
          labelSelector: { matchLabels: SELECTOR },
        },
      ],
    });
  });

  it("arm64 / amd64: pinned by required node affinity, no spread", () => {
    assert.deepStrictEqual(scheduling("arm64", false, SELECTOR), { affinity: archTerm(["arm64"]) });
    assert.deepStrictEqual(scheduling("amd64", false, SELECTOR), { affinity: archTerm(["amd64"]) });
  });

  it("tolerates the arm taint exactly when pods may land on arm64", () => {
    assert.deepStrictEqual(scheduling("spread", true, SELECTOR).tolerations, [TOLERATION]);
    assert.deepStrictEqual(scheduling("arm64", true, SELECTOR).tolerations, [TOLERATION]);
    assert.strictEqual(scheduling("amd64", true, SELECTOR).tolerations, undefined);
    assert.strictEqual(scheduling("spread", false, SELECTOR).tolerations, undefined);
  });

  it("spread on a cluster lacking an architecture falls back to what exists, with no spread constraint", () => {
    assert.deepStrictEqual(scheduling("spread", false, SELECTOR, ["amd64"]), {
      affinity: archTerm(["amd64"]),
    });
    assert.deepStrictEqual(scheduling("spread", true, SELECTOR, ["arm64"]), {
      affinity: archTerm(["arm64"]),
      tolerations: [TOLERATION],
    });
    assert.deepStrictEqual(effectivePlacement("spread", ["amd64"]), {
      archs: ["amd64"],
      spread: false,
      schedulable: true,
      summary: "spread fell back to amd64: the cluster has no arm64 node",
      warning: "placement spread fell back to amd64: the cluster has no arm64 node",
    });
    assert.deepStrictEqual(effectivePlacement("spread", ["amd64", "arm64"]), {
      archs: ["amd64", "arm64"],
      spread: true,
      schedulable: true,
      summary: "spread",
    });
    // A pinned placement stays pinned; where no node can take it, it says so.
    assert.deepStrictEqual(scheduling("arm64", false, SELECTOR, ["amd64"]), {
      affinity: archTerm(["arm64"]),
    });
    const pinned = effectivePlacement("arm64", ["amd64"]);
    assert.strictEqual(pinned.schedulable, false);
    assert.match(pinned.warning ?? "", /only amd64 nodes: pods cannot be scheduled/);
    assert.strictEqual(effectivePlacement("amd64", ["amd64"]).warning, undefined);
  });

  it("builds the URL from the load balancer's hostname, else its IP", () => {
    assert.strictEqual(
      serviceUrl({ loadBalancer: { ingress: [{ hostname: "a.elb" }] } } as never),
      "http://a.elb/hello",
    );
    assert.strictEqual(
      serviceUrl({ loadBalancer: { ingress: [{ ip: "192.0.2.7" }] } } as never),
      "http://192.0.2.7/hello",
    );
    assert.strictEqual(serviceUrl({ loadBalancer: {} } as never), undefined);
  });
});

describe("infra/app: App", () => {
  beforeEach(async () => {
    await settle();
    resetMocks();
  });

  it("runs the digest-pinned image in a hardened, probed Deployment of 4 spread replicas", async () => {
    const a = app();
    assert.strictEqual(await valueOf(a.deploymentName), "hello");
    await settle();
    const d = one("kubernetes:apps/v1:Deployment");
    assert.strictEqual(d.provider.split("::")[3], "test-k8s");
    assert.strictEqual(d.inputs.metadata.namespace, "lab-alice");
    assert.strictEqual(d.inputs.spec.replicas, 4);
    assert.deepStrictEqual(d.inputs.spec.selector.matchLabels, SELECTOR);
    const pod = d.inputs.spec.template.spec;
    assert.deepStrictEqual(pod.affinity, placed(["amd64", "arm64"]));
    assert.strictEqual(pod.topologySpreadConstraints[0].topologyKey, "kubernetes.io/arch");
    // kube-score's security context: numeric IDs above 10000, not privileged, read-only root.
    assert.deepStrictEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const c = pod.containers[0];
    assert.strictEqual(c.image, IMAGE);
    assert.strictEqual(c.imagePullPolicy, "Always");
    assert.deepStrictEqual(c.ports, [{ name: "http", containerPort: 8080, protocol: "TCP" }]);
    // Readiness asks /healthz; liveness is a TCP check: they differ, as kube-score requires.
    assert.deepStrictEqual(c.readinessProbe, {
      httpGet: { path: "/healthz", port: "http" },
      initialDelaySeconds: 2,
      periodSeconds: 5,
      timeoutSeconds: 2,
      failureThreshold: 3,
    });
    assert.deepStrictEqual(c.livenessProbe, {
      tcpSocket: { port: "http" },
      initialDelaySeconds: 15,
      periodSeconds: 20,
      timeoutSeconds: 5,
      failureThreshold: 3,
    });
    // Terminating pods keep serving while the NLB deregisters them, then drain within the grace period.
    assert.deepStrictEqual(c.lifecycle, { preStop: { sleep: { seconds: 5 } } });
    assert.strictEqual(pod.terminationGracePeriodSeconds, 30);
    assert.deepStrictEqual(c.resources, {
      requests: { cpu: "50m", memory: "64Mi", "ephemeral-storage": "128Mi" },
      limits: { cpu: "250m", memory: "128Mi", "ephemeral-storage": "128Mi" },
    });
    assert.deepStrictEqual(c.securityContext, {
      allowPrivilegeEscalation: false,
      privileged: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepStrictEqual(envOf(c), {
      PORT: "8080",
      NODE_NAME: "spec.nodeName",
      POD_NAME: "metadata.name",
      POD_NAMESPACE: "metadata.namespace",
    });
    const labels = d.inputs.spec.template.metadata.labels;
    assert.deepStrictEqual(
      [labels.lab, labels.workshop, labels.attendee, labels["managed-by"]],
      ["multiarch-lab", "lab", "alice", "pulumi"],
      "pods carry the lab's labels through the pod template",
    );
  });

  it("exposes port 80 to 8080 through an internet-facing NLB and outputs its /hello URL", async () => {
    const a = app();
    assert.strictEqual(await valueOf(a.url), "http://app-service-0123.elb.eu-west-1.amazonaws.com/hello");
    assert.strictEqual(await valueOf(a.namespace), "lab-alice");
    assert.deepStrictEqual(a.podSelector, SELECTOR);
    await settle();
    const svc = one("kubernetes:core/v1:Service").inputs;
    assert.strictEqual(svc.spec.type, "LoadBalancer");
    assert.deepStrictEqual(svc.spec.selector, SELECTOR);
    assert.deepStrictEqual(svc.spec.ports, [{ name: "http", port: 80, targetPort: "http", protocol: "TCP" }]);
    assert.deepStrictEqual(svc.metadata.annotations, {
      "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
      "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
      "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags":
        "lab=multiarch-lab,workshop=lab,attendee=alice,managed-by=pulumi",
    });
    assert.deepStrictEqual(
      loadBalancerAnnotations({ a: "b" })["service.beta.kubernetes.io/aws-load-balancer-type"],
      "nlb",
    );
    const ns = one("kubernetes:core/v1:Namespace").inputs.metadata;
    assert.strictEqual(ns.name, "lab-alice");
    assert.strictEqual(ns.labels.lab, "multiarch-lab");
  });

  it("pins to arm64 with the toleration when the arm taint is on", async () => {
    app({ placement: "arm64", replicas: 2, taintArm: true });
    await settle();
    const pod = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
    assert.deepStrictEqual(pod.affinity, placed(["arm64"]));
    assert.strictEqual(pod.topologySpreadConstraints, undefined);
    assert.deepStrictEqual(pod.tolerations, [TOLERATION]);
  });

  it("pins to amd64 without a toleration even when the arm taint is on", async () => {
    app({ placement: "amd64", replicas: 1, taintArm: true });
    await settle();
    const d = one("kubernetes:apps/v1:Deployment").inputs;
    assert.strictEqual(d.spec.replicas, 1);
    assert.deepStrictEqual(d.spec.template.spec.affinity, placed(["amd64"]));
    assert.strictEqual(d.spec.template.spec.tolerations, undefined);
  });

  it("uses a given namespace and a NodePort Service for local clusters", async () => {
    const a = app({ namespace: "workshop", serviceType: "NodePort" });
    assert.strictEqual(await valueOf(a.url), undefined);
    await settle();
    assert.strictEqual(ofType("kubernetes:core/v1:Namespace").length, 0);
    const svc = one("kubernetes:core/v1:Service").inputs;
    assert.strictEqual(svc.spec.type, "NodePort");
    assert.strictEqual(svc.metadata.namespace, "workshop");
    assert.strictEqual(svc.metadata.annotations, undefined);
  });

  it("NodePort: exposes the allocated node port; both archs: spread as asked, awaited", async () => {
    const a = app({ serviceType: "NodePort", clusterArchs: ["amd64", "arm64"] });
    assert.strictEqual(await valueOf(a.nodePort), 30080);
    assert.strictEqual(a.placementEffective, "spread");
    await settle();
    const d = one("kubernetes:apps/v1:Deployment").inputs;
    assert.strictEqual(d.metadata.annotations, undefined);
    assert.strictEqual(d.spec.template.spec.topologySpreadConstraints.length, 1);
  });

  it("spread on an amd64-only cluster: affinity on amd64, no topology constraint, and a warning", async () => {
    const warnings: string[] = [];
    const warn = pulumi.log.warn;
    (pulumi.log as { warn: (m: string) => Promise<void> }).warn = async (m: string) => void warnings.push(m);
    let a: App;
    try {
      a = app({ serviceType: "NodePort", clusterArchs: ["amd64"] });
    } finally {
      (pulumi.log as { warn: typeof warn }).warn = warn;
    }
    assert.strictEqual(a.placementEffective, "spread fell back to amd64: the cluster has no arm64 node");
    assert.deepStrictEqual(warnings, [
      "app app: placement spread fell back to amd64: the cluster has no arm64 node",
    ]);
    await settle();
    const spec = one("kubernetes:apps/v1:Deployment").inputs.spec.template.spec;
    assert.deepStrictEqual(spec.affinity, placed(["amd64"]));
    assert.strictEqual(spec.topologySpreadConstraints, undefined);
    assert.strictEqual(one("kubernetes:apps/v1:Deployment").inputs.metadata.annotations, undefined);
  });

  it("a pinned placement no node can take: applied without awaiting rollout or endpoints", async () => {
    const a = app({ placement: "arm64", replicas: 2, serviceType: "NodePort", clusterArchs: ["amd64"] });
    assert.strictEqual(a.placementEffective, "arm64");
    await settle();
    const skip = { "pulumi.com/skipAwait": "true" };
    assert.deepStrictEqual(one("kubernetes:apps/v1:Deployment").inputs.metadata.annotations, skip);
    assert.deepStrictEqual(one("kubernetes:core/v1:Service").inputs.metadata.annotations, skip);
  });

  it("refuses too few replicas before creating anything", async () => {
    assert.throws(() => app({ replicas: 1 }), /placement spread needs at least 2/);
    assert.throws(() => app({ placement: "amd64", replicas: 0 }), /replicas is 0; it must be at least 1/);
    await settle();
    assert.strictEqual(ofType("kubernetes:apps/v1:Deployment").length, 0);
  });
});
