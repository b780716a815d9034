/**
 * The docker calls the local `variants` check makes (automation/verify/variants.ts), behind a tiny
 * interface so that its tests can use a fake: run one platform's container, find the loopback port
 * its service was published on, watch it, read its logs, remove it. Every container `run` created
 * is removed by `remove`, or by an exit hook if the process exits first.
 *
 * Why a bridge network and `-p 127.0.0.1::<port>`: the service listens on the port it really uses
 * (lab:appPort), as in a pod, whether or not it reads PORT. Each container has a network namespace
 * of its own, so two platforms (and parallel labs) never collide on that port; Docker picks a free
 * loopback host port and its userland proxy forwards it (no iptables rules needed), and nothing
 * listens beyond loopback.
 */
import { execFile, spawnSync } from "node:child_process";

export interface ContainerSpec {
  name: string;
  image: string;
  platform: string;
  env: Record<string, string>;
  /** The container port to publish on a free 127.0.0.1 port (the service's lab:appPort). */
  port: number;
}

/** What `docker inspect` says of a container: whether it runs, and how it ended. */
export interface ContainerState {
  running: boolean;
  /** Set once it exited. */
  exitCode?: number;
  /** The kernel killed it for memory. */
  oomKilled?: boolean;
}

/** The docker calls the check makes. Each rejects with an Error whose message says what failed. */
export interface DockerRunner {
  /** Resolves to the engine's version; rejects with DockerUnavailableError when there is none. */
  ping(signal?: AbortSignal): Promise<string>;
  /**
   * `docker run -d --network bridge -p 127.0.0.1::<port> --platform … -e … --name … <image>`;
   * resolves to the container id. No `--rm`: an exited container keeps its exit code and log.
   */
  run(spec: ContainerSpec, signal?: AbortSignal): Promise<string>;
  /** The 127.0.0.1 host port Docker published the container's `port` on (`docker port`). */
  hostPort(id: string, port: number): Promise<number>;
  /** Whether the container still runs; `running: false` once it exited, or is gone. */
  state(id: string): Promise<ContainerState>;
  /** Its last output lines. */
  logs(id: string): Promise<string>;
  /** `docker rm -f`; a container that is already gone is not an error. */
  remove(name: string): Promise<void>;
}

/** No docker CLI, or no engine behind it. */
export class DockerUnavailableError extends Error {}

interface ExecError extends Error {
  code?: string | number;
  stdout?: string;
  stderr?: string;
}

/** The last meaningful line docker printed on failure. */
function dockerError(e: ExecError): string {
  const lines = `${e.stderr ?? ""}`
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !/^Run 'docker .* --help'/.test(l));
  const line = lines.filter((l) => /error|cannot|denied|unknown|no such|conflict|failed/i.test(l)).pop();
  return (line ?? lines.pop() ?? e.message).replace(/^docker: /, "");
}

/**
 * Containers `docker run` may have created and `remove` has not removed yet, by CLI. If the process
 * exits first (a second Ctrl+C exits at once, skipping every `finally`), an exit hook removes them
 * synchronously: the containers run without `--rm` (their exit code and log are evidence), and a
 * service does not stop by itself anyway.
 */
const pending = new Map<string, { bin: string; env: NodeJS.ProcessEnv; names: Set<string> }>();
let exitHook = false;

export function removePendingContainers(): void {
  for (const { bin, env, names } of pending.values()) {
    if (names.size === 0) continue;
    spawnSync(bin, ["rm", "-f", ...names], { env, stdio: "ignore", timeout: 15_000 });
    names.clear();
  }
}

/** The real runner: the `docker` CLI on PATH (the env's, as the toolchain set it). */
export function dockerCli(env: NodeJS.ProcessEnv = process.env, bin = "docker"): DockerRunner {
  const key = `${bin}\0${env.PATH ?? ""}\0${env.DOCKER_HOST ?? ""}`;
  const names = pending.get(key)?.names ?? new Set<string>();
  pending.set(key, { bin, env, names });
  if (!exitHook) {
    exitHook = true;
    process.once("exit", removePendingContainers);
  }
  const exec = (args: string[], timeoutMs: number, signal?: AbortSignal): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(
        bin,
        args,
        { env, timeout: timeoutMs, signal, maxBuffer: 8 * 1024 * 1024, encoding: "utf8" },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const e = Object.assign(err, { stdout, stderr }) as ExecError;
          if (e.code === "ENOENT")
            return reject(new DockerUnavailableError("the docker CLI was not found on PATH"));
          reject(new Error(`docker ${args[0]}: ${dockerError(e)}`));
        },
      );
    });
  const gone = (e: unknown): boolean => /no such (container|object)/i.test(String((e as Error).message));
  return {
    async ping(signal) {
      try {
        return (await exec(["version", "--format", "{{.Server.Version}}"], 20_000, signal)).trim();
      } catch (e) {
        if (e instanceof DockerUnavailableError) throw e;
        throw new DockerUnavailableError(`the Docker Engine is not reachable (${(e as Error).message})`);
      }
    },
    async run(s, signal) {
      const envArgs = Object.entries(s.env).flatMap(([k, v]) => ["-e", `${k}=${v}`]);
      const net = ["--network", "bridge", "-p", `127.0.0.1::${s.port}/tcp`];
      const args = ["run", "-d", ...net, "--platform", s.platform, ...envArgs];
      names.add(s.name);
      const out = await exec([...args, "--name", s.name, s.image], 300_000, signal);
      return out.trim().split(/\s+/).pop() ?? "";
    },
    async hostPort(id, port) {
      const out = await exec(["port", id, `${port}/tcp`], 20_000);
      const m = /^127\.0\.0\.1:(\d+)$/m.exec(out);
      if (!m)
        throw new Error(`docker port: ${port}/tcp is not published on 127.0.0.1 (${out.trim() || "none"})`);
      return Number(m[1]);
    },
    async state(id) {
      const format = "{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}";
      let out: string;
      try {
        out = await exec(["inspect", "--format", format, id], 20_000);
      } catch (e) {
        if (gone(e)) return { running: false };
        throw e;
      }
      const [running, code, oom] = out.trim().split(/\s+/);
      if (running === "true") return { running: true };
      return { running: false, exitCode: Number(code), oomKilled: oom === "true" };
    },
    async logs(id) {
      return new Promise((resolve, reject) => {
        execFile(
          bin,
          ["logs", "--tail", "20", id],
          { env, timeout: 20_000, encoding: "utf8" },
          (err, o, e) =>
            err ? reject(new Error(`docker logs: ${dockerError(err as ExecError)}`)) : resolve(`${o}${e}`),
        );
      });
    },
    async remove(name) {
      try {
        await exec(["rm", "-f", name], 60_000);
      } catch (e) {
        if (!gone(e)) throw e;
      }
      names.delete(name);
    },
  };
}
