/**
 * Files a killed Pulumi CLI leaves half-written in a file:// backend (#9 point 10).
 *
 * The DIY backend stores everything through gocloud's fileblob. A blob itself is written atomically
 * (a temp file, then a rename), but its `<blob>.attrs` sidecar is written in place: create, then
 * encode the JSON. A SIGKILL between the two leaves an empty `.attrs`, and from then on every read
 * of that blob, and every listing of its directory, fails with a bare "error: EOF" (fileblob
 * decodes the sidecar with a json.Decoder). `pulumi stack ls` is such a listing, so no `list`,
 * `reap` or `destroy` could run. fileblob reads a *missing* sidecar as default attributes, so the
 * repair is to remove the broken one: nothing in it is state (content type, metadata, an MD5 that
 * reads do not check). A live CLI writing that sidecar at the same moment writes into the removed
 * file and its blob reads with defaults: no harm either way.
 *
 * A checkpoint (`.pulumi/stacks/…/<stack>.json`) is written atomically, so a kill cannot cut one;
 * an unreadable one (a full disk, a hand edit) is reported with its last good copy, never replaced:
 * an older checkpoint would forget resources made since.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { fileBackendDir } from "./locks";

export interface HalfWritten {
  file: string;
  repaired: boolean;
  /** One line for the person running the command. */
  text: string;
}

function readsAsJson(file: string): boolean {
  try {
    JSON.parse(fs.readFileSync(file, "utf8"));
    return true;
  } catch {
    return false;
  }
}

function* filesUnder(dir: string): Generator<string> {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* filesUnder(p);
    else if (e.isFile()) yield p;
  }
}

/** Removes broken `.attrs` sidecars under `<backend>/.pulumi` and reports unreadable checkpoints. */
export function repairHalfWritten(backendUrl: string): HalfWritten[] {
  const dir = fileBackendDir(backendUrl);
  if (!dir) return [];
  const root = path.join(dir, ".pulumi");
  const stacks = path.join(root, "stacks") + path.sep;
  const found: HalfWritten[] = [];
  for (const file of filesUnder(root)) {
    if (file.endsWith(".attrs")) {
      if (readsAsJson(file)) continue;
      fs.rmSync(file, { force: true });
      found.push({
        file,
        repaired: true,
        text:
          `removed ${file}: a half-written attributes file (a Pulumi CLI was killed while writing it), ` +
          'which made every read of the backend fail with "EOF"; the state it describes is intact',
      });
    } else if (file.startsWith(stacks) && file.endsWith(".json") && !readsAsJson(file)) {
      const bak = `${file}.bak`;
      found.push({
        file,
        repaired: false,
        text:
          `the checkpoint ${file} is not readable JSON, so its stack cannot be listed, updated or ` +
          "destroyed. " +
          (fs.existsSync(bak) && readsAsJson(bak)
            ? `Its previous version is ${bak}: check it, then copy it over the checkpoint (it may lack ` +
              "resources made since: after `lab destroy`, `lab sweep` finds an aws lab's leftovers)."
            : `No readable previous version (${bak}); older ones are under ${path.join(root, "backups")}.`),
      });
    }
  }
  return found;
}
