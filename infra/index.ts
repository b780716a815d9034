/**
 * The Pulumi program. Reads and validates the configuration once — a bad config stops here, with
 * every problem listed, before any resource exists — then builds the stack: a self-contained lab
 * (infra/stack.ts), a workshop's foundation (infra/foundation.ts) or an attendee of one
 * (infra/attendee.ts), as infra/topology.ts's `stackPlan` says.
 * The exports below are the contract with the `lab` driver; see docs/ARCHITECTURE.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildAttendee } from "./attendee";
import { LabConfig, readLabConfig } from "./config";
import { ConfigError } from "./configRules";
import { buildFoundation, FoundationExports } from "./foundation";
import { buildLab, LabExports } from "./stack";
import { stackPlan } from "./topology";

function loadConfig(): LabConfig {
  try {
    return readLabConfig();
  } catch (err) {
    // RunError: Pulumi prints the message alone, without a stack trace or program source.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

/** Every stack's outputs: identity and image always; the rest as its role and topology have them. */
type Outputs = Partial<LabExports & FoundationExports> &
  Pick<LabExports & FoundationExports, "attendee" | "workshop" | "target" | "platforms"> &
  Pick<LabExports & FoundationExports, "imageRef" | "imageTag" | "registry">;

function build(cfg: LabConfig): Outputs {
  switch (stackPlan(cfg).kind) {
    case "foundation":
      return buildFoundation(cfg);
    case "attendee":
      return buildAttendee(cfg);
    default:
      return buildLab(cfg);
  }
}

const lab = build(loadConfig());

export const attendee = lab.attendee;
export const workshop = lab.workshop;
export const target = lab.target;
export const region = lab.region;
export const placement = lab.placement;
export const replicas = lab.replicas;
export const platforms = lab.platforms;
export const imageRef = lab.imageRef;
export const imageTag = lab.imageTag;
export const registry = lab.registry;
export const clusterName = lab.clusterName;
export const kubeconfig = lab.kubeconfig;
export const nodeGroups = lab.nodeGroups;
export const serviceUrl = lab.serviceUrl;
export const namespace = lab.namespace;
export const podSelector = lab.podSelector;
export const clusterAdmin = lab.clusterAdmin;
export const placementEffective = lab.placementEffective;
export const checkPath = lab.checkPath;
export const expectStatus = lab.expectStatus;
export const expectBody = lab.expectBody;
export const archField = lab.archField;
export const appPort = lab.appPort;
export const appEnv = lab.appEnv;
// A workshop's stacks (#10); absent from self-contained labs.
export const role = lab.role;
export const topology = lab.topology;
export const foundation = lab.foundation;
export const handoutKubeconfig = lab.handoutKubeconfig;
export const attendees = lab.attendees;
export const vpcId = lab.vpcId;
export const vpcCidr = lab.vpcCidr;
export const publicSubnetIds = lab.publicSubnetIds;
export const privateSubnetIds = lab.privateSubnetIds;
