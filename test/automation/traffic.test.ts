// The traffic check against REAL servers on loopback: the project's app started as "x86_64" and as
// "aarch64", behind a round-robin TCP proxy standing in for the load balancer (one backend per
// connection, like an NLB), with matching fake node/pod lists.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { AppProcess, startApp } from "../../app/test/support/appProcess";
import { verifyLab, verifyUrl } from "../../automation/verify";
import { STABLE_ANSWERS } from "../../automation/verify/http";
import { checkTraffic } from "../../automation/verify/traffic";
import { NodeInfo, PodInfo } from "../../automation/verify/types";
import { freePort } from "./support/registry";
import { runCli } from "./support/harness";
import { fakeCluster } from "./support/verifyFakeCluster";

/** Round-robin over `ports`, one backend per incoming connection. */
async function proxy(ports: number[]): Promise<{ url: string; close(): void }> {
  let next = 0;
  const server = net.createServer((client) => {
    const port = ports[next++ % ports.length];
    const upstream = net.connect(port, "127.0.0.1");
    client.pipe(upstream).pipe(client);
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/hello`,
    close: () => server.close(),
  };
}

async function rawServer(handler: http.RequestListener): Promise<{ port: number; close(): void }> {
  const s = http.createServer(handler);
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return { port: (s.address() as net.AddressInfo).port, close: () => s.close() };
}

const NODES: NodeInfo[] = [
  { name: "node-x86", arch: "amd64", ready: true },
  { name: "node-arm", arch: "arm64", ready: true },
];
const PODS: PodInfo[] = [
  { name: "web-x86", nodeName: "node-x86", ready: true },
  { name: "web-arm", nodeName: "node-arm", ready: true },
];
const OPTS = { requests: 20, trafficDeadlineMs: 5_000 };

describe("verify traffic (real app on loopback)", function () {
  this.timeout(60_000);
  let x86: AppProcess;
  let arm: AppProcess;
  let x86b: AppProcess;
  const closers: (() => void)[] = [];

  before(async () => {
    [x86, arm, x86b] = await Promise.all([
      startApp({ APP_ARCH_OVERRIDE: "x86_64", NODE_NAME: "node-x86", POD_NAME: "web-x86" }),
      startApp({ APP_ARCH_OVERRIDE: "aarch64", NODE_NAME: "node-arm", POD_NAME: "web-arm" }),
      startApp({ APP_ARCH_OVERRIDE: "x86_64", NODE_NAME: "node-x86", POD_NAME: "web-x86-2" }),
    ]);
  });
  after(async () => {
    closers.forEach((c) => c());
    await Promise.all([x86?.stop(), arm?.stop(), x86b?.stop()]);
  });
  /** The fake cluster's pod proxy reaches the app process standing in for each pod. */
  const clusterOf = (nodes: NodeInfo[], pods: PodInfo[]) =>
    fakeCluster({
      nodes,
      pods,
      ports: { "web-x86": x86.port, "web-x86-2": x86b.port, "web-arm": arm.port },
    });
  const lb = async (ports: number[]): Promise<string> => {
    const p = await proxy(ports);
    closers.push(p.close);
    return p.url;
  };

  it("spread: sees both architectures, each answer matching its pod's node", async () => {
    const url = await lb([x86.port, arm.port]);
    const r = await verifyUrl(url, { expectArchs: ["x86_64", "aarch64"], nodes: NODES, pods: PODS }, OPTS);
    assert.equal(r.status, "passed", r.summary);
    assert.deepEqual(r.evidence.counts, { x86_64: 10, aarch64: 10 });
    assert.equal(r.evidence.mappedToNodes, true);
    assert.match(r.summary, /20 answers: .*each matching its pod's node/);
  });

  it("fails when an answer's arch contradicts its node's label", async () => {
    const url = await lb([x86.port, arm.port]);
    const swapped = NODES.map((n) => ({ ...n, arch: n.arch === "amd64" ? "arm64" : "amd64" }));
    const r = await verifyUrl(url, { expectArchs: ["x86_64", "aarch64"], nodes: swapped, pods: PODS }, OPTS);
    assert.equal(r.status, "failed");
    assert.match(
      r.summary,
      /20 of 20 answers bad \(#1: says (x86_64|aarch64), but its node node-(x86|arm) is (arm64|amd64)/,
    );
  });

  it("spread: fails when one architecture never answers", async () => {
    const url = await lb([x86.port]);
    const r = await verifyUrl(url, { expectArchs: ["x86_64", "aarch64"], nodes: NODES, pods: PODS }, OPTS);
    assert.equal(r.status, "failed");
    assert.equal(r.summary, "no answer from aarch64");
  });

  it("pinned: passes with only the pinned architecture, fails with a stray one", async () => {
    const only = await verifyUrl(
      await lb([arm.port]),
      { expectArchs: ["aarch64"], nodes: NODES, pods: PODS },
      OPTS,
    );
    assert.equal(only.status, "passed", only.summary);
    const mixed = await verifyUrl(await lb([arm.port, x86.port]), { expectArchs: ["aarch64"] }, OPTS);
    assert.equal(mixed.status, "failed");
    assert.match(mixed.summary, /unexpected answers from x86_64/);
  });

  it("fails on a malformed answer, with the body as evidence", async () => {
    const bad = await rawServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"arch": "x86_64", oops');
    });
    closers.push(bad.close);
    const r = await verifyUrl(
      await lb([x86.port, bad.port, arm.port]),
      { expectArchs: ["x86_64", "aarch64"] },
      OPTS,
    );
    assert.equal(r.status, "failed");
    assert.match(r.summary, /^[67] of 20 answers bad \(#\d+: body is not JSON/);
    const answers = r.evidence.answers as { i: number; problem?: string; body?: string }[];
    const bodies = answers.filter((a) => a.problem === "body is not JSON").map((a) => a.body);
    assert.deepEqual(new Set(bodies), new Set(['{"arch": "x86_64", oops']));
  });

  it("waits for the load balancer to start answering (503s first), then checks", async () => {
    let calls = 0;
    const warming = await rawServer((req, res) => {
      if (++calls <= 2) {
        res.writeHead(503);
        res.end("no healthy targets");
        return;
      }
      const up = http.request(
        { host: "127.0.0.1", port: calls % 2 ? x86.port : arm.port, path: req.url },
        (u) => {
          res.writeHead(u.statusCode ?? 502, u.headers);
          u.pipe(res);
        },
      );
      up.end();
    });
    closers.push(warming.close);
    const notes: string[] = [];
    const r = await verifyUrl(
      `http://127.0.0.1:${warming.port}/hello`,
      { expectArchs: ["x86_64", "aarch64"] },
      {
        ...OPTS,
        note: (t) => notes.push(t),
      },
    );
    assert.equal(r.status, "passed", r.summary);
    assert.equal(r.evidence.pollAttempts, 2 + STABLE_ANSWERS, "two 503s, then a streak of 200s");
    assert.match(notes[0], /waiting for .* \(try 1: HTTP 503\)/);
  });

  it("fails with evidence when nothing answers before the deadline", async () => {
    const port = await freePort();
    const r = await verifyUrl(
      `http://127.0.0.1:${port}/hello`,
      { expectArchs: ["x86_64"] },
      { requests: 5, trafficDeadlineMs: 1_500 },
    );
    assert.equal(r.status, "failed");
    assert.match(r.summary, /did not answer HTTP 200 3 times in a row within 2 s/);
    assert.match(String((r.evidence.last as { error: string }).error), /ECONNREFUSED/);
  });

  it("verifyLab: image, nodes, pods and traffic over a lab's outputs, one result each", async () => {
    const url = await lb([x86.port, arm.port]);
    const port = await freePort();
    const kubeconfigs: string[] = [];
    const results = await verifyLab(
      {
        serviceUrl: url,
        kubeconfig: "apiVersion: v1",
        placement: "spread",
        replicas: 2,
        namespace: "lab",
        podSelector: { app: "hello" },
        imageTag: `127.0.0.1:${port}/lab/app:v1`,
      },
      {
        ...OPTS,
        connect: async (kc) => {
          kubeconfigs.push(kc);
          const c = clusterOf(NODES, PODS);
          return { ...c, pods: async (ns, sel) => (ns === "lab" && sel.app === "hello" ? PODS : []) };
        },
      },
    );
    assert.deepEqual(
      results.map((r) => `${r.name} ${r.status}`),
      ["image failed", "nodes passed", "pods passed", "pods-http passed", "traffic passed"],
    );
    assert.deepEqual(kubeconfigs, ["apiVersion: v1"]);
    assert.equal(
      results[3].summary,
      "2 pods answered GET /hello with HTTP 200: 1 on amd64, 1 on arm64, each saying its node's architecture",
    );
    assert.equal(results[4].evidence.mappedToNodes, true);
  });

  it("verifyLab: a cluster that cannot be reached fails nodes and pods with the error", async () => {
    const results = await verifyLab(
      { serviceUrl: await lb([x86.port, arm.port]) },
      { ...OPTS, connect: async () => Promise.reject(new Error("never called")) },
    );
    assert.deepEqual(results.map((r) => `${r.name} ${r.status}: ${r.summary}`).slice(1, 4), [
      "nodes failed: could not list nodes: the stack has no kubeconfig output",
      "pods failed: could not list pods: the stack has no kubeconfig output",
      "pods-http failed: no pod list to ask (see the pods check)",
    ]);
  });

  it("verifyLab: the local target without a cluster skips the cluster checks instead of failing", async () => {
    const port = await freePort();
    const results = await verifyLab(
      { target: "local", imageTag: `127.0.0.1:${port}/lab-alice/hello:latest` },
      OPTS,
    );
    assert.deepEqual(
      results.map((r) => `${r.name} ${r.status}`),
      [
        "image failed",
        "variants failed",
        "nodes skipped",
        "pods skipped",
        "pods-http skipped",
        "traffic skipped",
      ],
    );
    assert.equal(results[1].summary, "the stack has no imageRef output");
    assert.equal(results[5].summary, "target local has no cluster (lab:kubeconfig is empty)");
  });

  describe("verifyLab on a local cluster that lacks arm64", () => {
    const X86_ONLY: NodeInfo[] = [{ name: "node-x86", arch: "amd64", ready: true }];
    const local = async (
      over: Record<string, unknown>,
      nodes: NodeInfo[],
      pods: PodInfo[],
    ): Promise<string[]> => {
      const port = await freePort();
      const results = await verifyLab(
        {
          target: "local",
          kubeconfig: "apiVersion: v1",
          placement: "spread",
          replicas: 2,
          namespace: "lab-alice",
          podSelector: { app: "hello" },
          imageTag: `127.0.0.1:${port}/lab-alice/hello:latest`,
          ...over,
        },
        {
          ...OPTS,
          variants: false,
          connect: async () => clusterOf(nodes, pods),
        },
      );
      return results.slice(2).map((r) => `${r.name} ${r.status}: ${r.summary}`);
    };
    const x86Pods: PodInfo[] = [
      { name: "web-x86", nodeName: "node-x86", ready: true },
      { name: "web-x86-2", nodeName: "node-x86", ready: true },
    ];

    it("spread, all fine on amd64: nodes, pods and traffic are skipped with the reason, never passed", async () => {
      const url = await lb([x86.port]);
      const checks = await local({ serviceUrl: url }, X86_ONLY, x86Pods);
      assert.deepEqual(checks, [
        "nodes skipped: the cluster has no arm64 node (Ready nodes: 1 amd64)",
        "pods skipped: 2/2 Ready, 2 on amd64; placement spread also needs arm64, which the cluster has no node of",
        "pods-http skipped: 2 pods answered GET /hello with HTTP 200: 2 on amd64, each saying its node's " +
          "architecture; placement spread also needs arm64, which the cluster has no node of",
        "traffic skipped: 20 answers: 20 x86_64, each matching its pod's node; no aarch64 answer possible: " +
          "the cluster has no arm64 node",
      ]);
    });

    it("still fails what it can check: a NotReady amd64 node, replicas not Ready, a mismatched answer", async () => {
      // The aarch64-answering app claims to be pod web-arm, which runs on the amd64 node.
      const url = await lb([arm.port]);
      const checks = await local(
        { serviceUrl: url },
        [{ name: "node-x86", arch: "amd64", ready: false }],
        [
          { name: "web-arm", nodeName: "node-x86", ready: true },
          { name: "web-x86-2", nodeName: "node-x86", phase: "Pending", ready: false },
        ],
      );
      assert.match(checks[0], /^nodes failed: no Ready amd64 node \(1 amd64 node\(s\) not Ready\)$/);
      assert.match(checks[1], /^pods failed: 1 of 2 replicas Ready; not Ready: web-x86-2 \(Pending\)$/);
      assert.match(
        checks[2],
        /^pods-http failed: 1 of 1 pods answered wrong \(web-arm on node-x86 \(amd64\): says aarch64, but its node node-x86 is amd64 \(x86_64\)\); no pod on amd64 answered HTTP 200$/,
      );
      assert.match(
        checks[3],
        /^traffic failed: 20 of 20 answers bad .*but pod web-arm runs on node-x86.*; no answer from x86_64$/,
      );
    });

    it("placement arm64 on an amd64-only cluster: pods fail (Pending), traffic is skipped without waiting", async () => {
      const pending: PodInfo[] = [{ name: "web-1", phase: "Pending", ready: false }];
      const started = Date.now();
      const checks = await local(
        { placement: "arm64", replicas: 1, serviceUrl: "http://127.0.0.1:1/hello" },
        X86_ONLY,
        pending,
      );
      assert.deepEqual(checks, [
        "nodes skipped: the cluster has no arm64 node (Ready nodes: 1 amd64)",
        "pods failed: 0 of 1 replicas Ready; not Ready: web-1 (Pending) (the cluster has no arm64 node)",
        "pods-http skipped: placement arm64: the cluster has no arm64 node, so no pod can answer",
        "traffic skipped: placement arm64: the cluster has no arm64 node, so nothing can answer",
      ]);
      assert.ok(Date.now() - started < 2_000, "no polling of a service nothing can serve");
    });

    it("a cluster with both architectures is judged in full (passes)", async () => {
      const url = await lb([x86.port, arm.port]);
      const checks = await local({ serviceUrl: url }, NODES, PODS);
      assert.deepEqual(
        checks.map((c) => c.split(":")[0]),
        ["nodes passed", "pods passed", "pods-http passed", "traffic passed"],
      );
    });
  });

  it("`lab verify --url … --expect-arch …` exits 0 when both answer, 1 when one is missing", async () => {
    const both = await runCli([
      "verify",
      "--url",
      await lb([x86.port, arm.port]),
      "--expect-arch",
      "x86_64,aarch64",
      "--requests",
      "10",
    ]);
    assert.equal(both.code, 0, both.out + both.err);
    assert.match(both.out, /traffic: passed: 10 answers: 5 x86_64, 5 aarch64/);
    const one = await runCli(["verify", "--url", await lb([x86.port]), "--requests", "6"]);
    assert.equal(one.code, 1);
    assert.match(one.out, /traffic: failed: no answer from aarch64/);
    assert.deepEqual(one.engine.calls, [], "no stack, no engine");
  });
});

describe("traffic verdict (pure)", () => {
  it("rejects answers from pods that are not the app's, and non-200 answers", () => {
    const ok = JSON.stringify({ arch: "x86_64", hostname: "h", pod: "intruder" });
    const r = checkTraffic(
      [
        { status: 200, body: ok },
        { status: 502, body: "bad gateway" },
      ],
      {
        expectArchs: ["x86_64"],
        nodes: NODES,
        pods: PODS,
      },
    );
    assert.equal(r.status, "failed");
    assert.match(r.summary, /#1: answered by intruder, which is not one of the app's pods; #2: HTTP 502/);
  });

  it("rejects an unknown arch value and a missing hostname", () => {
    const r = checkTraffic(
      [
        { status: 200, body: JSON.stringify({ arch: "riscv64", hostname: "h" }) },
        { status: 200, body: JSON.stringify({ arch: "x86_64" }) },
      ],
      { expectArchs: ["x86_64"] },
    );
    assert.match(r.summary, /#1: "arch" is "riscv64", not one of x86_64, aarch64; #2: "hostname" is missing/);
  });
});
