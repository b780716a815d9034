/** Finds where secret values sit in plaintext: every file under some roots, and some texts. */
import * as fs from "node:fs";
import * as path from "node:path";

const SKIP = new Set(["node_modules", ".git"]);

/** Every regular file under `root` (a file itself counts), node_modules and .git left out. */
export function filesUnder(root: string): string[] {
  if (!fs.existsSync(root)) return [];
  if (!fs.statSync(root).isDirectory()) return [root];
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const p = path.join(root, e.name);
    if (e.isDirectory()) out.push(...filesUnder(p));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/** `file: value-name` for each of `secrets` (name → value) found in a file under `roots`. */
export function leaks(roots: string[], secrets: Record<string, string>, texts: Record<string, string> = {}) {
  const found: string[] = [];
  const check = (where: string, text: string): void => {
    for (const [name, value] of Object.entries(secrets))
      if (text.includes(value)) found.push(`${where}: ${name}`);
  };
  for (const f of roots.flatMap(filesUnder)) check(f, fs.readFileSync(f, "latin1"));
  for (const [where, text] of Object.entries(texts)) check(where, text);
  return found;
}
