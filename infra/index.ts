/**
 * The Pulumi program. Reads and validates the configuration once — a bad config stops here, with
 * every problem listed, before any resource exists — then builds the lab (infra/stack.ts).
 * The exports below are the contract with the `lab` driver; see docs/ARCHITECTURE.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, LabConfig, readLabConfig } from "./config";
import { buildLab } from "./stack";

function loadConfig(): LabConfig {
  try {
    return readLabConfig();
  } catch (err) {
    // RunError: Pulumi prints the message alone, without a stack trace or program source.
    if (err instanceof ConfigError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

const lab = buildLab(loadConfig());

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
export const appPort = lab.appPort;
