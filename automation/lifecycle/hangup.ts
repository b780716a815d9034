/**
 * The Pulumi CLI, run with SIGHUP ignored. A closed terminal sends SIGHUP to its foreground process
 * group: the driver and the CLI it started (the CLI starts its plugins in process groups of their
 * own, so they never see it). The CLI treats SIGINT and SIGTERM as a graceful cancel but dies on
 * SIGHUP, Go's default, leaving its lock and half-done steps. The driver turns the hang-up into a
 * cancel (signals.ts) that reaches the CLI as the SDK's one SIGINT. An ignored signal stays ignored
 * across exec, and a Go program started with SIGHUP ignored keeps it ignored.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** `cli` (a path, or a name looked up on `pathVar`) as an absolute path; undefined when not found. */
export function resolveCli(cli: string, pathVar = process.env.PATH ?? ""): string | undefined {
  const candidates = cli.includes("/") ? [cli] : pathVar.split(":").map((d) => path.join(d || ".", cli));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return path.resolve(c);
    } catch {
      // not here
    }
  }
  return undefined;
}

const roots = new Map<string, string>();
let cleanup = false;

/**
 * A directory whose `bin/pulumi` runs `realCli` with SIGHUP ignored (PulumiCommand's `root`), made
 * once per CLI and process in a private temporary directory that is removed when the process exits.
 */
export function hangupProofRoot(realCli: string): string {
  const known = roots.get(realCli);
  if (known) return known;
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "lab-pulumi-"));
  fs.mkdirSync(path.join(root, "bin"));
  const quoted = `'${realCli.replace(/'/g, `'\\''`)}'`;
  fs.writeFileSync(path.join(root, "bin", "pulumi"), `#!/bin/sh\ntrap '' HUP\nexec ${quoted} "$@"\n`, {
    mode: 0o700,
  });
  roots.set(realCli, root);
  if (!cleanup) {
    cleanup = true;
    process.once("exit", () => {
      for (const r of roots.values()) fs.rmSync(r, { recursive: true, force: true });
    });
  }
  return root;
}
