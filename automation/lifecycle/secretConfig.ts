/**
 * Secret stack config, kept off every command line: the Automation API's `setConfig`/`setAllConfig`
 * pass values as CLI arguments (visible in `ps`, /proc/<pid>/cmdline, audit logs), so a secret is
 * set with `pulumi config set --secret <key>` run here with the value on stdin — the CLI reads a
 * piped value when none is given — in the workspace's directory and environment.
 */
import { spawn } from "node:child_process";
import * as path from "node:path";
import { LocalWorkspace, StackSettingsConfigValue } from "@pulumi/pulumi/automation";

/** The environment the workspace gives its own CLI calls (as LocalWorkspace.runPulumiCmd does). */
function cliEnv(ws: LocalWorkspace): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (ws.pulumiHome) env.PULUMI_HOME = ws.pulumiHome;
  Object.assign(env, ws.envVars, { PULUMI_AUTOMATION_API: "true" });
  const command = ws.pulumiCommand.command;
  if (path.isAbsolute(command)) env.PATH = `${path.dirname(command)}:${env.PATH ?? ""}`;
  return env;
}

/** `pulumi config set --secret --stack <stack> <key>`, the value on stdin; rejects with the CLI's stderr. */
export function setSecretConfig(
  ws: LocalWorkspace,
  stack: string,
  key: string,
  value: string,
): Promise<void> {
  const args = ["config", "set", "--secret", "--stack", stack, "--non-interactive", "--", key];
  return new Promise((resolve, reject) => {
    const child = spawn(ws.pulumiCommand.command, args, {
      cwd: ws.workDir,
      env: cliEnv(ws),
      stdio: ["pipe", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve();
      else
        reject(new Error(`setting secret config ${key} on ${stack} failed (exit ${code}): ${stderr.trim()}`));
    });
    // The CLI strips exactly one trailing newline from a piped value: this one.
    child.stdin.on("error", () => undefined);
    child.stdin.end(`${value}\n`);
  });
}

const isSecure = (v: StackSettingsConfigValue): boolean =>
  typeof v === "object" && v !== null && ("secure" in v || Object.values(v).some(isSecure));

/** Keys of the stack's config (Pulumi.<stack>.yaml) that hold encrypted values; [] without a file. */
export async function secretConfigKeys(ws: LocalWorkspace, stack: string): Promise<string[]> {
  let settings;
  try {
    settings = await ws.stackSettings(stack);
  } catch {
    return []; // no settings file yet: a new stack holds nothing
  }
  return Object.entries(settings.config ?? {})
    .filter(([, v]) => isSecure(v))
    .map(([k]) => k);
}
