/**
 * The lab's configuration: every key, its default and its validation, in one place.
 * `parseLabConfig` is a plain function (no Pulumi calls) so the stack, the Automation API driver
 * and the tests all apply the same rules, and bad input fails before any resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import { APP_DEFAULTS, AppConfig, isImageReference, parseAppConfig } from "./appConfig";
import { ARCHS, Arch, platformOf } from "./arch";
import {
  ConfigError,
  attendeeProblems,
  boolean,
  integer,
  isAwsRegion,
  list,
  nodeGroupTypes,
  oneOf,
  workshopProblems,
} from "./configRules";
import { DEFAULT_WORKSHOP } from "./names";
import { parseWorkshopConfig, WORKSHOP_DEFAULTS, WorkshopConfig } from "./workshopConfig";

export type Placement = "spread" | "arm64" | "amd64" | "prefer-arm64";
export type Target = "aws" | "local";
export type CapacityType = "ON_DEMAND" | "SPOT";

export const PLACEMENTS: readonly Placement[] = ["spread", "arm64", "amd64", "prefer-arm64"];
export const TARGETS: readonly Target[] = ["aws", "local"];
export const CAPACITY_TYPES: readonly CapacityType[] = ["ON_DEMAND", "SPOT"];
export const SUPPORTED_PLATFORMS: readonly string[] = ARCHS.map(platformOf);

/**
 * Architectures a placement lets pods run on: `spread` and `prefer-arm64` (Graviton preferred, x86
 * allowed) both; a pinned placement its own. The image needs a variant for each.
 */
export function placementArchs(placement: Placement): readonly Arch[] {
  return placement === "spread" || placement === "prefer-arm64" ? ARCHS : [placement];
}

// A registry address as image references use it: a host name or IPv4 address, and a port.
const REGISTRY_HOST_PORT = /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?:\d{1,5}$/;

const IPV4_CIDR = /^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/;

/**
 * Every lab:* value; the app keys (lab:appDir, lab:image, lab:appPort, …) are in infra/appConfig.ts,
 * the workshop keys (lab:role, lab:foundation, lab:topology, …) in infra/workshopConfig.ts.
 */
export interface LabConfig extends AppConfig, WorkshopConfig {
  /** Who the lab is for; part of every physical name and tag. */
  attendee: string;
  /** The workshop (the driver's stack prefix); with the attendee, part of every name and tag. */
  workshop: string;
  /** `aws` (EKS + ECR) or `local` (local registry; see docs/LOCAL.md). */
  target: Target;
  /** `spread` over both architectures, pinned to `arm64` / `amd64`, or `prefer-arm64` (either, Graviton preferred). */
  placement: Placement;
  /** Pod replicas of the app Deployment. */
  replicas: number;
  /** Instance types of the x86 node group (one architecture per group). */
  x86InstanceTypes: string[];
  /** Instance types of the Graviton node group. */
  armInstanceTypes: string[];
  /** Taint Graviton nodes `arch=arm64:NoSchedule`; only tolerating pods land there. */
  taintArm: boolean;
  /** EKS control-plane version, `1.<minor>`. */
  kubernetesVersion: string;
  /** CIDRs allowed to reach the EKS public API endpoint (default: anywhere, with a warning). */
  apiAllowedCidrs: string[];
  /** Node group scaling, applied to each of the two groups. */
  nodesMin: number;
  nodesDesired: number;
  nodesMax: number;
  capacityType: CapacityType;
  /** Image platforms to build; must cover every architecture pods may be placed on. */
  platforms: string[];
  /** Runtime base image (Dockerfile BASE_IMAGE); empty keeps the Dockerfile's default. */
  baseImage: string;
  /** Build-stage image with npm (Dockerfile BUILD_IMAGE); empty means the base image. */
  buildImage: string;
  /** Registry host:port for the local target. */
  localRegistry: string;
  /** Path to the kubeconfig of an existing cluster (local target); empty: no cluster, image only. */
  kubeconfig: string;
  /** Architectures the target cluster has nodes of (`kubernetes.io/arch`), for placement fallback. */
  clusterArchs: Arch[];
  /** AWS region (`aws:region`), required for the aws target. */
  region?: string;
}

export const DEFAULTS = {
  workshop: DEFAULT_WORKSHOP,
  target: "aws" as Target,
  placement: "spread" as Placement,
  replicas: 4,
  x86InstanceType: "m7i.large",
  armInstanceType: "m6g.large",
  taintArm: false,
  kubernetesVersion: "1.34",
  apiAllowedCidrs: "0.0.0.0/0",
  nodesMin: 1,
  nodesDesired: 1,
  nodesMax: 3,
  capacityType: "ON_DEMAND" as CapacityType,
  platforms: SUPPORTED_PLATFORMS.join(","),
  baseImage: "",
  buildImage: "",
  localRegistry: "127.0.0.1:5000",
  kubeconfig: "",
  clusterArchs: ARCHS.join(","),
  ...APP_DEFAULTS,
  ...WORKSHOP_DEFAULTS,
};

/**
 * Images that `npm run setup:local` builds from Debian packages and pushes to the local registry
 * (no public registry is needed): the multi-arch runtime base, and a build-platform image with npm.
 * The local target uses them unless lab:baseImage / lab:buildImage say otherwise.
 */
export const LOCAL_BASE_IMAGE = "lab/node:18-bookworm";
export const LOCAL_BUILD_IMAGE = "lab/node:18-bookworm-npm";

/**
 * What `lab` checks an attendee's config with before its cluster runs: the kubeconfig it will set
 * (the lab's own cluster's) does not exist yet, so it is not read then.
 */
export const DRIVER_KUBECONFIG = "(the local cluster's, set by lab)";

/**
 * lab:kubeconfig's contents, or a ConfigError naming the key and the fix. The one rule for the
 * file: the program reads it here, and the driver calls it before anything starts.
 */
export function readKubeconfig(file: string): string {
  try {
    return fs.readFileSync(file, "utf8");
  } catch (e) {
    const why = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError([
      `lab:kubeconfig "${file}" cannot be read (${why}): give the path of an existing cluster's ` +
        "kubeconfig, or run `npm run setup:local`",
    ]);
  }
}

/** Raw `lab:*` values as strings (as Pulumi config and `--config key=value` give them). */
export type RawLabConfig = Partial<Record<keyof typeof DEFAULTS | "attendee", string>> & { region?: string };

/** Validates raw config and applies defaults; throws one ConfigError listing every problem. */
export function parseLabConfig(raw: RawLabConfig): LabConfig {
  const problems: string[] = [];
  const get = <K extends keyof typeof DEFAULTS>(k: K): string => {
    const v = raw[k];
    return v === undefined || v === "" ? String(DEFAULTS[k]) : v;
  };

  problems.push(...attendeeProblems(raw.attendee));
  const workshop = get("workshop");
  problems.push(...workshopProblems(workshop));
  const target = oneOf("target", get("target"), TARGETS, problems);
  const placement = oneOf("placement", get("placement"), PLACEMENTS, problems);
  const replicas = integer("replicas", get("replicas"), 1, problems);
  if (placement === "spread" && replicas === 1) {
    problems.push("lab:replicas is 1, but placement spread needs at least 2 (one pod per architecture)");
  }
  const x86InstanceTypes = nodeGroupTypes("x86InstanceType", get("x86InstanceType"), "amd64", problems);
  const armInstanceTypes = nodeGroupTypes("armInstanceType", get("armInstanceType"), "arm64", problems);
  const taintArm = boolean("taintArm", get("taintArm"), problems);
  const kubernetesVersion = get("kubernetesVersion");
  if (!/^1\.\d{2,}$/.test(kubernetesVersion)) {
    problems.push(
      `lab:kubernetesVersion "${kubernetesVersion}" is not a Kubernetes minor version such as 1.34`,
    );
  }
  const apiAllowedCidrs = list(get("apiAllowedCidrs"));
  for (const c of apiAllowedCidrs) {
    if (
      !IPV4_CIDR.test(c) ||
      c
        .split(/[./]/)
        .slice(0, 4)
        .some((o) => Number(o) > 255) ||
      Number(c.split("/")[1]) > 32
    )
      problems.push(`lab:apiAllowedCidrs has "${c}", which is not an IPv4 CIDR such as 203.0.113.0/24`);
  }
  if (apiAllowedCidrs.length === 0)
    problems.push(
      "lab:apiAllowedCidrs is empty; give the CIDRs that may reach the cluster API, e.g. 203.0.113.7/32",
    );
  const nodesMin = integer("nodesMin", get("nodesMin"), 0, problems);
  const nodesDesired = integer("nodesDesired", get("nodesDesired"), 1, problems);
  const nodesMax = integer("nodesMax", get("nodesMax"), 1, problems);
  if (nodesMin > nodesDesired || nodesDesired > nodesMax) {
    problems.push(
      `lab:nodesMin/nodesDesired/nodesMax are ${nodesMin}/${nodesDesired}/${nodesMax}; they must satisfy min <= desired <= max`,
    );
  }
  const capacityType = oneOf("capacityType", get("capacityType"), CAPACITY_TYPES, problems);

  const platforms = list(get("platforms"));
  for (const p of platforms) {
    if (!(SUPPORTED_PLATFORMS as readonly string[]).includes(p)) {
      problems.push(`lab:platforms has "${p}"; supported platforms are ${SUPPORTED_PLATFORMS.join(", ")}`);
    }
  }
  // The image must have a variant for every architecture a pod may be scheduled on.
  const needed = placementArchs(placement);
  for (const arch of needed) {
    if (!platforms.includes(platformOf(arch))) {
      problems.push(
        `lab:platforms "${platforms.join(",")}" lacks ${platformOf(arch)}, which placement ${placement} needs`,
      );
    }
  }

  const clusterArchs: Arch[] = [];
  for (const a of list(get("clusterArchs"))) {
    if (!(ARCHS as readonly string[]).includes(a))
      problems.push(`lab:clusterArchs has "${a}"; known: ${ARCHS.join(", ")}`);
    else if (!clusterArchs.includes(a as Arch)) clusterArchs.push(a as Arch);
  }
  if (clusterArchs.length === 0 && problems.every((p) => !p.startsWith("lab:clusterArchs"))) {
    problems.push("lab:clusterArchs is empty; list the cluster's architectures, e.g. amd64 or amd64,arm64");
  }
  const kubeconfig = get("kubeconfig").trim();
  for (const key of ["baseImage", "buildImage"] as const) {
    const image = get(key).trim();
    if (image !== "" && !isImageReference(image))
      problems.push(
        `lab:${key} "${image}" is not an image reference: use [registry/]name[:tag][@sha256:digest] in ` +
          "lowercase (e.g. 127.0.0.1:5000/lab/node:18-bookworm), or leave it empty for the default",
      );
  }

  const region = raw.region === "" ? undefined : raw.region;
  if (region !== undefined && !isAwsRegion(region)) {
    problems.push(
      `aws:region "${region}" is not an AWS region name (such as eu-west-1 or us-east-2): fix the region`,
    );
  }
  const localRegistry = get("localRegistry");
  if (!REGISTRY_HOST_PORT.test(localRegistry)) {
    problems.push(
      `lab:localRegistry "${localRegistry}" is not host:port (such as 127.0.0.1:5000): no scheme, path or spaces`,
    );
  }
  const app = parseAppConfig(raw, problems);
  const workshopKeys = parseWorkshopConfig(raw, { target, attendee: raw.attendee, kubeconfig }, problems);
  if (target === "aws" && region === undefined) {
    problems.push("aws:region is required for the aws target: `pulumi config set aws:region eu-west-1`");
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    attendee: raw.attendee as string,
    workshop,
    target,
    placement,
    replicas,
    x86InstanceTypes,
    armInstanceTypes,
    taintArm,
    kubernetesVersion,
    apiAllowedCidrs,
    nodesMin,
    nodesDesired,
    nodesMax,
    capacityType,
    platforms,
    ...imagesFor(target, get("localRegistry"), get("baseImage"), get("buildImage")),
    localRegistry: get("localRegistry"),
    kubeconfig,
    clusterArchs,
    region,
    ...app,
    ...workshopKeys,
  };
}

/** Base and build images; the local target defaults to the images its setup makes. */
function imagesFor(target: Target, registry: string, baseImage: string, buildImage: string) {
  if (target !== "local" || baseImage !== "") return { baseImage, buildImage };
  return {
    baseImage: `${registry}/${LOCAL_BASE_IMAGE}`,
    buildImage: buildImage || `${registry}/${LOCAL_BUILD_IMAGE}`,
  };
}

/** Every `lab:*` key: the attendee plus each key with a default. */
export const CONFIG_KEYS: readonly (keyof typeof DEFAULTS | "attendee")[] = [
  "attendee",
  ...(Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]),
];

/**
 * Reads the stack's `lab:*` keys and `aws:region` once and validates them with `parseLabConfig`.
 * Throws ConfigError (listing every problem) before the program creates anything.
 */
export function readLabConfig(): LabConfig {
  const lab = new pulumi.Config("lab");
  const raw: RawLabConfig = { region: new pulumi.Config("aws").get("region") };
  for (const key of CONFIG_KEYS) raw[key] = lab.get(key);
  return parseLabConfig(raw);
}
