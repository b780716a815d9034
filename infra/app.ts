/**
 * The app on any Kubernetes cluster: a namespace (unless given), a Deployment of the digest-pinned
 * multi-platform image placed over architectures, a Service, a PodDisruptionBudget (with more than
 * one replica) and a NetworkPolicy. Target-agnostic: it needs only a provider and an image
 * reference. The bundled hello app by default; `settings` (the app keys) run any HTTP service.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Arch } from "./arch";
import { Placement } from "./config";
import { labLabels, labNames } from "./names";
import {
  AppSettings,
  DEFAULT_APP_SETTINGS,
  disruptionBudgetSpec,
  networkPolicySpec,
  loadBalancerAnnotations,
  podTemplate,
  ServiceType,
  serviceSpec,
  serviceUrl,
} from "./workload";
import { effectivePlacement, placementProblems } from "./placement";

export const APP_NAME = "hello";

export interface AppArgs {
  /** Kubernetes provider of the target cluster. */
  provider: k8s.Provider;
  /** Image to run, pinned by digest (`<repository>@sha256:…`) so every node gets the same index. */
  image: pulumi.Input<string>;
  attendee: string;
  /** The workshop (`lab:workshop`); with the attendee, in the namespace name and every label. */
  workshop: string;
  /** `spread` over both architectures, or pinned to `arm64` / `amd64`. */
  placement: Placement;
  /** Pod replicas (at least 2 for `spread`). Defaults to 4. */
  replicas?: number;
  /** Graviton nodes are tainted `arch=arm64:NoSchedule`: pods that may run there tolerate it. */
  taintArm?: boolean;
  /** Existing namespace to use (a tenant's); by default the app creates its own, `<base>`. */
  namespace?: pulumi.Input<string>;
  /** `LoadBalancer` (internet-facing NLB, default) or `NodePort` (local clusters). */
  serviceType?: ServiceType;
  /** Architectures the cluster has nodes of (default both); spread falls back to these. */
  clusterArchs?: Arch[];
  /** The container's memory limit (default `128Mi`). */
  memoryLimit?: string;
  /** Port, probes, env and check path of the service (default: the bundled hello app). */
  settings?: AppSettings;
  /**
   * Sources the app port admits (its NetworkPolicy's `from`); by default anywhere. A shared
   * cluster's tenant admits its own namespace and the clients of its Service only.
   */
  ingressFrom?: pulumi.Input<k8s.types.input.networking.v1.NetworkPolicyPeer[]>;
  /** The Service's externalTrafficPolicy (default: Kubernetes' own, `Cluster`). */
  externalTrafficPolicy?: "Local" | "Cluster";
}

export class App extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  public readonly deploymentName: pulumi.Output<string>;
  public readonly serviceName: pulumi.Output<string>;
  /** Labels selecting the app's pods (`kubectl get pods -l …`). */
  public readonly podSelector: Record<string, string>;
  /** `http://<load balancer><checkPath>`; undefined for a NodePort Service. */
  public readonly url: pulumi.Output<string | undefined>;
  /** The Service's node port (NodePort Services; undefined for a load balancer). */
  public readonly nodePort: pulumi.Output<number | undefined>;
  /** The placement as applied on this cluster (`spread`, or what it fell back to). */
  public readonly placementEffective: string;

  constructor(name: string, args: AppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:index:App", name, {}, opts);
    const replicas = args.replicas ?? 4;
    const problems = placementProblems(args.placement, replicas);
    if (problems.length > 0) throw new Error(`app ${name}: ${problems.join("; ")}`);
    const serviceType = args.serviceType ?? "LoadBalancer";
    const settings = args.settings ?? DEFAULT_APP_SETTINGS;
    const names = labNames(args);
    const labels = labLabels(args.workshop, args.attendee);
    const selector = { "app.kubernetes.io/name": APP_NAME, "app.kubernetes.io/instance": names.base };
    const childOpts = { parent: this, provider: args.provider };
    const eff = effectivePlacement(args.placement, args.clusterArchs);
    if (eff.warning) pulumi.log.warn(`app ${name}: ${eff.warning}`, this);
    // Pods no node can take never become Ready: apply without waiting for a rollout that cannot
    // happen (nor for Service endpoints), so the stack comes up and verify reports what is wrong.
    const skipAwait: Record<string, string> = eff.schedulable ? {} : { "pulumi.com/skipAwait": "true" };

    let namespace: pulumi.Output<string>;
    if (args.namespace) {
      namespace = pulumi.output(args.namespace);
    } else {
      const ns = new k8s.core.v1.Namespace(
        `${name}-ns`,
        { metadata: { name: names.namespace, labels } },
        childOpts,
      );
      namespace = ns.metadata.name;
    }

    const deployment = new k8s.apps.v1.Deployment(
      `${name}-deployment`,
      {
        metadata: {
          name: APP_NAME,
          namespace,
          labels: { ...labels, ...selector },
          annotations: eff.schedulable ? undefined : skipAwait,
        },
        spec: {
          replicas,
          revisionHistoryLimit: 3,
          selector: { matchLabels: selector },
          template: podTemplate({
            image: args.image,
            placement: args.placement,
            taintArm: args.taintArm ?? false,
            clusterArchs: args.clusterArchs,
            memoryLimit: args.memoryLimit,
            settings,
            selector,
            labels,
          }),
        },
      },
      childOpts,
    );
    const service = new k8s.core.v1.Service(
      `${name}-service`,
      {
        metadata: {
          name: APP_NAME,
          namespace,
          labels: { ...labels, ...selector },
          annotations:
            serviceType === "LoadBalancer"
              ? { ...loadBalancerAnnotations(labels), ...skipAwait }
              : eff.schedulable
                ? undefined
                : skipAwait,
        },
        spec: serviceSpec(serviceType, selector, args.externalTrafficPolicy),
      },
      childOpts,
    );

    // One pod stays through node drains; with a single replica a budget would block every drain.
    if (replicas > 1) {
      new k8s.policy.v1.PodDisruptionBudget(
        `${name}-pdb`,
        { metadata: { name: APP_NAME, namespace, labels }, spec: disruptionBudgetSpec(selector) },
        childOpts,
      );
    }
    new k8s.networking.v1.NetworkPolicy(
      `${name}-netpol`,
      {
        metadata: { name: APP_NAME, namespace, labels },
        spec: networkPolicySpec(selector, settings.port, args.ingressFrom),
      },
      childOpts,
    );

    this.namespace = namespace;
    this.deploymentName = deployment.metadata.name;
    this.serviceName = service.metadata.name;
    this.podSelector = selector;
    this.url =
      serviceType === "LoadBalancer"
        ? service.status.apply((st) => serviceUrl(st, settings.checkPath))
        : pulumi.output(undefined);
    this.nodePort =
      serviceType === "NodePort"
        ? service.spec.apply((s) => s.ports?.find((p) => p.name === "http")?.nodePort)
        : pulumi.output(undefined);
    this.placementEffective = eff.summary;
    this.registerOutputs({
      namespace: this.namespace,
      deploymentName: this.deploymentName,
      serviceName: this.serviceName,
      podSelector: this.podSelector,
      url: this.url,
      nodePort: this.nodePort,
      placementEffective: this.placementEffective,
    });
  }
}
