/**
 * An attendee's view of its workshop's foundation (#10): ONE StackReference to the stack
 * lab:foundation names, qualified with this stack's organization and project. Before any value is
 * used, the foundation's outputs are checked against this attendee's config (a foundation of the
 * same workshop, target and topology, with every output the topology needs); a mismatch fails the
 * update with what to fix, and nothing is deployed from a wrong foundation.
 */
import * as pulumi from "@pulumi/pulumi";
import { LabConfig } from "./config";
import { FoundationExports, neededOutputs } from "./foundation";
import { RegistryInfo } from "./imageTypes";
import { NodeGroupDescription } from "./nodegroups";

/** `<organization>/<project>/<foundation>`: the form every backend (DIY ones too) resolves. */
export function foundationStackName(foundation: string): string {
  return `${pulumi.getOrganization()}/${pulumi.getProject()}/${foundation}`;
}

/** What the foundation's outputs have wrong for this attendee (empty when it fits). */
export function foundationProblems(
  cfg: Pick<LabConfig, "foundation" | "workshop" | "target" | "topology">,
  outputs: Partial<Record<keyof FoundationExports, unknown>>,
): string[] {
  const name = `foundation stack ${cfg.foundation}`;
  const keys = Object.keys(outputs);
  if (keys.length === 0) {
    return [`${name} has no outputs: bring it up before its attendees (lab up does), or fix lab:foundation`];
  }
  if (outputs.role !== "foundation") {
    return [
      `${name} is not a workshop foundation (its role output is ${JSON.stringify(outputs.role)}): ` +
        `set lab:foundation to the stack made with lab:role foundation`,
    ];
  }
  const problems: string[] = [];
  const same = (key: "workshop" | "target" | "topology", fix: string) => {
    if (outputs[key] !== cfg[key]) {
      problems.push(`${name} has ${key} ${JSON.stringify(outputs[key])}, this attendee ${cfg[key]}: ${fix}`);
    }
  };
  same("workshop", "attendees use their own workshop's foundation (lab:workshop, lab:foundation)");
  same("target", "set lab:target like the foundation's, or use a foundation of this target");
  same("topology", "set lab:topology like the foundation's (the topology is the workshop's)");
  const missing = neededOutputs(cfg.target, cfg.topology).filter((k) => outputs[k] === undefined);
  if (problems.length === 0 && missing.length > 0) {
    problems.push(`${name} lacks the outputs ${missing.join(", ")}: update it (lab up) before its attendees`);
  }
  return problems;
}

/** The foundation's values an attendee uses, each available only once the foundation checked out. */
export interface FoundationValues {
  imageRef: pulumi.Output<string>;
  imageTag: pulumi.Output<string>;
  registry: pulumi.Output<RegistryInfo>;
  vpcId: pulumi.Output<string>;
  vpcCidr: pulumi.Output<string>;
  publicSubnetIds: pulumi.Output<string[]>;
  privateSubnetIds: pulumi.Output<string[]>;
  clusterName: pulumi.Output<string>;
  /** Secret, as the foundation exports it. */
  kubeconfig: pulumi.Output<string>;
  nodeGroups: pulumi.Output<NodeGroupDescription[]>;
  clusterAdmin: pulumi.Output<string>;
}

/** Reads the foundation lab:foundation names, through one StackReference. */
export function readFoundation(cfg: LabConfig, opts?: pulumi.CustomResourceOptions): FoundationValues {
  const ref = new pulumi.StackReference("foundation", { name: foundationStackName(cfg.foundation) }, opts);
  // The names of its outputs are no secret, though `outputs` as a whole is (the kubeconfig).
  const keys = pulumi.unsecret(ref.outputs.apply((o) => Object.keys(o ?? {})));
  const plain = ["role", "workshop", "target", "topology"] as const;
  const checked = pulumi.all([keys, ...plain.map((k) => ref.getOutput(k))]).apply(([names, ...values]) => {
    const outputs: Record<string, unknown> = Object.fromEntries((names as string[]).map((n) => [n, true]));
    plain.forEach((k, i) => (outputs[k] = values[i]));
    const problems = foundationProblems(cfg, outputs);
    if (problems.length > 0) throw new pulumi.RunError(problems.join("\n"));
    return true;
  });
  // Each value waits for the check; a secret output stays secret, the others stay plain.
  const get = <T>(key: keyof FoundationExports): pulumi.Output<T> =>
    pulumi.all([checked, ref.getOutput(key)]).apply(([, v]) => v as T);
  return {
    imageRef: get("imageRef"),
    imageTag: get("imageTag"),
    registry: get("registry"),
    vpcId: get("vpcId"),
    vpcCidr: get("vpcCidr"),
    publicSubnetIds: get("publicSubnetIds"),
    privateSubnetIds: get("privateSubnetIds"),
    clusterName: get("clusterName"),
    kubeconfig: get("kubeconfig"),
    nodeGroups: get("nodeGroups"),
    clusterAdmin: get("clusterAdmin"),
  };
}
