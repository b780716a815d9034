/**
 * Where each limit comes from: a Service Quotas code, and AWS's documented default for when the
 * API has no answer (NoSuchResourceException for a quota never changed, no Service Quotas access…).
 */
import { GetServiceQuotaCommand } from "@aws-sdk/client-service-quotas";
import { AwsClients, awsErrorName } from "./clients";
import { Resource } from "./topology";

export interface QuotaSpec {
  serviceCode: string;
  quotaCode: string;
  name: string;
  /** AWS's documented default (docs.aws.amazon.com/general/latest/gr/<service>-service.html). */
  defaultLimit: number;
}

export const QUOTAS: Record<Resource, QuotaSpec> = {
  vpcs: { serviceCode: "vpc", quotaCode: "L-F678F1CE", name: "VPCs per Region", defaultLimit: 5 },
  elasticIps: { serviceCode: "ec2", quotaCode: "L-0263D0A3", name: "EC2-VPC Elastic IPs", defaultLimit: 5 },
  natGateways: {
    serviceCode: "vpc",
    quotaCode: "L-FE5A380F",
    name: "NAT gateways per Availability Zone",
    defaultLimit: 5,
  },
  internetGateways: {
    serviceCode: "vpc",
    quotaCode: "L-A4707A72",
    name: "Internet gateways per Region",
    defaultLimit: 5,
  },
  eksClusters: { serviceCode: "eks", quotaCode: "L-1194D53C", name: "Clusters", defaultLimit: 100 },
  networkLoadBalancers: {
    serviceCode: "elasticloadbalancing",
    quotaCode: "L-69A177A2",
    name: "Network Load Balancers per Region",
    defaultLimit: 50,
  },
  // x86 (m7i…) and Graviton (m6g…) families are all "standard": one quota, in vCPUs. New accounts
  // start as low as 5.
  onDemandVcpus: {
    serviceCode: "ec2",
    quotaCode: "L-1216C47A",
    name: "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances",
    defaultLimit: 5,
  },
};

/** Instance families whose on-demand vCPUs count against L-1216C47A. */
export function isStandardFamily(instanceType: string): boolean {
  return /^[acdhimrtz]/.test(instanceType);
}

export interface Limit {
  limit: number;
  limitSource: "service-quotas" | "default";
  /** Why the default was used (the API's error name). */
  note?: string;
}

export async function quotaLimit(clients: AwsClients, spec: QuotaSpec): Promise<Limit> {
  try {
    const r = await clients.quotas.send(
      new GetServiceQuotaCommand({ ServiceCode: spec.serviceCode, QuotaCode: spec.quotaCode }),
    );
    const value = r.Quota?.Value;
    if (typeof value === "number") return { limit: value, limitSource: "service-quotas" };
    return { limit: spec.defaultLimit, limitSource: "default", note: "no value in the answer" };
  } catch (e) {
    const name = awsErrorName(e);
    // Credentials and network failures are not "no answer": they stop the preflight.
    if (!/NoSuchResource|AccessDenied|IllegalArgument|ServiceException|NotFound/.test(name)) throw e;
    return { limit: spec.defaultLimit, limitSource: "default", note: name };
  }
}
