/**
 * The sweep after each destroy, per target (lifecycle.ts `sweep`): what the live system still holds
 * of one lab, found by its names, labels and tags, not by the state. Local: the lab's namespaces and
 * registry tags (local/sweep.ts). AWS: the attendee's tagged resources (aws/sweep.ts, #10). Each
 * reads where the lab lives from the stack's own config in the checkout, else the environment.
 */
import { DEFAULTS, Target } from "../../infra/config";
import { sweep } from "../aws/sweep";
import { SweepOutcome } from "../lifecycle/types";
import { configFileValue } from "../lifecycle/targets";
import { sweepLocalLab } from "../local/sweep";

export interface SweepRef {
  stack: string;
  workshop: string;
  attendee: string;
}

export type LabSweeper = (target: Target, lab: SweepRef) => Promise<SweepOutcome>;

/** `env`: for the local target, the environment with the toolchain's (LAB_KUBECONFIG). */
export function labSweeper(
  projectDir: string,
  env: NodeJS.ProcessEnv,
  localEnv: NodeJS.ProcessEnv,
): LabSweeper {
  return async (target, lab) => {
    const value = (key: string): string | undefined => configFileValue(projectDir, lab.stack, key);
    if (target === "local") {
      return sweepLocalLab({
        workshop: lab.workshop,
        attendee: lab.attendee,
        kubeconfig: value("lab:kubeconfig") || localEnv.LAB_KUBECONFIG || undefined,
        registry: value("lab:localRegistry") ?? DEFAULTS.localRegistry,
      });
    }
    const region = value("aws:region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    if (!region)
      return { found: [], left: ["no region to sweep: set AWS_REGION (the stack's config has none here)"] };
    const r = await sweep({ region, workshop: lab.workshop, attendee: lab.attendee }, { delete: true });
    const name = (i: { kind: string; id: string }): string => `${i.kind} ${i.id}`;
    return { found: r.items.map(name), left: r.left.map(name) };
  };
}
