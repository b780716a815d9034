// Runtime settings, read once from the environment. Invalid input fails at start-up (exit code 2),
// before the port is bound.
import { normaliseArchOverride } from "./arch";
import { APP_VERSION } from "./version";

export interface AppConfig {
  /** Address to bind (`HOST`, default 0.0.0.0). */
  host: string;
  /** Port to bind (`PORT`, default 8080; 0 picks a free port, as the tests do). */
  port: number;
  /** Longest wait for in-flight requests after SIGTERM/SIGINT (`SHUTDOWN_GRACE_MS`, default 10000). */
  shutdownGraceMs: number;
  /** For tests only (`APP_ARCH_OVERRIDE`): the architecture to report instead of the real one. */
  archOverride?: string;
  /** Kubernetes downward API: `spec.nodeName`, `metadata.name`, `metadata.namespace`. */
  nodeName?: string;
  podName?: string;
  podNamespace?: string;
  /** `APP_VERSION`, default the version this code was built as. */
  version: string;
}

export const DEFAULT_PORT = 8080;
export const DEFAULT_HOST = "0.0.0.0";
export const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;
const MAX_SHUTDOWN_GRACE_MS = 300_000;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the settings from an environment (normally `process.env`); throws ConfigError on bad input. */
export function readConfig(env: Env): AppConfig {
  const config: AppConfig = {
    host: text(env.HOST) ?? DEFAULT_HOST,
    port: integer(env, "PORT", DEFAULT_PORT, 0, 65_535),
    shutdownGraceMs: integer(env, "SHUTDOWN_GRACE_MS", DEFAULT_SHUTDOWN_GRACE_MS, 0, MAX_SHUTDOWN_GRACE_MS),
    version: text(env.APP_VERSION) ?? APP_VERSION,
  };
  try {
    const override = normaliseArchOverride(env.APP_ARCH_OVERRIDE);
    if (override !== undefined) config.archOverride = override;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  const nodeName = text(env.NODE_NAME);
  const podName = text(env.POD_NAME);
  const podNamespace = text(env.POD_NAMESPACE);
  if (nodeName !== undefined) config.nodeName = nodeName;
  if (podName !== undefined) config.podName = podName;
  if (podNamespace !== undefined) config.podNamespace = podNamespace;
  return config;
}

/** A set, non-blank value, trimmed; undefined otherwise. */
function text(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed === "" ? undefined : trimmed;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = text(env[name]);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(`${name} must be a whole number, got ${JSON.stringify(env[name])}`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(`${name} must be between ${min} and ${max}, got ${raw}`);
  }
  return value;
}
