/**
 * What pushes leave in a local registry, as a resource: deleting it deletes the index the tag
 * points to and every manifest it lists, so destroying a local lab leaves no image behind. It is
 * created BEFORE the build (the image depends on it), so an update cancelled right after the push
 * still leaves destroy something that owns the pushed image. (ECR needs no such
 * thing: its repository is created with `forceDelete`.) A dynamic provider, because no provider
 * manages images in a plain registry; its methods are serialized into the state, so they are
 * self-contained: no captured imports, Node's own `http` required at run time.
 */
import * as pulumi from "@pulumi/pulumi";

export interface PushedImageArgs {
  /** Registry `host:port`, plain HTTP on loopback. */
  registry: pulumi.Input<string>;
  /** Repository inside the registry, e.g. `lab-alice/hello`. */
  repository: pulumi.Input<string>;
  /** The tag the push writes. */
  tag: pulumi.Input<string>;
}

interface State {
  registry: string;
  repository: string;
  tag: string;
}

const INDEX_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * Deletes the index the tag points to, and the manifests it lists, through the registry's v2 API.
 * A tag or manifest already gone (404) counts as deleted. Returns the digests it deleted.
 */
export async function deletePushedImage(state: State): Promise<string[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http: typeof import("http") = require("http");
  const call = (method: string, reference: string) =>
    new Promise<{ status: number; body: string; digest: string }>((resolve, reject) => {
      const [hostname, port] = state.registry.split(":");
      const req = http.request(
        {
          hostname,
          port: Number(port || 80),
          method,
          path: `/v2/${state.repository}/manifests/${reference}`,
          headers: { Accept: INDEX_TYPES },
          timeout: 30_000,
        },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body,
              digest: String(res.headers["docker-content-digest"]),
            }),
          );
        },
      );
      req.on("timeout", () => req.destroy(new Error(`registry ${state.registry} timed out`)));
      req.on("error", reject);
      req.end();
    });

  const index = await call("GET", state.tag);
  if (index.status === 404) return [];
  if (index.status !== 200) {
    throw new Error(
      `registry ${state.registry}: GET ${state.repository}:${state.tag} → HTTP ${index.status}`,
    );
  }
  const children: string[] = (JSON.parse(index.body).manifests ?? []).map(
    (m: { digest: string }) => m.digest,
  );
  const deleted: string[] = [];
  // The index first: once it is gone nothing references the children.
  for (const digest of [index.digest, ...children]) {
    const res = await call("DELETE", digest);
    if (res.status === 202 || res.status === 200) deleted.push(digest);
    else if (res.status !== 404) {
      throw new Error(
        `registry ${state.registry}: DELETE ${state.repository}@${digest} → HTTP ${res.status} ` +
          `(is deletion enabled? storage.delete.enabled: true)`,
      );
    }
  }
  return deleted;
}

const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: State) {
    return { id: `${inputs.registry}/${inputs.repository}:${inputs.tag}`, outs: inputs };
  },
  async diff(_id: string, olds: State, news: State) {
    const changed = (["registry", "repository", "tag"] as const).filter((k) => olds[k] !== news[k]);
    // Another repository or tag: replace, deleting what the old tag points to.
    return { changes: changed.length > 0, replaces: changed };
  },
  async delete(_id: string, olds: State) {
    await deletePushedImage(olds);
  },
};

/** The image a tag of a local registry names; deleted from the registry on destroy. */
export class PushedImage extends pulumi.dynamic.Resource {
  constructor(name: string, args: PushedImageArgs, opts?: pulumi.CustomResourceOptions) {
    super(provider, name, args, opts, "lab-local-registry");
  }
}
