/**
 * `lab preflight`: before anything is created, does the workshop fit the region's quotas? For each
 * resource: what the workshop needs, what the account already uses, the limit and where it came
 * from; plus the two AZs the lab will use. The lifecycle calls `preflight` before `up`/`run` on aws.
 */
import { table } from "../reports/summary";
import { AwsClients } from "./clients";
import { Limit, QUOTAS, isStandardFamily, quotaLimit } from "./quotas";
import { RESOURCES, Resource, SizingConfig, workshopNeeds } from "./topology";
import { ZoneChoice, chooseZones } from "./zones";
import { inUse, vcpusOf } from "./usage";
import { TOPOLOGIES, Topology } from "../../infra/workshopConfig";

export interface PreflightInput {
  region: string;
  topology: Topology;
  attendees: string[];
  /** Attendees whose labs already exist: their resources are in `inUse` already. */
  existing?: string[];
  config: SizingConfig;
}

export interface PreflightRow {
  resource: Resource;
  needed: number;
  inUse: number;
  limit: number;
  limitSource: Limit["limitSource"];
  fits: boolean;
  quotaCode: string;
  note?: string;
}

export interface PreflightResult {
  region: string;
  topology: Topology;
  attendees: number;
  fits: boolean;
  rows: PreflightRow[];
  zones: ZoneChoice;
  /** Whether each topology would fit the same usage and limits. */
  topologies: Record<Topology, boolean>;
}

/** Room is enough when needed + inUse ≤ limit; needing nothing always fits. */
function rowFits(needed: number, used: number, limit: number): boolean {
  return needed === 0 || used + needed <= limit;
}

export async function preflight(input: PreflightInput, clients: AwsClients): Promise<PreflightResult> {
  const { config } = input;
  const types = [...new Set([...config.x86InstanceTypes, ...config.armInstanceTypes])];
  const zones = await chooseZones(clients, types);
  const [vcpus, used, limits] = await Promise.all([
    vcpusOf(clients, types),
    inUse(clients, zones.chosen[0]?.name),
    Promise.all(RESOURCES.map((r) => quotaLimit(clients, QUOTAS[r]))),
  ]);
  // Only standard families draw on L-1216C47A; others (g5g…) have quotas of their own.
  const standard = Object.fromEntries(Object.entries(vcpus).filter(([t]) => isStandardFamily(t)));
  const others = types.filter((t) => !isStandardFamily(t));
  const unknown = types.filter((t) => vcpus[t] === undefined);
  const existing = input.existing?.filter((a) => input.attendees.includes(a)).length ?? 0;
  const needsOf = (t: Topology) => workshopNeeds(t, input.attendees.length, existing, config, standard);

  const needs = needsOf(input.topology);
  const rows: PreflightRow[] = RESOURCES.map((resource, i) => {
    const notes = [limits[i].note && `limit: ${limits[i].note}`];
    if (resource === "natGateways") notes.push(`per AZ, counted in ${zones.chosen[0]?.name ?? "(no AZ)"}`);
    if (resource === "onDemandVcpus") {
      if (config.capacityType === "SPOT") notes.push("SPOT nodes: no on-demand vCPUs");
      if (others.length > 0) notes.push(`not counted here (other quota): ${others.join(", ")}`);
      if (unknown.length > 0) notes.push(`unknown instance types: ${unknown.join(", ")}`);
    }
    const note = notes.filter(Boolean).join("; ");
    return {
      resource,
      needed: needs[resource],
      inUse: used[resource],
      limit: limits[i].limit,
      limitSource: limits[i].limitSource,
      fits:
        rowFits(needs[resource], used[resource], limits[i].limit) &&
        !(resource === "onDemandVcpus" && unknown.length > 0),
      quotaCode: `${QUOTAS[resource].serviceCode}/${QUOTAS[resource].quotaCode}`,
      ...(note ? { note } : {}),
    };
  });
  const zonesFit = zones.chosen.length > 0;
  const topologies = {} as Record<Topology, boolean>;
  for (const t of TOPOLOGIES) {
    const n = needsOf(t);
    topologies[t] =
      zonesFit && unknown.length === 0 && RESOURCES.every((r, i) => rowFits(n[r], used[r], limits[i].limit));
  }
  return {
    region: input.region,
    topology: input.topology,
    attendees: input.attendees.length,
    fits: zonesFit && rows.every((r) => r.fits),
    rows,
    zones,
    topologies,
  };
}

export function preflightTable(r: PreflightResult): string {
  const lines = [
    table([
      ["resource", "needed", "in use", "limit", "source", "fits", "note"],
      ...r.rows.map((row) => [
        row.resource,
        String(row.needed),
        String(row.inUse),
        String(row.limit),
        row.limitSource,
        row.fits ? "yes" : "NO",
        row.note ?? "",
      ]),
    ]),
    "",
    r.zones.chosen.length > 0
      ? `AZs: ${r.zones.chosen.map((z) => `${z.name} (${z.id})`).join(", ")}`
      : "AZs: NO two AZs offer every node-group instance type with EKS support",
    ...r.zones.skipped.map((s) => `  skipped ${s.zone.name} (${s.zone.id}): ${s.reason}`),
    "",
    `${r.attendees} attendees, topology ${r.topology}, region ${r.region}: ${r.fits ? "fits" : "does NOT fit"}`,
  ];
  const fitting = TOPOLOGIES.filter((t) => r.topologies[t]);
  if (!r.fits) {
    lines.push(
      fitting.length > 0
        ? `would fit: ${fitting.map((t) => `--topology ${t}`).join(", ")}`
        : "no topology fits: raise the quotas marked NO (Service Quotas console), or use another region",
    );
  }
  return lines.join("\n");
}
