/**
 * Which Docker credentials the build will push with. @pulumi/docker-build loads the credentials of
 * the machine's Docker config (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`: `auths`,
 * `credHelpers`, `credsStore`) when its provider starts. The lab relies on them instead of the
 * Image's `registries` input, because inputs are kept in the stack state: an ECR token passed
 * there would sit in state (encrypted, but an account-wide 12-hour token) on every lab.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

interface DockerConfigFile {
  auths?: Record<string, unknown>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/** The Docker config file the build reads. */
export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const dir = env.DOCKER_CONFIG || path.join(env.HOME || os.homedir(), ".docker");
  return path.join(dir, "config.json");
}

/**
 * Where Docker would find credentials for `server`: `credHelpers` (e.g. the ECR credential helper,
 * which signs with the caller's own AWS credentials), `auths` (a `docker login`), `credsStore`
 * (a store that may hold it), or undefined when it has none.
 */
export function dockerCredentialSource(
  server: string,
  env: NodeJS.ProcessEnv = process.env,
): "credHelpers" | "auths" | "credsStore" | undefined {
  let config: DockerConfigFile;
  try {
    config = JSON.parse(fs.readFileSync(dockerConfigPath(env), "utf8")) as DockerConfigFile;
  } catch {
    return undefined;
  }
  const keys = (m: object | undefined) => Object.keys(m ?? {}).map((k) => k.replace(/^https?:\/\//, ""));
  if (keys(config.credHelpers).includes(server)) return "credHelpers";
  if (keys(config.auths).includes(server)) return "auths";
  if (config.credsStore) return "credsStore";
  return undefined;
}

/** The preview warning when the build has no credentials for the ECR registry, with both fixes. */
export function missingEcrCredentials(server: string, region: string): string {
  return (
    `Docker on this machine has no credentials for ${server} (${dockerConfigPath()}), so the image ` +
    `push will fail. Either use the ECR credential helper (apt-get install amazon-ecr-credential-helper; ` +
    `"credHelpers": {"${server}": "ecr-login"} in that file), or log in for 12 hours: ` +
    `aws ecr get-login-password --region ${region} | docker login --username AWS --password-stdin ${server}. ` +
    `The lab driver does this for its own runs. No registry token is kept in the stack.`
  );
}
