// The image's name and content-addressed tag: the repository is named after the service's directory
// (lab:appDir), the tag is a hash of what the build takes in, with .dockerignore applied as BuildKit
// applies it (so an edit the build never sees keeps the tag, and any edit it sees changes it).
import assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { serviceName } from "../infra/buildInputs";
import { contentTag, contextEntries, ignored, parseDockerignore } from "../infra/contextHash";
import { CONTENT_TAG } from "./support/imageTag";

const BOTH = ["linux/amd64", "linux/arm64"];

describe("infra/contextHash and serviceName", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-ctx-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), text);
  };
  const tag = (args?: Record<string, string>, platforms = BOTH) =>
    contentTag(dir, path.join(dir, "Dockerfile"), args, platforms);

  it("names the image after the service's directory, made a DNS label; the bundled app stays hello", () => {
    assert.strictEqual(serviceName("app"), "hello");
    assert.strictEqual(serviceName("examples/greeter"), "greeter");
    assert.strictEqual(serviceName("/srv/My_Service.v2/"), "my-service-v2");
    assert.strictEqual(serviceName(`/x/${"a".repeat(50)}`), "a".repeat(40));
    assert.strictEqual(serviceName("/x/__"), "service");
  });

  it("applies .dockerignore as BuildKit does: last rule wins, parents count, ** spans directories", () => {
    const rules = parseDockerignore(
      "# comment\n*\n!package.json\n!src/\nnode_modules/\n**/*.test.ts\n/dist\n",
    );
    const out = (p: string) => ignored(rules, p);
    assert.deepStrictEqual(
      [
        "package.json",
        "src/main.ts",
        "src/a/b.ts",
        "src/a/b.test.ts",
        "README.md",
        "dist/x.js",
        "node_modules/y",
      ].map(out),
      [false, false, false, true, true, true, true],
    );
    assert.strictEqual(ignored(parseDockerignore("docs\n"), "docs/a/b.md"), true);
    assert.strictEqual(ignored(parseDockerignore("*.md\n"), "docs/a.md"), false, "* does not cross /");
  });

  it("gives src-<12 hex>, the same for the same inputs; ignored files never change it", () => {
    write("Dockerfile", "FROM scratch\nCOPY server.js /\n");
    write(".dockerignore", "*\n!server.js\n");
    write("server.js", "1");
    const first = tag();
    assert.match(first, CONTENT_TAG);
    assert.strictEqual(tag(), first);
    write("README.md", "docs change");
    write("node_modules/x/index.js", "x");
    assert.strictEqual(tag(), first, "ignored files");
    assert.deepStrictEqual(
      contextEntries(dir, path.join(dir, "Dockerfile")).map((e) => e.split(" ")[0]),
      ["server.js"],
    );
  });

  it("changes with the context's files, the Dockerfile, the build args and the platforms", () => {
    write("Dockerfile", "FROM scratch\nCOPY . /\n");
    write("server.js", "1");
    const first = tag();
    const seen = new Set([first]);
    write("server.js", "2");
    seen.add(tag());
    write("Dockerfile", "FROM scratch\nCOPY . /srv/\n");
    seen.add(tag());
    seen.add(tag({ BASE_IMAGE: "127.0.0.1:5000/lab/node:18-bookworm" }));
    seen.add(tag(undefined, ["linux/amd64"]));
    fs.chmodSync(path.join(dir, "server.js"), 0o755);
    seen.add(tag(undefined, ["linux/amd64"]));
    assert.strictEqual(seen.size, 6, [...seen].join(", "));
    // Order of platforms is no input.
    assert.strictEqual(tag(undefined, [...BOTH].reverse()), tag());
  });

  it("reads the Dockerfile's own <Dockerfile>.dockerignore first", () => {
    write("Dockerfile", "FROM scratch\n");
    write("Dockerfile.dockerignore", "secret.txt\n");
    write(".dockerignore", "");
    write("secret.txt", "a");
    const first = tag();
    write("secret.txt", "b");
    assert.strictEqual(tag(), first);
  });
});
