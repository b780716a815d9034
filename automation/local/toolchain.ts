/**
 * The local toolchain's environment: `npm run setup:local` writes
 * `${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}/env.json`:
 *
 *   {"path": ["/abs/bin", …], "env": {"PULUMI_HOME": "…", "DOCKER_CONFIG": "…", …}}
 *
 * At start the driver prepends `path` to PATH (so the Automation API finds the built `pulumi`, and
 * the engine its language host and plugins) and sets the `env` keys the environment does not
 * already set (explicit environment wins). The same values go to the workspace's env.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export interface ToolchainFile {
  path: string[];
  env: Record<string, string>;
}

export interface Toolchain {
  /** Where env.json is (or would be). */
  file: string;
  /** The file was found and applied (possibly with problems in some entries). */
  loaded: boolean;
  /** Entries put in front of PATH (those not already on it). */
  pathAdded: string[];
  /** Keys set from the file (those the environment did not set). */
  envSet: string[];
  /** For the workspace's env: every key the file names with its effective value, and PATH. */
  envVars: Record<string, string>;
  /** The variables as the file gives them (before the environment's own values win). */
  fileEnv: Record<string, string>;
  /** What was wrong with the file (unreadable, not JSON, bad entries skipped). */
  problems: string[];
}

/** `${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}` (empty counts as unset, as in the shell). */
export function labCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.LAB_CACHE_DIR) return env.LAB_CACHE_DIR;
  const cache = env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), ".cache");
  return path.join(cache, "multiarch-lab");
}

export function toolchainFile(env: NodeJS.ProcessEnv): string {
  return path.join(labCacheDir(env), "env.json");
}

/** env.json's text → its entries; bad entries are skipped and named in `problems`. */
export function parseToolchainFile(text: string): { file?: ToolchainFile; problems: string[] } {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { problems: [`not JSON (${e instanceof Error ? e.message : String(e)})`] };
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { problems: ['not a JSON object of the form {"path": [...], "env": {...}}'] };
  }
  const o = json as { path?: unknown; env?: unknown };
  const problems: string[] = [];
  const file: ToolchainFile = { path: [], env: {} };
  if (o.path !== undefined && !Array.isArray(o.path)) problems.push('"path" is not a list of directories');
  for (const p of Array.isArray(o.path) ? o.path : []) {
    if (typeof p === "string" && path.isAbsolute(p)) file.path.push(p);
    else problems.push(`"path" entry ${JSON.stringify(p)} is not an absolute directory (skipped)`);
  }
  if (o.env !== undefined && (typeof o.env !== "object" || o.env === null || Array.isArray(o.env))) {
    problems.push('"env" is not an object of strings');
  } else {
    for (const [k, v] of Object.entries((o.env ?? {}) as Record<string, unknown>)) {
      if (k === "PATH") problems.push('"env" sets PATH; use "path" (skipped)');
      else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
        problems.push(`"env" key ${JSON.stringify(k)} is not a variable name (skipped)`);
      else if (typeof v !== "string") problems.push(`"env".${k} is not a string (skipped)`);
      else file.env[k] = v;
    }
  }
  return { file, problems };
}

/** A toolchain file that was not loaded (nothing found, nothing applied). */
export function emptyToolchain(file: string): Toolchain {
  return { file, loaded: false, pathAdded: [], envSet: [], envVars: {}, fileEnv: {}, problems: [] };
}

/**
 * Reads env.json (if present) and applies it to `env` in place (the driver passes `process.env`,
 * which the Automation API's `pulumi` lookup and every child process read).
 */
export function loadToolchain(env: NodeJS.ProcessEnv): Toolchain {
  const file = toolchainFile(env);
  const t = emptyToolchain(file);
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") t.problems.push(`cannot be read (${code ?? String(e)})`);
    return t;
  }
  const parsed = parseToolchainFile(text);
  t.problems.push(...parsed.problems);
  if (!parsed.file) return t;
  t.loaded = true;
  t.fileEnv = { ...parsed.file.env };
  const current = (env.PATH ?? "").split(path.delimiter).filter(Boolean);
  t.pathAdded = [...new Set(parsed.file.path)].filter((p) => !current.includes(p));
  if (t.pathAdded.length > 0) env.PATH = [...t.pathAdded, ...current].join(path.delimiter);
  if (parsed.file.path.length > 0 && env.PATH !== undefined) t.envVars.PATH = env.PATH;
  for (const [k, v] of Object.entries(parsed.file.env)) {
    if (env[k] === undefined) {
      env[k] = v;
      t.envSet.push(k);
    }
    t.envVars[k] = env[k] as string;
  }
  return t;
}
