/**
 * Registry credentials for reading manifests, per registry host: a fresh ECR token (the caller's
 * AWS credentials, automation/verify/ecr.ts) for ECR hosts; else the machine's Docker config
 * (`$DOCKER_CONFIG/config.json`, infra/dockerAuth.ts): `credHelpers`, then `auths` (base64
 * `user:pass`, or `username`/`password`), then `credsStore`, a helper run as Docker runs it
 * (`docker-credential-<name> get`, server on stdin); else anonymous (a registry's bearer
 * challenge then gets an anonymous token).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { dockerConfigPath } from "../../infra/dockerAuth";
import { EcrToken, ecrRegistry, ecrToken } from "../verify/ecr";
import { RegistryCredentials } from "../verify/registry";

export const DOCKER_HUB = "registry-1.docker.io";
/** The key Docker itself files Docker Hub's credentials under. */
const DOCKER_HUB_KEY = "https://index.docker.io/v1/";

export interface ResolvedCredentials {
  credentials?: RegistryCredentials;
  source: "ecr" | "docker-config" | "credential-helper" | "anonymous";
  /** Why a better source was not used (an ECR token that could not be had, a failing helper). */
  note?: string;
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** `https://index.docker.io/v1/` → `registry-1.docker.io`; `https://host:5000/x` → `host:5000`. */
export function normalizeHost(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//, "").replace(/\/.*$/, "");
  return ["index.docker.io", "docker.io", DOCKER_HUB].includes(host) ? DOCKER_HUB : host;
}

/** Runs `docker-credential-<helper> get`; undefined with a reason when it gives nothing. */
export type HelperRunner = (helper: string, server: string) => RegistryCredentials | string;

export const runHelper: HelperRunner = (helper, server) => {
  const r = spawnSync(`docker-credential-${helper}`, ["get"], {
    input: server,
    encoding: "utf8",
    timeout: 20_000,
  });
  if (r.error)
    return `docker-credential-${helper}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`;
  if (r.status !== 0)
    return `docker-credential-${helper} get: ${(r.stdout || r.stderr).trim() || `exit ${r.status}`}`;
  try {
    const j = JSON.parse(r.stdout) as { Username?: string; Secret?: string };
    return { username: j.Username, password: j.Secret };
  } catch {
    return `docker-credential-${helper} get did not answer JSON`;
  }
};

function decodeAuth(entry: {
  auth?: string;
  username?: string;
  password?: string;
}): RegistryCredentials | undefined {
  if (entry.auth) {
    const text = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = text.indexOf(":");
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1) };
  }
  if (entry.username) return { username: entry.username, password: entry.password ?? "" };
  return undefined;
}

/** What the Docker config holds for `host` (a registry host as `normalizeHost` spells it). */
export function dockerConfigCredentials(
  host: string,
  env: NodeJS.ProcessEnv,
  helper: HelperRunner = runHelper,
): ResolvedCredentials | undefined {
  let config: DockerConfigFile;
  try {
    config = JSON.parse(fs.readFileSync(dockerConfigPath(env), "utf8")) as DockerConfigFile;
  } catch {
    return undefined;
  }
  const server = host === DOCKER_HUB ? DOCKER_HUB_KEY : host;
  const find = <T>(m: Record<string, T> | undefined): T | undefined =>
    Object.entries(m ?? {}).find(([k]) => normalizeHost(k) === host)?.[1];
  const notes: string[] = [];
  const viaHelper = (name: string): ResolvedCredentials | undefined => {
    const got = helper(name, server);
    if (typeof got !== "string") return { credentials: got, source: "credential-helper" };
    notes.push(got);
    return undefined;
  };
  // Docker's order: a host's credHelpers entry alone decides; then auths; then the credsStore.
  const named = find(config.credHelpers);
  if (named) return viaHelper(named) ?? { source: "anonymous", note: notes.join("; ") };
  const entry = find(config.auths);
  const basic = entry ? decodeAuth(entry) : undefined;
  if (basic) return { credentials: basic, source: "docker-config" };
  const stored = config.credsStore ? viaHelper(config.credsStore) : undefined;
  if (stored) return stored;
  return notes.length > 0 ? { source: "anonymous", note: notes.join("; ") } : undefined;
}

export interface CredentialDeps {
  env: NodeJS.ProcessEnv;
  ecrToken?: (region: string, signal?: AbortSignal) => Promise<EcrToken>;
  helper?: HelperRunner;
  signal?: AbortSignal;
}

/** Credentials per registry host, each resolved once per audit (one ECR token per region). */
export function credentialResolver(d: CredentialDeps): (host: string) => Promise<ResolvedCredentials> {
  const cache = new Map<string, Promise<ResolvedCredentials>>();
  const resolve = async (host: string): Promise<ResolvedCredentials> => {
    const ecr = ecrRegistry(host);
    let note: string | undefined;
    if (ecr) {
      try {
        const token = await (d.ecrToken ?? ecrToken)(ecr.region, d.signal);
        return { credentials: token, source: "ecr" };
      } catch (e) {
        note =
          `no ECR token for ${host} with this machine's AWS credentials ` +
          `(ecr:GetAuthorizationToken in ${ecr.region}): ${(e as Error).message ?? e}`;
      }
    }
    const docker = dockerConfigCredentials(host, d.env, d.helper);
    if (docker?.credentials) return { ...docker, note };
    const notes = [note, docker?.note].filter(Boolean).join("; ");
    return { source: "anonymous", note: notes || undefined };
  };
  return (host) => {
    const hit = cache.get(host) ?? resolve(host);
    cache.set(host, hit);
    return hit;
  };
}
