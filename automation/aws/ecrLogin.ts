/**
 * Docker credentials for the image push of `lab up`/`run` on AWS. The program passes none to the
 * build (they would be kept in the stack state, infra/dockerAuth.ts), so the docker-build provider
 * pushes with the Docker config of its environment. The driver gives the engine its own
 * DOCKER_CONFIG for the run: the user's config (every other entry of the user's Docker directory,
 * buildx builders and contexts included, linked in) plus a fresh ECR token for the account, in a
 * 0700 temporary directory removed when the driver exits. Users with the ECR credential helper for
 * the registry keep their own config.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { dockerConfigPath } from "../../infra/dockerAuth";
import { EcrToken, ecrToken } from "../verify/ecr";

export interface EcrLogin {
  /** Environment for the engine (`DOCKER_CONFIG`), empty when the user's config already serves. */
  envVars: Record<string, string>;
  /** The registry the token is for. */
  server: string;
  /** Removes the temporary directory (also done when the process exits). */
  cleanup(): void;
}

export async function ecrDockerConfig(
  region: string,
  env: NodeJS.ProcessEnv,
  getToken: (region: string) => Promise<EcrToken> = ecrToken,
): Promise<EcrLogin> {
  const token = await getToken(region);
  const userFile = dockerConfigPath(env);
  let config: { auths?: Record<string, unknown>; credHelpers?: Record<string, string> } = {};
  try {
    config = JSON.parse(fs.readFileSync(userFile, "utf8"));
  } catch {
    // no Docker config yet: start from an empty one
  }
  if (config.credHelpers?.[token.server]) return { envVars: {}, server: token.server, cleanup: () => {} };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-docker-"));
  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  process.once("exit", cleanup);
  const userDir = path.dirname(userFile);
  for (const entry of fs.existsSync(userDir) ? fs.readdirSync(userDir) : []) {
    if (entry !== "config.json") fs.symlinkSync(path.join(userDir, entry), path.join(dir, entry));
  }
  const auth = Buffer.from(`${token.username}:${token.password}`).toString("base64");
  config.auths = { ...config.auths, [token.server]: { auth } };
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
  return { envVars: { DOCKER_CONFIG: dir }, server: token.server, cleanup };
}
