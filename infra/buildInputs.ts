/**
 * What the image build takes from the Dockerfile and the machine: paths as the engine sees them, the
 * build args the Dockerfile declares, the emulation warning, and (local target) the check that its
 * FROM images are in the local registry. Used by infra/image.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as fs from "node:fs";
import * as path from "node:path";
import { APP_DEFAULTS, PROJECT_ROOT } from "./appConfig";
import { localPulls, missingLocalPulls, RegistryGet } from "./baseImages";
import {
  declaredBuildArgs,
  emulatedRuns,
  emulationWarning,
  parseDockerfile,
  ResolvedStage,
  resolveStages,
} from "./dockerfile";
import { ImageArgs } from "./imageTypes";
import { SERVICE_NAME_MAX } from "./names";

/** The bundled app's image keeps the name it always had (its Kubernetes objects are `hello` too). */
export const BUNDLED_APP_IMAGE = "hello";

/**
 * The image repository's last part for a build context (lab:appDir): its directory's name, made a
 * DNS label and OCI path component (`a-z0-9` and single `-`, at most SERVICE_NAME_MAX), so each
 * service a lab builds has a repository named after it. The bundled `app/` is `hello`.
 */
export function serviceName(context: string): string {
  const dir = path.resolve(PROJECT_ROOT, context);
  if (dir === path.resolve(PROJECT_ROOT, APP_DEFAULTS.appDir)) return BUNDLED_APP_IMAGE;
  const name = path
    .basename(dir)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .slice(0, SERVICE_NAME_MAX)
    .replace(/^-+|-+$/g, "");
  return name || "service";
}

/** Build args: only for images configured, so the Dockerfile's defaults apply otherwise. */
export function buildArgsFor(
  baseImage: string | undefined,
  buildImage?: string,
): Record<string, string> | undefined {
  const args: Record<string, string> = {};
  if (baseImage) args.BASE_IMAGE = baseImage;
  if (buildImage || baseImage) args.BUILD_IMAGE = (buildImage || baseImage) as string;
  return Object.keys(args).length > 0 ? args : undefined;
}

/**
 * A project-relative (or absolute) path as the engine's working directory sees it. The program runs
 * with its `main` directory (infra/) as working directory; a relative result keeps the provider's
 * inputs the same in every clone.
 */
export function fromProjectRoot(relative: string): string {
  return path.relative(process.cwd(), path.resolve(PROJECT_ROOT, relative)) || ".";
}

/** This machine's platform as BuildKit names it (the docker-build provider builds on it). */
export function hostPlatform(): string {
  return `linux/${process.arch === "x64" ? "amd64" : process.arch}`;
}

/**
 * Build args for a Dockerfile: the configured base and build images, but only the ones it declares
 * (a user's Dockerfile may declare BASE_IMAGE alone, or neither). Warns (preview and update) when
 * RUN steps of target-platform stages would run under emulation.
 */
export function dockerfileBuild(
  file: string,
  args: Pick<ImageArgs, "baseImage" | "buildImage" | "builderPlatform" | "platforms">,
  warn: (m: string) => void,
): { buildArgs?: Record<string, string>; stages: ResolvedStage[]; builder: string } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Error(
      `image: the Dockerfile ${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? e}): fix lab:appDir / lab:dockerfile`,
    );
  }
  const info = parseDockerfile(text);
  const buildArgs = declaredBuildArgs(info, buildArgsFor(args.baseImage, args.buildImage));
  const builder = args.builderPlatform ?? hostPlatform();
  const stages = resolveStages(info, buildArgs);
  const emulated = emulatedRuns(stages, args.platforms, builder);
  const warning = emulationWarning(path.relative(PROJECT_ROOT, file) || file, emulated, builder);
  if (warning) warn(`image: ${warning}`);
  return { buildArgs, stages, builder };
}

/** The context location, once every FROM image the local registry should hold is there. */
export function afterBaseImageCheck(
  context: string,
  registry: string,
  pulls: ReturnType<typeof localPulls>,
  get: RegistryGet,
): pulumi.Output<string> {
  return pulumi.output(
    missingLocalPulls(pulls, registry, get).then((problems) => {
      if (problems.length === 0) return context;
      // RunError: Pulumi prints the message alone, before the build starts.
      throw new pulumi.RunError(
        `image: the build cannot pull its base images from the local registry:\n  - ${problems.join("\n  - ")}`,
      );
    }),
  );
}
