// lab:archField: the answer's field that says its CPU is held to the node (or platform) that
// answered, in whichever spelling the service uses. A Go-style service on loopback answers
// `{"goarch": …, "hostname": <pod>}`; one of its pods lies about its architecture.
import assert from "node:assert/strict";
import * as http from "node:http";
import * as net from "node:net";
import { verifyLab } from "../../automation/verify";
import { expectationOf } from "../../automation/verify/expect";
import { checkTraffic } from "../../automation/verify/traffic";
import { NodeInfo, PodInfo } from "../../automation/verify/types";
import { judgeVariant } from "../../automation/verify/variantVerdict";
import { fakeCluster } from "./support/verifyFakeCluster";

const NODES: NodeInfo[] = [
  { name: "node-x86", arch: "amd64", ready: true, schedulable: true, taints: [] },
  { name: "node-arm", arch: "arm64", ready: true, schedulable: true, taints: [] },
];
const PODS: PodInfo[] = [
  { name: "web-x86", nodeName: "node-x86", ready: true },
  { name: "web-arm", nodeName: "node-arm", ready: true },
];
const goService = (goarch: string, hostname: string): http.Server =>
  http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ goarch, hostname }));
  });

async function listen(s: http.Server): Promise<number> {
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  return (s.address() as net.AddressInfo).port;
}

const OUTPUTS = {
  target: "aws",
  kubeconfig: "apiVersion: v1",
  placement: "spread" as const,
  replicas: 2,
  namespace: "lab-alice",
  checkPath: "/version",
  expectStatus: 200,
  appPort: 8080,
  archField: "goarch",
};

describe("lab:archField (a Go service answering goarch)", function () {
  this.timeout(30_000);
  const servers: http.Server[] = [];
  after(() => servers.forEach((s) => s.close()));
  const serve = async (goarch: string, hostname: string): Promise<number> => {
    const s = goService(goarch, hostname);
    servers.push(s);
    return listen(s);
  };

  it("passes when each pod's goarch is its node's, in Go's spelling", async () => {
    const ports = { "web-x86": await serve("amd64", "web-x86"), "web-arm": await serve("arm64", "web-arm") };
    const results = await verifyLab(
      { ...OUTPUTS, serviceUrl: `http://127.0.0.1:${ports["web-arm"]}/version`, placement: "arm64" },
      {
        requests: 4,
        trafficDeadlineMs: 5_000,
        connect: async () => fakeCluster({ nodes: NODES, pods: [PODS[1]], ports }),
      },
    );
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    assert.equal(byName["pods-http"].status, "passed", byName["pods-http"].summary);
    assert.match(byName["pods-http"].summary, /each saying its node's architecture$/);
    assert.equal(byName.traffic.status, "passed", byName.traffic.summary);
    assert.deepEqual(byName.traffic.evidence.counts, { aarch64: 4 });
  });

  it("fails a wrong value naming the pod, the node and both values, per pod and through the Service", async () => {
    const ports = { "web-x86": await serve("amd64", "web-x86"), "web-arm": await serve("amd64", "web-arm") };
    const results = await verifyLab(
      { ...OUTPUTS, serviceUrl: `http://127.0.0.1:${ports["web-arm"]}/version` },
      {
        requests: 4,
        trafficDeadlineMs: 5_000,
        connect: async () => fakeCluster({ nodes: NODES, pods: PODS, ports }),
      },
    );
    const byName = Object.fromEntries(results.map((r) => [r.name, r]));
    assert.equal(byName["pods-http"].status, "failed");
    assert.match(
      byName["pods-http"].summary,
      /web-arm on node-arm \(arm64\): says amd64, but its node node-arm is arm64 \(aarch64\)/,
    );
    assert.equal(byName.traffic.status, "failed");
    assert.match(
      byName.traffic.summary,
      /says amd64, but its node node-arm is arm64 \(aarch64\), pod web-arm/,
    );
  });

  it("accepts every spelling of an architecture, and no field means no architecture check", () => {
    const answer = (arch: string, hostname: string) => ({
      status: 200,
      body: JSON.stringify({ cpu: arch, hostname }),
    });
    const exp = { expectArchs: ["x86_64", "aarch64"], nodes: NODES, pods: PODS };
    const cpu = { checkPath: "/", expectStatus: 200, archField: "cpu" };
    for (const [x86, arm] of [
      ["x86_64", "aarch64"],
      ["amd64", "arm64"],
      ["x64", "arm64"],
    ]) {
      const r = checkTraffic([answer(x86, "web-x86"), answer(arm, "web-arm")], { ...exp, answer: cpu });
      assert.equal(r.status, "passed", r.summary);
    }
    const none = checkTraffic([answer("sparc", "web-x86")], { ...exp, answer: { ...cpu, archField: "" } });
    assert.equal(none.status, "passed", none.summary);
  });

  it("the variants check holds the field to the platform", () => {
    const goarch = { checkPath: "/version", expectStatus: 200, archField: "goarch" };
    const say = (v: string) => ({ status: 200, body: JSON.stringify({ goarch: v }) });
    assert.equal(judgeVariant("linux/arm64", say("arm64"), goarch).passed, true);
    assert.equal(
      judgeVariant("linux/arm64", say("amd64"), goarch).problem,
      'answered goarch "amd64", but linux/arm64 must answer "aarch64"',
    );
  });

  it("outputs: lab:archField as exported; a stack from before it keeps the hello app's check", () => {
    assert.equal(expectationOf({ archField: "goarch" }).archField, "goarch");
    assert.equal(expectationOf({ archField: "" }).archField, undefined);
    assert.equal(expectationOf({}).archField, "arch");
    assert.equal(expectationOf({ checkPath: "/greet" }).archField, undefined);
  });
});
