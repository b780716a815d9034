/**
 * Local target: every FROM image the build would take from the lab's own registry must be there, with
 * a variant for each platform that stage is built for. Checked by the program (preview and update,
 * before the build) so a missing base image fails up front with a message naming the image, the
 * platform and how to provide it, instead of BuildKit's "failed to resolve source metadata".
 */
import { registryOf } from "./appConfig";
import { LOCAL_BASE_IMAGE, LOCAL_BUILD_IMAGE } from "./config";
import { neededStages, ResolvedStage } from "./dockerfile";

/** One GET of the registry's v2 API: the answer, or the transport error. */
export type RegistryGet = (url: string, accept: string) => Promise<{ status: number; body: string } | Error>;

const ACCEPT = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/** Node's fetch, bounded to 10 s. */
export const httpGet: RegistryGet = async (url, accept) => {
  try {
    const res = await fetch(url, { headers: { accept }, signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text() };
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    return new Error(cause ?? (e as Error).message);
  }
};

/** What a stage pulls from the local registry, and for which platforms. */
export interface LocalPull {
  image: string;
  platforms: string[];
  /** `stage "build" (line 3)`. */
  where: string;
}

/** The FROM images of the needed stages that come from `registry`, with their platforms. */
export function localPulls(
  stages: ResolvedStage[],
  registry: string,
  platforms: string[],
  builder: string,
): LocalPull[] {
  return neededStages(stages)
    .filter((s) => s.image !== undefined && s.image !== "scratch" && registryOf(s.image) === registry)
    .map((s) => ({
      image: s.image as string,
      platforms:
        s.runsOn.kind === "build" ? [builder] : s.runsOn.kind === "fixed" ? [s.runsOn.platform] : platforms,
      where: `stage ${s.name ? `"${s.name}"` : `#${s.index + 1}`} (line ${s.line})`,
    }));
}

const platformOfEntry = (p: { os?: string; architecture?: string; variant?: string } | undefined) =>
  p
    ? [p.os, p.architecture, p.architecture === "arm64" ? undefined : p.variant].filter(Boolean).join("/")
    : "";
const machine = (p: string) => p.replace(/^(linux\/arm64)\/v8$/, "$1");

/** Problems (empty when every pull is there): each names the image, the platform and the fixes. */
export async function missingLocalPulls(
  pulls: LocalPull[],
  registry: string,
  get: RegistryGet,
): Promise<string[]> {
  const problems: string[] = [];
  const provide =
    `run \`npm run setup:local\` (it pushes ${registry}/${LOCAL_BASE_IMAGE} and ${registry}/${LOCAL_BUILD_IMAGE}), ` +
    `push a multi-arch image there yourself (e.g. skopeo copy --all --dest-tls-verify=false ` +
    `docker://<source> docker://<image>), or point lab:baseImage / lab:buildImage at an image that exists`;
  for (const pull of pulls) {
    const rest = pull.image.slice(registry.length + 1);
    const at = rest.indexOf("@");
    const colon = rest.lastIndexOf(":");
    const [repo, ref] =
      at >= 0
        ? [rest.slice(0, at), rest.slice(at + 1)]
        : colon >= 0
          ? [rest.slice(0, colon), rest.slice(colon + 1)]
          : [rest, "latest"];
    const res = await get(`http://${registry}/v2/${repo}/manifests/${ref}`, ACCEPT);
    const what = `${pull.where}: FROM ${pull.image} (for ${pull.platforms.join(", ")})`;
    if (res instanceof Error) {
      problems.push(
        `${what}: the local registry ${registry} does not answer (${res.message}): start it with \`npm run setup:local\``,
      );
      continue;
    }
    if (res.status === 404) {
      problems.push(`${what} is not in the local registry: ${provide}`);
      continue;
    }
    if (res.status !== 200) {
      problems.push(`${what}: the local registry answered HTTP ${res.status}`);
      continue;
    }
    let manifests: { platform?: { os?: string; architecture?: string; variant?: string } }[] | undefined;
    try {
      manifests = JSON.parse(res.body).manifests;
    } catch {
      manifests = undefined;
    }
    // A single-platform manifest names its platform only in its config blob: BuildKit will tell.
    if (!Array.isArray(manifests)) continue;
    // BuildKit's attestation manifests say unknown/unknown: not a platform.
    const have = manifests
      .map((m) => machine(platformOfEntry(m.platform)))
      .filter((p) => p !== "" && p !== "unknown/unknown");
    const missing = pull.platforms.filter((p) => !have.includes(machine(p)));
    if (missing.length > 0) {
      problems.push(
        `${pull.where}: FROM ${pull.image} in the local registry has no ${missing.join(", ")} variant ` +
          `(it has ${have.join(", ") || "none"}): ${provide}`,
      );
    }
  }
  return problems;
}
