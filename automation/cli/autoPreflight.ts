/**
 * The quota preflight before an aws `up`/`run` (#10 point 5): nothing is created when the new labs
 * would not fit the region's quotas or AZs; `--no-preflight` skips it. Only stacks that hold no
 * resources yet count as needed: re-running `up` over a running workshop needs nothing new.
 */
import { parseLabConfig } from "../../infra/config";
import { PreflightInput, PreflightResult, preflightTable } from "../aws/preflight";
import { StackListing } from "../lifecycle/engine";
import { stackName } from "../lifecycle/runner";
import { rawLabConfig } from "./labconfig";
import { Topology } from "../../infra/workshopConfig";

export type PreflightFn = (input: PreflightInput) => Promise<PreflightResult>;

export interface AutoPreflight {
  attendees: string[];
  prefix: string;
  config: Record<string, string>;
  listing: StackListing[];
  out: (text: string) => void;
  err: (text: string) => void;
}

/** undefined: go on (it fits, or nothing new is needed); a message: it does not fit. */
export async function autoPreflight(run: PreflightFn, a: AutoPreflight): Promise<string | undefined> {
  const held = new Set(a.listing.filter((s) => (s.resourceCount ?? 0) > 0).map((s) => s.name));
  const fresh = a.attendees.filter((n) => !held.has(stackName(a.prefix, n)));
  if (fresh.length === 0) return undefined;
  const config = parseLabConfig(rawLabConfig(fresh[0], a.config));
  const result = await run({
    region: String(config.region),
    topology: (a.config["lab:topology"] ?? "dedicated") as Topology,
    attendees: fresh,
    config,
  });
  a.out(`preflight for ${fresh.length} new lab(s):\n${preflightTable(result)}`);
  if (result.fits) return undefined;
  return (
    `the ${fresh.length} new lab(s) do not fit the quotas or AZs of ${result.region} (table above); nothing was created. ` +
    "Raise the quotas marked NO, run fewer labs at once, or skip this check with --no-preflight"
  );
}
