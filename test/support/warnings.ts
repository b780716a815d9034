/** Records `pulumi.log.warn` messages while `fn` runs (and until its Outputs settle). */
import * as pulumi from "@pulumi/pulumi";
import { settle } from "./mocks";

export async function warningsOf(fn: () => unknown): Promise<string[]> {
  const warnings: string[] = [];
  const log = pulumi.log as { warn: (m: string) => Promise<void> };
  const warn = log.warn;
  log.warn = async (m: string) => void warnings.push(m);
  try {
    await fn();
    await settle();
  } finally {
    log.warn = warn;
  }
  return warnings;
}
