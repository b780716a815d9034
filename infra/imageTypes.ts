/** What the app image component is given, and what it tells the verifier about its registry. */
import { RegistryGet } from "./baseImages";

/** ECR in `region` (the lab provider's), or a plain-HTTP local registry. */
export type RegistryTarget = { kind: "ecr"; region: string } | { kind: "local"; address: string };

export interface ImageArgs {
  attendee: string;
  /** The workshop (`lab:workshop`); with the attendee, names the repository and tags the image. */
  workshop: string;
  /** Platforms of the image index, e.g. ["linux/amd64", "linux/arm64"]. */
  platforms: string[];
  /** Where to push: an ECR repository created here, or a local plain-HTTP registry. */
  registry: RegistryTarget;
  /**
   * Image tag, without repository; never an architecture. Default: `src-<hash>` of the build's inputs
   * (infra/contextHash.ts), so a tag names one build; workloads run the digest all the same.
   */
  tag?: string;
  /** Runtime base image (BASE_IMAGE); "" keeps the Dockerfile's. */
  baseImage?: string;
  /** Build-stage image with npm (BUILD_IMAGE); "" means baseImage. */
  buildImage?: string;
  /** Build context (lab:appDir), relative to the project root or absolute. Defaults to `app`. */
  context?: string;
  /** Dockerfile path (lab:dockerfile), relative to the context. Defaults to `Dockerfile`. */
  dockerfile?: string;
  /** The build machine's platform, for the emulation warning; defaults to this machine's. */
  builderPlatform?: string;
  /**
   * Local registry only: how to ask it for the FROM images it should hold (checked before the build,
   * infra/baseImages.ts); undefined skips the check.
   */
  registryGet?: RegistryGet;
}

/**
 * The registry server, for the verifier to inspect the image. No credentials: verify asks ECR for
 * a fresh token with the caller's own AWS credentials when it runs.
 */
export interface RegistryInfo {
  server: string;
}
