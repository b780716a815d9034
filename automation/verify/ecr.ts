/**
 * A fresh ECR token for the verifier, asked for with the caller's own AWS credentials when verify
 * runs (the stack keeps none: a token in the outputs would expire after 12 hours and put an
 * account-wide credential in state). The AWS SDK v3 honours AWS_ENDPOINT_URL, which the tests
 * point at moto.
 */
import { ECRClient, GetAuthorizationTokenCommand } from "@aws-sdk/client-ecr";
import { RegistryCredentials } from "./registry";

/** `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]`, ECR's private registry hosts. */
const ECR_HOST = /^(\d{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/;

/** The account and region of an ECR registry host, or undefined for any other registry. */
export function ecrRegistry(host: string): { account: string; region: string } | undefined {
  const m = ECR_HOST.exec(host);
  return m ? { account: m[1], region: m[2] } : undefined;
}

export interface EcrToken extends RegistryCredentials {
  username: string;
  password: string;
  /** The registry host the token is for (`<account>.dkr.ecr.<region>.amazonaws.com`). */
  server: string;
  /** When ECR says the token expires (ISO 8601). */
  expiresAt?: string;
}

/** GetAuthorizationToken in the registry's region; the token is `AWS:<password>` in base64. */
export async function ecrToken(region: string, signal?: AbortSignal): Promise<EcrToken> {
  const client = new ECRClient({ region, maxAttempts: 3 });
  try {
    const res = await client.send(new GetAuthorizationTokenCommand({}), { abortSignal: signal });
    const data = res.authorizationData?.[0];
    const decoded = Buffer.from(data?.authorizationToken ?? "", "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon <= 0) throw new Error("ECR answered GetAuthorizationToken without a token");
    return {
      username: decoded.slice(0, colon),
      password: decoded.slice(colon + 1),
      server: (data?.proxyEndpoint ?? "").replace(/^https?:\/\//, ""),
      expiresAt: data?.expiresAt?.toISOString(),
    };
  } finally {
    client.destroy();
  }
}
