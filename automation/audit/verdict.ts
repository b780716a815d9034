/**
 * The verdict for one image in one workload: broken when a pod runs on a platform the image lacks,
 * at risk when one can be scheduled there, ok otherwise, unknown when the registry did not say.
 */
import { platformsOf } from "./images";
import { ImageManifest, Platform, PodPlacement, VERDICT_ORDER, Verdict } from "./types";

/** `linux/arm64/v8` → `linux/arm64`: node labels carry no variant. */
export function osArch(platform: string): Platform {
  return platform.split("/").slice(0, 2).join("/");
}

/** `linux/amd64` → `amd64`; another OS keeps its prefix. */
export function short(platform: Platform): string {
  return platform.startsWith("linux/") ? platform.slice(6) : platform;
}

const list = (ps: Platform[]): string => ps.map(short).join(", ") || "none";

export interface Judgement {
  runsOn: Platform[];
  canRunOn: Platform[];
  verdict: Verdict;
  reason: string;
}

export function judge(image: ImageManifest, pods: PodPlacement[]): Judgement {
  const { runsOn, canRunOn } = platformsOf(pods);
  if (image.error !== undefined || !image.platforms) {
    return {
      runsOn,
      canRunOn,
      verdict: "unknown",
      reason: `platforms unknown: ${image.error ?? "no manifest"}`,
    };
  }
  const has = new Set(image.platforms.map(osArch));
  const lacking = (ps: Platform[]): Platform[] => ps.filter((p) => !has.has(p));
  const kind = image.index ? "the index has" : "the single-platform image is";
  const brokenOn = lacking(runsOn);
  if (brokenOn.length > 0) {
    const where = pods
      .filter((p) => p.platform && brokenOn.includes(p.platform))
      .map((p) => `${p.name} on ${p.node}`);
    return {
      runsOn,
      canRunOn,
      verdict: "broken",
      reason: `runs on ${list(brokenOn)} (${where.join(", ")}), but ${kind} ${list([...has])}`,
    };
  }
  const riskOn = lacking(canRunOn);
  if (riskOn.length > 0) {
    return {
      runsOn,
      canRunOn,
      verdict: "at risk",
      reason: `can be scheduled on ${list(riskOn)}, but ${kind} ${list([...has])}`,
    };
  }
  if (canRunOn.length === 0) {
    return {
      runsOn,
      canRunOn,
      verdict: "ok",
      reason: "no node can take its pods (not an architecture problem)",
    };
  }
  return {
    runsOn,
    canRunOn,
    verdict: "ok",
    reason: `${kind} every platform it can land on (${list(canRunOn)})`,
  };
}

/** The worse of two verdicts. */
export function worst(a: Verdict, b: Verdict): Verdict {
  return VERDICT_ORDER.indexOf(a) <= VERDICT_ORDER.indexOf(b) ? a : b;
}
