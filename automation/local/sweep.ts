/**
 * The local target's sweep after a destroy (#9 point 5): what the live system still holds of one
 * lab, found by the lab's own labels and names rather than by the state, then removed: namespaces
 * labelled with its workshop and attendee (their objects go with them), and tags left in its
 * repositories of the local registry, `<base>/<service>` for any service it built (except the BuildKit
 * cache tag, kept on purpose so that the attendee's next lab builds warm; it is no image anything
 * runs). A pending create that a refresh cleared from the state leaves exactly such a thing behind.
 */
import * as http from "node:http";
import type { CoreV1Api } from "@kubernetes/client-node";
import { CACHE_TAG, labLabels, labNames } from "../../infra/names";
import { deletePushedImage } from "../../infra/localRegistry";
import type { SweepOutcome } from "../lifecycle/types";

export interface LocalSweepTarget {
  workshop: string;
  attendee: string;
  /** The cluster's kubeconfig file; undefined: no cluster (image-only lab). */
  kubeconfig?: string;
  /** The local registry, `host:port`. */
  registry: string;
  /** How long to wait for a namespace to be gone (its finalizers run first). */
  timeoutMs?: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function getJson(registry: string, path: string): Promise<{ status: number; body: unknown }> {
  const [hostname, port] = registry.split(":");
  return new Promise((resolve, reject) => {
    const req = http.get({ hostname, port: Number(port || 80), path, timeout: 15_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`registry ${registry} timed out`)));
    req.on("error", reject);
  });
}

/** Repositories per catalog page: docker-registry's default maximum. */
const CATALOG_PAGE = 1000;

/**
 * The registry's repositories under `<base>/` (the lab's images, one per service it built), from the
 * catalog, page by page. A repository whose last tag was deleted stays listed (the v2 API cannot
 * delete a repository): it simply has no tags.
 */
export async function labRepositories(registry: string, base: string): Promise<string[]> {
  const out: string[] = [];
  let last = "";
  for (;;) {
    const query = `n=${CATALOG_PAGE}${last ? `&last=${encodeURIComponent(last)}` : ""}`;
    const r = await getJson(registry, `/v2/_catalog?${query}`);
    if (r.status !== 200) throw new Error(`registry ${registry}: GET the catalog → HTTP ${r.status}`);
    const page = (r.body as { repositories?: string[] | null })?.repositories ?? [];
    out.push(...page.filter((name) => name.startsWith(`${base}/`)));
    if (page.length < CATALOG_PAGE) return out.sort();
    last = page[page.length - 1];
  }
}

/** The image tags of `repository`, the cache's left out (none when the repository does not exist). */
export async function registryTags(registry: string, repository: string): Promise<string[]> {
  const r = await getJson(registry, `/v2/${repository}/tags/list`);
  if (r.status === 404) return [];
  if (r.status !== 200) throw new Error(`registry ${registry}: GET ${repository} tags → HTTP ${r.status}`);
  return ((r.body as { tags?: string[] | null })?.tags ?? []).filter((t) => t !== CACHE_TAG).sort();
}

async function namespacesOf(api: CoreV1Api, labels: Record<string, string>): Promise<string[]> {
  const labelSelector = Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
  return (await api.listNamespace({ labelSelector })).items.map((n) => n.metadata?.name ?? "?");
}

export async function sweepLocalLab(t: LocalSweepTarget): Promise<SweepOutcome> {
  const found: string[] = [];
  const left: string[] = [];
  const names = labNames({ workshop: t.workshop, attendee: t.attendee });
  if (t.kubeconfig) {
    // Loaded on demand, as everywhere in the driver: commands that never reach a cluster start fast.
    const k8s = await import("@kubernetes/client-node");
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(t.kubeconfig);
    const api = kc.makeApiClient(k8s.CoreV1Api);
    const labels = labLabels(t.workshop, t.attendee);
    const before = await namespacesOf(api, labels);
    for (const name of before) {
      found.push(`namespace ${name}`);
      await api
        .deleteNamespace({ name })
        .catch((e: unknown) => left.push(`namespace ${name} (${String(e)})`));
    }
    const deadline = Date.now() + (t.timeoutMs ?? 120_000);
    let still = before.length > 0 ? await namespacesOf(api, labels) : [];
    while (still.length > 0 && Date.now() < deadline) {
      await sleep(1000);
      still = await namespacesOf(api, labels);
    }
    for (const name of still)
      if (!left.some((l) => l.startsWith(`namespace ${name} `)))
        left.push(`namespace ${name} (still terminating)`);
  }
  for (const repository of await labRepositories(t.registry, names.base)) {
    for (const tag of await registryTags(t.registry, repository)) {
      found.push(`image ${t.registry}/${repository}:${tag}`);
      await deletePushedImage({ registry: t.registry, repository, tag }).catch((e: unknown) =>
        left.push(`image ${t.registry}/${repository}:${tag} (${String(e)})`),
      );
    }
    for (const tag of await registryTags(t.registry, repository))
      if (!left.some((l) => l.startsWith(`image ${t.registry}/${repository}:${tag} `)))
        left.push(`image ${t.registry}/${repository}:${tag}`);
  }
  return { found, left };
}
