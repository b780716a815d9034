// pods-http: each Ready pod asked for checkPath through the (fake) API server's pod proxy. The pods
// are REAL servers on loopback: the greeter example (no architecture in its answers) and the hello
// app (whose `arch` must match its node). Both verdicts, with the per-answer evidence.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import * as path from "node:path";
import { AppProcess, startApp } from "../../app/test/support/appProcess";
import { verifyLab } from "../../automation/verify";
import { Clock } from "../../automation/verify/http";
import { PodAnswer, checkPodsHttp, runPodsHttpCheck } from "../../automation/verify/podsHttp";
import { checkTraffic } from "../../automation/verify/traffic";
import { NodeInfo, PodInfo } from "../../automation/verify/types";
import { fakeCluster } from "./support/verifyFakeCluster";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const greeter = require(path.join(__dirname, "../../examples/greeter/server.js")) as {
  createServer(): http.Server & { drain(): void };
};

const NODES: NodeInfo[] = [
  { name: "node-x86", arch: "amd64", ready: true, schedulable: true, taints: [] },
  { name: "node-arm", arch: "arm64", ready: true, schedulable: true, taints: [] },
];
const pod = (name: string, nodeName: string, ready = true): PodInfo => ({ name, nodeName, ready });
const GREET = { checkPath: "/greet", expectStatus: 200 };
const SPREAD = { namespace: "lab-alice", port: 9090, expect: GREET, placement: "spread" as const };
const noWait: Clock = { now: () => Date.now(), sleep: async () => undefined };

async function listen(s: http.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as net.AddressInfo).port;
}

describe("verify pods-http (real servers behind a fake pod proxy)", function () {
  this.timeout(30_000);
  const servers: http.Server[] = [];
  let g1: number;
  let g2: number;
  let broken: number;

  before(async () => {
    const a = greeter.createServer();
    const b = greeter.createServer();
    const c = http.createServer((_req, res) => {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("boom");
    });
    servers.push(a, b, c);
    [g1, g2, broken] = await Promise.all([listen(a), listen(b), listen(c)]);
  });
  after(() => servers.forEach((s) => s.close()));

  it("passes when a pod on each architecture answers /greet; evidence per answer", async () => {
    const pods = [pod("greet-a", "node-x86"), pod("greet-b", "node-arm"), pod("greet-c", "node-x86", false)];
    const cluster = fakeCluster({ nodes: NODES, pods, ports: { "greet-a": g1, "greet-b": g2 } });
    const r = await runPodsHttpCheck(cluster, pods, NODES, SPREAD);
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.summary, "2 pods answered GET /greet with HTTP 200: 1 on amd64, 1 on arm64");
    // Only Ready pods are asked, each at its own name and the app port.
    assert.deepEqual(cluster.proxied, ["lab-alice/greet-a:9090 /greet", "lab-alice/greet-b:9090 /greet"]);
    const answers = r.evidence.answers as PodAnswer[];
    assert.deepEqual(
      answers.map(({ path: p, pod: n, node, arch, status }) => ({ path: p, pod: n, node, arch, status })),
      [
        { path: "/greet", pod: "greet-a", node: "node-x86", arch: "amd64", status: 200 },
        { path: "/greet", pod: "greet-b", node: "node-arm", arch: "arm64", status: 200 },
      ],
    );
    for (const a of answers) assert.ok(a.latencyMs >= 0 && a.latencyMs < 5_000, `latency ${a.latencyMs}`);
    assert.deepEqual(r.evidence.byArch, { amd64: 1, arm64: 1 });
    assert.equal(r.evidence.archFromAnswer, false);
  });

  it("fails naming the pod, its node and architecture when one answers the wrong status", async () => {
    const pods = [pod("greet-a", "node-x86"), pod("greet-b", "node-arm")];
    const cluster = fakeCluster({ nodes: NODES, pods, ports: { "greet-a": g1, "greet-b": broken } });
    const r = await runPodsHttpCheck(cluster, pods, NODES, SPREAD);
    assert.equal(r.status, "failed");
    assert.equal(
      r.summary,
      "1 of 2 pods answered wrong (greet-b on node-arm (arm64): HTTP 500 instead of 200); " +
        "no pod on arm64 answered HTTP 200",
    );
    const bad = (r.evidence.answers as PodAnswer[])[1];
    assert.equal(bad.status, 500);
    assert.equal(bad.body, "boom");
  });

  it("expectBody is a regular expression on the body: a match passes, a miss fails", async () => {
    const pods = [pod("greet-a", "node-x86"), pod("greet-b", "node-arm")];
    const cluster = fakeCluster({ nodes: NODES, pods, ports: { "greet-a": g1, "greet-b": g2 } });
    const ok = await runPodsHttpCheck(cluster, pods, NODES, {
      ...SPREAD,
      expect: { ...GREET, expectBody: '"service":\\s*"greeter"' },
    });
    assert.equal(ok.status, "passed", ok.summary);
    assert.match(ok.summary, /with HTTP 200 matching \/"service":\\s\*"greeter"\/: 1 on amd64, 1 on arm64$/);
    const miss = await runPodsHttpCheck(cluster, pods, NODES, {
      ...SPREAD,
      expect: { ...GREET, expectBody: "^Bonjour" },
    });
    assert.equal(miss.status, "failed");
    assert.match(miss.summary, /greet-a on node-x86 \(amd64\): body does not match \/\^Bonjour\//);
    const invalid = await runPodsHttpCheck(cluster, pods, NODES, {
      ...SPREAD,
      expect: { ...GREET, expectBody: "(" },
    });
    assert.match(invalid.summary, /lab:expectBody \/\(\/ is not a regular expression/);
  });

  it("a pod the proxy cannot reach is retried, then fails with the API server's message", async () => {
    const pods = [pod("greet-a", "node-x86"), pod("gone", "node-arm")];
    const cluster = fakeCluster({ nodes: NODES, pods, ports: { "greet-a": g1 } });
    const r = await runPodsHttpCheck(cluster, pods, NODES, SPREAD, { clock: noWait });
    assert.equal(r.status, "failed");
    const gone = (r.evidence.answers as PodAnswer[]).find((a) => a.pod === "gone");
    assert.equal(gone?.attempts, 3);
    assert.match(
      gone?.problem ?? "",
      /^request failed: the API server's pod proxy: no endpoints for pod gone$/,
    );
  });

  it("pinned amd64: pods on arm64 answering is a failure; a local cluster without arm64 skips spread", async () => {
    const pods = [pod("greet-a", "node-x86"), pod("greet-b", "node-arm")];
    const cluster = fakeCluster({ nodes: NODES, pods, ports: { "greet-a": g1, "greet-b": g2 } });
    const pinned = await runPodsHttpCheck(cluster, pods, NODES, { ...SPREAD, placement: "amd64" });
    assert.equal(pinned.status, "failed");
    assert.equal(pinned.summary, "placement amd64, but pods on arm64 answered");
    const x86Only = await runPodsHttpCheck(cluster, [pods[0]], [NODES[0]], {
      ...SPREAD,
      clusterArchs: ["amd64"],
    });
    assert.equal(x86Only.status, "skipped");
    assert.match(
      x86Only.summary,
      /1 on amd64; placement spread also needs arm64, which the cluster has no node of$/,
    );
  });

  it("prefer-arm64: any split answers", async () => {
    const pods = [pod("greet-a", "node-x86")];
    const cluster = fakeCluster({ nodes: NODES, pods, ports: { "greet-a": g1 } });
    const r = await runPodsHttpCheck(cluster, pods, NODES, { ...SPREAD, placement: "prefer-arm64" });
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.summary, "1 pod answered GET /greet with HTTP 200: 1 on amd64");
  });

  it("traffic through the Service judges a non-hello app by status and body, not arch", () => {
    const body = JSON.stringify({ greeting: "Hello", service: "greeter" });
    const answer = { ...GREET, expectBody: "greeter" };
    const ok = checkTraffic(
      [
        { status: 200, body },
        { status: 200, body },
      ],
      { expectArchs: ["x86_64", "aarch64"], answer },
    );
    assert.equal(ok.status, "passed", ok.summary);
    assert.equal(
      ok.summary,
      "2 answers: all HTTP 200 matching /greeter/ (the service does not say its architecture: pods-http proves each)",
    );
    const bad = checkTraffic(
      [
        { status: 200, body },
        { status: 200, body: "{}" },
        { status: 503, body: "" },
      ],
      {
        expectArchs: ["x86_64"],
        answer,
      },
    );
    assert.equal(bad.status, "failed");
    assert.equal(
      bad.summary,
      "2 of 3 answers bad (#2: body does not match /greeter/; #3: HTTP 503 instead of 200)",
    );
  });
});

describe("verify pods-http for the hello app (its arch must match the node)", function () {
  this.timeout(30_000);
  let x86: AppProcess;
  let liar: AppProcess;
  before(async () => {
    [x86, liar] = await Promise.all([
      startApp({ APP_ARCH_OVERRIDE: "x86_64", NODE_NAME: "node-x86", POD_NAME: "web-x86" }),
      startApp({ APP_ARCH_OVERRIDE: "x86_64", NODE_NAME: "node-arm", POD_NAME: "web-arm" }),
    ]);
  });
  after(async () => Promise.all([x86?.stop(), liar?.stop()]));

  it("fails when a pod on an arm64 node says x86_64; the same answers pass a non-hello expectation", async () => {
    const pods = [pod("web-x86", "node-x86"), pod("web-arm", "node-arm")];
    const cluster = fakeCluster({ nodes: NODES, pods, ports: { "web-x86": x86.port, "web-arm": liar.port } });
    const hello = { namespace: "lab-alice", port: 8080, placement: "spread" as const };
    const r = await runPodsHttpCheck(cluster, pods, NODES, {
      ...hello,
      expect: { checkPath: "/hello", expectStatus: 200, archField: "arch" },
    });
    assert.equal(r.status, "failed");
    assert.match(
      r.summary,
      /^1 of 2 pods answered wrong \(web-arm on node-arm \(arm64\): says x86_64, but its node node-arm is arm64 \(aarch64\)\)/,
    );
    const rows = r.evidence.answers as PodAnswer[];
    assert.deepEqual(
      rows.map((a) => [a.pod, a.reportedArch]),
      [
        ["web-x86", "x86_64"],
        ["web-arm", "x86_64"],
      ],
    );
    // Without an archField the app is judged as any service: status and body only.
    const any = await runPodsHttpCheck(cluster, pods, NODES, {
      ...hello,
      expect: { checkPath: "/hello", expectStatus: 200, expectBody: "hostname" },
    });
    assert.equal(any.status, "passed", any.summary);
  });

  it("checkPodsHttp: no Ready pod is a failure", () => {
    const r = checkPodsHttp([], { expect: GREET, placement: "spread" });
    assert.equal(r.status, "failed");
    assert.equal(r.summary, "no Ready pod to ask");
  });

  it("verifyLab: a greeter lab runs pods-http after pods, and traffic judges status (aws shape)", async () => {
    const pods = [pod("web-x86", "node-x86"), pod("web-arm", "node-arm")];
    const g = greeter.createServer();
    const port = await listen(g);
    try {
      const results = await verifyLab(
        {
          target: "aws",
          kubeconfig: "apiVersion: v1",
          placement: "spread",
          replicas: 2,
          namespace: "lab-alice",
          serviceUrl: `http://127.0.0.1:${port}/greet`,
          checkPath: "/greet",
          expectStatus: 200,
          appPort: 9090,
        },
        {
          requests: 6,
          trafficDeadlineMs: 5_000,
          connect: async () =>
            fakeCluster({ nodes: NODES, pods, ports: { "web-x86": port, "web-arm": port } }),
        },
      );
      assert.deepEqual(
        results.slice(1).map((r) => `${r.name} ${r.status}`),
        ["nodes passed", "pods passed", "pods-http passed", "traffic passed"],
      );
      assert.equal(results[3].summary, "2 pods answered GET /greet with HTTP 200: 1 on amd64, 1 on arm64");
      assert.match(
        results[4].summary,
        /^6 answers: all HTTP 200 \(the service does not say its architecture/,
      );
    } finally {
      g.close();
    }
  });
});

describe("verify kube: the pod proxy through a real HTTP API server stand-in", () => {
  it("GETs /api/v1/namespaces/{ns}/pods/{pod}:{port}/proxy{path} with the kubeconfig's token", async () => {
    const seen: { url?: string; auth?: string }[] = [];
    const api = http.createServer((req, res) => {
      seen.push({ url: req.url, auth: req.headers.authorization });
      if (req.url?.includes("/pods/gone:")) {
        res.writeHead(503, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ kind: "Status", message: "error trying to reach service: dial tcp: refused" }),
        );
        return;
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"service":"greeter"}');
    });
    const port = await listen(api);
    try {
      const kubeconfig = JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [
          { name: "c", cluster: { server: `http://127.0.0.1:${port}`, "insecure-skip-tls-verify": true } },
        ],
        users: [{ name: "u", user: { token: "t0k3n" } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      });
      const { clusterFromKubeconfig } = await import("../../automation/verify/kube");
      const c = await clusterFromKubeconfig(kubeconfig);
      const ok = await c.proxyGet("lab-alice", "web-1", 9090, "/greet?x=1", 5_000);
      assert.deepEqual(ok, { status: 200, body: '{"service":"greeter"}' });
      const gone = await c.proxyGet("lab-alice", "gone", 9090, "/greet", 5_000);
      assert.equal(gone.status, 503);
      assert.equal(
        gone.error,
        "the API server's pod proxy: error trying to reach service: dial tcp: refused",
      );
      assert.deepEqual(seen[0], {
        url: "/api/v1/namespaces/lab-alice/pods/web-1:9090/proxy/greet?x=1",
        auth: "Bearer t0k3n",
      });
    } finally {
      api.close();
    }
  });
});
