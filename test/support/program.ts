/**
 * Loads the whole Pulumi program (infra/index.ts) afresh under a given configuration: sets the
 * config, drops every infra/ module from the require cache (so `readLabConfig` runs again), and
 * requires the entry point. Import ./mocks first.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type * as Program from "../../infra/index";

const INFRA_DIR = path.resolve(__dirname, "..", "..", "infra") + path.sep;

export type ProgramExports = typeof Program;

/** A valid aws-target configuration; override keys as needed (`undefined` removes a key). */
export function awsConfig(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const merged: Record<string, string | undefined> = {
    "lab:attendee": "alice",
    "aws:region": "eu-west-1",
    ...overrides,
  };
  return Object.fromEntries(Object.entries(merged).filter(([, v]) => v !== undefined)) as Record<
    string,
    string
  >;
}

export function loadProgram(config: Record<string, string>): ProgramExports {
  pulumi.runtime.setAllConfig(config);
  for (const file of Object.keys(require.cache)) {
    if (file.startsWith(INFRA_DIR)) delete require.cache[file];
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(INFRA_DIR, "index")) as ProgramExports;
}
