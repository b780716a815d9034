/** What `lab preflight` and `lab sweep` share: their seams, the region, the JSON report. */
import { AwsClients, awsClients } from "../aws/clients";
import { AWS_CREDENTIALS_HELP, awsCredentialSource } from "../aws/credentials";
import { EXIT, usageError } from "./exit";

export interface AwsCommandDeps {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
  err: (text: string) => void;
  /** Test seam: the clients for a region (default: the SDK's, which honour AWS_ENDPOINT_URL). */
  awsClients?: (region: string) => AwsClients;
}

export const clientsFor = (d: AwsCommandDeps, region: string): AwsClients =>
  (d.awsClients ?? awsClients)(region);

/** A problem when no credential source is visible (skipped with --no-aws-check). */
export function credentialProblem(
  d: AwsCommandDeps,
  check: boolean | undefined,
  config: Record<string, string>,
): string | undefined {
  if (check === false || awsCredentialSource(d.env, config)) return undefined;
  return AWS_CREDENTIALS_HELP;
}

export function usage(d: AwsCommandDeps, command: string, problems: string[]): number {
  return usageError(d, command, problems, "nothing was done");
}

export function awsFailure(d: AwsCommandDeps, command: string, e: unknown): number {
  d.err(`lab ${command}: AWS call failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  return EXIT.failed;
}
