/**
 * One image reference → its registry's manifest: an index and its platforms, or a single-platform
 * manifest and its config's `os/architecture` (the config blob is fetched for that). Uses the
 * verifier's registry client (automation/verify/registry.ts); every failure becomes the image's
 * `error`, never an exception, so one unreachable registry does not stop the audit.
 */
import { Descriptor, INDEX_TYPES, isAttestation, platformOf } from "../verify/image";
import {
  ManifestResponse,
  RegistryCredentials,
  fetchBlob,
  fetchManifest,
  parseImageRef,
} from "../verify/registry";
import { DOCKER_HUB, ResolvedCredentials } from "./credentials";
import { ImageManifest } from "./types";

export interface ManifestDeps {
  credentialsFor: (host: string) => Promise<ResolvedCredentials>;
  fetchManifest?: typeof fetchManifest;
  fetchBlob?: typeof fetchBlob;
  signal?: AbortSignal;
}

/** Why a response carries no usable body, or undefined when it does. */
export function responseProblem(res: ManifestResponse, what: string): string | undefined {
  if (res.error !== undefined) return `registry unreachable: ${res.error}`;
  if (res.status === 401 || res.status === 403)
    return `registry refused the request (HTTP ${res.status}, auth ${res.auth})`;
  if (res.status === 404) return `${what} not found (HTTP 404 for ${res.url})`;
  if (res.status !== 200) return `registry answered HTTP ${res.status} for ${res.url}`;
  return undefined;
}

function json<T>(res: ManifestResponse): T | undefined {
  try {
    return JSON.parse(res.body ?? "") as T;
  } catch {
    return undefined;
  }
}

interface ManifestBody {
  mediaType?: string;
  schemaVersion?: number;
  manifests?: Descriptor[];
  config?: { digest?: string };
  /** Docker schema 1 manifests name the architecture themselves. */
  architecture?: string;
}

/** Docker Hub's short forms (`nginx`, `docker.io/nginx`) as the registry API names them. */
export function apiName(ref: string): ReturnType<typeof parseImageRef> {
  const name = parseImageRef(ref);
  if (name instanceof Error) return name;
  if (["docker.io", "index.docker.io"].includes(name.registry)) name.registry = DOCKER_HUB;
  if (name.registry === DOCKER_HUB && !name.repository.includes("/"))
    name.repository = `library/${name.repository}`;
  return name;
}

export async function inspectImage(image: string, d: ManifestDeps): Promise<ImageManifest> {
  const name = apiName(image);
  if (name instanceof Error) return { image, error: name.message };
  const reference = name.digest ?? name.tag ?? "latest";
  const base: ImageManifest = { image, registry: name.registry, repository: name.repository, reference };
  const resolved = await d.credentialsFor(name.registry);
  base.credentials = resolved.source;
  const creds: RegistryCredentials | undefined = resolved.credentials;
  const withNote = (error: string): ImageManifest => ({
    ...base,
    error: resolved.note ? `${error} (${resolved.note})` : error,
  });
  const res = await (d.fetchManifest ?? fetchManifest)(name, reference, creds, d.signal);
  const problem = responseProblem(res, "manifest");
  if (problem) return withNote(problem);
  const body = json<ManifestBody>(res);
  if (!body) return withNote("the manifest is not JSON");
  const mediaType = body.mediaType ?? res.contentType?.split(";")[0];
  Object.assign(base, { digest: res.digest, mediaType });
  if ((mediaType && INDEX_TYPES.includes(mediaType)) || Array.isArray(body.manifests)) {
    const platforms = (body.manifests ?? []).filter((m) => !isAttestation(m)).map(platformOf);
    return { ...base, index: true, platforms: [...new Set(platforms)] };
  }
  if (body.schemaVersion === 1 && body.architecture) {
    return { ...base, index: false, platforms: [`linux/${body.architecture}`] };
  }
  const configDigest = body.config?.digest;
  if (!configDigest) return withNote(`a ${mediaType ?? "manifest"} without a config digest`);
  const blob = await (d.fetchBlob ?? fetchBlob)(name, configDigest, creds, d.signal);
  const blobProblem = responseProblem(blob, `config blob ${configDigest}`);
  if (blobProblem) return { ...withNote(blobProblem), index: false };
  const config = json<{ os?: string; architecture?: string }>(blob);
  if (!config?.architecture) return { ...withNote("the image config names no architecture"), index: false };
  return { ...base, index: false, platforms: [`${config.os ?? "linux"}/${config.architecture}`] };
}
