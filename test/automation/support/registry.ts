/**
 * A real OCI registry on loopback for the image check: Debian's `docker-registry` (distribution 2.8),
 * started on a free 127.0.0.1 port with temporary storage and a generated config, and a push helper
 * speaking the distribution API (blobs, then platform manifests, then the index).
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { MANIFEST_TYPES } from "../../../automation/verify/registry";

export const REGISTRY_BIN = "docker-registry";

export function registryAvailable(): boolean {
  return spawnSync(REGISTRY_BIN, ["--version"], { encoding: "utf8" }).status === 0;
}

/**
 * For a suite's `before`: skips the suite when docker-registry is absent, except in CI, where a
 * missing registry is an error (.ci/run installs it).
 */
export function requireRegistry(ctx: Mocha.Context): void {
  if (registryAvailable()) return;
  if (process.env.CI)
    throw new Error("docker-registry is not installed: .ci/run must apt-get install -y docker-registry");
  console.log("    (skipped: docker-registry not installed; `apt-get install -y docker-registry`)");
  ctx.skip();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface Registry {
  host: string;
  stop(): Promise<void>;
}

/** `htpasswd` line for user `lab` / password `workshop-token` (bcrypt, cost 4). */
export const HTPASSWD = "lab:$2b$04$D.34C/wwzf4YQhOjGDhE7u2XNVz07rkHJ3sR35pPOUZVWyvzKQJV6\n";
export const CREDS = { username: "lab", password: "workshop-token" };

export async function startRegistry(opts: { auth?: boolean; deletable?: boolean } = {}): Promise<Registry> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-registry-"));
  const port = await freePort();
  const auth = opts.auth
    ? `auth:\n  htpasswd:\n    realm: lab-test\n    path: ${path.join(dir, "htpasswd")}\n`
    : "";
  fs.writeFileSync(path.join(dir, "htpasswd"), HTPASSWD);
  fs.writeFileSync(
    path.join(dir, "config.yml"),
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${path.join(dir, "data")}\n` +
      (opts.deletable ? "  delete:\n    enabled: true\n" : "") +
      `http:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  const child: ChildProcess = spawn(REGISTRY_BIN, ["serve", path.join(dir, "config.yml")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c) => (stderr += String(c)));
  const host = `127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const res = await fetch(`http://${host}/v2/`);
      if (res.status === 200 || res.status === 401) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`docker-registry did not start on ${host}: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    host,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const sha = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export class Pusher {
  constructor(
    private readonly host: string,
    private readonly repo: string,
    private readonly creds?: { username: string; password: string },
  ) {}

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    const h = { ...extra };
    if (this.creds)
      h.authorization = `Basic ${Buffer.from(`${this.creds.username}:${this.creds.password}`).toString("base64")}`;
    return h;
  }

  async blob(data: Buffer): Promise<{ digest: string; size: number }> {
    const digest = sha(data);
    const start = await fetch(`http://${this.host}/v2/${this.repo}/blobs/uploads/`, {
      method: "POST",
      headers: this.headers(),
    });
    if (start.status !== 202)
      throw new Error(`blob upload start: HTTP ${start.status} ${await start.text()}`);
    const loc = new URL(start.headers.get("location") as string, `http://${this.host}`);
    loc.searchParams.set("digest", digest);
    const put = await fetch(loc, {
      method: "PUT",
      headers: this.headers({ "content-type": "application/octet-stream" }),
      body: data,
    });
    if (put.status !== 201) throw new Error(`blob upload: HTTP ${put.status} ${await put.text()}`);
    return { digest, size: data.length };
  }

  async manifest(ref: string, mediaType: string, body: object): Promise<{ digest: string; size: number }> {
    const data = Buffer.from(JSON.stringify(body));
    const res = await fetch(`http://${this.host}/v2/${this.repo}/manifests/${ref}`, {
      method: "PUT",
      headers: this.headers({ "content-type": mediaType }),
      body: data,
    });
    if (res.status !== 201) throw new Error(`manifest ${ref}: HTTP ${res.status} ${await res.text()}`);
    return { digest: sha(data), size: data.length };
  }

  /** One platform's image manifest (config + one layer); returns its descriptor. */
  async image(arch: string): Promise<{ digest: string; size: number }> {
    const config = await this.blob(
      Buffer.from(
        JSON.stringify({
          architecture: arch,
          os: "linux",
          rootfs: { type: "layers", diff_ids: [] },
          config: {},
        }),
      ),
    );
    const layer = await this.blob(randomBytes(64));
    const body = {
      schemaVersion: 2,
      mediaType: MANIFEST_TYPES.ociManifest,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    };
    // By digest, untagged, as BuildKit pushes an index's platform manifests.
    return this.manifest(sha(Buffer.from(JSON.stringify(body))), MANIFEST_TYPES.ociManifest, body);
  }

  /** An index under `tag` listing one manifest per architecture (plus, optionally, an attestation). */
  async index(tag: string, archs: string[]): Promise<string> {
    const manifests = [];
    for (const arch of archs) {
      const d = await this.image(arch);
      manifests.push({
        mediaType: MANIFEST_TYPES.ociManifest,
        ...d,
        platform: { os: "linux", architecture: arch },
      });
    }
    const att = await this.image("unknown");
    manifests.push({
      mediaType: MANIFEST_TYPES.ociManifest,
      ...att,
      platform: { os: "unknown", architecture: "unknown" },
      annotations: { "vnd.docker.reference.type": "attestation-manifest" },
    });
    const idx = await this.manifest(tag, MANIFEST_TYPES.ociIndex, {
      schemaVersion: 2,
      mediaType: MANIFEST_TYPES.ociIndex,
      manifests,
    });
    return idx.digest;
  }

  /** A single-platform image under `tag`. */
  async single(tag: string, arch: string): Promise<string> {
    const d = await this.image(arch);
    const res = await fetch(`http://${this.host}/v2/${this.repo}/manifests/${d.digest}`, {
      headers: this.headers({ accept: MANIFEST_TYPES.ociManifest }),
    });
    const body = Buffer.from(await res.arrayBuffer());
    await this.manifest(tag, MANIFEST_TYPES.ociManifest, JSON.parse(body.toString()));
    return d.digest;
  }
}
