import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isImageReference, parseAppEnv, PROJECT_ROOT, registryOf } from "../infra/appConfig";
import { parseLabConfig } from "../infra/config";
import { problemsOf, validConfig } from "./support/config";

const valid = validConfig;

describe("infra/appConfig: the app keys", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-appdir-"));
    fs.writeFileSync(path.join(dir, "Dockerfile"), "FROM scratch\n");
    fs.mkdirSync(path.join(dir, "docker"));
    fs.writeFileSync(path.join(dir, "docker", "prod.Dockerfile"), "FROM scratch\n");
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("lab:appDir: relative to the project root or absolute; a missing one names the resolved path", () => {
    assert.strictEqual(parseLabConfig({ ...valid, appDir: dir }).appDir, dir);
    const cfg = parseLabConfig({ ...valid, appDir: "examples/greeter" });
    assert.deepStrictEqual([cfg.appDir, cfg.dockerfile], ["examples/greeter", "Dockerfile"]);
    assert.deepStrictEqual(problemsOf({ ...valid, appDir: "no/such/dir" }), [
      `lab:appDir "no/such/dir" does not exist (${path.join(PROJECT_ROOT, "no/such/dir")}): give your ` +
        `service's build context, relative to the project root or absolute (e.g. examples/greeter)`,
    ]);
    const file = path.join(dir, "Dockerfile");
    assert.match(problemsOf({ ...valid, appDir: file })[0], /^lab:appDir ".*Dockerfile" is not a directory/);
  });

  it("lab:dockerfile: a file inside lab:appDir", () => {
    assert.strictEqual(
      parseLabConfig({ ...valid, appDir: dir, dockerfile: "docker/prod.Dockerfile" }).dockerfile,
      "docker/prod.Dockerfile",
    );
    assert.deepStrictEqual(problemsOf({ ...valid, appDir: dir, dockerfile: "Dockerfile.dev" }), [
      `lab:dockerfile "Dockerfile.dev" is not a file in lab:appDir (${path.join(dir, "Dockerfile.dev")}): ` +
        `add it, or set lab:dockerfile to the Dockerfile's path inside ${dir}`,
    ]);
    for (const outside of ["../Dockerfile", "/etc/hostname"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, appDir: dir, dockerfile: outside }), [
        `lab:dockerfile "${outside}" is outside lab:appDir: give the Dockerfile's path inside ${dir} (e.g. Dockerfile)`,
      ]);
    }
    // The bundled app's directory has no Dockerfile.dev either: the default appDir is checked too.
    assert.match(
      problemsOf({ ...valid, dockerfile: "Dockerfile.dev" })[0],
      /^lab:dockerfile "Dockerfile.dev"/,
    );
  });

  it("lab:image: a valid reference, no build context checked, exclusive with lab:appDir and lab:dockerfile", () => {
    for (const ref of [
      "nginx",
      "ghcr.io/acme/api:1.2",
      "127.0.0.1:5000/lab/greeter:v1",
      `registry.example/a/b@sha256:${"a".repeat(64)}`,
      `localhost/x:y@sha256:${"0".repeat(64)}`,
    ]) {
      assert.strictEqual(parseLabConfig({ ...valid, image: ref }).image, ref, ref);
    }
    for (const bad of ["Ghcr.io/Acme/API", "acme/api:", "acme/api:1.2:3", "http://r.example/a", "a b"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, image: bad }), [
        `lab:image "${bad}" is not an image reference: use [registry/]name[:tag][@sha256:digest] in ` +
          `lowercase (e.g. ghcr.io/acme/api:1.2)`,
      ]);
    }
    assert.deepStrictEqual(problemsOf({ ...valid, image: "nginx:1.27", appDir: dir, dockerfile: "x" }), [
      `lab:image and lab:appDir are exclusive: lab:image deploys a prebuilt image without a build; ` +
        `unset lab:appDir, or unset lab:image to build ${dir}`,
      `lab:image and lab:dockerfile are exclusive: lab:image deploys a prebuilt image without a build; ` +
        `unset lab:dockerfile, or unset lab:image to build x`,
    ]);
    // The engine hands the program Pulumi.yaml's defaults as set values: those are no conflict.
    const withDefaults = { ...valid, image: "nginx:1.27", appDir: "app", dockerfile: "Dockerfile" };
    assert.strictEqual(parseLabConfig(withDefaults).image, "nginx:1.27");
    assert.ok(isImageReference("a/b:c") && !isImageReference("a".repeat(256)));
    assert.deepStrictEqual(
      ["nginx:1", "acme/api", "ghcr.io/a/b", "127.0.0.1:5000/x", "localhost/x"].map(registryOf),
      ["docker.io", "docker.io", "ghcr.io", "127.0.0.1:5000", "localhost"],
    );
  });

  it("lab:appPort: 1-65535", () => {
    assert.strictEqual(parseLabConfig({ ...valid, appPort: "9090" }).appPort, 9090);
    for (const bad of ["0", "65536", "80a", "-1", "8080.5"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, appPort: bad }), [
        `lab:appPort "${bad}" is not a TCP port: give the container's port, 1-65535 (e.g. 8080)`,
      ]);
    }
  });

  it("lab:healthPath and lab:checkPath: URL paths starting with '/'", () => {
    const cfg = parseLabConfig({ ...valid, healthPath: "/livez", checkPath: "/greet" });
    assert.deepStrictEqual([cfg.healthPath, cfg.checkPath], ["/livez", "/greet"]);
    assert.deepStrictEqual(problemsOf({ ...valid, healthPath: "livez" }), [
      `lab:healthPath "livez" is not a URL path: start it with '/', no spaces, query or fragment (e.g. /healthz)`,
    ]);
    for (const bad of ["greet", "/a b", "/x?y=1", "/x#top"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, checkPath: bad }), [
        `lab:checkPath "${bad}" is not a URL path: start it with '/', no spaces, query or fragment (e.g. /hello)`,
      ]);
    }
  });

  it("lab:expectStatus: 100-599", () => {
    assert.strictEqual(parseLabConfig({ ...valid, expectStatus: "204" }).expectStatus, 204);
    for (const bad of ["99", "600", "2xx", "20"]) {
      assert.deepStrictEqual(problemsOf({ ...valid, expectStatus: bad }), [
        `lab:expectStatus "${bad}" is not an HTTP status: give 100-599 (e.g. 200)`,
      ]);
    }
  });

  it("lab:expectBody: compiles as a regular expression", () => {
    assert.strictEqual(
      parseLabConfig({ ...valid, expectBody: '"greeting":"\\w+"' }).expectBody,
      '"greeting":"\\w+"',
    );
    const [p, ...rest] = problemsOf({ ...valid, expectBody: "(hello" });
    assert.strictEqual(rest.length, 0);
    assert.match(p, /^lab:expectBody "\(hello" is not a regular expression \(.*Unterminated group\)/);
    assert.match(p, /escape special characters with '\\' to match them literally$/);
  });

  it("lab:archField: a plain field name of the JSON answer, or empty for none", () => {
    for (const field of ["arch", "goarch", "cpu_arch", ""]) {
      assert.strictEqual(parseLabConfig({ ...valid, archField: field }).archField, field);
    }
    for (const bad of ["runtime.GOARCH", "a b", "$.arch", "9arch"]) {
      const [p, ...rest] = problemsOf({ ...valid, archField: bad });
      assert.strictEqual(rest.length, 0);
      assert.match(
        p,
        new RegExp(`^lab:archField "${bad.replace(/[.$]/g, "\\$&")}" is not a plain field name`),
      );
    }
  });

  it("lab:appEnv: KEY=VALUE pairs, comma- or newline-separated", () => {
    assert.deepStrictEqual(parseLabConfig({ ...valid, appEnv: "GREETING=hi, LOG_LEVEL=debug" }).appEnv, {
      GREETING: "hi",
      LOG_LEVEL: "debug",
    });
    // One per line: values may then hold commas (and '=').
    assert.deepStrictEqual(parseLabConfig({ ...valid, appEnv: "LIST=a,b\nQ=x=y\n" }).appEnv, {
      LIST: "a,b",
      Q: "x=y",
    });
    assert.deepStrictEqual(parseLabConfig({ ...valid, appEnv: "EMPTY=" }).appEnv, { EMPTY: "" });
    assert.deepStrictEqual(problemsOf({ ...valid, appEnv: "GREETING" }), [
      `lab:appEnv entry "GREETING" is not KEY=VALUE: write e.g. GREETING=hi,LOG_LEVEL=debug (one per line if a value has a comma)`,
    ]);
    assert.deepStrictEqual(problemsOf({ ...valid, appEnv: "1X=a,MY-VAR=b" }), [
      `lab:appEnv name "1X" is not an environment variable name: use letters, digits and '_', not starting with a digit`,
      `lab:appEnv name "MY-VAR" is not an environment variable name: use letters, digits and '_', not starting with a digit`,
    ]);
    const problems: string[] = [];
    assert.deepStrictEqual(parseAppEnv("A=1,A=2", problems), { A: "1" });
    assert.deepStrictEqual(problems, ["lab:appEnv sets A twice: keep one A=… entry"]);
  });
});
