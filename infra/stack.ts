/**
 * Composes the lab from a validated LabConfig: target `aws` builds the full lab (ECR image, EKS
 * with two node groups, the app behind an NLB); target `local` builds and pushes the image only
 * (the local cluster comes with the next issue). Returns the values infra/index.ts exports.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { App } from "./app";
import { Cluster } from "./cluster";
import { LabConfig, Placement, Target } from "./config";
import { Image, RegistryInfo } from "./image";
import { labNames, labTags, nameLimitProblems } from "./names";
import { NodeGroupDescription } from "./nodegroups";

/** The stack outputs: the contract with the `lab` driver (docs/ARCHITECTURE.md). */
export interface LabOutputs {
  attendee: string;
  target: Target;
  region: string | undefined;
  placement: Placement;
  replicas: number;
  platforms: string[];
  imageRef: pulumi.Output<string>;
  imageTag: pulumi.Output<string>;
  registry: pulumi.Output<RegistryInfo>;
  // aws target only (undefined, hence absent from the stack outputs, for local):
  clusterName?: pulumi.Output<string>;
  kubeconfig?: pulumi.Output<string>;
  nodeGroups?: pulumi.Output<NodeGroupDescription[]>;
  serviceUrl?: pulumi.Output<string | undefined>;
  namespace?: pulumi.Output<string>;
  podSelector?: Record<string, string>;
  clusterAdmin?: pulumi.Output<string>;
}

/** The explicit AWS provider: region from config, the lab's tags on every taggable resource. */
export function labAwsProvider(cfg: LabConfig): aws.Provider {
  return new aws.Provider("lab-aws", { region: cfg.region, defaultTags: { tags: labTags(cfg.attendee) } });
}

export function buildLab(cfg: LabConfig): LabOutputs {
  const tooLong = nameLimitProblems(labNames(cfg.attendee));
  if (tooLong.length > 0) throw new Error(`names exceed AWS limits:\n  - ${tooLong.join("\n  - ")}`);
  const common = {
    attendee: cfg.attendee,
    target: cfg.target,
    region: cfg.region,
    placement: cfg.placement,
    replicas: cfg.replicas,
    platforms: cfg.platforms,
  };

  if (cfg.target === "local") {
    const image = new Image("image", {
      attendee: cfg.attendee,
      platforms: cfg.platforms,
      baseImage: cfg.baseImage,
      buildImage: cfg.buildImage,
      registry: { kind: "local", address: cfg.localRegistry },
    });
    return { ...common, imageRef: image.ref, imageTag: image.tag, registry: image.registry };
  }

  const awsProvider = labAwsProvider(cfg);
  const withAws = { providers: [awsProvider] };
  const image = new Image(
    "image",
    {
      attendee: cfg.attendee,
      platforms: cfg.platforms,
      baseImage: cfg.baseImage,
      buildImage: cfg.buildImage,
      registry: { kind: "ecr" },
    },
    withAws,
  );
  const cluster = new Cluster("lab", { ...cfg, awsProvider }, withAws);
  // The app's resources use cluster.provider, which waits for both node groups.
  const app = new App("app", {
    provider: cluster.provider,
    image: image.ref,
    attendee: cfg.attendee,
    placement: cfg.placement,
    replicas: cfg.replicas,
    taintArm: cfg.taintArm,
  });

  // The deploying identity, as the IAM role behind an assumed-role session (AWS resolves the
  // role's path, which a string rewrite of the session ARN would lose). EKS made it cluster admin.
  const identity = aws.getCallerIdentityOutput({}, { provider: awsProvider });
  const clusterAdmin = aws.iam.getSessionContextOutput(
    { arn: identity.arn },
    { provider: awsProvider },
  ).issuerArn;

  return {
    ...common,
    imageRef: image.ref,
    imageTag: image.tag,
    registry: image.registry,
    clusterName: cluster.clusterName,
    kubeconfig: cluster.kubeconfig,
    nodeGroups: cluster.nodeGroups,
    serviceUrl: app.url,
    namespace: app.namespace,
    podSelector: app.podSelector,
    clusterAdmin,
  };
}
