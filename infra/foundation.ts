/**
 * A workshop's foundation stack (lab:role foundation, #10): what its attendee stacks share. Every
 * topology: the ONE image build and push of the workshop (ECR on aws, the local registry locally),
 * or lab:image passed through. `shared-network` adds the VPC; `shared-cluster` the VPC and ONE EKS
 * cluster, both node groups sized for lab:attendees and NetworkPolicies enforced (the VPC CNI's
 * policy agent). Locally the cluster is the one lab:kubeconfig names: the foundation is the image.
 * Attendees read these outputs through a StackReference (infra/foundationRef.ts).
 */
import * as pulumi from "@pulumi/pulumi";
import { Cluster } from "./cluster";
import { LabConfig, Target } from "./config";
import { labNames } from "./names";
import { Network } from "./network";
import { NodeGroupDescription } from "./nodegroups";
import { checkNames, deployerArn, ImageExports, labAwsProvider, labImage } from "./stack";
import { sharedClusterScaling, stackPlan } from "./topology";
import { Topology, Role } from "./workshopConfig";

/** The foundation's outputs: what an attendee stack may read of it. */
export interface FoundationExports extends ImageExports {
  role: Role;
  /** `foundation` (the driver's reserved name). */
  attendee: string;
  workshop: string;
  target: Target;
  region: string | undefined;
  /** As applied (the local target's is `shared-cluster`). */
  topology: Topology;
  /** The attendee count the shared cluster is sized for. */
  attendees: number;
  platforms: string[];
  // shared-network and shared-cluster (aws):
  vpcId?: pulumi.Output<string>;
  vpcCidr?: pulumi.Output<string>;
  publicSubnetIds?: pulumi.Output<string[]>;
  privateSubnetIds?: pulumi.Output<string[]>;
  // shared-cluster (aws):
  clusterName?: pulumi.Output<string>;
  kubeconfig?: pulumi.Output<string>;
  nodeGroups?: pulumi.Output<NodeGroupDescription[]>;
  clusterAdmin?: pulumi.Output<string>;
}

export function buildFoundation(cfg: LabConfig): FoundationExports {
  checkNames(cfg);
  const plan = stackPlan(cfg);
  const base = {
    role: cfg.role,
    attendee: cfg.attendee,
    workshop: cfg.workshop,
    target: cfg.target,
    region: cfg.region,
    topology: cfg.topology,
    attendees: cfg.attendees,
    platforms: cfg.platforms,
  };
  if (cfg.target === "local") return { ...base, ...labImage(cfg) };

  const awsProvider = labAwsProvider(cfg);
  const withAws = { providers: [awsProvider] };
  const image = labImage(cfg, awsProvider);
  if (plan.cluster === "own") {
    // The one cluster: both node groups sized for every attendee, NetworkPolicies enforced.
    const cluster = new Cluster(
      "lab",
      { ...cfg, ...sharedClusterScaling(cfg), awsProvider, networkPolicy: true },
      withAws,
    );
    return {
      ...base,
      ...image,
      ...networkExports(cluster.network as Network),
      clusterName: cluster.clusterName,
      kubeconfig: cluster.kubeconfig,
      nodeGroups: cluster.nodeGroups,
      clusterAdmin: deployerArn(awsProvider),
    };
  }
  if (plan.network === "own") {
    // Subnets without a cluster tag: every attendee's cluster may place its load balancers there.
    const network = new Network(
      "lab-net",
      {
        clusterName: undefined,
        namePrefix: labNames(cfg).base,
        instanceTypes: [...cfg.x86InstanceTypes, ...cfg.armInstanceTypes],
      },
      withAws,
    );
    return { ...base, ...image, ...networkExports(network) };
  }
  return { ...base, ...image };
}

/** The shared VPC's outputs, whichever topology made it. */
function networkExports(
  network: Network,
): Pick<FoundationExports, "vpcId" | "vpcCidr" | "publicSubnetIds" | "privateSubnetIds"> {
  return {
    vpcId: network.vpcId,
    vpcCidr: network.cidrBlock,
    publicSubnetIds: network.publicSubnetIds,
    privateSubnetIds: network.privateSubnetIds,
  };
}

/** The foundation outputs an attendee stack needs (infra/foundationRef.ts checks they are there). */
export function neededOutputs(target: Target, topology: Topology): (keyof FoundationExports)[] {
  const image: (keyof FoundationExports)[] = ["imageRef", "imageTag", "registry"];
  if (target === "local" || topology === "dedicated") return image;
  const network: (keyof FoundationExports)[] = ["vpcId", "vpcCidr", "publicSubnetIds", "privateSubnetIds"];
  if (topology === "shared-network") return [...image, ...network];
  return [...image, "vpcCidr", "clusterName", "kubeconfig", "nodeGroups", "clusterAdmin"];
}
