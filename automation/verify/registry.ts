/**
 * A minimal OCI distribution client: fetch one manifest by tag or digest (or one blob), with Basic auth
 * (ECR token credentials) and the `WWW-Authenticate: Bearer` token dance of other registries.
 */
import { createHash } from "node:crypto";

export const MANIFEST_TYPES = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

export interface ImageName {
  /** host[:port] */
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}

export interface RegistryCredentials {
  username?: string;
  password?: string;
}

export interface ManifestResponse {
  url: string;
  status?: number;
  contentType?: string;
  /** `Docker-Content-Digest`, else the sha256 of the body. */
  digest?: string;
  body?: string;
  auth: "none" | "basic" | "bearer";
  /** Transport error (connection refused, DNS…). */
  error?: string;
}

/** Splits `host[:port]/repo[:tag][@sha256:…]`; a first part without `.`/`:` is a Docker Hub path. */
export function parseImageRef(ref: string): ImageName | Error {
  const m = /^([^@]+?)(?::([\w][\w.-]{0,127}))?(?:@(sha256:[a-f0-9]{64}))?$/.exec(ref.trim());
  if (!m) return new Error(`"${ref}" is not an image reference (<registry>/<repository>[:tag][@sha256:…])`);
  const path = m[1];
  const slash = path.indexOf("/");
  const first = slash < 0 ? "" : path.slice(0, slash);
  const hasHost = first.includes(".") || first.includes(":") || first === "localhost";
  const registry = hasHost ? first : "registry-1.docker.io";
  let repository = hasHost ? path.slice(slash + 1) : path;
  if (!hasHost && !repository.includes("/")) repository = `library/${repository}`;
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$/.test(repository)) {
    return new Error(`"${ref}" has an invalid repository name "${repository}"`);
  }
  return { registry, repository, tag: m[2], digest: m[3] };
}

/** Loopback registries speak plain http; every other one https. */
export function isLoopback(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function basic(c: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${c.username ?? ""}:${c.password ?? ""}`).toString("base64")}`;
}

function errorText(e: unknown): string {
  const err = e as { message?: string; cause?: { code?: string; message?: string } };
  return err.cause?.code
    ? `${err.cause.code}: ${err.cause.message ?? ""}`.trim()
    : (err.message ?? String(e));
}

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(
  header: string | null,
): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2].matchAll(/(\w+)="([^"]*)"/g)) params[p[1].toLowerCase()] = p[2];
  return { scheme: m[1].toLowerCase(), params };
}

async function bearerToken(
  params: Record<string, string>,
  creds: RegistryCredentials | undefined,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (!params.realm) return undefined;
  const url = new URL(params.realm);
  if (params.service) url.searchParams.set("service", params.service);
  if (params.scope) url.searchParams.set("scope", params.scope);
  const headers: Record<string, string> = {};
  if (creds?.username) headers.authorization = basic(creds);
  const res = await fetch(url, { headers, signal });
  if (!res.ok) return undefined;
  const json = (await res.json()) as { token?: string; access_token?: string };
  return json.token ?? json.access_token;
}

/** GET /v2/<name>/manifests/<reference>, accepting indexes, lists and single manifests. */
export function fetchManifest(
  image: ImageName,
  reference: string,
  creds?: RegistryCredentials,
  signal?: AbortSignal,
): Promise<ManifestResponse> {
  return fetchPath(image, `manifests/${reference}`, Object.values(MANIFEST_TYPES).join(", "), creds, signal);
}

/** GET /v2/<name>/blobs/<digest> (e.g. an image config), with the same auth as a manifest. */
export function fetchBlob(
  image: ImageName,
  digest: string,
  creds?: RegistryCredentials,
  signal?: AbortSignal,
): Promise<ManifestResponse> {
  return fetchPath(image, `blobs/${digest}`, "*/*", creds, signal);
}

async function fetchPath(
  image: ImageName,
  pathPart: string,
  accept: string,
  creds?: RegistryCredentials,
  signal?: AbortSignal,
): Promise<ManifestResponse> {
  const scheme = isLoopback(image.registry) ? "http" : "https";
  const url = `${scheme}://${image.registry}/v2/${image.repository}/${pathPart}`;
  const get = (authorization?: string): Promise<Response> =>
    fetch(url, { headers: { accept, ...(authorization ? { authorization } : {}) }, signal });
  let auth: ManifestResponse["auth"] = creds?.username ? "basic" : "none";
  try {
    let res = await get(auth === "basic" ? basic(creds as RegistryCredentials) : undefined);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get("www-authenticate"));
      if (challenge?.scheme === "bearer") {
        const token = await bearerToken(challenge.params, creds, signal);
        if (token) {
          auth = "bearer";
          res = await get(`Bearer ${token}`);
        }
      } else if (challenge?.scheme === "basic" && auth === "none" && creds?.username) {
        auth = "basic";
        res = await get(basic(creds));
      }
    }
    const buf = Buffer.from(await res.arrayBuffer());
    const digest =
      res.headers.get("docker-content-digest") ??
      (res.ok ? `sha256:${createHash("sha256").update(buf).digest("hex")}` : undefined);
    return {
      url,
      status: res.status,
      contentType: res.headers.get("content-type") ?? undefined,
      digest,
      body: buf.toString("utf8"),
      auth,
    };
  } catch (e) {
    return { url, auth, error: errorText(e) };
  }
}
