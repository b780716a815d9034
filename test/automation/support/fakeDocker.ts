// A fake Docker Engine for the variants check, with the networking the real runner relies on: each
// container has a network namespace of its own, where its service listens on PORT or on a port it
// fixes itself, and `-p 127.0.0.1::<port>` publishes that container port on a distinct loopback host
// port. Its `get` is the check's HTTP client: it reaches a container only through a published port,
// and only the service's own port answers behind it (the userland proxy hangs up otherwise).
import { ContainerSpec, ContainerState, DockerRunner } from "../../../automation/verify/docker";
import { VariantsDeps } from "../../../automation/verify/variants";
import { Answer } from "../../../automation/verify/types";

/** What a container of `platform` answers on its n-th request. */
export type Answering = (platform: string, attempt: number) => Answer;

export class FakeDocker implements DockerRunner {
  readonly calls: string[] = [];
  readonly specs: ContainerSpec[] = [];
  readonly live = new Set<string>();
  maxLive = 0;
  pingError?: Error;
  runError?: (s: ContainerSpec) => Error | undefined;
  removeError?: Error;
  /** Containers (by id) that have exited, with their exit code. */
  readonly exited = new Map<string, number>();
  /** The port the service listens on inside its container: PORT, unless a test says otherwise. */
  listensOn: (s: ContainerSpec) => number = (s) => Number(s.env.PORT);
  /** The container's log. */
  log: (s: ContainerSpec) => string = () => "node: starting\n";
  /** Published host port → the container's name. */
  readonly published = new Map<number, string>();
  private nextHostPort = 49001;
  private readonly tries = new Map<string, number>();

  constructor(readonly answer: Answering) {}

  private spec(idOrName: string): ContainerSpec | undefined {
    return [...this.specs].reverse().find((s) => idOrName === s.name || idOrName === `id-${s.name}`);
  }

  async ping(): Promise<string> {
    this.calls.push("ping");
    if (this.pingError) throw this.pingError;
    return "20.10.24+dfsg1";
  }
  async run(s: ContainerSpec): Promise<string> {
    this.calls.push(`run ${s.name}`);
    this.specs.push(s);
    const e = this.runError?.(s);
    if (e) throw e;
    this.live.add(s.name);
    this.maxLive = Math.max(this.maxLive, this.live.size);
    this.published.set(this.nextHostPort++, s.name);
    return `id-${s.name}`;
  }
  async hostPort(id: string, port: number): Promise<number> {
    this.calls.push(`port ${id} ${port}`);
    const s = this.spec(id);
    const entry = [...this.published].find(([, name]) => name === s?.name);
    if (!s || !entry || s.port !== port || this.exited.has(id))
      throw new Error(`docker port: no public port '${port}/tcp' published for ${id}`);
    return entry[0];
  }
  async state(id: string): Promise<ContainerState> {
    this.calls.push(`state ${id}`);
    const code = this.exited.get(id);
    return code === undefined ? { running: true } : { running: false, exitCode: code };
  }
  async logs(id: string): Promise<string> {
    this.calls.push(`logs ${id}`);
    const s = this.spec(id);
    return s ? this.log(s) : "";
  }
  async remove(name: string): Promise<void> {
    this.calls.push(`rm ${name}`);
    if (this.removeError && this.live.has(name)) throw this.removeError;
    this.live.delete(name);
    for (const [port, n] of this.published) if (n === name) this.published.delete(port);
  }
  /** The removals after the last run of `name` (the finally's). */
  removedAfterRun(name: string): boolean {
    const i = this.calls.lastIndexOf(`run ${name}`);
    return i >= 0 && this.calls.slice(i + 1).includes(`rm ${name}`);
  }

  /** The check's HTTP client: 127.0.0.1:<published port> reaches that container's port. */
  get: VariantsDeps["get"] = async (url) => {
    const u = new URL(url);
    const name = u.hostname === "127.0.0.1" ? this.published.get(Number(u.port)) : undefined;
    const s = name ? this.spec(name) : undefined;
    if (!s || !this.live.has(s.name) || this.exited.has(`id-${s.name}`))
      return { error: "connect ECONNREFUSED" };
    // The proxy accepted, but nothing listens on the published container port.
    if (this.listensOn(s) !== s.port) return { error: "socket hang up" };
    const n = (this.tries.get(s.name) ?? 0) + 1;
    this.tries.set(s.name, n);
    return this.answer(s.platform, n);
  };
}
