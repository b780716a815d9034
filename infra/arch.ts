/**
 * Architecture is data: every instance type maps to one CPU architecture, and from that to the
 * EKS AMI type and the Kubernetes `kubernetes.io/arch` label. Deriving these (rather than asking
 * for them) is what prevents Graviton nodes booting an x86 AMI (pulumi-eks #738, #582, #1323).
 */

export type Arch = "amd64" | "arm64";

/** Every architecture the lab runs, in display order: the one list the program and driver share. */
export const ARCHS: readonly Arch[] = ["amd64", "arm64"];

/** The node label that says a node's architecture (kubelet sets it from its own GOARCH). */
export const ARCH_KEY = "kubernetes.io/arch";

/** The OCI platform of an architecture (`linux/arm64`). */
export const platformOf = (arch: Arch): string => `linux/${arch}`;

/** `uname -m` spelling of each architecture, as the app reports it. */
export const UNAME_ARCH: Record<Arch, string> = { amd64: "x86_64", arm64: "aarch64" };

/** How services name each architecture: GOARCH, `uname -m` and Node's `process.arch`. */
export const ARCH_SPELLINGS: Record<Arch, readonly string[]> = {
  amd64: ["amd64", "x86_64", "x64"],
  arm64: ["arm64", "aarch64"],
};

/** The architecture a service's spelling names (`aarch64` → `arm64`); undefined for any other. */
export function archOfSpelling(name: string): Arch | undefined {
  return ARCHS.find((a) => ARCH_SPELLINGS[a].includes(name));
}

/** AL2023 AMI types (AL2 reached end of support in Nov 2025). */
export const AMI_TYPE: Record<Arch, string> = {
  amd64: "AL2023_x86_64_STANDARD",
  arm64: "AL2023_ARM_64_STANDARD",
};

// Graviton families (AWS docs); every other current general family below is x86.
// prettier-ignore
const GRAVITON_FAMILIES = new Set([
  "a1", "t4g",
  "m6g", "m6gd", "m7g", "m7gd", "m8g", "m8gd",
  "c6g", "c6gd", "c6gn", "c7g", "c7gd", "c7gn", "c8g", "c8gd", "c8gn",
  "r6g", "r6gd", "r7g", "r7gd", "r8g", "r8gd",
  "x2gd", "x8g", "i4g", "i8g", "im4gn", "is4gen", "g5g",
]);

// prettier-ignore
const X86_FAMILIES = new Set([
  "t2", "t3", "t3a",
  "m5", "m5a", "m5ad", "m5d", "m5dn", "m5n", "m5zn", "m6a", "m6i", "m6id", "m6idn", "m6in", "m7a", "m7i", "m7i-flex", "m8a", "m8i",
  "c5", "c5a", "c5ad", "c5d", "c5n", "c6a", "c6i", "c6id", "c6in", "c7a", "c7i", "c7i-flex", "c8a", "c8i",
  "r5", "r5a", "r5ad", "r5b", "r5d", "r5dn", "r5n", "r6a", "r6i", "r6id", "r6idn", "r6in", "r7a", "r7i", "r7iz", "r8a", "r8i",
  "i3", "i3en", "i4i", "x2idn", "x2iedn", "z1d",
  "g4dn", "g5", "g6", "g6e", "p4d", "p5",
]);

// `family.size`, e.g. m6g.large, c7i-flex.xlarge, m7g.metal-24xl.
const INSTANCE_TYPE = /^([a-z][a-z0-9-]*)\.([a-z0-9-]+)$/;

/** The architecture of an instance type, or an error message naming the problem. */
export function archOfInstanceType(instanceType: string): Arch | Error {
  const m = INSTANCE_TYPE.exec(instanceType);
  if (!m) {
    return new Error(
      `"${instanceType}" is not an EC2 instance type (expected <family>.<size>, e.g. m6g.large)`,
    );
  }
  const family = m[1];
  if (GRAVITON_FAMILIES.has(family)) return "arm64";
  if (X86_FAMILIES.has(family)) return "amd64";
  return new Error(
    `instance family "${family}" (of "${instanceType}") is unknown to this lab; use a known x86 family ` +
      `(e.g. m7i, c7i, t3) or Graviton family (e.g. m7g, c7g, t4g)`,
  );
}

/**
 * The single architecture of a node group's instance types. Mixed families are rejected: one
 * managed node group has one AMI type, so it can only run one architecture.
 */
export function archOfInstanceTypes(instanceTypes: string[]): Arch | Error {
  if (instanceTypes.length === 0) return new Error("no instance types given");
  const archs = new Set<Arch>();
  for (const t of instanceTypes) {
    const a = archOfInstanceType(t);
    if (a instanceof Error) return a;
    archs.add(a);
  }
  if (archs.size > 1) {
    return new Error(
      `instance types ${instanceTypes.join(", ")} mix x86 and Graviton families; one node group runs one architecture`,
    );
  }
  return [...archs][0];
}
