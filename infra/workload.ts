/**
 * Plain functions that build the app's Kubernetes specs: the pod template (probes, limits, a
 * restricted security context, downward-API env; its scheduling terms from ./placement.ts), the
 * Service, the PodDisruptionBudget and the NetworkPolicy. No Pulumi calls here, so tests assert on the exact
 * objects the App component applies. The specs pass kube-score without a critical finding
 * (docs/APP.md lists the deliberate warnings).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { APP_DEFAULTS, AppConfig } from "./appConfig";
import { Arch } from "./arch";
import { Placement } from "./config";
import { scheduling } from "./placement";

type ServiceSpec = k8s.types.input.core.v1.ServiceSpec;

export const SERVICE_PORT = 80;
/** User and group the pods run as: numeric, and above 10000 as kube-score recommends. */
export const RUN_AS_ID = 10001;

/** The service the pods run, from the app keys (lab:appPort, lab:healthPath, lab:checkPath, lab:appEnv). */
export interface AppSettings {
  /** The container port (named `http`; also passed as PORT). */
  port: number;
  /** Readiness probe path. */
  healthPath: string;
  /** The path in the serviceUrl output (what verify requests). */
  checkPath: string;
  /** Extra environment; an entry replaces a built-in variable of the same name. */
  env: Record<string, string>;
}

/** The bundled hello app's settings: the app keys' defaults. */
export const DEFAULT_APP_SETTINGS: AppSettings = appSettings({
  appPort: APP_DEFAULTS.appPort,
  healthPath: APP_DEFAULTS.healthPath,
  checkPath: APP_DEFAULTS.checkPath,
  appEnv: {},
});

export function appSettings(
  cfg: Pick<AppConfig, "appPort" | "healthPath" | "checkPath" | "appEnv">,
): AppSettings {
  return { port: cfg.appPort, healthPath: cfg.healthPath, checkPath: cfg.checkPath, env: { ...cfg.appEnv } };
}

export type ServiceType = "LoadBalancer" | "NodePort";

/**
 * Annotations for an internet-facing NLB made by the in-tree AWS cloud provider (no AWS Load
 * Balancer Controller needed): `type: nlb` selects an NLB (`external` would wait for the controller
 * forever). The in-tree provider is internet-facing unless `...-internal` is set; the `scheme`
 * annotation states it for the controller, should one be installed later. The tags annotation
 * labels the NLB like every other lab resource, so sweepers find it.
 */
export function loadBalancerAnnotations(tags: Record<string, string>): Record<string, string> {
  return {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
    // Each zone's NLB node forwards to targets in every zone: with 1-2 nodes per architecture a zone
    // without a pod would otherwise answer nothing, and spread traffic would depend on DNS luck.
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
    "service.beta.kubernetes.io/aws-load-balancer-additional-resource-tags": Object.entries(tags)
      .map(([k, v]) => `${k}=${v}`)
      .join(","),
  };
}

export interface PodTemplateOptions {
  image: pulumi.Input<string>;
  placement: Placement;
  taintArm: boolean;
  /** Architectures the cluster has nodes of (default both); spread falls back to these. */
  clusterArchs?: readonly Arch[];
  /** The container's memory limit (default `128Mi`). */
  memoryLimit?: string;
  /** Labels that select the pods (also on the pods). */
  selector: Record<string, string>;
  /** Additional labels on the pods. */
  labels: Record<string, string>;
  /** Port, probes and env of the service (default: the bundled hello app). */
  settings?: AppSettings;
}

/** Seconds a terminating pod keeps serving before SIGTERM (a native sleep hook, no binary needed). */
export const PRESTOP_SLEEP_SECONDS = 5;

/** Container env: PORT and the downward API, then lab:appEnv (which replaces a same-named built-in). */
export function containerEnv(s: AppSettings): k8s.types.input.core.v1.EnvVar[] {
  const fieldEnv = (name: string, fieldPath: string) => ({ name, valueFrom: { fieldRef: { fieldPath } } });
  const builtIn = [
    { name: "PORT", value: String(s.port) },
    fieldEnv("NODE_NAME", "spec.nodeName"),
    fieldEnv("POD_NAME", "metadata.name"),
    fieldEnv("POD_NAMESPACE", "metadata.namespace"),
  ];
  return [
    ...builtIn.filter((e) => !(e.name in s.env)),
    ...Object.entries(s.env).map(([name, value]) => ({ name, value })),
  ];
}

/**
 * The pod template: one hardened container serving HTTP on the app port. Readiness asks the health
 * path; liveness only checks that the port accepts connections, so the two differ (kube-score:
 * identical probes are dangerous) and a draining pod, whose health answers 503, is not restarted.
 */
export function podTemplate(o: PodTemplateOptions): k8s.types.input.core.v1.PodTemplateSpec {
  const s = o.settings ?? DEFAULT_APP_SETTINGS;
  const placed = scheduling(o.placement, o.taintArm, o.selector, o.clusterArchs);
  return {
    metadata: { labels: { ...o.labels, ...o.selector } },
    spec: {
      ...placed,
      affinity: {
        ...placed.affinity,
        // Replicas of one architecture on different nodes where there are several (a preference only).
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                topologyKey: "kubernetes.io/hostname",
                labelSelector: { matchLabels: o.selector },
              },
            },
          ],
        },
      },
      automountServiceAccountToken: false,
      // Above PRESTOP_SLEEP_SECONDS + the app's own 10 s drain (docs/APP.md).
      terminationGracePeriodSeconds: 30,
      securityContext: {
        runAsNonRoot: true,
        runAsUser: RUN_AS_ID,
        runAsGroup: RUN_AS_ID,
        seccompProfile: { type: "RuntimeDefault" },
      },
      containers: [
        {
          name: "hello",
          image: o.image,
          // Pinned by digest, so Always costs a manifest check per start, not a pull; it also
          // re-checks registry access each time (kube-score's container-image-pull-policy).
          imagePullPolicy: "Always",
          ports: [{ name: "http", containerPort: s.port, protocol: "TCP" }],
          env: containerEnv(s),
          readinessProbe: {
            httpGet: { path: s.healthPath, port: "http" },
            initialDelaySeconds: 2,
            periodSeconds: 5,
            timeoutSeconds: 2,
            failureThreshold: 3,
          },
          livenessProbe: {
            tcpSocket: { port: "http" },
            initialDelaySeconds: 15,
            periodSeconds: 20,
            timeoutSeconds: 5,
            failureThreshold: 3,
          },
          // Keep serving while the load balancer deregisters the pod; SIGTERM comes after.
          lifecycle: { preStop: { sleep: { seconds: PRESTOP_SLEEP_SECONDS } } },
          resources: {
            // Ephemeral storage (logs, /tmp) with request = limit, as kube-score asks.
            requests: {
              cpu: POD_RESOURCES.cpuRequest,
              memory: POD_RESOURCES.memoryRequest,
              "ephemeral-storage": EPHEMERAL_STORAGE,
            },
            limits: {
              cpu: POD_RESOURCES.cpuLimit,
              memory: o.memoryLimit ?? POD_RESOURCES.memoryLimit,
              "ephemeral-storage": EPHEMERAL_STORAGE,
            },
          },
          securityContext: {
            allowPrivilegeEscalation: false,
            privileged: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            runAsUser: RUN_AS_ID,
            runAsGroup: RUN_AS_ID,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
          },
          // The root filesystem is read-only; Node.js may still want a scratch directory.
          volumeMounts: [{ name: "tmp", mountPath: "/tmp" }],
        },
      ],
      volumes: [{ name: "tmp", emptyDir: { sizeLimit: "16Mi" } }],
    },
  };
}

/** Ephemeral storage per container: container logs (kubelet keeps up to 5 x 10Mi) plus /tmp. */
export const EPHEMERAL_STORAGE = "128Mi";

/** The app container's CPU and memory (a tenant's quota and limit range are sized from them). */
export const POD_RESOURCES = {
  cpuRequest: "50m",
  memoryRequest: "64Mi",
  cpuLimit: "250m",
  /** The default memory limit; AppArgs.memoryLimit may raise it (the local target's 256Mi). */
  memoryLimit: "128Mi",
} as const;

/** A PodDisruptionBudget spec keeping one pod through voluntary disruptions (node drains). */
export function disruptionBudgetSpec(
  selector: Record<string, string>,
): k8s.types.input.policy.v1.PodDisruptionBudgetSpec {
  return { minAvailable: 1, selector: { matchLabels: selector } };
}

/**
 * The pods' NetworkPolicy: ingress only to the app port (from anywhere: the load balancer, node
 * ports, probes; or, in a shared cluster's tenant, only from `from`); egress open on purpose, since
 * a user's service may call anything (docs/APP.md).
 */
export function networkPolicySpec(
  selector: Record<string, string>,
  port: number,
  from?: pulumi.Input<k8s.types.input.networking.v1.NetworkPolicyPeer[]>,
): k8s.types.input.networking.v1.NetworkPolicySpec {
  return {
    podSelector: { matchLabels: selector },
    policyTypes: ["Ingress", "Egress"],
    ingress: [from ? { from, ports: [{ port, protocol: "TCP" }] } : { ports: [{ port, protocol: "TCP" }] }],
    egress: [{}],
  };
}

/**
 * Service spec: port SERVICE_PORT to the pods' `http` port. `externalTrafficPolicy: Local` (a shared
 * cluster's tenants) keeps the client's address: no node forwards to another node's pod under its
 * own address, which a tenant's NetworkPolicy could not tell from another tenant's pod.
 */
export function serviceSpec(
  type: ServiceType,
  selector: Record<string, string>,
  externalTrafficPolicy?: "Local" | "Cluster",
): ServiceSpec {
  return {
    type,
    selector,
    ports: [{ name: "http", port: SERVICE_PORT, targetPort: "http", protocol: "TCP" }],
    ...(externalTrafficPolicy ? { externalTrafficPolicy } : {}),
  };
}

/** `http://<host><checkPath>` from a Service status, or undefined before a load balancer exists. */
export function serviceUrl(
  status: k8s.types.output.core.v1.ServiceStatus | undefined,
  checkPath: string = DEFAULT_APP_SETTINGS.checkPath,
): string | undefined {
  const ingress = status?.loadBalancer?.ingress?.[0];
  const host = ingress?.hostname || ingress?.ip;
  return host ? `http://${host}${checkPath}` : undefined;
}
