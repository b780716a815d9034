import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import * as yaml from "js-yaml";
import { CONFIG_KEYS, DEFAULTS } from "../infra/config";

interface ConfigDeclaration {
  type?: string;
  default?: unknown;
  description?: string;
}

const project = yaml.load(fs.readFileSync(path.join(__dirname, "..", "Pulumi.yaml"), "utf8")) as {
  name: string;
  main: string;
  config: Record<string, ConfigDeclaration>;
};

const TYPE_OF: Record<string, string> = { number: "integer", boolean: "boolean", string: "string" };

describe("Pulumi.yaml", () => {
  it("runs infra/index.ts", () => {
    assert.strictEqual(project.main, "infra/index.ts");
    assert.strictEqual(project.name, "lab");
  });

  it("declares exactly the lab:* keys of infra/config.ts", () => {
    const declared = Object.keys(project.config).sort();
    assert.deepStrictEqual(declared, CONFIG_KEYS.map((k) => `lab:${k}`).sort());
  });

  it("has defaults equal to DEFAULTS, with matching types", () => {
    for (const [key, value] of Object.entries(DEFAULTS)) {
      const decl = project.config[`lab:${key}`];
      assert.strictEqual(decl.type, TYPE_OF[typeof value], `lab:${key} type`);
      assert.strictEqual(decl.default, value, `lab:${key} default`);
    }
  });

  it("leaves lab:attendee without a default, and describes every key", () => {
    assert.strictEqual(project.config["lab:attendee"].type, "string");
    assert.ok(!("default" in project.config["lab:attendee"]));
    for (const [key, decl] of Object.entries(project.config)) {
      assert.ok((decl.description ?? "").length > 10, `${key} needs a description`);
    }
  });
});
