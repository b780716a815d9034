/**
 * An attendee's tenancy of a shared cluster (#10; aws `shared-cluster` and the local target): its
 * namespace (Pod Security `restricted`), a ResourceQuota and LimitRange, a NetworkPolicy isolating
 * it from the other attendees' namespaces, and access scoped to it: on EKS an access entry with
 * AmazonEKSEditPolicy for the namespace only (when the attendee's IAM principal is given); locally
 * a ServiceAccount with a namespaced Role and a long-lived token, handed out as a kubeconfig.
 * The app itself is the App component, in this namespace (infra/attendee.ts).
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Target } from "./config";
import { labLabels, labNames } from "./names";
import {
  kubeconfigServer,
  namespacedKubeconfig,
  TENANT_ROLE_RULES,
  tenantIsolationSpec,
  tenantLimitRangeSpec,
  tenantQuotaSpec,
  tokenKubeconfig,
} from "./tenancy";

/** Name of the local attendee's ServiceAccount, Role, RoleBinding (and prefix of its token Secret). */
export const TENANT_ACCOUNT = "attendee";

/** The EKS access policy an attendee gets, scoped to their namespace. */
export const TENANT_ACCESS_POLICY = "AmazonEKSEditPolicy";

export interface TenantArgs {
  /** The shared cluster's provider (admin). */
  provider: k8s.Provider;
  workshop: string;
  attendee: string;
  target: Target;
  /** The app's replicas and memory limit: the quota and limits are sized from them. */
  replicas: number;
  memoryLimit?: string;
  /**
   * The admin kubeconfig of the shared cluster (the foundation's on EKS, lab:kubeconfig's contents
   * locally): the handout takes its server and CA.
   */
  adminKubeconfig: pulumi.Input<string>;
  /** lab:kubeconfig's path (local), for a CA file it names relative to itself and for messages. */
  kubeconfigFile?: string;
  /** EKS: the attendee's IAM principal and the cluster to grant it access to. */
  eksAccess?: { clusterName: pulumi.Input<string>; principalArn: string; awsProvider: aws.Provider };
}

export class Tenant extends pulumi.ComponentResource {
  public readonly namespace: pulumi.Output<string>;
  /** A kubeconfig for the attendee, namespace set (secret locally: it holds the token). */
  public readonly handoutKubeconfig: pulumi.Output<string>;

  constructor(name: string, args: TenantArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:index:Tenant", name, {}, opts);
    const names = labNames(args);
    const labels = labLabels(args.workshop, args.attendee);
    const k8sOpts = { parent: this, provider: args.provider };
    const ns = new k8s.core.v1.Namespace(
      `${name}-ns`,
      {
        metadata: {
          name: names.namespace,
          // No privileged, host-network or root pods on nodes the attendees share.
          labels: { ...labels, "pod-security.kubernetes.io/enforce": "restricted" },
        },
      },
      k8sOpts,
    );
    const namespace = ns.metadata.name;
    const meta = (n: string) => ({ name: n, namespace, labels });
    new k8s.core.v1.ResourceQuota(
      `${name}-quota`,
      { metadata: meta("tenant"), spec: tenantQuotaSpec(args.replicas, args.target, args.memoryLimit) },
      k8sOpts,
    );
    new k8s.core.v1.LimitRange(
      `${name}-limits`,
      { metadata: meta("tenant"), spec: tenantLimitRangeSpec(args.memoryLimit) },
      k8sOpts,
    );
    new k8s.networking.v1.NetworkPolicy(
      `${name}-isolation`,
      { metadata: meta("tenant-isolation"), spec: tenantIsolationSpec() },
      k8sOpts,
    );

    if (args.target === "local") {
      this.handoutKubeconfig = this.localAccess(name, args, namespace, meta);
    } else {
      if (args.eksAccess) this.eksAccess(name, args.eksAccess, namespace);
      this.handoutKubeconfig = pulumi.secret(
        pulumi.all([args.adminKubeconfig, namespace]).apply(([kc, n]) => namespacedKubeconfig(kc, n)),
      );
    }
    this.namespace = namespace;
    this.registerOutputs({ namespace: this.namespace, handoutKubeconfig: this.handoutKubeconfig });
  }

  /** EKS: the principal's access entry and AmazonEKSEditPolicy on the namespace alone. */
  private eksAccess(name: string, a: NonNullable<TenantArgs["eksAccess"]>, namespace: pulumi.Output<string>) {
    const opts = { parent: this, provider: a.awsProvider };
    const partition = aws.getPartitionOutput({}, opts).partition;
    const entry = new aws.eks.AccessEntry(
      `${name}-access`,
      { clusterName: a.clusterName, principalArn: a.principalArn, type: "STANDARD" },
      opts,
    );
    new aws.eks.AccessPolicyAssociation(
      `${name}-edit`,
      {
        clusterName: a.clusterName,
        principalArn: entry.principalArn,
        policyArn: pulumi.interpolate`arn:${partition}:eks::aws:cluster-access-policy/${TENANT_ACCESS_POLICY}`,
        accessScope: { type: "namespace", namespaces: [namespace] },
      },
      opts,
    );
  }

  /** Local: a ServiceAccount bound to a namespaced Role, and its long-lived token as a kubeconfig. */
  private localAccess(
    name: string,
    args: TenantArgs,
    namespace: pulumi.Output<string>,
    meta: (n: string) => { name: string; namespace: pulumi.Output<string>; labels: Record<string, string> },
  ): pulumi.Output<string> {
    const k8sOpts = { parent: this, provider: args.provider };
    const account = new k8s.core.v1.ServiceAccount(
      `${name}-account`,
      { metadata: meta(TENANT_ACCOUNT) },
      k8sOpts,
    );
    const role = new k8s.rbac.v1.Role(
      `${name}-role`,
      { metadata: meta(TENANT_ACCOUNT), rules: TENANT_ROLE_RULES },
      k8sOpts,
    );
    new k8s.rbac.v1.RoleBinding(
      `${name}-binding`,
      {
        metadata: meta(TENANT_ACCOUNT),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: role.metadata.name },
        subjects: [{ kind: "ServiceAccount", name: account.metadata.name, namespace }],
      },
      k8sOpts,
    );
    // The token controller fills in `data.token`; the provider waits for it (pulumi-kubernetes #2048).
    const token = new k8s.core.v1.Secret(
      `${name}-token`,
      {
        metadata: {
          ...meta(`${TENANT_ACCOUNT}-token`),
          annotations: { "kubernetes.io/service-account.name": TENANT_ACCOUNT },
        },
        type: "kubernetes.io/service-account-token",
      },
      { ...k8sOpts, dependsOn: [account] },
    );
    const file = args.kubeconfigFile ?? "";
    return pulumi.secret(
      pulumi.all([args.adminKubeconfig, token.data, namespace]).apply(([kc, data, n]) => {
        const { server, caData } = kubeconfigServer(kc, file);
        const value = data?.token;
        if (!value) throw new Error(`the token of ServiceAccount ${n}/${TENANT_ACCOUNT} was not issued`);
        const tokenText = Buffer.from(value, "base64").toString("utf8");
        return tokenKubeconfig({
          server,
          caData,
          token: tokenText,
          namespace: n,
          user: `${n}-${TENANT_ACCOUNT}`,
        });
      }),
    );
  }
}
