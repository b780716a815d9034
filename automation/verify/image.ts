/**
 * Check 1: the pushed tag (or lab:image) resolves to an image index listing every platform pods
 * may be placed on (verify passes the placement's platforms, plus those the lab built), and its
 * digest is the one the stack recorded (`imageRef`). A single-platform manifest (not an index)
 * counts as its config's platform. A missing platform is named (`the index lacks linux/arm64`).
 * ECR is read with a token fetched now with the caller's credentials (infra keeps none in its outputs).
 */
import { SUPPORTED_PLATFORMS } from "../../infra/config";
import { ecrRegistry, ecrToken } from "./ecr";
import {
  ImageName,
  MANIFEST_TYPES,
  ManifestResponse,
  RegistryCredentials,
  fetchBlob,
  fetchManifest,
  parseImageRef,
} from "./registry";
import { CheckResult, failed, passed } from "./types";

/** An entry of an index's `manifests`. */
export interface Descriptor {
  mediaType?: string;
  digest?: string;
  platform?: { os?: string; architecture?: string; variant?: string };
  annotations?: Record<string, string>;
}

export interface ImageExpectation {
  /** Digest the stack recorded for the index (`imageRef`'s `@sha256:…`), when known. */
  expectedDigest?: string;
  requiredPlatforms?: readonly string[];
  /** For a single-platform manifest: its config's `os/architecture`, or why it is unknown. */
  singlePlatform?: string | Error;
}

export const INDEX_TYPES: string[] = [MANIFEST_TYPES.ociIndex, MANIFEST_TYPES.dockerList];

/** BuildKit's provenance/SBOM entries: listed in the index, but no platform a node can pull. */
export function isAttestation(d: Descriptor): boolean {
  return (
    d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || d.platform?.os === "unknown"
  );
}

/** `os/architecture` of an index entry (`?` for a missing field). */
export function platformOf(d: Descriptor): string {
  return `${d.platform?.os ?? "?"}/${d.platform?.architecture ?? "?"}`;
}

/** The verdict over one manifest response (pure). */
export function checkImage(res: ManifestResponse, exp: ImageExpectation = {}): CheckResult {
  const required = exp.requiredPlatforms ?? SUPPORTED_PLATFORMS;
  const base = { url: res.url, status: res.status ?? null, auth: res.auth, digest: res.digest ?? null };
  if (res.error !== undefined)
    return failed("image", `registry unreachable: ${res.error}`, { ...base, error: res.error });
  if (res.status === 401 || res.status === 403) {
    return failed("image", `registry refused the request (HTTP ${res.status}, auth ${res.auth})`, {
      ...base,
      body: res.body?.slice(0, 300),
    });
  }
  if (res.status === 404) return failed("image", `tag not found (HTTP 404 for ${res.url})`, base);
  if (res.status !== 200) return failed("image", `registry answered HTTP ${res.status}`, base);
  let manifest: { mediaType?: string; manifests?: Descriptor[]; schemaVersion?: number };
  try {
    manifest = JSON.parse(res.body ?? "");
  } catch {
    return failed("image", "the manifest is not JSON", { ...base, body: res.body?.slice(0, 300) });
  }
  const mediaType = manifest.mediaType ?? res.contentType?.split(";")[0];
  const evidence: Record<string, unknown> = {
    ...base,
    mediaType,
    expectedDigest: exp.expectedDigest ?? null,
  };
  const isIndex = !!mediaType && INDEX_TYPES.includes(mediaType) && Array.isArray(manifest.manifests);
  const what = `single-platform image (${mediaType ?? "unknown media type"})`;
  if (!isIndex && !(typeof exp.singlePlatform === "string")) {
    const why = exp.singlePlatform instanceof Error ? `: ${exp.singlePlatform.message}` : "";
    return failed("image", `the tag is a ${what}, not an index, and its platform is unknown${why}`, {
      ...evidence,
      required,
    });
  }
  const images = isIndex ? (manifest.manifests ?? []).filter((d) => !isAttestation(d)) : [];
  const platforms = isIndex ? images.map(platformOf) : [exp.singlePlatform as string];
  evidence.platforms = platforms;
  if (isIndex) {
    evidence.manifests = images.map((d) => ({ digest: d.digest, platform: d.platform }));
    evidence.attestations = (manifest.manifests ?? []).length - images.length;
  } else evidence.single = true;
  evidence.required = required;
  const problems: string[] = [];
  const missing = required.filter((p) => !platforms.includes(p));
  evidence.missing = missing;
  if (missing.length > 0) {
    const has = `(has ${platforms.join(", ") || "none"})`;
    problems.push(
      isIndex
        ? `the index lacks ${missing.join(", ")} ${has}`
        : `the tag is a ${what} for ${platforms[0]}, not an index: it lacks ${missing.join(", ")}`,
    );
  }
  if (exp.expectedDigest && res.digest && exp.expectedDigest !== res.digest) {
    problems.push(`the tag points at ${res.digest}, but the stack recorded ${exp.expectedDigest}`);
  }
  if (problems.length > 0) return failed("image", problems.join("; "), evidence);
  const digestNote = exp.expectedDigest ? ", digest matches imageRef" : "";
  const kind = isIndex ? "index" : "single-platform image";
  return passed("image", `${kind} with ${platforms.join(", ")}${digestNote}`, evidence);
}

export interface ImageTarget {
  /** `<repo>:<tag>` as pushed. */
  imageTag?: string;
  /** `<repo>@sha256:…` (the index digest). */
  imageRef?: string;
  credentials?: RegistryCredentials;
  requiredPlatforms?: readonly string[];
}

/** What the check calls out to (replaced in tests). */
export interface ImageCheckDeps {
  fetchManifest?: typeof fetchManifest;
  fetchBlob?: typeof fetchBlob;
  ecrToken?: typeof ecrToken;
}

const SINGLE_TYPES: string[] = [MANIFEST_TYPES.ociManifest, MANIFEST_TYPES.dockerManifest];

/** A single-platform manifest's `os/architecture`, read from its config blob; undefined for an index. */
export async function singlePlatformOf(
  res: ManifestResponse,
  ref: ImageName,
  credentials: RegistryCredentials | undefined,
  signal: AbortSignal | undefined,
  get: typeof fetchBlob = fetchBlob,
): Promise<string | Error | undefined> {
  if (res.status !== 200) return undefined;
  let m: { mediaType?: string; config?: { digest?: string } };
  try {
    m = JSON.parse(res.body ?? "");
  } catch {
    return undefined;
  }
  const mediaType = m.mediaType ?? res.contentType?.split(";")[0];
  if (!mediaType || !SINGLE_TYPES.includes(mediaType)) return undefined;
  if (!m.config?.digest) return new Error("the manifest names no config");
  const blob = await get(ref, m.config.digest, credentials, signal);
  if (blob.status !== 200)
    return new Error(`its config ${m.config.digest}: ${blob.error ?? `HTTP ${blob.status}`}`);
  try {
    const c = JSON.parse(blob.body ?? "") as { os?: string; architecture?: string };
    if (!c.os || !c.architecture) return new Error("its config names no os/architecture");
    return `${c.os}/${c.architecture}`;
  } catch {
    return new Error("its config is not JSON");
  }
}

/** Resolves the pushed tag (or, lacking one, the recorded digest) and judges it. */
export async function runImageCheck(
  t: ImageTarget,
  signal?: AbortSignal,
  deps: ImageCheckDeps = {},
): Promise<CheckResult> {
  const refText = t.imageTag ?? t.imageRef;
  if (!refText) return failed("image", "the stack has neither an imageTag nor an imageRef output", {});
  const ref = parseImageRef(refText);
  if (ref instanceof Error)
    return failed("image", ref.message, { imageTag: t.imageTag, imageRef: t.imageRef });
  const recorded = t.imageRef ? parseImageRef(t.imageRef) : undefined;
  const expectedDigest = recorded instanceof Error ? undefined : recorded?.digest;
  const reference = ref.tag ?? ref.digest ?? "latest";
  let credentials = t.credentials;
  let auth: Record<string, unknown> = {};
  const ecr = ecrRegistry(ref.registry);
  if (ecr) {
    // Always fresh: a password an older stack exported may have expired.
    try {
      const token = await (deps.ecrToken ?? ecrToken)(ecr.region, signal);
      credentials = token;
      auth = { ecrToken: { region: ecr.region, expiresAt: token.expiresAt ?? null } };
    } catch (e) {
      return failed(
        "image",
        `could not get an ECR token for ${ref.registry} with this machine's AWS credentials ` +
          `(ecr:GetAuthorizationToken in ${ecr.region}): ${(e as Error).message ?? e}`,
        { image: refText, registry: ref.registry },
      );
    }
  }
  const res = await (deps.fetchManifest ?? fetchManifest)(ref, reference, credentials, signal);
  const singlePlatform = await singlePlatformOf(res, ref, credentials, signal, deps.fetchBlob);
  const result = checkImage(res, { expectedDigest, requiredPlatforms: t.requiredPlatforms, singlePlatform });
  result.evidence = { image: refText, reference, ...auth, ...result.evidence };
  return result;
}
