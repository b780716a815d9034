#!/usr/bin/env bash
# Prepare this machine for a real local multi-platform (linux/amd64 + linux/arm64)
# image build: Debian packages, dockerd, qemu binfmt, a loopback registry, BuildKit,
# a buildx builder for @pulumi/docker-build, a multi-arch Node.js base image and an
# npm build image, and
# $LAB_CACHE_DIR/docker-env.sh for the other scripts. Idempotent; a second run takes
# seconds. Services don't outlive a session, so run it again in each session / CI run.
#
#   scripts/setup/docker.sh            # everything, then the smoke checks
#   LAB_SETUP_VERIFY=0 scripts/setup/docker.sh   # skip the smoke checks
#   source "${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}/docker-env.sh"
#
# Knobs (defaults): LAB_CACHE_DIR (~/.cache/multiarch-lab), LAB_REGISTRY (127.0.0.1:5000),
# LAB_BASE_IMAGE ($LAB_REGISTRY/lab/node:18-bookworm), LAB_BUILD_IMAGE
# ($LAB_REGISTRY/lab/node:18-bookworm-npm), LAB_BUILDER (lab); all in docker-lib.sh.
# Details: docs/LOCAL-TOOLCHAIN-docker.md
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/setup/docker-lib.sh
source "$HERE/docker-lib.sh"
lab_require_root

T0="$(lab_now)"
# One setup at a time on this machine (a session and its CI share the cache).
exec 9>"$LAB_CACHE_DIR/.setup.lock"
if ! flock -n 9; then
  echo "[setup/docker] waiting for another setup run to finish (lock: $LAB_CACHE_DIR/.setup.lock)"
  flock 9
fi

bash "$HERE/docker-apt.sh"
bash "$HERE/docker-binfmt.sh"
bash "$HERE/docker-daemon.sh"
bash "$HERE/docker-registry.sh"
bash "$HERE/docker-buildkit.sh"
bash "$HERE/docker-buildx.sh"
bash "$HERE/docker-base-image.sh"

write_env() {
  local f="$LAB_CACHE_DIR/docker-env.sh"
  cat >"$f.tmp" <<ENV
# Written by scripts/setup/docker.sh: source it to use the local multi-platform toolchain.
export LAB_CACHE_DIR=$(printf %q "$LAB_CACHE_DIR")
export LAB_REGISTRY=$(printf %q "$LAB_REGISTRY")
export LAB_BASE_IMAGE=$(printf %q "$LAB_BASE_IMAGE")
# base + npm (+ this machine's extra CAs), for build stages: app/Dockerfile's BUILD_IMAGE
export LAB_BUILD_IMAGE=$(printf %q "$LAB_BUILD_IMAGE")
# buildctl (and anything speaking to BuildKit directly)
export BUILDKIT_HOST=$(printf %q "$BUILDKIT_HOST")
# buildx builder (driver "remote" -> BUILDKIT_HOST). @pulumi/docker-build: builder: { name: LAB_BUILDER }
export LAB_BUILDER=$(printf %q "$LAB_BUILDER")
export BUILDX_BUILDER=$(printf %q "$LAB_BUILDER")
# where the builder is stored (the provider reads DOCKER_CONFIG; buildx honours BUILDX_CONFIG)
export DOCKER_CONFIG=$(printf %q "$DOCKER_CONFIG")
export BUILDX_CONFIG=$(printf %q "$BUILDX_CONFIG")
case ":\$PATH:" in *":$LAB_BIN:"*) ;; *) export PATH=$(printf %q "$LAB_BIN"):\$PATH ;; esac
ENV
  mv -f "$f.tmp" "$f"
  LAB_STATUS="$f"
}
lab_step env write_env

if [ "$LAB_SETUP_VERIFY" != 0 ]; then
  bash "$HERE/docker-verify.sh"
fi
printf '[setup/docker] %-15s %s (%ss)\n' total "ok" "$(lab_elapsed "$T0")"
