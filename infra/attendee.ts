/**
 * An attendee of a workshop's foundation (lab:foundation set, #10). It never builds an image: it
 * deploys the foundation's digest-pinned `imageRef`, read through one StackReference
 * (infra/foundationRef.ts). Per topology (infra/topology.ts):
 * - aws `dedicated`: its own VPC and cluster, and the app, as a self-contained lab minus the image;
 * - aws `shared-network`: its own cluster in the foundation's VPC and subnets, and the app;
 * - aws `shared-cluster` and the local target: a tenant of the shared cluster (infra/tenant.ts), the
 *   app in its namespace.
 * The outputs keep the self-contained lab's contract (infra/stack.ts's LabExports, so verify works
 * unchanged), with `role`, `topology` and `foundation` added.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { App } from "./app";
import { Cluster } from "./cluster";
import { FoundationValues, readFoundation } from "./foundationRef";
import {
  appArgs,
  checkNames,
  commonExports,
  clusterLabOutputs,
  LabExports,
  labAwsProvider,
  LOCAL_MEMORY_LIMIT,
  principals,
} from "./stack";
import { LabConfig, readKubeconfig } from "./config";
import { LOCAL_POD_CIDR, kubeconfigServer, serviceClientPeers } from "./tenancy";
import { Tenant } from "./tenant";
import { stackPlan } from "./topology";

export function buildAttendee(cfg: LabConfig): LabExports {
  checkNames(cfg);
  const plan = stackPlan(cfg);
  const foundation = readFoundation(cfg);
  const common = {
    ...commonExports(cfg),
    role: cfg.role,
    topology: cfg.topology,
    foundation: cfg.foundation,
    imageRef: foundation.imageRef,
    imageTag: foundation.imageTag,
    registry: foundation.registry,
  };
  if (cfg.target === "local") return { ...common, ...localTenant(cfg, foundation) };
  if (plan.app === "tenant") return { ...common, ...eksTenant(cfg, foundation) };

  // A cluster of its own: in its own VPC (dedicated) or the foundation's (shared-network).
  const awsProvider = labAwsProvider(cfg);
  const network =
    plan.network === "foundation"
      ? {
          vpcId: foundation.vpcId,
          publicSubnetIds: foundation.publicSubnetIds,
          privateSubnetIds: foundation.privateSubnetIds,
        }
      : undefined;
  const cluster = new Cluster(
    "lab",
    { ...cfg, awsProvider, network, adminPrincipalArns: principals(cfg) },
    { providers: [awsProvider] },
  );
  const app = new App("app", { ...appArgs(cfg), provider: cluster.provider, image: foundation.imageRef });
  return {
    ...common,
    ...clusterLabOutputs(cluster, app, awsProvider),
  };
}

/** A tenant of the foundation's EKS cluster: the app behind its own NLB, client addresses kept. */
function eksTenant(cfg: LabConfig, foundation: FoundationValues) {
  const provider = new k8s.Provider("lab-k8s", {
    kubeconfig: foundation.kubeconfig,
    enableServerSideApply: true,
  });
  const tenant = new Tenant("tenant", {
    provider,
    workshop: cfg.workshop,
    attendee: cfg.attendee,
    target: cfg.target,
    replicas: cfg.replicas,
    adminKubeconfig: foundation.kubeconfig,
    // The only AWS resources of a tenant: its principal's access entry (tagged like the lab's).
    eksAccess:
      cfg.attendeePrincipal === ""
        ? undefined
        : {
            clusterName: foundation.clusterName,
            principalArn: cfg.attendeePrincipal,
            awsProvider: labAwsProvider(cfg),
          },
  });
  const app = new App("app", {
    ...appArgs(cfg),
    provider,
    image: foundation.imageRef,
    namespace: tenant.namespace,
    ingressFrom: foundation.vpcCidr.apply((cidr) => serviceClientPeers([cidr])),
    externalTrafficPolicy: "Local",
  });
  return {
    clusterName: foundation.clusterName,
    kubeconfig: foundation.kubeconfig,
    nodeGroups: foundation.nodeGroups,
    serviceUrl: app.url,
    namespace: app.namespace,
    podSelector: app.podSelector,
    clusterAdmin: foundation.clusterAdmin,
    handoutKubeconfig: tenant.handoutKubeconfig,
  };
}

/** A tenant of the local cluster (lab:kubeconfig): the app on a NodePort, a token kubeconfig handed out. */
function localTenant(cfg: LabConfig, foundation: FoundationValues) {
  const text = readKubeconfig(cfg.kubeconfig);
  kubeconfigServer(text, cfg.kubeconfig); // the handout needs its server and CA: fail before anything exists
  const kubeconfig = pulumi.secret(text);
  const provider = new k8s.Provider("lab-k8s", { kubeconfig });
  const tenant = new Tenant("tenant", {
    provider,
    workshop: cfg.workshop,
    attendee: cfg.attendee,
    target: cfg.target,
    replicas: cfg.replicas,
    memoryLimit: LOCAL_MEMORY_LIMIT,
    adminKubeconfig: kubeconfig,
    kubeconfigFile: cfg.kubeconfig,
  });
  const app = new App("app", {
    ...appArgs(cfg),
    provider,
    image: foundation.imageRef,
    namespace: tenant.namespace,
    serviceType: "NodePort",
    clusterArchs: cfg.clusterArchs,
    memoryLimit: LOCAL_MEMORY_LIMIT,
    ingressFrom: serviceClientPeers([LOCAL_POD_CIDR]),
  });
  return {
    kubeconfig,
    namespace: app.namespace,
    podSelector: app.podSelector,
    serviceUrl: app.nodePort.apply((port) => (port ? `http://127.0.0.1:${port}${cfg.checkPath}` : undefined)),
    placementEffective: app.placementEffective,
    handoutKubeconfig: tenant.handoutKubeconfig,
  };
}
