/**
 * Composes the stack from a validated LabConfig. A workshop's foundation (lab:role foundation) is
 * infra/foundation.ts, an attendee of one (lab:foundation set) infra/attendee.ts; what each creates
 * per topology is infra/topology.ts's table. A self-contained lab, as every lab was before, is here:
 * target `aws` builds the full lab (ECR image, EKS with two node groups, the app behind an NLB);
 * target `local` builds and pushes the image, and with `lab:kubeconfig` runs the same App on that
 * existing cluster behind a NodePort Service (127.0.0.1). Returns the values infra/index.ts exports.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { App } from "./app";
import { registryOf } from "./appConfig";
import { httpGet } from "./baseImages";
import { Cluster } from "./cluster";
import { LabConfig, Placement, Target, readKubeconfig } from "./config";
import { Image } from "./image";
import { RegistryInfo } from "./imageTypes";
import { labNames, labTags, nameLimitProblems } from "./names";
import { NodeGroupDescription } from "./nodegroups";
import { appSettings } from "./workload";
import { Topology, Role } from "./workshopConfig";

/** The stack outputs: the contract with the `lab` driver (docs/ARCHITECTURE.md). */
export interface LabExports {
  attendee: string;
  workshop: string;
  target: Target;
  region: string | undefined;
  placement: Placement;
  replicas: number;
  platforms: string[];
  imageRef: pulumi.Output<string>;
  imageTag: pulumi.Output<string>;
  registry: pulumi.Output<RegistryInfo>;
  /** What verify requests through the Service (the serviceUrl's path), and what it must answer. */
  checkPath: string;
  expectStatus: number;
  /** Regular expression source the body must match; "" for any body. */
  expectBody: string;
  /** The answer's field that says the CPU; "" when it says none. */
  archField: string;
  /** The container port. */
  appPort: number;
  /** lab:appEnv, so that verify runs each image variant with the pods' environment. */
  appEnv: Record<string, string>;
  // aws target only (undefined, hence absent from the stack outputs, for local):
  clusterName?: pulumi.Output<string>;
  kubeconfig?: pulumi.Output<string>;
  nodeGroups?: pulumi.Output<NodeGroupDescription[]>;
  serviceUrl?: pulumi.Output<string | undefined>;
  namespace?: pulumi.Output<string>;
  podSelector?: Record<string, string>;
  clusterAdmin?: pulumi.Output<string>;
  /** The placement as applied (`spread`, or what it fell back to on the cluster); with a cluster. */
  placementEffective?: string;
  // An attendee of a workshop's foundation only (absent from self-contained labs):
  role?: Role;
  topology?: Topology;
  /** The foundation stack's name (lab:foundation). */
  foundation?: string;
  /** A kubeconfig for the attendee, scoped to their namespace (shared cluster; secret). */
  handoutKubeconfig?: pulumi.Output<string>;
}

/** The exports common to every stack: identity, target and the image it runs (or shares). */
export type ImageExports = Pick<LabExports, "imageRef" | "imageTag" | "registry">;

/** The explicit AWS provider: region from config, the lab's tags on every taggable resource. */
export function labAwsProvider(cfg: LabConfig): aws.Provider {
  return new aws.Provider("lab-aws", {
    region: cfg.region,
    defaultTags: { tags: labTags(cfg.workshop, cfg.attendee) },
  });
}

/** The lab's image: the Image component (ECR with `awsProvider`, else the local registry), or lab:image as is. */
export function labImage(cfg: LabConfig, awsProvider?: aws.Provider): ImageExports {
  if (cfg.image !== "") {
    // lab:image: no build, no repository; the reference is deployed (and verified) as is.
    return {
      imageRef: pulumi.output(cfg.image),
      imageTag: pulumi.output(cfg.image),
      registry: pulumi.output({ server: registryOf(cfg.image) }),
    };
  }
  // The same image on both targets; only the registry differs.
  const imageArgs = {
    attendee: cfg.attendee,
    workshop: cfg.workshop,
    platforms: cfg.platforms,
    baseImage: cfg.baseImage,
    buildImage: cfg.buildImage,
    context: cfg.appDir,
    dockerfile: cfg.dockerfile,
  };
  const image = awsProvider
    ? new Image(
        "image",
        { ...imageArgs, registry: { kind: "ecr", region: cfg.region as string } },
        { providers: [awsProvider] },
      )
    : new Image("image", {
        ...imageArgs,
        registry: { kind: "local", address: cfg.localRegistry },
        // The base images setup:local pushed must be there (LAB_BASE_IMAGE_CHECK=off skips the check).
        registryGet: process.env.LAB_BASE_IMAGE_CHECK === "off" ? undefined : httpGet,
      });
  return { imageRef: image.ref, imageTag: image.tag, registry: image.registry };
}

/**
 * The deploying identity, as the IAM role behind an assumed-role session (AWS resolves the role's
 * path, which a string rewrite of the session ARN would lose). EKS made it cluster admin.
 */
/** What a lab on a cluster of its own exports about that cluster and its app. */
export function clusterLabOutputs(cluster: Cluster, app: App, awsProvider: aws.Provider) {
  return {
    clusterName: cluster.clusterName,
    kubeconfig: cluster.kubeconfig,
    nodeGroups: cluster.nodeGroups,
    serviceUrl: app.url,
    namespace: app.namespace,
    podSelector: app.podSelector,
    clusterAdmin: deployerArn(awsProvider),
  };
}

export function deployerArn(awsProvider: aws.Provider): pulumi.Output<string> {
  const identity = aws.getCallerIdentityOutput({}, { provider: awsProvider });
  return aws.iam.getSessionContextOutput({ arn: identity.arn }, { provider: awsProvider }).issuerArn;
}

/** The outputs every attendee lab has, from its config. */
export function commonExports(cfg: LabConfig) {
  return {
    attendee: cfg.attendee,
    workshop: cfg.workshop,
    target: cfg.target,
    region: cfg.region,
    placement: cfg.placement,
    replicas: cfg.replicas,
    platforms: cfg.platforms,
    checkPath: cfg.checkPath,
    expectStatus: cfg.expectStatus,
    expectBody: cfg.expectBody,
    archField: cfg.archField,
    appPort: cfg.appPort,
    appEnv: cfg.appEnv,
  };
}

/** The App's arguments from the config (image and cluster specifics added by the caller). */
export function appArgs(cfg: LabConfig) {
  return {
    settings: appSettings(cfg),
    attendee: cfg.attendee,
    workshop: cfg.workshop,
    placement: cfg.placement,
    replicas: cfg.replicas,
    taintArm: cfg.taintArm,
  };
}

/**
 * A local cluster's arm64 node runs pods under QEMU (docs/LOCAL-KUBE.md): Node.js there needs about
 * twice its native memory and was OOM-killed at 128Mi under a burst of requests.
 */
export const LOCAL_MEMORY_LIMIT = "256Mi";

export function checkNames(cfg: LabConfig): void {
  const tooLong = nameLimitProblems(labNames(cfg));
  if (tooLong.length > 0) throw new Error(`names exceed AWS limits:\n  - ${tooLong.join("\n  - ")}`);
}

/** A self-contained lab: its own image and, on AWS, its own VPC and cluster (as before #10). */
export function buildLab(cfg: LabConfig): LabExports {
  checkNames(cfg);
  const common = commonExports(cfg);

  if (cfg.target === "local") {
    const outputs = { ...common, ...labImage(cfg) };
    if (cfg.kubeconfig === "") return outputs;
    return { ...outputs, ...localApp(cfg, outputs.imageRef) };
  }

  const awsProvider = labAwsProvider(cfg);
  const images = labImage(cfg, awsProvider);
  const cluster = new Cluster(
    "lab",
    { ...cfg, awsProvider, adminPrincipalArns: principals(cfg) },
    { providers: [awsProvider] },
  );
  // The app's resources use cluster.provider, which waits for both node groups.
  const app = new App("app", { ...appArgs(cfg), provider: cluster.provider, image: images.imageRef });

  return {
    ...common,
    ...images,
    ...clusterLabOutputs(cluster, app, awsProvider),
  };
}

/** lab:attendeePrincipal, made admin of a cluster the attendee has to themselves. */
export function principals(cfg: LabConfig): string[] {
  return cfg.attendeePrincipal === "" ? [] : [cfg.attendeePrincipal];
}

/** The App on an existing cluster (local target with lab:kubeconfig): NodePort on 127.0.0.1. */
function localApp(cfg: LabConfig, image: pulumi.Output<string>) {
  const kubeconfig = pulumi.secret(readKubeconfig(cfg.kubeconfig));
  const provider = new k8s.Provider("lab-k8s", { kubeconfig });
  const app = new App("app", {
    ...appArgs(cfg),
    provider,
    image,
    serviceType: "NodePort",
    clusterArchs: cfg.clusterArchs,
    memoryLimit: LOCAL_MEMORY_LIMIT,
  });
  return {
    kubeconfig,
    namespace: app.namespace,
    podSelector: app.podSelector,
    serviceUrl: app.nodePort.apply((port) => (port ? `http://127.0.0.1:${port}${cfg.checkPath}` : undefined)),
    placementEffective: app.placementEffective,
  };
}
