/**
 * Check `variants`: every platform of the pushed image index really runs as that architecture.
 * For each platform the container of that platform's manifest (pinned by digest, read from the
 * index `imageRef` names) runs on the local Docker Engine (`--platform`, arm64 under QEMU), and its
 * checkPath must answer as expected: the hello app's `/hello` must say the matching `uname -m`
 * architecture with `archSource: "process"`; any other service must answer expectStatus (and
 * expectBody): the container of that platform's manifest answering is the proof.
 *
 * The service is asked where its pods are asked: on lab:appPort in its own network namespace
 * (Docker's bridge), published on a free 127.0.0.1 port (./docker.ts). PORT is set to appPort as in
 * the pod, but a service that fixes its port (a flag in its CMD) answers all the same, and the two
 * platforms, or parallel labs, never share a port. A container that does not answer fails naming its
 * platform and its last log line; one that exits, with its exit code.
 *
 * Why the per-platform digest and not `imageRef` itself: Docker Engine 20.10 keeps one image per
 * reference, so running the index digest for a second platform fails ("Cannot overwrite digest"),
 * and two platforms pulled at once race for it. The per-platform manifests come from the same index.
 *
 * The docker calls sit behind `DockerRunner` (./docker.ts; tests use a fake); the verdict is
 * `judgeVariant` (./variantVerdict.ts, pure). Every container is removed (`docker rm -f`) whatever happens, timeouts and cancels included.
 */
import { APP_DEFAULTS } from "../../infra/appConfig";
import { ContainerSpec, ContainerState, DockerRunner, dockerCli } from "./docker";
import { AppExpectation } from "./expect";
import { Clock, getOnce, realClock } from "./http";
import { RegistryCredentials, fetchManifest, parseImageRef } from "./registry";
import { CheckResult, failed, Answer } from "./types";
import { VariantRun, checkVariants, judgeVariant, seconds } from "./variantVerdict";
import { errorMessage } from "../errors";

export const SETUP_HINT = "run `npm run setup:local` (it starts the Docker Engine and the local registry)";

/** The index's per-platform manifest digests (`os/arch` and `os/arch/variant` → digest), attestations left out. */
export function indexPlatforms(body: string): Record<string, string> | Error {
  let json: { manifests?: unknown };
  try {
    json = JSON.parse(body);
  } catch {
    return new Error("the manifest is not JSON");
  }
  if (!json || !Array.isArray(json.manifests))
    return new Error("imageRef is not an image index (no manifests list)");
  const out: Record<string, string> = {};
  for (const d of json.manifests as {
    digest?: string;
    platform?: { os?: string; architecture?: string; variant?: string };
    annotations?: Record<string, string>;
  }[]) {
    const p = d.platform;
    if (!d.digest || !p?.os || !p.architecture || p.os === "unknown") continue;
    if (d.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") continue;
    const key = `${p.os}/${p.architecture}`;
    out[key] ??= d.digest;
    if (p.variant) out[`${key}/${p.variant}`] ??= d.digest;
  }
  return out;
}

/** The index `imageRef` names → its per-platform manifest digests, from the registry. */
export async function resolvePlatformDigests(
  imageRef: string,
  credentials?: RegistryCredentials,
  signal?: AbortSignal,
): Promise<Record<string, string> | Error> {
  const ref = parseImageRef(imageRef);
  if (ref instanceof Error) return ref;
  if (!ref.digest) return new Error(`imageRef ${imageRef} is not pinned by digest (@sha256:…)`);
  const res = await fetchManifest(ref, ref.digest, credentials, signal);
  if (res.error !== undefined) return new Error(`registry unreachable: ${res.error}`);
  if (res.status !== 200) return new Error(`registry answered HTTP ${res.status} for ${res.url}`);
  return indexPlatforms(res.body ?? "");
}

// ---------------------------------------------------------------------------------------------
// The check

export interface VariantsTarget {
  /** Names the containers: `lab-verify-<stack>-<arch>`. */
  stack: string;
  /** `<repo>@sha256:<index digest>`. */
  imageRef?: string;
  platforms: readonly string[];
  credentials?: RegistryCredentials;
  /** Path to request (lab:checkPath, the `checkPath` output); default `/hello`. */
  checkPath?: string;
  /** The port the service listens on in its container (lab:appPort); default 8080. */
  appPort?: number;
  /** lab:appEnv, after PORT as in the pod (a same-named entry replaces it). */
  env?: Record<string, string>;
  /** What the answer must be (default: the hello app's, whose arch is judged). */
  expect?: AppExpectation;
}

export interface VariantsOptions {
  /** How long each container may take to answer (QEMU starts Node slowly): default 60 s. */
  deadlineMs?: number;
  /** Pause between tries: default 500 ms. */
  intervalMs?: number;
  signal?: AbortSignal;
  note?: (text: string) => void;
}

export interface VariantsDeps {
  docker: DockerRunner;
  get: (url: string, timeoutMs: number, signal?: AbortSignal) => Promise<Answer>;
  clock: Clock;
  resolve: typeof resolvePlatformDigests;
}

export const DEFAULT_VARIANT_DEADLINE_MS = 60_000;

export function containerName(stack: string, platform: string): string {
  const arch = platform.split("/").slice(1).join("-") || platform;
  return `lab-verify-${stack}-${arch}`.replace(/[^a-zA-Z0-9_.-]/g, "-");
}

function excerpt(body: string | undefined): unknown {
  if (body === undefined) return undefined;
  try {
    return JSON.parse(body);
  } catch {
    return body.length > 300 ? `${body.slice(0, 300)}…` : body;
  }
}

/** The lab's dockerd before it had a bridge (LAB_DOCKER_BRIDGE=none) cannot publish a port. */
function runHint(e: unknown): string {
  return /network bridge not found|no such network/i.test(errorMessage(e))
    ? "; the Docker Engine has no bridge network: run `npm run setup:local` (it restarts the lab's dockerd with one)"
    : "";
}

/** The container's last log line, quoted, to name in the problem (the full tail is evidence). */
function logTail(logs: string | undefined): string {
  const line = (logs ?? "")
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .pop();
  if (!line) return "; it logged nothing";
  return `; its log ends: ${JSON.stringify(line.length > 200 ? `${line.slice(0, 200)}…` : line)}`;
}

type Options = Required<Pick<VariantsOptions, "deadlineMs" | "intervalMs">> & VariantsOptions;

/** `docker run`, once more when the host port Docker picked was taken meanwhile by another process. */
async function start(spec: ContainerSpec, d: VariantsDeps, signal?: AbortSignal): Promise<string> {
  try {
    return await d.docker.run(spec, signal);
  } catch (e) {
    if (!/address already in use|port is already allocated/i.test(errorMessage(e))) throw e;
    await d.docker.remove(spec.name).catch(() => undefined);
    return d.docker.run(spec, signal);
  }
}

/** Why an exited container did not answer (undefined while it runs). */
async function exitProblem(r: VariantRun, d: VariantsDeps, last: Answer): Promise<string | undefined> {
  const s = await d.docker.state(r.containerId ?? "").catch(() => ({ running: true }) as ContainerState);
  if (s.running) return undefined;
  r.exitCode = s.exitCode;
  const how = s.exitCode === undefined ? "" : ` with code ${s.exitCode}${s.oomKilled ? " (OOM-killed)" : ""}`;
  return `the container exited${how} before answering${last.error ? ` (last try: ${last.error})` : ""}`;
}

/** Polls the published port until the service answers, the deadline passes or the container exits. */
async function poll(r: VariantRun, url: string, started: number, o: Options, d: VariantsDeps) {
  let last: Answer = { error: "not tried" };
  let checkedAt = started;
  for (;;) {
    r.attempts++;
    last = await d.get(url, 2_000, o.signal);
    const now = d.clock.now();
    if (last.status !== undefined) {
      r.timeToFirstAnswerMs = now - started;
      r.status = last.status;
      r.answer = excerpt(last.body);
      return last;
    }
    if (o.signal?.aborted) return { error: "cancelled" };
    if (now - started >= o.deadlineMs) {
      const exited = await exitProblem(r, d, last);
      if (exited) return { error: exited };
      return {
        error:
          `no answer on port ${r.appPort} (published at 127.0.0.1:${r.hostPort}) within ${seconds(o.deadlineMs)} ` +
          `(last try: ${last.error}): does the service listen on lab:appPort ${r.appPort}, on all interfaces?`,
      };
    }
    if (now - checkedAt >= 2_000) {
      checkedAt = now;
      const exited = await exitProblem(r, d, last);
      if (exited) return { error: exited };
    }
    await d.clock.sleep(o.intervalMs, o.signal);
  }
}

async function runOne(
  platform: string,
  image: string | Error,
  t: VariantsTarget,
  o: Options,
  d: VariantsDeps,
): Promise<VariantRun> {
  const name = containerName(t.stack, platform);
  const r: VariantRun = { platform, name, attempts: 0, verdict: { platform, passed: false } };
  if (image instanceof Error) {
    r.verdict = judgeVariant(platform, { error: image.message });
    return r;
  }
  const port = t.appPort ?? APP_DEFAULTS.appPort;
  r.image = image;
  r.appPort = port;
  let last: Answer = { error: "not started" };
  try {
    // A container of this name left by a killed run would make `docker run --name` fail.
    await d.docker.remove(name).catch(() => undefined);
    const t0 = d.clock.now();
    // PORT as in the pod (= lab:appPort); the check never relies on it: it asks appPort itself.
    const spec = { name, image, platform, port, env: { PORT: String(port), ...t.env } };
    try {
      r.containerId = await start(spec, d, o.signal);
    } catch (e) {
      last = { error: `docker run failed: ${errorMessage(e)}${runHint(e)}` };
      return r;
    }
    const started = d.clock.now();
    r.startMs = started - t0;
    r.startedAt = new Date(started).toISOString();
    try {
      r.hostPort = await d.docker.hostPort(r.containerId, port);
    } catch (e) {
      // No published port: it exited at once (docker port has nothing for a stopped container).
      last = { error: (await exitProblem(r, d, {})) ?? `cannot read its published port: ${errorMessage(e)}` };
    }
    if (r.hostPort !== undefined)
      last = await poll(r, `http://127.0.0.1:${r.hostPort}${t.checkPath ?? "/hello"}`, started, o, d);
    if (last.status === undefined && last.error !== "cancelled") {
      r.logs = await d.docker.logs(r.containerId).catch(() => undefined);
      last = { error: `${last.error}${logTail(r.logs)}` };
    }
    return r;
  } finally {
    r.verdict = judgeVariant(platform, last, t.expect);
    try {
      await d.docker.remove(name);
      if (r.containerId) r.removedAt = new Date(d.clock.now()).toISOString();
    } catch (e) {
      r.removeError = errorMessage(e);
    }
  }
}

/** Runs every platform's container (in parallel) and judges what each answers. */
export async function runVariantsCheck(
  t: VariantsTarget,
  options: VariantsOptions = {},
  deps: Partial<VariantsDeps> = {},
): Promise<CheckResult> {
  const d: VariantsDeps = {
    docker: deps.docker ?? dockerCli(),
    get: deps.get ?? getOnce,
    clock: deps.clock ?? realClock,
    resolve: deps.resolve ?? resolvePlatformDigests,
  };
  const o = {
    ...options,
    deadlineMs: options.deadlineMs ?? DEFAULT_VARIANT_DEADLINE_MS,
    intervalMs: options.intervalMs ?? 500,
  };
  const context: Record<string, unknown> = { imageRef: t.imageRef ?? null, platforms: t.platforms };
  if (!t.imageRef) return failed("variants", "the stack has no imageRef output", context);
  const ref = parseImageRef(t.imageRef);
  if (ref instanceof Error) return failed("variants", ref.message, context);
  if (!ref.digest)
    return failed("variants", `imageRef ${t.imageRef} is not pinned by digest (@sha256:…)`, context);
  if (t.platforms.length === 0) return failed("variants", "the stack lists no platforms", context);
  try {
    context.engine = await d.docker.ping(o.signal);
  } catch (e) {
    return failed("variants", `cannot run containers: ${errorMessage(e)}; ${SETUP_HINT}`, {
      ...context,
      error: errorMessage(e),
    });
  }
  const digests = await d.resolve(t.imageRef, t.credentials, o.signal);
  if (digests instanceof Error) {
    return failed("variants", `cannot read the image index: ${digests.message}`, {
      ...context,
      error: digests.message,
    });
  }
  context.manifests = digests;
  const images = t.platforms.map((p) =>
    digests[p]
      ? `${ref.registry}/${ref.repository}@${digests[p]}`
      : new Error(`the index has no ${p} manifest (has ${Object.keys(digests).join(", ") || "none"})`),
  );
  o.note?.(`variants: running ${t.platforms.join(", ")} containers of ${t.imageRef}`);
  const runs = await Promise.all(t.platforms.map((p, i) => runOne(p, images[i], t, o, d)));
  return checkVariants(runs, context);
}
