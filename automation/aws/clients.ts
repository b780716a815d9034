/**
 * The AWS SDK v3 clients preflight and sweep use, for one region. The SDK reads credentials the
 * usual way and honours AWS_ENDPOINT_URL (and AWS_ENDPOINT_URL_<SERVICE>), which the tests point
 * at moto.
 */
import { EC2Client } from "@aws-sdk/client-ec2";
import { ECRClient } from "@aws-sdk/client-ecr";
import { EKSClient } from "@aws-sdk/client-eks";
import { ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { IAMClient } from "@aws-sdk/client-iam";
import { ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import { ServiceQuotasClient } from "@aws-sdk/client-service-quotas";

export interface AwsClients {
  region: string;
  ec2: EC2Client;
  elbv2: ElasticLoadBalancingV2Client;
  tagging: ResourceGroupsTaggingAPIClient;
  quotas: ServiceQuotasClient;
  eks: EKSClient;
  ecr: ECRClient;
  iam: IAMClient;
}

export function awsClients(region: string): AwsClients {
  const c = { region, maxAttempts: 5 };
  return {
    region,
    ec2: new EC2Client(c),
    elbv2: new ElasticLoadBalancingV2Client(c),
    tagging: new ResourceGroupsTaggingAPIClient(c),
    quotas: new ServiceQuotasClient(c),
    eks: new EKSClient(c),
    ecr: new ECRClient(c),
    iam: new IAMClient(c),
  };
}

/** Closes the clients' sockets (the tests' moto server stops cleanly, the CLI exits promptly). */
export function closeClients(c: AwsClients): void {
  for (const client of [c.ec2, c.elbv2, c.tagging, c.quotas, c.eks, c.ecr, c.iam]) client.destroy();
}

/** The error's AWS name (`NoSuchResourceException`, `InvalidVpcID.NotFound`, …). */
export function awsErrorName(e: unknown): string {
  return e instanceof Error ? e.name : String(e);
}
