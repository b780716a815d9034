/**
 * Where lab stacks live: by default a file backend inside the project (`.lab-state/`, git-ignored)
 * with a passphrase secrets provider, so no Pulumi Cloud account is needed. The passphrase is
 * `PULUMI_CONFIG_PASSPHRASE(_FILE)` when set, else one generated on first use into a 0600 file.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

export interface StateSettings {
  backendUrl: string;
  /** Environment for every Pulumi command (workspace `envVars`). */
  envVars: Record<string, string>;
  /** `passphrase` for self-managed backends; undefined lets Pulumi Cloud use its own. */
  secretsProvider?: string;
  /** The target whose stacks this engine runs; undefined: a reader for stacks of any target. */
  target?: "aws" | "local";
  /** The local toolchain's Pulumi installation (local target only); undefined: `pulumi` on PATH. */
  pulumiRoot?: string;
  /** Set when this call generated the passphrase file. */
  createdPassphraseFile?: string;
}

export function defaultBackendUrl(projectDir: string): string {
  return `file://${path.join(projectDir, ".lab-state")}`;
}

/** Pulumi Cloud (or a self-hosted service) is an http(s) URL; file://, s3://, gs://, azblob:// are self-managed. */
export function isSelfManaged(url: string): boolean {
  return !/^https?:\/\//.test(url);
}

/**
 * A state directory only its owner can read (stack state lists every resource, and the passphrase
 * decrypts its secrets). `mkdir`'s mode does nothing to a directory that exists, nor under umask, so
 * it is set explicitly every time.
 */
export function privateDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
}

/** Reads or creates `<projectDir>/.lab-state/passphrase` (0600). */
export function passphraseFile(projectDir: string): { file: string; created: boolean } {
  const dir = path.join(projectDir, ".lab-state");
  const file = path.join(dir, "passphrase");
  privateDir(dir);
  try {
    fs.writeFileSync(file, randomBytes(24).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
    return { file, created: true };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    fs.chmodSync(file, 0o600);
    return { file, created: false };
  }
}

export function resolveState(
  projectDir: string,
  backend: string | undefined,
  env: NodeJS.ProcessEnv,
): StateSettings {
  // Deliberately not PULUMI_BACKEND_URL from the shell: lab stacks stay apart from engineers' own stacks.
  const backendUrl = backend ?? defaultBackendUrl(projectDir);
  if (backendUrl.startsWith("file://")) privateDir(backendUrl.slice("file://".length));
  const envVars: Record<string, string> = {
    PULUMI_BACKEND_URL: backendUrl,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // `npm test` type-checks the program; skipping ts-node's second check halves each run's start-up
    // (docs/BENCHMARKS.md). An explicit PULUMI_NODEJS_TRANSPILE_ONLY wins.
    PULUMI_NODEJS_TRANSPILE_ONLY: env.PULUMI_NODEJS_TRANSPILE_ONLY ?? "true",
  };
  if (env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION) {
    envVars.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION = env.PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION;
  }
  if (!isSelfManaged(backendUrl)) return { backendUrl, envVars };
  let createdPassphraseFile: string | undefined;
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) {
    envVars.PULUMI_CONFIG_PASSPHRASE = env.PULUMI_CONFIG_PASSPHRASE;
  } else if (env.PULUMI_CONFIG_PASSPHRASE_FILE) {
    envVars.PULUMI_CONFIG_PASSPHRASE_FILE = env.PULUMI_CONFIG_PASSPHRASE_FILE;
  } else {
    const p = passphraseFile(projectDir);
    envVars.PULUMI_CONFIG_PASSPHRASE = fs.readFileSync(p.file, "utf8").trim();
    if (p.created) createdPassphraseFile = p.file;
  }
  return { backendUrl, envVars, secretsProvider: "passphrase", createdPassphraseFile };
}
