#!/usr/bin/env bash
# Step 5: buildkitd + buildctl built from the Go module github.com/moby/buildkit,
# and a buildkitd (OCI worker, runc) on a unix socket.
#
# Docker 20.10's built-in builder can't export multi-platform images, so builds go
# to this daemon. `go install github.com/moby/buildkit/cmd/buildkitd@vX` is refused
# (buildkit's go.mod has exclude directives), so the version is pinned in the tools
# module tools/buildkit/ and built from there.
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

TOOLS_DIR="$LAB_REPO_ROOT/tools/buildkit"
BK_DIR="$LAB_CACHE_DIR/buildkit"
BK_CONF="$BK_DIR/buildkitd.toml"
BK_LOG="$LAB_LOGS/buildkitd.log"
STAMP="$LAB_BIN/.buildkit.stamp"

buildkit_version() { awk '$1 == "github.com/moby/buildkit" { print $2; exit }' "$TOOLS_DIR/go.mod"; }

# What the binaries were built from: version + the tools module's exact pins.
bin_fingerprint() {
  printf 'buildkit %s %s\n' "$(buildkit_version)" \
    "$(cat "$TOOLS_DIR/go.mod" "$TOOLS_DIR/go.sum" | sha256sum | cut -c1-16)"
}

buildkit_bin_step() {
  local want; want="$(bin_fingerprint)"
  if [ -x "$LAB_BIN/buildkitd" ] && [ -x "$LAB_BIN/buildctl" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$want" ]; then
    LAB_STATUS="cached: $(buildkit_version) in $LAB_BIN"
    return 0
  fi
  command -v go >/dev/null || { echo "go not found (expected /usr/local/go/bin/go)" >&2; return 1; }
  LAB_STEP_LOG="$LAB_LOGS/buildkit-build.log"
  local v tmp; v="$(buildkit_version)"; tmp="$(mktemp -d "$LAB_BIN/.build.XXXXXX")"
  (
    cd "$TOOLS_DIR"
    go version
    go build -mod=readonly -buildvcs=false -trimpath \
      -ldflags "-s -w -X github.com/moby/buildkit/version.Version=$v -X github.com/moby/buildkit/version.Package=github.com/moby/buildkit" \
      -o "$tmp/" github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
  ) >"$LAB_STEP_LOG" 2>&1
  mv -f "$tmp/buildkitd" "$tmp/buildctl" "$LAB_BIN/"
  rmdir "$tmp"
  printf '%s\n' "$want" >"$STAMP"
  LAB_STATUS="built buildkitd+buildctl $("$LAB_BIN/buildctl" --version | awk '{print $3}') ($(go env GOVERSION)) into $LAB_BIN"
}

write_config() {
  mkdir -p "$BK_DIR/root"
  cat <<TOML
# Written by scripts/setup/docker-buildkit.sh
root = "$BK_DIR/root"

[grpc]
  address = ["$BUILDKIT_HOST"]

[worker.oci]
  enabled = true
  snapshotter = "$LAB_BUILDKIT_SNAPSHOTTER"
  # arm64 runs through qemu-aarch64 (binfmt_misc, flag F).
  platforms = ["linux/amd64", "linux/arm64"]
  gc = true

[worker.containerd]
  enabled = false

[registry."$LAB_REGISTRY"]
  http = true
  insecure = true
TOML
}

buildkitd_up() { timeout 10 buildctl --addr "$BUILDKIT_HOST" debug workers; }

buildkitd_step() {
  if [ "${#LAB_BUILDKIT_SOCK}" -gt 100 ]; then
    echo "socket path too long for a unix socket: $LAB_BUILDKIT_SOCK (set LAB_BUILDKIT_SOCK)" >&2
    return 1
  fi
  LAB_STEP_LOG="$BK_LOG"
  mkdir -p "$BK_DIR" "$(dirname "$LAB_BUILDKIT_SOCK")"
  # The daemon is (re)started when its config or binary changed since it started.
  local conf fp; conf="$(write_config)"
  fp="$(printf '%s\n%s\n' "$conf" "$(cat "$STAMP" 2>/dev/null)" | sha256sum | cut -c1-16)"
  if buildkitd_up >/dev/null 2>&1; then
    if [ "$(cat "$BK_DIR/running.fingerprint" 2>/dev/null)" = "$fp" ]; then
      LAB_STATUS="running on $BUILDKIT_HOST"
      return 0
    fi
    lab_stop_daemon buildkitd
    if buildkitd_up >/dev/null 2>&1; then
      echo "a buildkitd we did not start answers on $BUILDKIT_HOST; stop it first" >&2
      return 1
    fi
  fi
  printf '%s\n' "$conf" >"$BK_CONF"
  lab_start_daemon buildkitd "$BK_LOG" buildkitd --config "$BK_CONF"
  lab_wait_daemon buildkitd 60 buildkitd_up
  printf '%s\n' "$fp" >"$BK_DIR/running.fingerprint"
  LAB_STATUS="started on $BUILDKIT_HOST (OCI worker, runc, $LAB_BUILDKIT_SNAPSHOTTER; platforms $(buildctl --addr "$BUILDKIT_HOST" debug workers -v | awk '/^Platforms:/{print $2; exit}'))"
}

lab_require_root
lab_step buildkit-bin buildkit_bin_step
lab_step buildkitd buildkitd_step
