/**
 * The local toolchain's environment: `npm run setup:local` writes
 * `${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}/env.json`:
 *
 *   {"path": ["/abs/bin", …], "env": {"PULUMI_HOME": "…", "DOCKER_CONFIG": "…", …}}
 *
 * It applies to the local target only (#9 point 3): the driver's own environment is left as it is,
 * so an AWS lab runs the user's own `pulumi` and plugins even on a machine that ran setup:local.
 * Local-target engines and checks get `envVars` (`path` in front of PATH; the `env` keys the
 * environment does not already set, explicit environment winning) and the CLI in `pulumiRoot`.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { errorMessage } from "../errors";

export interface ToolchainFile {
  path: string[];
  env: Record<string, string>;
}

export interface Toolchain {
  /** Where env.json is (or would be). */
  file: string;
  /** The file was found and applied (possibly with problems in some entries). */
  loaded: boolean;
  /** Entries put in front of PATH for the local target (those not already on it). */
  pathAdded: string[];
  /** Keys set from the file for the local target (those the environment did not set). */
  envSet: string[];
  /** The local target's overlay on the environment: every key the file names with its effective value, and PATH. */
  envVars: Record<string, string>;
  /** The installation whose `bin/pulumi` the local target runs (PulumiCommand's root); undefined: PATH's. */
  pulumiRoot?: string;
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
    return { problems: [`not JSON (${errorMessage(e)})`] };
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

/** The first `path` entry named `bin` that holds an executable `pulumi`: its parent is the root. */
function pulumiRootOf(dirs: string[]): string | undefined {
  for (const dir of dirs) {
    try {
      fs.accessSync(path.join(dir, "pulumi"), fs.constants.X_OK);
      if (path.basename(dir) === "bin") return path.dirname(dir);
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The environment of the local target's processes: `env` with the toolchain's overlay. */
export function localEnv(env: NodeJS.ProcessEnv, t: Toolchain | undefined): NodeJS.ProcessEnv {
  return t ? { ...env, ...t.envVars } : env;
}

/** Reads env.json (if present); `env` is only read, never changed. */
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
  if (parsed.file.path.length > 0) t.envVars.PATH = [...t.pathAdded, ...current].join(path.delimiter);
  for (const [k, v] of Object.entries(parsed.file.env)) {
    if (env[k] === undefined) t.envSet.push(k);
    t.envVars[k] = env[k] ?? v;
  }
  t.pulumiRoot = pulumiRootOf(parsed.file.path);
  return t;
}
