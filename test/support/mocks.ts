/**
 * The one Pulumi mocks helper of the unit tests. Importing it calls `pulumi.runtime.setMocks`, so
 * import it BEFORE any code under test. It records every registered resource (type, name, inputs,
 * parent URN, provider reference, providers map) and every invoke, and answers the invokes the lab
 * makes (caller identity, session context, AZs, partition, ECR token). Unknown invokes throw, so a
 * new lookup cannot silently return nothing.
 *
 * A `pulumi.StackReference` (a workshop attendee reading its foundation) answers with the outputs
 * `setStackOutputs` gave for that fully qualified stack name (`organization/lab/<stack>`), or none.
 *
 * @pulumi/eks's Cluster is a remote (multi-language) component: under mocks it is ONE resource,
 * `eks:index:Cluster`, whose outputs (kubeconfigJson, eksCluster, …) are mocked below; tests assert
 * on its inputs, not on the children it would create in a real deployment.
 */
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";

export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";
export const ZONES = [`${REGION}a`, `${REGION}b`, `${REGION}c`];
/** Instance types the mocked EC2 does not offer, by zone (tests set and reset it). */
export const NOT_OFFERED: Record<string, string[]> = {};
/** Session ARN of the mocked deployer, and the role (with its path) AWS resolves it to. */
export const CALLER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/LabAdmin/alice-session`;
export const ISSUER_ARN = `arn:aws:iam::${ACCOUNT}:role/admins/LabAdmin`;
export const ECR_PASSWORD = "mock-ecr-password";

/* eslint-disable @typescript-eslint/no-explicit-any */
export interface Recorded {
  type: string;
  name: string;
  inputs: any;
  custom: boolean;
  /** URN of the parent resource ("" for the root). */
  parent: string;
  /** Provider reference (`<urn>::<id>`) of a custom resource, or "" for the default provider. */
  provider: string;
  /** Providers map sent with a component (package → provider reference). */
  providers: Record<string, string>;
  /** URNs this resource depends on (explicit dependsOn and inputs' resources). */
  dependencies: string[];
  urn?: string;
  id?: string;
  state?: any;
}

export interface RecordedCall {
  token: string;
  inputs: any;
  provider: string;
}

const resources: Recorded[] = [];
const calls: RecordedCall[] = [];
let inflight = 0;
let pendingMeta: Pick<Recorded, "parent" | "providers" | "dependencies"> | undefined;
let lastRecord: Recorded | undefined;

/** Outputs (and which of them are secret) of the stacks a StackReference may name. */
const stacks = new Map<string, { outputs: Record<string, unknown>; secret: string[] }>();

/** The outputs a StackReference to `name` (fully qualified) sees; `secret` names the secret ones. */
export function setStackOutputs(name: string, outputs: Record<string, unknown>, secret: string[] = []): void {
  stacks.set(name, { outputs, secret });
}

/** The organization the mocked program runs in (a DIY backend's is `organization` too). */
export const ORGANIZATION = "organization";

/** The token the mocked token controller issues a ServiceAccount's token Secret. */
export const SA_TOKEN = "mock-service-account-token";

/** Deterministic fake digest of a name. */
export function fakeDigest(seed: string): string {
  return `sha256:${createHash("sha256").update(seed).digest("hex")}`;
}

function fakeKubeconfig(clusterName: string) {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: clusterName, cluster: { server: `https://${clusterName}.eks.example` } }],
    contexts: [{ name: "aws", context: { cluster: clusterName, user: "aws" } }],
    "current-context": "aws",
    users: [
      { name: "aws", user: { exec: { command: "aws", args: ["--region", REGION, "eks", "get-token"] } } },
    ],
  };
}

function mockState(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: any } {
  const inputs = args.inputs;
  const id = args.custom ? `${args.name}-id` : undefined;
  switch (args.type) {
    case "aws:ecr/repository:Repository":
      return {
        id: inputs.name,
        state: {
          ...inputs,
          registryId: ACCOUNT,
          repositoryUrl: `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/${inputs.name}`,
        },
      };
    case "aws:iam/role:Role": {
      const name = `${inputs.namePrefix ?? args.name}20250101000000000000000001`;
      return { id: name, state: { ...inputs, name, arn: `arn:aws:iam::${ACCOUNT}:role/${name}` } };
    }
    case "aws:ec2/launchTemplate:LaunchTemplate":
      return { id: `lt-${args.name}`, state: { ...inputs, latestVersion: 1 } };
    case "docker-build:index:Image": {
      const digest = fakeDigest(args.name);
      return { id, state: { ...inputs, digest, ref: `${inputs.tags?.[0]}@${digest}` } };
    }
    case "eks:index:Cluster": {
      const kubeconfig = fakeKubeconfig(inputs.name);
      return {
        id,
        state: { kubeconfig, kubeconfigJson: JSON.stringify(kubeconfig), eksCluster: { name: inputs.name } },
      };
    }
    case "pulumi:pulumi:StackReference": {
      const found = stacks.get(inputs.name) ?? { outputs: {}, secret: [] };
      return {
        id: inputs.name,
        state: { name: inputs.name, outputs: found.outputs, secretOutputNames: found.secret },
      };
    }
    case "kubernetes:core/v1:Secret":
      // The token controller fills in a service-account-token Secret's data.
      return inputs.type === "kubernetes.io/service-account-token"
        ? { id, state: { ...inputs, data: { token: Buffer.from(SA_TOKEN).toString("base64") } } }
        : { id, state: inputs };
    case "kubernetes:core/v1:Service":
      return {
        id,
        state: {
          ...inputs,
          // The API server allocates node ports (30000–32767).
          spec:
            inputs.spec?.type === "NodePort"
              ? { ...inputs.spec, ports: inputs.spec.ports?.map((p: object) => ({ ...p, nodePort: 30080 })) }
              : inputs.spec,
          status:
            inputs.spec?.type === "LoadBalancer"
              ? { loadBalancer: { ingress: [{ hostname: `${args.name}-0123.elb.${REGION}.amazonaws.com` }] } }
              : { loadBalancer: {} },
        },
      };
    default:
      return { id, state: inputs };
  }
}

function mockCall(args: pulumi.runtime.MockCallArgs): Record<string, any> {
  switch (args.token) {
    case "aws:index/getCallerIdentity:getCallerIdentity":
      return { accountId: ACCOUNT, arn: CALLER_ARN, userId: "AROAEXAMPLE:alice-session", id: ACCOUNT };
    case "aws:iam/getSessionContext:getSessionContext":
      return {
        arn: args.inputs.arn,
        issuerArn: ISSUER_ARN,
        issuerName: "LabAdmin",
        sessionName: "alice-session",
      };
    case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": {
      // Every requested type in every zone, except what a test takes out (NOT_OFFERED).
      const types: string[] = args.inputs.filters?.[0]?.values ?? [];
      const pairs = ZONES.flatMap((location) =>
        types.filter((t) => !NOT_OFFERED[location]?.includes(t)).map((t) => ({ location, t })),
      );
      return { locations: pairs.map((p) => p.location), instanceTypes: pairs.map((p) => p.t), id: REGION };
    }
    case "aws:index/getAvailabilityZones:getAvailabilityZones":
      return { names: ZONES, zoneIds: ["euw1-az1", "euw1-az2", "euw1-az3"], id: REGION };
    case "aws:index/getPartition:getPartition":
      return { partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" };
    case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
      return {
        userName: "AWS",
        password: ECR_PASSWORD,
        authorizationToken: "QVdTOm1vY2s=",
        proxyEndpoint: `https://${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com`,
        expiresAt: "2099-01-01T00:00:00Z",
        id: ACCOUNT,
      };
    default:
      throw new Error(`unexpected invoke ${args.token} (add it to test/support/mocks.ts)`);
  }
}

export const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    const record: Recorded = {
      type: args.type,
      name: args.name,
      inputs: args.inputs,
      custom: args.custom ?? false,
      provider: args.provider ?? "",
      parent: pendingMeta?.parent ?? "",
      providers: pendingMeta?.providers ?? {},
      dependencies: pendingMeta?.dependencies ?? [],
    };
    pendingMeta = undefined;
    const { id, state } = mockState(args);
    record.id = id;
    record.state = state;
    resources.push(record);
    lastRecord = record;
    return { id: id ?? "", state };
  },
  call(args) {
    calls.push({ token: args.token, inputs: args.inputs, provider: args.provider ?? "" });
    return mockCall(args);
  },
};

pulumi.runtime.setMocks(mocks, "lab", "test", false, ORGANIZATION);
// The program asks a local target's registry for its base images (infra/baseImages.ts); unit tests have
// no registry: test/baseImages.test.ts drives the check itself.
process.env.LAB_BASE_IMAGE_CHECK = "off";

// Wrap the mock monitor to see what newResource is not given: the parent, the providers map and the
// URN. The monitor calls newResource synchronously inside registerResource.
interface RegisterRequest {
  getParent(): string;
  getProvidersMap(): { forEach(cb: (value: string, key: string) => void): void };
  getDependenciesList(): string[];
}
type Callback = (err: unknown, resp?: { getUrn(): string }) => void;
const monitor = pulumi.runtime.getMonitor() as unknown as {
  registerResource(req: RegisterRequest, cb: Callback): unknown;
};
const register = monitor.registerResource.bind(monitor);
monitor.registerResource = (req, cb) => {
  const providers: Record<string, string> = {};
  req.getProvidersMap().forEach((value, key) => (providers[key] = value));
  pendingMeta = { parent: req.getParent(), providers, dependencies: req.getDependenciesList() };
  lastRecord = undefined;
  inflight++;
  let record: Recorded | undefined = undefined;
  const result = register(req, (err, resp) => {
    inflight--;
    if (record && resp) record.urn = resp.getUrn();
    cb(err, resp);
  });
  record = lastRecord;
  return result;
};

/** Forgets everything recorded (call between tests, after `settle`). */
export function resetMocks(): void {
  resources.length = 0;
  calls.length = 0;
  stacks.clear();
}

/** Waits until no registration is in flight (and none started) for a few ticks. */
export async function settle(): Promise<void> {
  for (let quiet = 0; quiet < 5;) {
    await new Promise((r) => setTimeout(r, 2));
    quiet = inflight === 0 ? quiet + 1 : 0;
  }
}

/** Every resource recorded since the last reset. */
export function recorded(): Recorded[] {
  return [...resources];
}

/** Recorded resources of one type. */
export function ofType(type: string): Recorded[] {
  return resources.filter((r) => r.type === type);
}

/** The single recorded resource of a type and name (throws when absent or ambiguous). */
export function one(type: string, name?: string): Recorded {
  const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) {
    const names = ofType(type).map((r) => r.name);
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length} (${names})`);
  }
  return found[0];
}

/** Invokes recorded since the last reset. */
export function recordedCalls(): RecordedCall[] {
  return [...calls];
}
