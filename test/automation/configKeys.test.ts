// Every key Pulumi.yaml declares is checked by the driver before anything starts, by the program's
// own rules: a bad value of any of them exits 2 naming the key, with no engine call, no cluster
// started and no file written. The table must cover every declared key, so none can be forgotten.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { ClusterControl } from "../../automation/local/cluster";
import { FakeEngine } from "./support/fakeEngine";
import { runCli } from "./support/harness";

const declared = Object.keys(
  (
    yaml.load(fs.readFileSync(path.join(__dirname, "..", "..", "Pulumi.yaml"), "utf8")) as {
      config: Record<string, unknown>;
    }
  ).config,
);

/** A bad value per key, and how the command line gives it (the driver sets two keys itself). */
const BAD: Record<string, { argv: string[]; names?: RegExp }> = {
  "lab:attendee": { argv: ["--attendees", "Bad_Name"], names: /attendee "Bad_Name" is not a DNS-1123/ },
  "lab:workshop": { argv: ["--stack-prefix", "-ws-"], names: /--stack-prefix "-ws-"/ },
  "lab:target": { argv: ["--config", "target=gcp"], names: /lab:target "gcp" is not one of aws, local/ },
  "lab:placement": { argv: ["--config", "placement=left"] },
  "lab:replicas": { argv: ["--config", "replicas=x"] },
  "lab:x86InstanceType": { argv: ["--config", "x86InstanceType=m6g.large"] },
  "lab:armInstanceType": { argv: ["--config", "armInstanceType=m7i.large"] },
  "lab:taintArm": { argv: ["--config", "taintArm=maybe"] },
  "lab:kubernetesVersion": { argv: ["--config", "kubernetesVersion=2"] },
  "lab:apiAllowedCidrs": { argv: ["--config", "apiAllowedCidrs=10.0.0.0/99"] },
  "lab:nodesMin": { argv: ["--config", "nodesMin=-1"] },
  "lab:nodesDesired": { argv: ["--config", "nodesDesired=0"] },
  "lab:nodesMax": { argv: ["--config", "nodesMax=x"] },
  "lab:capacityType": { argv: ["--config", "capacityType=CHEAP"] },
  "lab:platforms": { argv: ["--config", "platforms=linux/s390x"] },
  "lab:baseImage": { argv: ["--config", "baseImage=Not An Image"] },
  "lab:buildImage": { argv: ["--config", "buildImage=UPPER/Case"] },
  "lab:localRegistry": { argv: ["--config", "localRegistry=http://x"] },
  "lab:kubeconfig": { argv: ["--config", "kubeconfig=/nonexistent/kubeconfig"] },
  "lab:clusterArchs": { argv: ["--config", "clusterArchs=sparc"] },
  "lab:role": { argv: ["--config", "role=boss"], names: /lab:role is set per stack by the driver/ },
  "lab:foundation": {
    argv: ["--config", "foundation=ws1.foundation"],
    names: /lab:foundation is set per stack by the driver/,
  },
  "lab:topology": { argv: ["--config", "topology=mesh"] },
  "lab:attendees": { argv: ["--config", "lab:attendees=-5"] },
  "lab:attendeePrincipal": { argv: ["--config", "attendeePrincipal=not-an-arn"] },
  "lab:appDir": { argv: ["--config", "appDir=/nonexistent-dir"] },
  "lab:dockerfile": { argv: ["--config", "dockerfile=../x"] },
  "lab:image": { argv: ["--config", "image=Not An Image"] },
  "lab:appPort": { argv: ["--config", "appPort=70000"] },
  "lab:healthPath": { argv: ["--config", "healthPath=healthz"] },
  "lab:checkPath": { argv: ["--config", "checkPath=x y"] },
  "lab:expectStatus": { argv: ["--config", "expectStatus=999"] },
  "lab:expectBody": { argv: ["--config", "expectBody=("] },
  "lab:archField": { argv: ["--config", "archField=runtime.GOARCH"] },
  "lab:appEnv": { argv: ["--config", "appEnv==x"] },
};

/** A local cluster that only counts its starts. */
function countingCluster(): ClusterControl & { starts: number } {
  const c = {
    starts: 0,
    start: async () => (c.starts++, "started"),
    release: async () => "released",
  };
  return c;
}

describe("every declared config key is validated by the driver before anything starts", () => {
  it("the table covers exactly the keys Pulumi.yaml declares", () => {
    assert.deepEqual(Object.keys(BAD).sort(), [...declared].sort());
  });

  for (const key of declared) {
    for (const target of ["local", "aws"]) {
      it(`${key} (${target} target): exit 2 naming it, nothing started`, async () => {
        const bad = BAD[key];
        const engine = new FakeEngine();
        const cluster = countingCluster();
        const targetArgs = key === "lab:target" ? [] : ["--target", target];
        const attendees = key === "lab:attendee" ? [] : ["--attendees", "alice"];
        const r = await runCli(["up", ...targetArgs, ...attendees, ...bad.argv], {
          engine,
          localCluster: cluster,
        });
        assert.equal(r.code, 2, `exit code; stderr:\n${r.err}`);
        assert.match(r.err, bad.names ?? new RegExp(`${key}\\b`));
        assert.match(r.err, /nothing was created/);
        assert.deepEqual(engine.calls, [], "no engine call");
        assert.equal(cluster.starts, 0, "no cluster started");
        assert.deepEqual(fs.readdirSync(r.projectDir), [], "no file written");
      });
    }
  }

  it("config problems come before the environment's: no credentials, yet the bad key is named", async () => {
    const engine = new FakeEngine();
    const r = await runCli(["up", "--attendees", "alice", "--config", "attendeePrincipal=not-an-arn"], {
      engine,
      env: { HOME: "/nonexistent", PATH: process.env.PATH },
    });
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /lab:attendeePrincipal "not-an-arn" is not an IAM role or user ARN/);
    assert.match(r.err, /aws:region is required/, "every input problem at once");
    assert.doesNotMatch(r.err, /no AWS credentials found/);
    assert.deepEqual(engine.calls, []);
  });
});
