import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import {
  declaredBuildArgs,
  emulatedRuns,
  emulationWarning,
  neededStages,
  parseDockerfile,
  resolveStages,
  substitute,
} from "../infra/dockerfile";

const ROOT = path.join(__dirname, "..");
const BOTH = ["linux/amd64", "linux/arm64"];
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), "utf8");

describe("infra/dockerfile", () => {
  it("the bundled app: BASE_IMAGE and BUILD_IMAGE declared, build stage on $BUILDPLATFORM, no emulated RUN", () => {
    const info = parseDockerfile(read("app/Dockerfile"));
    assert.deepStrictEqual(info.declared, ["BASE_IMAGE", "BUILD_IMAGE"]);
    const stages = resolveStages(info, { BASE_IMAGE: "127.0.0.1:5000/lab/node:18-bookworm" });
    assert.deepStrictEqual(
      stages.map((s) => [s.name, s.image, s.runsOn.kind, s.runs]),
      [
        ["build", "public.ecr.aws/docker/library/node:22-bookworm-slim", "build", 2],
        [undefined, "127.0.0.1:5000/lab/node:18-bookworm", "target", 0],
      ],
    );
    assert.deepStrictEqual(emulatedRuns(stages, BOTH, "linux/amd64"), []);
  });

  it("the greeter and sysinfo examples declare only BASE_IMAGE, so only BASE_IMAGE is passed; no emulation", () => {
    const local = {
      BASE_IMAGE: "r:5000/lab/node:18-bookworm",
      BUILD_IMAGE: "r:5000/lab/node:18-bookworm-npm",
    };
    for (const example of ["greeter", "sysinfo"]) {
      const dockerfile = parseDockerfile(read(`examples/${example}/Dockerfile`));
      const args = declaredBuildArgs(dockerfile, local);
      assert.deepStrictEqual(args, { BASE_IMAGE: "r:5000/lab/node:18-bookworm" }, example);
      assert.deepStrictEqual(emulatedRuns(resolveStages(dockerfile, args), BOTH, "linux/amd64"), [], example);
    }
    const info = parseDockerfile(read("examples/greeter/Dockerfile"));
    assert.strictEqual(declaredBuildArgs(parseDockerfile("FROM scratch\n"), local), undefined);
    assert.strictEqual(declaredBuildArgs(info, undefined), undefined);
  });

  it("a single-stage Dockerfile with RUN steps: emulated for the platforms the builder is not", () => {
    const text = [
      "# escape=\\",
      "ARG BASE_IMAGE=node:22",
      "FROM ${BASE_IMAGE}",
      "# a comment",
      "RUN apt-get update && \\",
      "  # comment inside a continuation",
      "  apt-get install -y curl",
      "RUN <<EOF",
      "FROM not-a-stage",
      "EOF",
      "COPY . .",
    ].join("\n");
    const stages = resolveStages(parseDockerfile(text));
    assert.strictEqual(stages.length, 1, "the heredoc body is no FROM");
    assert.strictEqual(stages[0].runs, 2);
    assert.strictEqual(stages[0].line, 3);
    const emulated = emulatedRuns(stages, BOTH, "linux/amd64");
    assert.deepStrictEqual(
      emulated.map((e) => e.platforms),
      [["linux/arm64"]],
    );
    assert.deepStrictEqual(
      emulatedRuns(stages, BOTH, "linux/arm64").map((e) => e.platforms),
      [["linux/amd64"]],
    );
    assert.deepStrictEqual(emulatedRuns(stages, ["linux/amd64"], "linux/amd64"), [], "native only");
    const warning = emulationWarning("Dockerfile", emulated, "linux/amd64");
    assert.match(
      warning ?? "",
      /^Dockerfile: 2 RUN step\(s\) in stage #1 \(line 3\) run for each target platform/,
    );
    assert.match(warning ?? "", /QEMU emulation for linux\/arm64/);
    assert.match(warning ?? "", /FROM --platform=\$BUILDPLATFORM/);
    assert.strictEqual(emulationWarning("Dockerfile", [], "linux/amd64"), undefined);
  });

  it("only stages the final one needs count; a stage FROM a build-platform stage runs there too", () => {
    const text = `
FROM --platform=\${BUILDPLATFORM} golang:1.23 AS build
RUN go build -o /out/app .
FROM build AS test
RUN go test ./...
FROM alpine:3.20 AS unused
RUN apk add curl
FROM alpine:3.20 AS certs
RUN apk add ca-certificates
FROM scratch
COPY --from=build /out/app /app
COPY --from=certs /etc/ssl /etc/ssl
`;
    const stages = resolveStages(parseDockerfile(text));
    assert.deepStrictEqual(
      stages.map((s) => [s.name, s.runsOn.kind, s.base?.name]),
      [
        ["build", "build", undefined],
        ["test", "build", "build"],
        ["unused", "target", undefined],
        ["certs", "target", undefined],
        [undefined, "target", undefined],
      ],
    );
    assert.deepStrictEqual(
      neededStages(stages).map((s) => s.index),
      [0, 3, 4],
    );
    assert.deepStrictEqual(
      emulatedRuns(stages, BOTH, "linux/amd64").map((e) => [e.stage.name, e.platforms]),
      [["certs", ["linux/arm64"]]],
    );
  });

  it("RUN --mount=from= and COPY --from=<index> are dependencies; a fixed --platform runs on that platform", () => {
    const text = [
      "FROM --platform=linux/arm64 debian:12 AS arm",
      "RUN echo arm",
      "FROM --platform=$TARGETPLATFORM debian:12 AS deps",
      "RUN true",
      "FROM debian:12",
      "RUN --mount=type=bind,from=deps,target=/d ls /d",
      "COPY --from=0 /x /x",
    ].join("\n");
    const stages = resolveStages(parseDockerfile(text));
    assert.deepStrictEqual(stages[0].runsOn, { kind: "fixed", platform: "linux/arm64" });
    assert.deepStrictEqual(stages[1].runsOn, { kind: "target" });
    assert.deepStrictEqual(
      emulatedRuns(stages, BOTH, "linux/arm64").map((e) => [e.stage.index, e.platforms]),
      [
        [1, ["linux/amd64"]],
        [2, ["linux/amd64"]],
      ],
      "the fixed arm64 stage is native on an arm64 builder",
    );
  });

  it("substitutes ${A}, $A and ${A:-default}; build args replace ARG defaults", () => {
    const vars = { A: "x", E: "" };
    assert.strictEqual(substitute("${A}/$A/${B:-d}/${E:-d}/${E-d}/${B}", vars), "x/x/d/d//");
    const info = parseDockerfile('ARG REG=docker.io "TAG=1"\nFROM ${REG}/node:${TAG}\nARG LATE\n');
    assert.deepStrictEqual(info.globalArgs, { REG: "docker.io", TAG: "1" });
    assert.deepStrictEqual(info.declared, ["REG", "TAG", "LATE"]);
    assert.strictEqual(resolveStages(info, { TAG: "22" })[0].image, "docker.io/node:22");
  });
});
