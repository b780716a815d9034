/**
 * Check 1: the pushed tag resolves to an image index listing linux/amd64 and linux/arm64
 * manifests, and its digest is the one the stack recorded (`imageRef`). ECR is read with a token
 * fetched now with the caller's credentials (infra keeps none in its outputs).
 */
import { SUPPORTED_PLATFORMS } from "../../infra/config";
import { ecrRegistry, ecrToken } from "./ecr";
import {
  MANIFEST_TYPES,
  ManifestResponse,
  RegistryCredentials,
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
  if (!mediaType || !INDEX_TYPES.includes(mediaType) || !Array.isArray(manifest.manifests)) {
    return failed(
      "image",
      `the tag is a single-platform image (${mediaType ?? "unknown media type"}), not an index`,
      {
        ...evidence,
        required,
      },
    );
  }
  const images = manifest.manifests.filter((d) => !isAttestation(d));
  const platforms = images.map(platformOf);
  evidence.platforms = platforms;
  evidence.manifests = images.map((d) => ({ digest: d.digest, platform: d.platform }));
  evidence.attestations = manifest.manifests.length - images.length;
  evidence.required = required;
  const problems: string[] = [];
  const missing = required.filter((p) => !platforms.includes(p));
  if (missing.length > 0)
    problems.push(`the index lacks ${missing.join(", ")} (has ${platforms.join(", ") || "none"})`);
  if (exp.expectedDigest && res.digest && exp.expectedDigest !== res.digest) {
    problems.push(`the tag points at ${res.digest}, but the stack recorded ${exp.expectedDigest}`);
  }
  if (problems.length > 0) return failed("image", problems.join("; "), evidence);
  const digestNote = exp.expectedDigest ? ", digest matches imageRef" : "";
  return passed("image", `index with ${platforms.join(", ")}${digestNote}`, evidence);
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
  ecrToken?: typeof ecrToken;
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
  const result = checkImage(res, { expectedDigest, requiredPlatforms: t.requiredPlatforms });
  result.evidence = { image: refText, reference, ...auth, ...result.evidence };
  return result;
}
