/**
 * The stack outputs the driver codes against (the contract with infra/, docs/ARCHITECTURE.md),
 * read tolerantly: a missing or odd-shaped output becomes `undefined`, and the check that needs
 * it says so.
 */
import { APP_DEFAULTS } from "../../infra/appConfig";
import { Placement, PLACEMENTS } from "../../infra/config";

export interface NodeGroupOutput {
  name: string;
  arch: string;
  instanceTypes: string[];
  amiType?: string;
}

export interface LabOutputs {
  attendee?: string;
  target?: string;
  clusterName?: string;
  /** JSON or YAML text. */
  kubeconfig?: string;
  /** `<repo>@sha256:…` (the index digest). */
  imageRef?: string;
  /** `<repo>:<tag>` as pushed. */
  imageTag?: string;
  platforms?: string[];
  /** `http://<lb-host><checkPath>` (`/hello` for the bundled app). */
  serviceUrl?: string;
  nodeGroups?: NodeGroupOutput[];
  placement?: Placement;
  replicas?: number;
  namespace?: string;
  podSelector?: Record<string, string>;
  region?: string;
  /** The registry server; no credentials (verify fetches an ECR token itself). */
  registry?: { server?: string };
  /**
   * What verify requests and expects (lab:checkPath, lab:expectStatus, lab:expectBody) and the
   * container port (lab:appPort). parseOutputs always sets checkPath, expectStatus and appPort: a
   * stack from before these outputs ran the hello app, so it gets the hello app's values.
   */
  checkPath?: string;
  expectStatus?: number;
  /** Regular expression source the body must match; undefined for any body. */
  expectBody?: string;
  /** lab:archField; undefined for a stack from before it ("" is set: the answer says none). */
  archField?: string;
  appPort?: number;
  /** lab:appEnv: the container environment beyond PORT. */
  appEnv?: Record<string, string>;
  /** A kubeconfig that can act only in the attendee's namespace (shared-cluster and local). */
  handoutKubeconfig?: string;
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

function strings(v: unknown): string[] | undefined {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : undefined;
}

function stringMap(v: unknown): Record<string, string> | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === "string") out[k] = x;
  return out;
}

/** Plain output values (secrets already revealed) → the typed contract. */
export function parseOutputs(raw: Record<string, unknown>): LabOutputs {
  const kc = raw.kubeconfig;
  const placement = str(raw.placement);
  const replicas = Number(raw.replicas);
  const reg =
    typeof raw.registry === "object" && raw.registry !== null
      ? (raw.registry as Record<string, unknown>)
      : {};
  const groups = Array.isArray(raw.nodeGroups) ? raw.nodeGroups : [];
  const int = (v: unknown, min: number, max: number, fallback: number): number =>
    Number.isInteger(v) && (v as number) >= min && (v as number) <= max ? (v as number) : fallback;
  const checkPath = str(raw.checkPath);
  return {
    attendee: str(raw.attendee),
    target: str(raw.target),
    clusterName: str(raw.clusterName),
    kubeconfig: typeof kc === "object" && kc !== null ? JSON.stringify(kc) : str(kc),
    handoutKubeconfig: str(raw.handoutKubeconfig),
    imageRef: str(raw.imageRef),
    imageTag: str(raw.imageTag),
    platforms: strings(raw.platforms),
    serviceUrl: str(raw.serviceUrl),
    nodeGroups: groups
      .filter((g): g is Record<string, unknown> => typeof g === "object" && g !== null)
      .map((g) => ({
        name: str(g.name) ?? "",
        arch: str(g.arch) ?? "",
        instanceTypes: strings(g.instanceTypes) ?? [],
        amiType: str(g.amiType),
      })),
    placement: (PLACEMENTS as readonly string[]).includes(placement ?? "")
      ? (placement as Placement)
      : undefined,
    replicas: Number.isInteger(replicas) && replicas > 0 ? replicas : undefined,
    namespace: str(raw.namespace),
    podSelector: stringMap(raw.podSelector),
    region: str(raw.region),
    registry:
      raw.registry === undefined
        ? undefined
        : // An older stack's exported username/password is dropped: verify asks for a fresh token.
          { server: str(reg.server) },
    checkPath: checkPath?.startsWith("/") ? checkPath : APP_DEFAULTS.checkPath,
    expectStatus: int(raw.expectStatus, 100, 599, APP_DEFAULTS.expectStatus),
    expectBody: str(raw.expectBody),
    archField: typeof raw.archField === "string" ? raw.archField : undefined,
    appPort: int(raw.appPort, 1, 65535, APP_DEFAULTS.appPort),
    appEnv: stringMap(raw.appEnv),
  };
}
