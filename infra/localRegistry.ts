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
  /** Repository inside the registry, e.g. `lab-foundation/greeter`. */
  repository: pulumi.Input<string>;
  /** The tag the push writes. */
  tag: pulumi.Input<string>;
}

interface State {
  registry: string;
  repository: string;
  tag: string;
}

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const INDEX_TYPES = [
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
].join(", ");

/**
 * Deletes the index the tag points to, and the manifests it lists, through the registry's v2 API.
 * A tag or manifest already gone (404) counts as deleted. Returns the digests it deleted.
 *
 * What another tag of the repository still names is kept: the v2 API deletes by digest, which would
 * take that tag with it. That happens while an update replaces this resource (content tags): the new
 * tag may name the very same build (only a Dockerfile comment changed) or share a platform manifest
 * with the old one. The tag itself always goes: where its index stays, it is pointed at an empty
 * index of its own, which is then deleted (docker-registry 2.8 cannot delete a tag alone).
 */
export async function deletePushedImage(state: State): Promise<string[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const http: typeof import("http") = require("http");
  const call = (method: string, reference: string, kind = "manifests", body?: string) =>
    new Promise<{ status: number; body: string; digest: string }>((resolve, reject) => {
      const [hostname, port] = state.registry.split(":");
      const req = http.request(
        {
          hostname,
          port: Number(port || 80),
          method,
          path: `/v2/${state.repository}/${kind}/${reference}`,
          headers: body === undefined ? { Accept: INDEX_TYPES } : { "Content-Type": OCI_INDEX },
          timeout: 30_000,
        },
        (res) => {
          let text = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (text += c));
          res.on("end", () =>
            resolve({
              status: res.statusCode ?? 0,
              body: text,
              digest: String(res.headers["docker-content-digest"]),
            }),
          );
        },
      );
      req.on("timeout", () => req.destroy(new Error(`registry ${state.registry} timed out`)));
      req.on("error", reject);
      req.end(body);
    });
  const fail = (what: string, status: number): Error =>
    new Error(
      `registry ${state.registry}: ${what} → HTTP ${status}` +
        (status === 405 ? " (is deletion enabled? storage.delete.enabled: true)" : ""),
    );
  const remove = async (digest: string): Promise<boolean> => {
    const res = await call("DELETE", digest);
    if (res.status === 202 || res.status === 200) return true;
    if (res.status !== 404) throw fail(`DELETE ${state.repository}@${digest}`, res.status);
    return false;
  };

  const index = await call("GET", state.tag);
  if (index.status === 404) return [];
  if (index.status !== 200) throw fail(`GET ${state.repository}:${state.tag}`, index.status);
  const childrenOf = (body: string): string[] =>
    (JSON.parse(body).manifests ?? []).map((m: { digest: string }) => m.digest);
  const listed = await call("GET", "list", "tags");
  const others: string[] =
    listed.status === 200 ? (JSON.parse(listed.body).tags ?? []).filter((t: string) => t !== state.tag) : [];
  const kept = new Set<string>();
  for (const other of others) {
    const m = await call("GET", other);
    if (m.status === 200) for (const d of [m.digest, ...childrenOf(m.body)]) kept.add(d);
  }
  const deleted: string[] = [];
  // The index first: once it is gone nothing references the children.
  for (const digest of [index.digest, ...childrenOf(index.body)].filter((d) => !kept.has(d)))
    if (await remove(digest)) deleted.push(digest);
  if (kept.has(index.digest)) {
    const empty = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [],
      annotations: { "multiarch-lab.untagged": `${state.tag} ${Date.now()}` },
    });
    const put = await call("PUT", state.tag, "manifests", empty);
    if (put.status !== 201) throw fail(`PUT ${state.repository}:${state.tag} (to untag it)`, put.status);
    await remove(put.digest);
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
