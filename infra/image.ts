/**
 * The app image: one BuildKit multi-platform build (@pulumi/docker-build) pushed as an image index,
 * deployed by digest. The registry is pluggable: an ECR repository per lab (target `aws`), or a
 * plain-HTTP local registry without credentials (target `local`). The repository is named after the
 * service (`<base>/<basename of lab:appDir>`), the tag after the build's inputs (`src-<hash>`).
 */
import * as aws from "@pulumi/aws";
import * as dockerbuild from "@pulumi/docker-build";
import * as pulumi from "@pulumi/pulumi";
import * as path from "node:path";
import { PROJECT_ROOT } from "./appConfig";
import { localPulls } from "./baseImages";
import { afterBaseImageCheck, dockerfileBuild, fromProjectRoot, serviceName } from "./buildInputs";
import { contentTag } from "./contextHash";
import { dockerCredentialSource, missingEcrCredentials } from "./dockerAuth";
import { PushedImage } from "./localRegistry";
import { ImageArgs, RegistryInfo } from "./imageTypes";
import { CACHE_TAG, imageRepository, labNames, labTags } from "./names";

/** Days an untagged image (a superseded index, old cache) lives in ECR. */
export const UNTAGGED_EXPIRY_DAYS = 1;
/** Tagged images kept in ECR. */
export const KEEP_TAGGED = 10;

const ARCH_WORDS = /(^|[-_.])(amd64|arm64|aarch64|x86_64|x86|arm)([-_.]|$)/i;

/** `<repository>:<tag>`; rejects tags naming an architecture (the index serves every arch). */
export function fullTag(repository: string, tag: string): string {
  if (!/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(tag))
    throw new Error(`image tag "${tag}" is not a valid tag`);
  if (ARCH_WORDS.test(tag)) {
    throw new Error(`image tag "${tag}" names an architecture; one multi-platform tag serves all of them`);
  }
  const host = repository.split("/")[0];
  if (!repository.includes("/") || !(host.includes(".") || host.includes(":") || host === "localhost")) {
    throw new Error(
      `repository "${repository}" is not fully qualified (<registry>/<name>); a push would go to Docker Hub`,
    );
  }
  return `${repository}:${tag}`;
}

/** The digest-pinned reference of the pushed image index: `<repository>@sha256:…`. */
export function digestRef(repository: string, digest: string): string {
  if (!/^sha256:[0-9a-f]{64}$/.test(digest)) {
    throw new Error(`image build returned digest "${digest}"; expected sha256:<64 hex> from a pushed index`);
  }
  return `${repository}@${digest}`;
}

/**
 * Registry cache in the image's own repository. ECR needs `image-manifest=true` and
 * `oci-mediatypes=true`. One cache ref for all platforms: the lab builds on ONE BuildKit node, whose
 * cache export holds every platform; docker/buildx #1044 (only the last platform kept) concerns
 * multi-node builders, which would need one build per platform plus an index.
 */
export function registryCache(repository: string): {
  cacheFrom: dockerbuild.types.input.CacheFromArgs[];
  cacheTo: dockerbuild.types.input.CacheToArgs[];
} {
  const ref = `${repository}:${CACHE_TAG}`;
  return {
    cacheFrom: [{ registry: { ref } }],
    cacheTo: [
      { registry: { ref, imageManifest: true, ociMediaTypes: true, mode: dockerbuild.CacheMode.Max } },
    ],
  };
}

/** ECR lifecycle: expire untagged images after a day, keep the last KEEP_TAGGED tagged ones. */
export function lifecyclePolicy(): object {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `Expire untagged images after ${UNTAGGED_EXPIRY_DAYS} day(s)`,
        selection: {
          tagStatus: "untagged",
          countType: "sinceImagePushed",
          countUnit: "days",
          countNumber: UNTAGGED_EXPIRY_DAYS,
        },
        action: { type: "expire" },
      },
      {
        rulePriority: 2,
        description: `Keep the last ${KEEP_TAGGED} tagged images`,
        selection: {
          tagStatus: "tagged",
          tagPatternList: ["*"],
          countType: "imageCountMoreThan",
          countNumber: KEEP_TAGGED,
        },
        action: { type: "expire" },
      },
    ],
  };
}

/** The ECR registry host of the deploying account (known in the preview, before the repository). */
function warnWithoutCredentials(region: string, parent: pulumi.Resource): void {
  const account = aws.getCallerIdentityOutput({}, { parent }).accountId;
  const suffix = aws.getPartitionOutput({}, { parent }).dnsSuffix;
  pulumi.all([account, suffix]).apply(([a, s]) => {
    const server = `${a}.dkr.ecr.${region}.${s}`;
    if (!dockerCredentialSource(server)) pulumi.log.warn(missingEcrCredentials(server, region), parent);
  });
}

export class Image extends pulumi.ComponentResource {
  /** Digest-pinned reference of the image index, `<repository>@sha256:…`: what pods run. */
  public readonly ref: pulumi.Output<string>;
  /** The pushed tag, fully qualified (`<repository>:<tag>`). */
  public readonly tag: pulumi.Output<string>;
  public readonly platforms: string[];
  public readonly repositoryUrl: pulumi.Output<string>;
  /** Registry server (no credentials). */
  public readonly registry: pulumi.Output<RegistryInfo>;

  constructor(name: string, args: ImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("lab:index:Image", name, {}, opts);
    if (args.platforms.length === 0) throw new Error("image: at least one platform is required");
    const contextDir = path.resolve(PROJECT_ROOT, args.context ?? "app");
    const repository = imageRepository(labNames(args), serviceName(contextDir));
    const context = fromProjectRoot(args.context ?? "app");
    const dockerfile = path.resolve(contextDir, args.dockerfile ?? "Dockerfile");
    const { buildArgs, stages, builder } = dockerfileBuild(
      dockerfile,
      args,
      (m) => void pulumi.log.warn(m, this),
    );
    const tag = args.tag ?? contentTag(contextDir, dockerfile, buildArgs, args.platforms);
    const pulls =
      args.registry.kind === "local"
        ? localPulls(stages, args.registry.address, args.platforms, builder)
        : [];
    const location =
      args.registry.kind === "local" && args.registryGet && pulls.length > 0
        ? afterBaseImageCheck(context, args.registry.address, pulls, args.registryGet)
        : context;

    let repositoryUrl: pulumi.Output<string>;
    let registry: pulumi.Output<RegistryInfo>;
    if (args.registry.kind === "ecr") {
      const repo = new aws.ecr.Repository(
        `${name}-repo`,
        {
          name: repository,
          forceDelete: true, // ephemeral labs: destroy even when images remain
          imageScanningConfiguration: { scanOnPush: true },
          imageTagMutability: "MUTABLE",
        },
        { parent: this },
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-lifecycle`,
        { repository: repo.name, policy: JSON.stringify(lifecyclePolicy()) },
        { parent: this },
      );
      // No `registries` input (it would keep the token in state): the push uses the Docker
      // credentials of the machine (infra/dockerAuth.ts); the preview warns when there are none.
      warnWithoutCredentials(args.registry.region, this);
      repositoryUrl = repo.repositoryUrl;
      registry = pulumi.output({ server: repo.repositoryUrl.apply((u) => u.split("/")[0]) });
    } else {
      const url = `${args.registry.address}/${repository}`;
      repositoryUrl = pulumi.output(url);
      registry = pulumi.output({ server: args.registry.address });
    }

    const fullyQualified = repositoryUrl.apply((u) => fullTag(u, tag));
    // ECR's repository goes with forceDelete; a local registry's image goes with this, which exists
    // before the push so that a cancel right after the push still leaves destroy an owner.
    const pushed =
      args.registry.kind === "local"
        ? new PushedImage(
            `${name}-pushed`,
            { registry: args.registry.address, repository, tag },
            { parent: this },
          )
        : undefined;
    // Local registry: no registry cache (BuildKit would need it configured as plain HTTP).
    const cache = args.registry.kind === "ecr" ? repositoryUrl.apply(registryCache) : undefined;
    const image = new dockerbuild.Image(
      `${name}-build`,
      {
        context: { location },
        dockerfile: { location: fromProjectRoot(path.relative(PROJECT_ROOT, dockerfile)) },
        platforms: args.platforms as dockerbuild.Platform[],
        tags: [fullyQualified],
        buildArgs,
        labels: {
          ...labTags(args.workshop, args.attendee),
          "org.opencontainers.image.title": path.basename(contextDir),
        },
        cacheFrom: cache?.cacheFrom,
        cacheTo: cache?.cacheTo,
        // ECR: push the tags. Local registry: plain HTTP, so an explicit insecure registry export.
        push: args.registry.kind === "ecr",
        // docker-build builds on preview by default: `lab up` previews first, so every up built twice.
        buildOnPreview: false,
        exports: args.registry.kind === "local" ? [{ registry: { insecure: true } }] : undefined,
      },
      { parent: this, dependsOn: pushed ? [pushed] : [] },
    );

    this.ref = pulumi.all([repositoryUrl, image.digest]).apply(([u, d]) => digestRef(u, d));
    this.tag = fullyQualified;
    this.platforms = [...args.platforms];
    this.repositoryUrl = repositoryUrl;
    this.registry = registry;
    this.registerOutputs({
      ref: this.ref,
      tag: this.tag,
      platforms: this.platforms,
      repositoryUrl: this.repositoryUrl,
      registry: this.registry,
    });
  }
}
