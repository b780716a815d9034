#!/usr/bin/env bash
# Checks that the toolchain really builds and runs both platforms:
#  smoke-buildctl  buildctl -> buildkitd: 2-platform build (RUN under qemu for arm64), push, index check
#  smoke-buildx    the same through `docker buildx build --builder $LAB_BUILDER --push`
#  run-arm64/amd64 dockerd runs the base image's and smoke image's per-platform manifests
#  run-build-image node + npm in the build image
# Warm runs are seconds: BuildKit's cache answers the builds, dockerd has the images.
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

SMOKE_DIR="$LAB_CACHE_DIR/smoke"

write_smoke_context() {
  mkdir -p "$SMOKE_DIR"
  cat >"$SMOKE_DIR/Dockerfile" <<DOCKERFILE
# Written by scripts/setup/docker-verify.sh
ARG BASE_IMAGE=$LAB_BASE_IMAGE
FROM \${BASE_IMAGE}
ARG TARGETPLATFORM
RUN node -e 'require("fs").writeFileSync("/smoke.txt", process.arch + " " + process.env.TARGETPLATFORM + "\\n")'
CMD ["cat", "/smoke.txt"]
DOCKERFILE
}

expect_index() {
  local got; got="$(lab_index_platforms "$1" latest | paste -sd' ')"
  if [ "$got" != "linux/amd64 linux/arm64" ]; then
    echo "$LAB_REGISTRY/$1:latest: expected an index with linux/amd64 + linux/arm64, got '$got'" >&2
    return 1
  fi
  LAB_STATUS="$LAB_REGISTRY/$1:latest is an OCI index: $got"
}

smoke_buildctl_step() {
  write_smoke_context
  LAB_STEP_LOG="$LAB_LOGS/smoke-buildctl.log"
  lab_buildctl build --progress=plain --frontend dockerfile.v0 \
    --local context="$SMOKE_DIR" --local dockerfile="$SMOKE_DIR" \
    --opt platform=linux/amd64,linux/arm64 \
    --output "type=image,name=$LAB_REGISTRY/smoke:latest,push=true" >"$LAB_STEP_LOG" 2>&1
  expect_index smoke
}

smoke_buildx_step() {
  write_smoke_context
  LAB_STEP_LOG="$LAB_LOGS/smoke-buildx.log"
  docker buildx build --builder "$LAB_BUILDER" --progress=plain \
    --platform linux/amd64,linux/arm64 --push -t "$LAB_REGISTRY/smoke2:latest" "$SMOKE_DIR" \
    >"$LAB_STEP_LOG" 2>&1
  expect_index smoke2
}

# run_step ARCH NODE_ARCH: run the base image's and the smoke image's ARCH manifest.
run_step() {
  local arch="$1" want="$2" repo digest out
  LAB_STEP_LOG="$LAB_LOGS/run-$arch.log"
  : >"$LAB_STEP_LOG"
  repo="$(lab_base_repo)"
  digest="$(lab_platform_digest "$repo" "$(lab_base_tag)" "$arch")"
  out="$(docker run --rm --platform "linux/$arch" "$LAB_REGISTRY/$repo@$digest" node -p process.arch 2>>"$LAB_STEP_LOG")"
  [ "$out" = "$want" ] || { echo "base image $arch: node -p process.arch printed '$out', want '$want'" >&2; return 1; }
  digest="$(lab_platform_digest smoke latest "$arch")"
  out="$(docker run --rm --platform "linux/$arch" "$LAB_REGISTRY/smoke@$digest" 2>>"$LAB_STEP_LOG")"
  [ "$out" = "$want linux/$arch" ] || { echo "smoke image $arch printed '$out', want '$want linux/$arch'" >&2; return 1; }
  LAB_STATUS="docker run --platform linux/$arch: node -p process.arch -> $want; smoke RUN ran as '$out'"
}

build_image_step() {
  LAB_STEP_LOG="$LAB_LOGS/run-build-image.log"
  local out
  out="$(docker run --rm "$LAB_BUILD_IMAGE" sh -c 'echo "node $(node --version) npm $(npm --version)"' 2>"$LAB_STEP_LOG")"
  case "$out" in "node v"*" npm "[0-9]*) ;; *) echo "build image printed '$out'" >&2; return 1 ;; esac
  LAB_STATUS="docker run $LAB_BUILD_IMAGE: $out"
}

lab_require_root
lab_step smoke-buildctl smoke_buildctl_step
lab_step smoke-buildx smoke_buildx_step
lab_step run-arm64 run_step arm64 arm64
lab_step run-amd64 run_step amd64 x64
lab_step run-build-image build_image_step
