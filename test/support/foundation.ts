/**
 * A workshop foundation's outputs as an attendee's StackReference sees them (the mocks answer with
 * these), per target and topology, and the configs of its attendee stacks. Import ./mocks first.
 */
import { ACCOUNT, ORGANIZATION, fakeDigest, setStackOutputs } from "./mocks";
import { awsConfig } from "./program";

export const WORKSHOP = "ws1";
export const FOUNDATION = `${WORKSHOP}.foundation`;
/** How the attendee's StackReference names it: `<organization>/<project>/<stack>`. */
export const FOUNDATION_REF = `${ORGANIZATION}/lab/${FOUNDATION}`;
export const FOUNDATION_REPO = `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/ws1-foundation-0a1b2c3d/hello`;
export const FOUNDATION_IMAGE = `${FOUNDATION_REPO}@${fakeDigest("foundation-image")}`;
export const SHARED_CLUSTER = "ws1-foundation-0a1b2c3d";
export const SHARED_KUBECONFIG = JSON.stringify({
  apiVersion: "v1",
  kind: "Config",
  clusters: [
    {
      name: "kubernetes",
      cluster: { server: "https://shared.eks.example", "certificate-authority-data": "Q0E=" },
    },
  ],
  contexts: [{ name: "aws", context: { cluster: "kubernetes", user: "aws" } }],
  "current-context": "aws",
  users: [{ name: "aws", user: { exec: { command: "aws", args: ["eks", "get-token"] } } }],
});
export const SHARED_NODE_GROUPS = [
  {
    name: `${SHARED_CLUSTER}-x86`,
    arch: "amd64",
    instanceTypes: ["m7i.large"],
    amiType: "AL2023_x86_64_STANDARD",
  },
  {
    name: `${SHARED_CLUSTER}-arm64`,
    arch: "arm64",
    instanceTypes: ["m6g.large"],
    amiType: "AL2023_ARM_64_STANDARD",
  },
];
export const SHARED_ADMIN = `arn:aws:iam::${ACCOUNT}:role/admins/LabAdmin`;

type Topology = "dedicated" | "shared-network" | "shared-cluster";

/** What a foundation of this target and topology exports. */
export function foundationOutputs(target: "aws" | "local", topology: Topology): Record<string, unknown> {
  const base = {
    role: "foundation",
    attendee: "foundation",
    workshop: WORKSHOP,
    target,
    topology: target === "local" ? "shared-cluster" : topology,
    attendees: 3,
    platforms: ["linux/amd64", "linux/arm64"],
  };
  if (target === "local") {
    const repo = "127.0.0.1:5000/ws1-foundation-0a1b2c3d/hello";
    return {
      ...base,
      imageRef: `${repo}@${fakeDigest("foundation-image")}`,
      imageTag: `${repo}:latest`,
      registry: { server: "127.0.0.1:5000" },
    };
  }
  const image = {
    ...base,
    region: "eu-west-1",
    imageRef: FOUNDATION_IMAGE,
    imageTag: `${FOUNDATION_REPO}:latest`,
    registry: { server: `${ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com` },
  };
  if (topology === "dedicated") return image;
  const network = {
    vpcId: "vpc-shared",
    vpcCidr: "10.0.0.0/16",
    publicSubnetIds: ["subnet-pub-0", "subnet-pub-1"],
    privateSubnetIds: ["subnet-priv-0", "subnet-priv-1"],
  };
  if (topology === "shared-network") return { ...image, ...network };
  return {
    ...image,
    ...network,
    clusterName: SHARED_CLUSTER,
    kubeconfig: SHARED_KUBECONFIG,
    nodeGroups: SHARED_NODE_GROUPS,
    clusterAdmin: SHARED_ADMIN,
  };
}

/** Makes the mocked backend hold the foundation (its kubeconfig secret, as the real one is). */
export function holdFoundation(outputs: Record<string, unknown>): void {
  setStackOutputs(FOUNDATION_REF, outputs, "kubeconfig" in outputs ? ["kubeconfig"] : []);
}

/** An aws attendee of the ws1 foundation. */
export function attendeeConfig(topology: Topology, overrides: Record<string, string | undefined> = {}) {
  return awsConfig({
    "lab:workshop": WORKSHOP,
    "lab:foundation": FOUNDATION,
    "lab:topology": topology,
    ...overrides,
  });
}
