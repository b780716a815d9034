// `lab audit` against a REAL OCI registry on loopback (Debian's docker-registry) holding what the
// test pushes: a two-platform index, a single-platform image (its platform read from the config
// blob), and a password-protected registry read with the Docker config's credentials (auths, and
// a credential helper). The cluster is plain lists handed in; an unreachable registry is a port
// nobody listens on.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { auditCommand, AuditDeps } from "../../automation/cli/auditCommand";
import { credentialResolver } from "../../automation/audit/credentials";
import { inspectImage } from "../../automation/audit/manifest";
import { ClusterLists } from "../../automation/audit/types";
import { memoryLog } from "../../automation/reports/logs";
import { FakeEngine } from "./support/fakeEngine";
import { FakeSignals, runCli } from "./support/harness";
import { archAffinity, lists, pod, replicaSet } from "./support/auditFixtures";
import { CREDS, Pusher, Registry, freePort, requireRegistry, startRegistry } from "./support/registry";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lab-audit-"));
const NO_DOCKER = { HOME: tmp, DOCKER_CONFIG: path.join(tmp, "no-docker") };

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:6443"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

function dockerConfig(name: string, config: object): NodeJS.ProcessEnv {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
  return { HOME: tmp, DOCKER_CONFIG: dir };
}

/** What `lab` hands a command, with the audit's seams; output captured. */
function deps(
  o: { cluster?: (kc: string) => ClusterLists; engine?: FakeEngine; env?: NodeJS.ProcessEnv } = {},
) {
  const out: string[] = [];
  const err: string[] = [];
  const seen: string[] = [];
  const d: AuditDeps = {
    projectDir: tmp,
    env: o.env ?? NO_DOCKER,
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    engineFactory: () => o.engine ?? new FakeEngine(),
    verify: async () => [],
    openLog: (s) => memoryLog(s),
    signals: new FakeSignals(),
    exit: () => undefined,
    now: () => Date.parse("2026-03-04T05:06:07Z"),
    sleep: async () => undefined,
    readCluster: async (kc) => {
      seen.push(kc);
      if (!o.cluster) throw new Error("no cluster in this test");
      return o.cluster(kc);
    },
  };
  return { d, out, err, seen };
}

describe("audit against a real registry on loopback", function () {
  this.timeout(60_000);
  let open: Registry;
  let locked: Registry;
  let downHost: string;

  before(async function () {
    requireRegistry(this);
    open = await startRegistry();
    locked = await startRegistry({ auth: true });
    const p = new Pusher(open.host, "lab/app");
    await p.index("multi", ["amd64", "arm64"]);
    await p.single("amd", "amd64");
    await new Pusher(locked.host, "lab/private", CREDS).single("arm", "arm64");
    downHost = `127.0.0.1:${await freePort()}`;
  });
  after(async () => {
    await open?.stop();
    await locked?.stop();
  });

  const anonymous = () => credentialResolver({ env: NO_DOCKER });

  it("an index: its platforms without the attestation entry", async () => {
    const m = await inspectImage(`${open.host}/lab/app:multi`, { credentialsFor: anonymous() });
    assert.equal(m.error, undefined);
    assert.equal(m.index, true);
    assert.deepEqual(m.platforms, ["linux/amd64", "linux/arm64"]);
    assert.equal(m.credentials, "anonymous");
    assert.match(m.digest ?? "", /^sha256:[a-f0-9]{64}$/);
  });

  it("a single-platform manifest: the platform its config blob names", async () => {
    const m = await inspectImage(`${open.host}/lab/app:amd`, { credentialsFor: anonymous() });
    assert.equal(m.error, undefined);
    assert.equal(m.index, false);
    assert.deepEqual(m.platforms, ["linux/amd64"]);
  });

  it("a missing tag, a refusing registry and an unreachable one each become the image's error", async () => {
    const missing = await inspectImage(`${open.host}/lab/app:nope`, { credentialsFor: anonymous() });
    assert.match(
      missing.error ?? "",
      /^manifest not found \(HTTP 404 for http:\/\/127\.0\.0\.1:\d+\/v2\/lab\/app\/manifests\/nope\)$/,
    );
    const refused = await inspectImage(`${locked.host}/lab/private:arm`, { credentialsFor: anonymous() });
    assert.equal(refused.error, "registry refused the request (HTTP 401, auth none)");
    const down = await inspectImage(`${downHost}/lab/app:1`, { credentialsFor: anonymous() });
    assert.match(down.error ?? "", /^registry unreachable: ECONNREFUSED/);
    assert.equal(down.platforms, undefined);
  });

  it("uses the Docker config's auths (base64 user:pass) for a registry that wants a password", async () => {
    const auth = Buffer.from(`${CREDS.username}:${CREDS.password}`).toString("base64");
    const env = dockerConfig("auths", { auths: { [`http://${locked.host}`]: { auth } } });
    const m = await inspectImage(`${locked.host}/lab/private:arm`, {
      credentialsFor: credentialResolver({ env }),
    });
    assert.equal(m.error, undefined);
    assert.equal(m.credentials, "docker-config");
    assert.deepEqual([m.index, m.platforms], [false, ["linux/arm64"]]);
  });

  it("runs the Docker config's credential helper for its registry (server on stdin)", async () => {
    const bin = path.join(tmp, "bin");
    fs.mkdirSync(bin, { recursive: true });
    const helper = path.join(bin, "docker-credential-labtest");
    fs.writeFileSync(
      helper,
      `#!/bin/sh\nread server\n[ "$1" = get ] && [ "$server" = "${locked.host}" ] || { echo "credentials not found"; exit 1; }\n` +
        `echo '{"Username":"${CREDS.username}","Secret":"${CREDS.password}"}'\n`,
      { mode: 0o755 },
    );
    const env = dockerConfig("helper", { credHelpers: { [locked.host]: "labtest" } });
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    try {
      const m = await inspectImage(`${locked.host}/lab/private:arm`, {
        credentialsFor: credentialResolver({ env }),
      });
      assert.equal(m.error, undefined);
      assert.equal(m.credentials, "credential-helper");
      const broken = dockerConfig("helper-missing", { credHelpers: { [locked.host]: "absent" } });
      const m2 = await inspectImage(`${locked.host}/lab/private:arm`, {
        credentialsFor: credentialResolver({ env: broken }),
      });
      assert.equal(
        m2.error,
        "registry refused the request (HTTP 401, auth none) (docker-credential-absent: ENOENT)",
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  it("an ECR host gets an ECR token; without one, the reason is on the image", async () => {
    const calls: string[] = [];
    const resolve = credentialResolver({
      env: NO_DOCKER,
      ecrToken: async (region) => {
        calls.push(region);
        if (region === "eu-west-1") throw new Error("no credentials");
        return { username: "AWS", password: "p", server: "x" };
      },
    });
    const ok = await resolve("123456789012.dkr.ecr.us-east-1.amazonaws.com");
    assert.deepEqual([ok.source, ok.credentials?.username], ["ecr", "AWS"]);
    await resolve("123456789012.dkr.ecr.us-east-1.amazonaws.com");
    const no = await resolve("123456789012.dkr.ecr.eu-west-1.amazonaws.com");
    assert.equal(no.source, "anonymous");
    assert.match(
      no.note ?? "",
      /no ECR token for .* \(ecr:GetAuthorizationToken in eu-west-1\): no credentials/,
    );
    assert.deepEqual(calls, ["us-east-1", "eu-west-1"], "one token per registry");
  });

  it("lab audit --kubeconfig: a table, a JSON report and exit 1; an unreachable registry is one image's unknown", async () => {
    const kc = path.join(tmp, "kc.yaml");
    fs.writeFileSync(kc, KUBECONFIG);
    const report = path.join(tmp, "out", "audit.json");
    const cluster = (): ClusterLists =>
      lists(
        [
          pod("multi-1-a", { owner: "multi-1", image: `${open.host}/lab/app:multi`, nodeName: "arm-1" }),
          pod("pinned-1-a", {
            owner: "pinned-1",
            image: `${open.host}/lab/app:amd`,
            nodeName: "amd-1",
            spec: { nodeSelector: { "kubernetes.io/arch": "amd64" } },
          }),
          pod("loose-1-a", { owner: "loose-1", image: `${open.host}/lab/app:amd`, nodeName: "amd-1" }),
          pod("wrong-1-a", {
            owner: "wrong-1",
            image: `${open.host}/lab/app:amd`,
            nodeName: "arm-1",
            spec: archAffinity("In", ["arm64"]),
          }),
          pod("far", { image: `${downHost}/lab/app:1`, nodeName: "amd-1" }),
        ],
        { replicaSets: ["multi", "pinned", "loose", "wrong"].map((n) => replicaSet(`${n}-1`, n)) },
      );
    const { d, out, seen } = deps({ cluster });
    const code = await auditCommand({ kubeconfig: kc, report }, d);
    assert.equal(code, 1, out.join("\n"));
    assert.deepEqual(seen, [KUBECONFIG], "the file's contents reach the cluster reader");
    const text = out.join("\n");
    assert.match(text, /^cluster .*kc\.yaml: 2 nodes \(1 amd64, 1 arm64\)$/m);
    assert.match(
      text,
      /lab\/app:amd +single +amd64 +apps\/Deployment\/loose +1 +amd64 +amd64,arm64 +at risk$/m,
    );
    assert.match(text, /^5 workloads: 2 ok, 1 at risk, 1 broken, 1 unknown$/m);
    const r = JSON.parse(fs.readFileSync(report, "utf8"));
    assert.equal(r.exitCode, 1);
    assert.equal(r.generatedAt, "2026-03-04T05:06:07.000Z");
    const verdicts = Object.fromEntries(
      r.clusters[0].workloads.map((w: { name: string; verdict: string }) => [w.name, w.verdict]),
    );
    assert.deepEqual(verdicts, {
      far: "unknown",
      loose: "at risk",
      multi: "ok",
      pinned: "ok",
      wrong: "broken",
    });
    const far = r.clusters[0].images.find((i: { image: string }) => i.image.startsWith(downHost));
    assert.match(far.error, /^registry unreachable: ECONNREFUSED/);
  });

  it("exit 0 when every workload is ok", async () => {
    const kc = path.join(tmp, "kc-ok.yaml");
    fs.writeFileSync(kc, KUBECONFIG);
    const cluster = () => lists([pod("m", { image: `${open.host}/lab/app:multi`, nodeName: "arm-1" })]);
    const { d, out } = deps({ cluster });
    assert.equal(await auditCommand({ kubeconfig: kc }, d), 0, out.join("\n"));
    assert.match(out.join("\n"), /^1 workload: 1 ok, 0 at risk, 0 broken, 0 unknown$/m);
  });

  it("--attendees: each stack's kubeconfig output; a stack without one is reported, not fatal", async () => {
    const engine = new FakeEngine({
      "lab-alice": { outputs: { kubeconfig: KUBECONFIG } },
      "lab-bob": { outputs: { serviceUrl: "x" } },
      "lab-carol": { missing: true },
    });
    const cluster = () => lists([pod("m", { image: `${open.host}/lab/app:multi`, nodeName: "amd-1" })]);
    const { d, out, seen } = deps({ cluster, engine });
    const code = await auditCommand({ attendees: ["alice,bob,carol"] }, d);
    assert.equal(code, 1);
    assert.deepEqual(seen, [KUBECONFIG]);
    const text = out.join("\n");
    assert.match(text, /^cluster stack lab-bob: not audited: the stack has no kubeconfig output/m);
    assert.match(text, /^cluster stack lab-carol: not audited: stack lab-carol does not exist$/m);
    assert.match(text, /^cluster stack lab-alice: 2 nodes/m);
    assert.match(text, /^all clusters: 1 workload: 1 ok/m);
  });

  it("a cluster that does not answer is exit 1 with its error", async () => {
    const kc = path.join(tmp, "kc-down.yaml");
    fs.writeFileSync(kc, KUBECONFIG);
    const { d, out } = deps();
    assert.equal(await auditCommand({ kubeconfig: kc }, d), 1);
    assert.match(out.join("\n"), /not audited: the cluster did not answer: no cluster in this test/);
  });
});

describe("audit: bad input is exit 2, naming the input", () => {
  const cases: [string, string[], RegExp][] = [
    ["neither option", ["audit"], /which cluster\? pass --kubeconfig <file>, or --attendees <names>/],
    [
      "a missing file",
      ["audit", "--kubeconfig", "/nonexistent/kc"],
      /--kubeconfig \/nonexistent\/kc cannot be read \(ENOENT\)/,
    ],
    ["both options", ["audit", "--kubeconfig", "x", "--attendees", "alice"], /name the cluster twice/],
    [
      "a bad namespace",
      ["audit", "--attendees", "alice", "--namespace", "Bad_NS"],
      /--namespace "Bad_NS" is not/,
    ],
  ];
  for (const [name, argv, expect] of cases) {
    it(name, async () => {
      const r = await runCli(argv);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, expect);
      assert.deepEqual(r.engine.calls, [], "no engine call");
    });
  }

  it("a file that is not a kubeconfig", async () => {
    const f = path.join(tmp, "not-kc.yaml");
    fs.writeFileSync(f, "just: [text\n");
    const r = await runCli(["audit", "--kubeconfig", f]);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, new RegExp(`--kubeconfig ${f} (is not a kubeconfig|has no current-context)`));
  });

  it("--help lists the options and examples", async () => {
    const r = await runCli(["audit", "--help"]);
    assert.equal(r.code, 0);
    for (const s of [
      "--kubeconfig <file>",
      "--attendees <names>",
      "--report <file.json>",
      "$ npm run lab -- audit",
    ])
      assert.ok(r.out.includes(s), s);
  });
});
