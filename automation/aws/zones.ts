/**
 * The two AZs a lab uses: available, not opt-in, not an AZ ID where EKS cannot place a control
 * plane, and offering every instance type of both node groups.
 */
import { paginateDescribeInstanceTypeOfferings, DescribeAvailabilityZonesCommand } from "@aws-sdk/client-ec2";
import { AwsClients } from "./clients";

import { EKS_UNSUPPORTED_AZ_IDS, LAB_AZ_COUNT } from "../../infra/zones";

export interface Zone {
  name: string;
  id: string;
}

export interface ZoneChoice {
  /** The AZs the lab will use, in name order (empty when fewer than two qualify). */
  chosen: Zone[];
  /** Every AZ considered, with why it was left out. */
  skipped: { zone: Zone; reason: string }[];
}

export async function chooseZones(clients: AwsClients, instanceTypes: string[]): Promise<ZoneChoice> {
  const azs = await clients.ec2.send(
    new DescribeAvailabilityZonesCommand({
      Filters: [
        { Name: "state", Values: ["available"] },
        { Name: "opt-in-status", Values: ["opt-in-not-required"] },
      ],
    }),
  );
  const zones: Zone[] = (azs.AvailabilityZones ?? [])
    .filter((z) => z.ZoneName && z.ZoneId && (z.ZoneType ?? "availability-zone") === "availability-zone")
    .map((z) => ({ name: String(z.ZoneName), id: String(z.ZoneId) }))
    .sort((a, b) => a.name.localeCompare(b.name));
  const offered = new Map<string, Set<string>>();
  const pages = paginateDescribeInstanceTypeOfferings(
    { client: clients.ec2 },
    { LocationType: "availability-zone", Filters: [{ Name: "instance-type", Values: instanceTypes }] },
  );
  for await (const page of pages) {
    for (const o of page.InstanceTypeOfferings ?? []) {
      if (!o.Location || !o.InstanceType) continue;
      if (!offered.has(o.Location)) offered.set(o.Location, new Set());
      offered.get(o.Location)?.add(o.InstanceType);
    }
  }
  const choice: ZoneChoice = { chosen: [], skipped: [] };
  for (const zone of zones) {
    const missing = instanceTypes.filter((t) => !offered.get(zone.name)?.has(t));
    if (EKS_UNSUPPORTED_AZ_IDS.includes(zone.id)) {
      choice.skipped.push({ zone, reason: `EKS cannot place a control plane in ${zone.id}` });
    } else if (missing.length > 0) {
      choice.skipped.push({ zone, reason: `${missing.join(", ")} not offered` });
    } else if (choice.chosen.length < LAB_AZ_COUNT) {
      choice.chosen.push(zone);
    }
  }
  if (choice.chosen.length < LAB_AZ_COUNT) choice.chosen = [];
  return choice;
}
