import assert from "node:assert/strict";
import { CommandError } from "@pulumi/pulumi/automation";
import { explain, pullFailureHint } from "../../automation/lifecycle/errors";

// As docker-build reports BuildKit's failure (the progress line names the platform when it is shown).
const BUILD_FAILURE = [
  "code: 255",
  "stderr: error: docker-build:index:Image resource 'image-build': property outputs: ",
  "#3 [linux/arm64 internal] load metadata for registry.example/acme/node:22",
  "error: failed to solve: registry.example/acme/node:22: failed to resolve source metadata for " +
    "registry.example/acme/node:22: no match for platform in manifest: not found",
].join("\n");

describe("automation/lifecycle/errors: a base image the build cannot pull", () => {
  it("names the image, the platform and how to provide it", () => {
    const hint = pullFailureHint(BUILD_FAILURE) ?? "";
    assert.match(hint, /^the image build could not pull registry\.example\/acme\/node:22 for linux\/arm64 /);
    assert.match(hint, /no variant for one of the platforms being built, lab:platforms/);
    assert.match(hint, /npm run setup:local/);
    assert.match(
      hint,
      /set lab:baseImage \/ lab:buildImage, which the lab passes when the Dockerfile declares ARG BASE_IMAGE/,
    );
  });

  it("a host:port image without a platform line; other failures get no hint", () => {
    const text =
      "error: failed to solve: 127.0.0.1:5000/lab/node:18-bookworm: failed to resolve source metadata for " +
      "127.0.0.1:5000/lab/node:18-bookworm: 127.0.0.1:5000/lab/node:18-bookworm: not found";
    assert.match(
      pullFailureHint(text) ?? "",
      /^the image build could not pull 127\.0\.0\.1:5000\/lab\/node:18-bookworm: make it/,
    );
    assert.strictEqual(
      pullFailureHint('error: failed to solve: process "/bin/sh -c npm ci" did not complete'),
      undefined,
    );
  });

  it("explain() adds the hint to the CLI's error lines", () => {
    const e = new CommandError({ toString: () => BUILD_FAILURE } as never);
    const text = explain(e, "lab-alice");
    assert.match(
      text,
      /^failed to solve: registry\.example\/acme\/node:22: failed to resolve source metadata/,
    );
    assert.match(
      text,
      / \| the image build could not pull registry\.example\/acme\/node:22 for linux\/arm64/,
    );
  });
});

// As the CLI reports a program that rejected its config (infra/index.ts throws a RunError): the
// problems as a list under the diagnostic, whose first line also stands alone elsewhere.
const CONFIG_FAILURE = [
  "code: 255",
  "stdout: Updating (lab-x):",
  "    pulumi:pulumi:Stack lab-lab-x  error: invalid lab configuration:",
  "Diagnostics:",
  "  pulumi:pulumi:Stack (lab-lab-x):",
  "    error: invalid lab configuration:",
  '      - lab:attendees "-5" is not a positive whole number: give the workshop\'s attendee count, e.g. 12',
  '      - lab:attendeePrincipal "x" is not an IAM role or user ARN',
  "",
  " stderr: ",
  "    error: invalid lab configuration:",
].join("\n");

describe("automation/lifecycle/errors: the program's own config problems", () => {
  it("are carried as written, each once, not only their heading", () => {
    const text = explain(new CommandError(CONFIG_FAILURE as never), "lab-x");
    assert.strictEqual(
      text,
      "invalid lab configuration: " +
        '- lab:attendees "-5" is not a positive whole number: give the workshop\'s attendee count, e.g. 12 ' +
        '- lab:attendeePrincipal "x" is not an IAM role or user ARN',
    );
  });
});
