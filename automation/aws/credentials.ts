/**
 * Cheap local checks before any engine call: is there any source of AWS credentials the SDKs
 * would find? (Environment keys, a profile, web identity, container credentials, or shared
 * files.) No network: an EC2 instance role cannot be seen from here, hence `--no-aws-check`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export function awsCredentialSource(
  env: NodeJS.ProcessEnv,
  config: Record<string, string>,
): string | undefined {
  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) return "AWS_ACCESS_KEY_ID";
  if (env.AWS_PROFILE) return `AWS_PROFILE=${env.AWS_PROFILE}`;
  if (config["aws:profile"]) return `aws:profile=${config["aws:profile"]}`;
  if (config["aws:accessKey"]) return "aws:accessKey";
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE && env.AWS_ROLE_ARN)
    return "web identity (AWS_WEB_IDENTITY_TOKEN_FILE)";
  if (env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI || env.AWS_CONTAINER_CREDENTIALS_FULL_URI) {
    return "container credentials";
  }
  const home = env.HOME ?? os.homedir();
  const files = [
    env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, ".aws", "credentials"),
    env.AWS_CONFIG_FILE ?? path.join(home, ".aws", "config"),
  ];
  for (const f of files) {
    try {
      const text = fs.readFileSync(f, "utf8");
      if (
        /^\s*\[[^\]]+\]/m.test(text) &&
        /(aws_access_key_id|credential_process|sso_|role_arn|web_identity)/.test(text)
      ) {
        return f;
      }
    } catch {
      // absent or unreadable: not a source
    }
  }
  return undefined;
}

export const AWS_CREDENTIALS_HELP =
  "no AWS credentials found for the aws target. Provide one of: AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY, " +
  "AWS_PROFILE (after `aws configure` or `aws sso login`), web identity (AWS_ROLE_ARN + " +
  "AWS_WEB_IDENTITY_TOKEN_FILE, as in CI OIDC), or ~/.aws/credentials. On EC2 with an instance role, " +
  "pass --no-aws-check. For a lab without AWS, use --target local.";
