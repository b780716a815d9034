// The app's pure pieces, and the server in-process.
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { normaliseArchOverride, unameArch } from "../src/arch";
import { ConfigError, DEFAULT_SHUTDOWN_GRACE_MS, readConfig, type AppConfig } from "../src/config";
import { HELLO_MESSAGE, helloBody, type SystemFacts } from "../src/hello";
import { formatLogLine, jsonLogger, listeningFields, parseListeningLine } from "../src/log";
import { createServer, pathOf, route, type LabServer } from "../src/server";
import { APP_VERSION } from "../src/version";

const APP_DIR = path.resolve(__dirname, "..");

describe("app: arch", () => {
  it("maps process.arch to uname -m spelling", () => {
    assert.equal(unameArch("x64"), "x86_64");
    assert.equal(unameArch("arm64"), "aarch64");
    assert.equal(unameArch("arm"), "armv7l");
    assert.equal(unameArch("ia32"), "i686");
    assert.equal(unameArch("ppc64"), "ppc64le");
    assert.equal(unameArch("s390x"), "s390x");
    assert.equal(unameArch("riscv64"), "riscv64");
    assert.equal(unameArch("loong64"), "loongarch64");
  });

  it("passes unknown names through unchanged, including Object.prototype member names", () => {
    assert.equal(unameArch("sparc64"), "sparc64");
    assert.equal(unameArch("constructor"), "constructor");
    assert.equal(unameArch("toString"), "toString");
  });

  it("normalises an override to uname -m spelling for the lab's two architectures", () => {
    for (const value of ["x86_64", "amd64", "x64", "AMD64", " x86_64 "]) {
      assert.equal(normaliseArchOverride(value), "x86_64", value);
    }
    for (const value of ["aarch64", "arm64", "ARM64"]) {
      assert.equal(normaliseArchOverride(value), "aarch64", value);
    }
  });

  it("keeps any other plain name as given, ignores a blank one, and rejects anything else", () => {
    assert.equal(normaliseArchOverride("riscv64"), "riscv64");
    assert.equal(normaliseArchOverride("constructor"), "constructor");
    assert.equal(normaliseArchOverride(undefined), undefined);
    assert.equal(normaliseArchOverride("  "), undefined);
    for (const bad of ["arm 64", "x86_64;rm", "a".repeat(33), "\u00e4rm"]) {
      assert.throws(() => normaliseArchOverride(bad), /APP_ARCH_OVERRIDE/, bad);
    }
  });
});

describe("app: config", () => {
  it("has defaults for an empty environment", () => {
    assert.deepEqual(readConfig({}), {
      host: "0.0.0.0",
      port: 8080,
      shutdownGraceMs: DEFAULT_SHUTDOWN_GRACE_MS,
      version: APP_VERSION,
    });
  });

  it("reads every setting", () => {
    assert.deepEqual(
      readConfig({
        HOST: "127.0.0.1",
        PORT: "0",
        SHUTDOWN_GRACE_MS: "2500",
        APP_ARCH_OVERRIDE: "arm64",
        NODE_NAME: "ip-10-0-1-2.ec2.internal",
        POD_NAME: "hello-abc",
        POD_NAMESPACE: "lab",
        APP_VERSION: "1.2.3",
      }),
      {
        host: "127.0.0.1",
        port: 0,
        shutdownGraceMs: 2500,
        archOverride: "aarch64",
        nodeName: "ip-10-0-1-2.ec2.internal",
        podName: "hello-abc",
        podNamespace: "lab",
        version: "1.2.3",
      },
    );
  });

  it("treats blank values as unset", () => {
    assert.deepEqual(
      readConfig({ PORT: "", HOST: " ", NODE_NAME: "", POD_NAME: " ", APP_ARCH_OVERRIDE: "" }),
      readConfig({}),
    );
  });

  it("rejects ports and grace times that are not whole numbers in range", () => {
    for (const port of ["http", "-1", "8080.5", "1e3", "65536", "0x50"]) {
      assert.throws(() => readConfig({ PORT: port }), ConfigError, port);
    }
    assert.equal(readConfig({ PORT: "65535" }).port, 65535);
    assert.throws(
      () => readConfig({ SHUTDOWN_GRACE_MS: "soon" }),
      /SHUTDOWN_GRACE_MS must be a whole number/,
    );
    assert.throws(() => readConfig({ SHUTDOWN_GRACE_MS: "300001" }), /between 0 and 300000/);
  });

  it("reports a bad override as a ConfigError", () => {
    assert.throws(() => readConfig({ APP_ARCH_OVERRIDE: "$(uname -m)" }), ConfigError);
  });

  it("keeps APP_VERSION equal to app/package.json's version", () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(APP_DIR, "package.json"), "utf8")) as {
      version: string;
    };
    assert.equal(APP_VERSION, pkg.version);
  });
});

describe("app: hello body", () => {
  const graviton: SystemFacts = {
    nodeArch: "arm64",
    osType: "Linux",
    osRelease: "4.14.209-160.335.amzn2.aarch64",
    hostname: "hello-7d9f-abcde",
  };
  const base: AppConfig = { host: "0.0.0.0", port: 8080, shutdownGraceMs: 1000, version: "9.9.9" };

  it("reports the process's architecture in uname -m spelling, the kernel and the host", () => {
    assert.deepEqual(helloBody(base, graviton), {
      arch: "aarch64",
      archSource: "process",
      message: HELLO_MESSAGE,
      os: "Linux 4.14.209-160.335.amzn2.aarch64",
      hostname: "hello-7d9f-abcde",
      version: "9.9.9",
    });
    assert.equal(helloBody(base, { ...graviton, nodeArch: "x64" }).arch, "x86_64");
  });

  it("flags an overridden architecture", () => {
    const body = helloBody({ ...base, archOverride: "x86_64" }, graviton);
    assert.equal(body.arch, "x86_64");
    assert.equal(body.archSource, "override");
  });

  it("adds node, pod and namespace only when they are known", () => {
    const body = helloBody({ ...base, nodeName: "ip-10-0-1-2", podName: "p", podNamespace: "lab" }, graviton);
    assert.equal(body.node, "ip-10-0-1-2");
    assert.equal(body.pod, "p");
    assert.equal(body.namespace, "lab");
    const bare = helloBody(base, graviton);
    assert.ok(!("node" in bare) && !("pod" in bare) && !("namespace" in bare));
  });
});

describe("app: routes", () => {
  const hello = helloBody(
    { host: "0.0.0.0", port: 8080, shutdownGraceMs: 1000, version: "0.0.0" },
    { nodeArch: "x64", osType: "Linux", osRelease: "6.1.0", hostname: "h" },
  );

  it("answers /hello and /healthz to GET and HEAD", () => {
    for (const method of ["GET", "HEAD"]) {
      assert.deepEqual(route(method, "/hello", { hello, draining: false }), { status: 200, body: hello });
      assert.deepEqual(route(method, "/healthz", { hello, draining: false }), {
        status: 200,
        body: { status: "ok" },
      });
    }
  });

  it("answers /healthz with 503 while draining, and still answers /hello", () => {
    assert.deepEqual(route("GET", "/healthz", { hello, draining: true }), {
      status: 503,
      body: { status: "draining" },
    });
    assert.equal(route("GET", "/hello", { hello, draining: true }).status, 200);
  });

  it("answers other methods on known paths with 405 and Allow", () => {
    const result = route("PUT", "/hello", { hello, draining: false });
    assert.equal(result.status, 405);
    assert.equal(result.headers?.Allow, "GET, HEAD");
  });

  it("answers unknown paths with 404, whatever the method", () => {
    for (const [method, target] of [
      ["GET", "/"],
      ["POST", "/nope"],
      ["GET", "/hello/"],
    ]) {
      assert.deepEqual(route(method, target, { hello, draining: false }), {
        status: 404,
        body: { error: "not found", path: target },
      });
    }
    const long = "/" + "x".repeat(1000);
    assert.equal((route("GET", long, { hello, draining: false }).body as { path: string }).path.length, 256);
  });

  it("takes the path from origin-form and absolute-form targets, without the query", () => {
    assert.equal(pathOf("/hello"), "/hello");
    assert.equal(pathOf("/hello?x=1&y=2"), "/hello");
    assert.equal(pathOf("http://lab.example/healthz?probe=1"), "/healthz");
    assert.equal(pathOf("*"), "*");
  });
});

describe("app: log lines", () => {
  it("formats one JSON object per event with a timestamp first", () => {
    const line = formatLogLine("request", { method: "GET", status: 200 }, new Date(0));
    assert.equal(line, '{"ts":"1970-01-01T00:00:00.000Z","event":"request","method":"GET","status":200}');
  });

  it("writes each event as one newline-terminated line", () => {
    const written: string[] = [];
    const log = jsonLogger(
      (text) => written.push(text),
      () => new Date(0),
    );
    log("a");
    log("b", { n: 1 });
    assert.deepEqual(written, [
      '{"ts":"1970-01-01T00:00:00.000Z","event":"a"}\n',
      '{"ts":"1970-01-01T00:00:00.000Z","event":"b","n":1}\n',
    ]);
  });

  it("round-trips the start line through parseListeningLine", () => {
    const line = formatLogLine(
      "listening",
      { ...listeningFields("127.0.0.1", 43123), arch: "x86_64" },
      new Date(),
    );
    assert.deepEqual(parseListeningLine(line), {
      host: "127.0.0.1",
      port: 43123,
      url: "http://127.0.0.1:43123",
    });
    assert.equal(listeningFields("::", 8080).url, "http://[::]:8080");
  });

  it("parses no other line as a start line", () => {
    for (const line of [
      "",
      "listening on 8080",
      "null",
      '{"event":"request","host":"h","port":1,"url":"u"}',
      '{"event":"listening","host":"h","port":0,"url":"u"}',
      '{"event":"listening","host":"h","port":"8080","url":"u"}',
    ]) {
      assert.equal(parseListeningLine(line), undefined, line);
    }
  });
});

describe("app: server in-process", () => {
  const hello = helloBody(
    { host: "127.0.0.1", port: 0, shutdownGraceMs: 1000, version: "0.0.0" },
    { nodeArch: "arm64", osType: "Linux", osRelease: "6.1.0", hostname: "h" },
  );
  let app: LabServer | undefined;
  afterEach(async () => {
    if (app !== undefined && app.server.listening) await app.shutdown(0);
    app = undefined;
  });

  function get(port: number, target: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      http
        .get({ host: "127.0.0.1", port, path: target, agent: false }, (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (c: string) => (body += c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        })
        .on("error", reject);
    });
  }

  it("serves the body it was given and logs each request", async () => {
    const events: Array<[string, Record<string, unknown>]> = [];
    app = createServer({ hello, log: (event, fields = {}) => events.push([event, { ...fields }]) });
    const { port } = await app.listen(0, "127.0.0.1");
    const reply = await get(port, "/hello");
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.body), hello);
    const result = await app.shutdown(1000);
    assert.deepEqual(result.forced, false);
    const requests = events.filter(([e]) => e === "request").map(([, f]) => f);
    assert.equal(requests.length, 1);
    assert.equal(requests[0].path, "/hello");
    assert.equal(requests[0].status, 200);
    assert.deepEqual(
      events.map(([e]) => e),
      ["request", "draining", "stopped"],
    );
  });

  it("shuts down once: a second call returns the same promise, and draining stays true", async () => {
    app = createServer({ hello, log: () => undefined });
    await app.listen(0, "127.0.0.1");
    assert.equal(app.draining, false);
    const first = app.shutdown(1000);
    assert.equal(app.draining, true);
    assert.equal(app.shutdown(5), first);
    assert.equal((await first).forced, false);
    assert.equal(app.server.listening, false);
    assert.equal(app.inFlight, 0);
  });
});
