#!/usr/bin/env bash
# Step 6: the docker buildx CLI plugin (built from the Go module github.com/docker/buildx;
# Debian bookworm has no docker-buildx package) and a named builder "remote"-driven
# against our buildkitd. @pulumi/docker-build uses it via `builder: { name: LAB_BUILDER }`;
# it is also made the current builder (`--use`), which the provider picks when no
# name is given.
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

PLUGIN_DIR="$DOCKER_CONFIG/cli-plugins"
STAMP="$LAB_BIN/.buildx.stamp"

buildx_bin_step() {
  local want="buildx $LAB_BUILDX_VERSION"
  if ! { [ -x "$LAB_BIN/docker-buildx" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; }; then
    command -v go >/dev/null || { echo "go not found (expected /usr/local/go/bin/go)" >&2; return 1; }
    LAB_STEP_LOG="$LAB_LOGS/buildx-build.log"
    local tmp; tmp="$(mktemp -d "$LAB_BIN/.build.XXXXXX")"
    # buildx's go.mod has no replace/exclude directives: plain `go install` works.
    (
      cd "$tmp"
      go version
      GOBIN="$tmp" GOFLAGS=-buildvcs=false go install -trimpath \
        -ldflags "-s -w -X github.com/docker/buildx/version.Version=$LAB_BUILDX_VERSION -X github.com/docker/buildx/version.Package=github.com/docker/buildx" \
        "github.com/docker/buildx/cmd/buildx@$LAB_BUILDX_VERSION"
    ) >"$LAB_STEP_LOG" 2>&1
    mv -f "$tmp/buildx" "$LAB_BIN/docker-buildx"
    rm -rf "$tmp"
    printf '%s\n' "$want" >"$STAMP"
    LAB_STATUS="built $LAB_BUILDX_VERSION"
  else
    LAB_STATUS="cached: $LAB_BUILDX_VERSION"
  fi
  mkdir -p "$PLUGIN_DIR"
  if ! cmp -s "$LAB_BIN/docker-buildx" "$PLUGIN_DIR/docker-buildx"; then
    install -m 0755 "$LAB_BIN/docker-buildx" "$PLUGIN_DIR/docker-buildx"
    LAB_STATUS="$LAB_STATUS, installed as $PLUGIN_DIR/docker-buildx"
  fi
  docker buildx version >/dev/null
}

builder_step() {
  LAB_STEP_LOG="$LAB_LOGS/buildx-builder.log"
  : >"$LAB_STEP_LOG"
  local info did=""
  info="$(docker buildx inspect "$LAB_BUILDER" 2>>"$LAB_STEP_LOG" || true)"
  if ! grep -q '^Driver: *remote$' <<<"$info" || ! grep -q "^Endpoint: *$BUILDKIT_HOST\$" <<<"$info"; then
    if [ -n "$info" ]; then docker buildx rm "$LAB_BUILDER" >>"$LAB_STEP_LOG" 2>&1 || true; fi
    docker buildx create --name "$LAB_BUILDER" --driver remote --use "$BUILDKIT_HOST" >>"$LAB_STEP_LOG" 2>&1
    did="created"
  else
    docker buildx use "$LAB_BUILDER" >>"$LAB_STEP_LOG" 2>&1
    did="exists"
  fi
  info="$(docker buildx inspect --bootstrap "$LAB_BUILDER" 2>>"$LAB_STEP_LOG")"
  echo "$info" >>"$LAB_STEP_LOG"
  grep -q '^Status: *running$' <<<"$info" || { echo "builder $LAB_BUILDER is not running" >&2; return 1; }
  LAB_STATUS="$did: $LAB_BUILDER (remote -> $BUILDKIT_HOST), running, BuildKit $(awk '/^BuildKit version:/{print $3}' <<<"$info")"
}

lab_require_root
lab_step buildx-bin buildx_bin_step
lab_step buildx-builder builder_step
