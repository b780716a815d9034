/**
 * Which AZs a lab's VPC spans: available and not opt-in, not an AZ ID where EKS cannot place a
 * control plane, and offering every instance type of both node groups (#10 point 5). One source for
 * the program and for `lab preflight` (automation/aws/zones.ts), which checks the same before `up`.
 */

/**
 * AZ IDs where EKS does not create clusters (EKS User Guide, "VPC and subnet requirements":
 * docs.aws.amazon.com/eks/latest/userguide/network_reqs.html). IDs, not names: names differ by account.
 */
export const EKS_UNSUPPORTED_AZ_IDS: readonly string[] = ["use1-az3", "usw1-az2", "cac1-az3"];

/** AZs a lab spans (EKS needs subnets in at least two). */
export const LAB_AZ_COUNT = 2;

/**
 * The first `count` AZ names (in name order) that offer every one of `types`; `offerings` is the
 * (location, instance type) pairs EC2 reports. An error names what is missing.
 */
export function pickZones(
  names: string[],
  offerings: { location: string; instanceType: string }[],
  types: string[],
  count: number,
): string[] {
  const offered = (zone: string, type: string) =>
    offerings.some((o) => o.location === zone && o.instanceType === type);
  const usable = [...names].sort().filter((z) => types.every((t) => offered(z, t)));
  if (usable.length < count) {
    throw new Error(
      `only ${usable.length} AZ(s) of ${names.join(", ")} offer every node-group instance type ` +
        `(${types.join(", ")}); the lab needs ${count}: choose other types (lab:x86InstanceType, ` +
        "lab:armInstanceType) or another region (`lab preflight` shows the offerings)",
    );
  }
  return usable.slice(0, count);
}
