/**
 * The image's content-addressed tag: a hash of what the build takes in, the files of the build
 * context BuildKit would send (its `.dockerignore` applied), the Dockerfile, the build args and the
 * platforms. The same inputs give the same tag in every clone; any change to them, a new one, so a
 * pushed tag always names one build (workloads still run the digest). Plain functions, no Pulumi.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

/** Hex characters of the hash in the tag (48 bits: collisions within one repository are negligible). */
export const CONTENT_TAG_HEX = 12;

interface IgnoreRule {
  /** The pattern, cleaned. */
  source: string;
  re: RegExp;
  /** A `!` line: what it matches is sent after all. */
  negate: boolean;
}

/** One .dockerignore pattern as a regular expression over slash-separated context paths. */
function patternRegExp(pattern: string): RegExp {
  let re = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === "*" && pattern[i + 1] === "*") {
      i++;
      // `**/` also matches no directory at all.
      if (pattern[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\" && i + 1 < pattern.length) re += `\\${pattern[++i]}`;
    else if (c === "[") {
      const end = pattern.indexOf("]", i + 1);
      if (end < 0) re += "\\[";
      else {
        re += `[${pattern.slice(i + 1, end).replace(/^!/, "^")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

/**
 * The rules of a .dockerignore (BuildKit's semantics: comments and blank lines skipped, a leading
 * `/` and `./` dropped, paths cleaned, `!` re-includes; the last rule that matches a path or any
 * of its parents decides).
 */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    line = path.posix.normalize(line).replace(/^(\.\/|\/)+/, "");
    if (line === "" || line === ".") continue;
    const source = line.replace(/\/+$/, "");
    rules.push({ source, re: patternRegExp(source), negate });
  }
  return rules;
}

/** Whether the context path `rel` (slash-separated) is left out of the build context. */
export function ignored(rules: IgnoreRule[], rel: string): boolean {
  const parts = rel.split("/");
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join("/"));
  let out = false;
  for (const r of rules) if (prefixes.some((p) => r.re.test(p))) out = !r.negate;
  return out;
}

/** The ignore file BuildKit reads for this Dockerfile: `<Dockerfile>.dockerignore`, else the context's. */
function ignoreRules(context: string, dockerfile: string): IgnoreRule[] {
  for (const file of [`${dockerfile}.dockerignore`, path.join(context, ".dockerignore")]) {
    if (fs.existsSync(file)) return parseDockerignore(fs.readFileSync(file, "utf8"));
  }
  return [];
}

/** Every file (and symlink) of the context that the build is sent, with a hash of what it is. */
export function contextEntries(context: string, dockerfile: string): string[] {
  const rules = ignoreRules(context, dockerfile);
  // As Docker does: a left-out directory is entered only when a `!` rule names a path inside it.
  const reincludes = (dir: string): boolean =>
    rules.some((r) => r.negate && `${r.source}/`.startsWith(`${dir}/`));
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const d of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      const full = path.join(dir, d.name);
      const skip = ignored(rules, r);
      if (d.isDirectory()) {
        if (!skip || reincludes(r)) walk(full, r);
      } else if (skip) continue;
      else if (d.isSymbolicLink()) out.push(`${r} -> ${fs.readlinkSync(full)}`);
      else if (d.isFile()) {
        const exec = fs.statSync(full).mode & 0o111 ? "x" : "-";
        out.push(`${r} ${exec} ${createHash("sha256").update(fs.readFileSync(full)).digest("hex")}`);
      }
    }
  };
  walk(context, "");
  return out;
}

/**
 * `src-<hash>` of the build's inputs: the context's files, the Dockerfile, the build args and the
 * platforms. Reads the files the build will send (what docker-build hashes too, to decide a rebuild).
 */
export function contentTag(
  context: string,
  dockerfile: string,
  buildArgs: Record<string, string> | undefined,
  platforms: readonly string[],
): string {
  const h = createHash("sha256");
  for (const e of contextEntries(context, dockerfile)) h.update(`${e}\n`);
  h.update(`dockerfile ${createHash("sha256").update(fs.readFileSync(dockerfile)).digest("hex")}\n`);
  for (const k of Object.keys(buildArgs ?? {}).sort()) h.update(`arg ${k}=${buildArgs?.[k]}\n`);
  h.update(`platforms ${[...platforms].sort().join(",")}\n`);
  return `src-${h.digest("hex").slice(0, CONTENT_TAG_HEX)}`;
}
