#!/usr/bin/env bash
# Step 7: a multi-arch Node.js base image, made here because no public registry is
# reachable: one mmdebstrap root filesystem per architecture (Debian's nodejs 18),
# pushed to the local registry as ONE OCI index ($LAB_BASE_IMAGE) by a
# `FROM scratch` + `ADD rootfs-${TARGETARCH}.tar /` build (no RUN, so no emulation
# at image build time; mmdebstrap itself runs arm64 maintainer scripts via qemu).
#
# Tarballs are cached in $LAB_CACHE_DIR/base; the push is skipped while the
# registry still holds the index we pushed for the same recipe. Set
# LAB_BASE_REFRESH=1 to rebuild the root filesystems (e.g. for Debian security updates).
# LAB_BASE_PACKAGES (default nodejs,ca-certificates; npm is NOT included) changes
# the package set; use another LAB_BASE_IMAGE tag for a different set.
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

BASE_DIR="$LAB_CACHE_DIR/base"
ARCHES=(amd64 arm64)

# Options, then "--", then the apt sources. The suite and target go in between.
mmdebstrap_args() {
  local arch="$1"
  printf '%s\n' \
    --variant=apt \
    "--arch=$arch" \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    "--include=$LAB_BASE_PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    -- \
    "deb $LAB_DEBIAN_MIRROR $LAB_DEBIAN_SUITE main" \
    "deb $LAB_DEBIAN_MIRROR $LAB_DEBIAN_SUITE-updates main" \
    "deb $LAB_DEBIAN_SECURITY_MIRROR $LAB_DEBIAN_SUITE-security main"
}

dockerfile() {
  cat <<'DOCKERFILE'
# Written by scripts/setup/docker-base-image.sh
FROM scratch
ARG TARGETARCH
ADD rootfs-${TARGETARCH}.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8
CMD ["node"]
DOCKERFILE
}

# One hash over everything that decides the image's content (including which
# tarballs: a LAB_BASE_REFRESH=1 rebuild has a new size/mtime and is pushed again).
recipe_hash() {
  {
    for a in "${ARCHES[@]}"; do mmdebstrap_args "$a"; stat -c '%s %Y' "$BASE_DIR/rootfs-$a.tar"; done
    dockerfile
  } | sha256sum | cut -c1-16
}

rootfs_step() {
  mkdir -p "$BASE_DIR"
  local built=() sizes=() a
  for a in "${ARCHES[@]}"; do
    local tar="$BASE_DIR/rootfs-$a.tar" recipe
    recipe="$(mmdebstrap_args "$a" | sha256sum | cut -c1-16)"
    if [ "${LAB_BASE_REFRESH:-0}" = 1 ] || [ ! -s "$tar" ] || [ "$(cat "$tar.recipe" 2>/dev/null)" != "$recipe" ]; then
      LAB_STEP_LOG="$LAB_LOGS/mmdebstrap-$a.log"
      rm -f "$BASE_DIR/rootfs-$a.partial.tar"
      local args=() opts=() i; mapfile -t args < <(mmdebstrap_args "$a")
      for i in "${!args[@]}"; do [ "${args[$i]}" = -- ] && break; opts+=("${args[$i]}"); done
      mmdebstrap "${opts[@]}" "$LAB_DEBIAN_SUITE" "$BASE_DIR/rootfs-$a.partial.tar" "${args[@]:$((i + 1))}" >"$LAB_STEP_LOG" 2>&1
      mv -f "$BASE_DIR/rootfs-$a.partial.tar" "$tar"
      printf '%s\n' "$recipe" >"$tar.recipe"
      built+=("$a")
    fi
    sizes+=("$a $(du -m "$tar" | cut -f1)MB")
  done
  if [ "${#built[@]}" -gt 0 ]; then LAB_STATUS="built ${built[*]}"; else LAB_STATUS="cached"; fi
  LAB_STATUS="$LAB_STATUS; rootfs tar: $(lab_join ', ' "${sizes[@]}")"
}

base_image_step() {
  local repo tag want have record
  repo="$(lab_base_repo)"; tag="$(lab_base_tag)"; want="$(recipe_hash)"
  record="$BASE_DIR/pushed"   # "<recipe hash> <index digest>" of our last push
  have="$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -I \
            -H "Accept: $LAB_INDEX_ACCEPT" "$(lab_registry_url)/v2/$repo/manifests/$tag" 2>/dev/null || true)"
  if [ -n "$have" ] && [ "$(cat "$record" 2>/dev/null)" = "$want $have" ] &&
     [ "$(lab_index_platforms "$repo" "$tag" | paste -sd' ')" = "linux/amd64 linux/arm64" ]; then
    LAB_STATUS="present: $LAB_BASE_IMAGE@$have"
    return 0
  fi
  LAB_STEP_LOG="$LAB_LOGS/base-image-build.log"
  dockerfile >"$BASE_DIR/Dockerfile"
  printf '%s\n' '*' '!rootfs-amd64.tar' '!rootfs-arm64.tar' >"$BASE_DIR/.dockerignore"
  lab_buildctl build --progress=plain \
    --frontend dockerfile.v0 \
    --local context="$BASE_DIR" --local dockerfile="$BASE_DIR" \
    --opt platform=linux/amd64,linux/arm64 \
    --opt label:org.opencontainers.image.title=lab-node \
    --opt "label:org.opencontainers.image.description=Debian $LAB_DEBIAN_SUITE + nodejs (mmdebstrap, multiarch-lab)" \
    --output "type=image,name=$LAB_BASE_IMAGE,push=true,oci-mediatypes=true" \
    >"$LAB_STEP_LOG" 2>&1
  have="$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -I \
            -H "Accept: $LAB_INDEX_ACCEPT" "$(lab_registry_url)/v2/$repo/manifests/$tag")"
  [ "$(lab_index_platforms "$repo" "$tag" | paste -sd' ')" = "linux/amd64 linux/arm64" ]
  printf '%s %s\n' "$want" "$have" >"$record"
  LAB_STATUS="pushed: $LAB_BASE_IMAGE@$have"
}

# --- build image: base + npm, for Dockerfile build stages (`npm ci`, `tsc`) -----
#
# Made FROM the base image with apt inside BuildKit (host network: Debian's http
# mirror and the npm registry are reachable). Only for the build platform by
# default: a `FROM --platform=$BUILDPLATFORM` stage runs natively, no qemu.
# HTTPS from build containers goes through the same TLS-inspecting egress as the
# host, so the host's extra CAs (/usr/local/share/ca-certificates/*.crt) are added
# to this image's trust store (never to the base image, which the app ships on).

BUILD_DIR="$LAB_CACHE_DIR/build-image"
EXTRA_CA_DIR=/usr/local/share/ca-certificates

build_dockerfile() {
  cat <<'DOCKERFILE'
# Written by scripts/setup/docker-base-image.sh
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
COPY extra-ca/ /usr/local/share/ca-certificates/
RUN update-ca-certificates \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends npm \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt
DOCKERFILE
}

build_image_step() {
  local base_digest want have record repo tag
  repo="${LAB_BUILD_IMAGE#"$LAB_REGISTRY"/}"; tag="${repo##*:}"; repo="${repo%:*}"
  base_digest="$(cut -d' ' -f2 "$BASE_DIR/pushed")"
  mkdir -p "$BUILD_DIR/extra-ca"
  rm -f "$BUILD_DIR/extra-ca/"*.crt
  if compgen -G "$EXTRA_CA_DIR/*.crt" >/dev/null; then cp "$EXTRA_CA_DIR/"*.crt "$BUILD_DIR/extra-ca/"; fi
  touch "$BUILD_DIR/extra-ca/.keep"
  want="$({ build_dockerfile; echo "$base_digest $LAB_BUILD_IMAGE_PLATFORMS"; cat "$BUILD_DIR/extra-ca/"*.crt 2>/dev/null; } | sha256sum | cut -c1-16)"
  record="$BUILD_DIR/pushed"
  have="$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -I \
            -H "Accept: $LAB_INDEX_ACCEPT, application/vnd.oci.image.manifest.v1+json" \
            "$(lab_registry_url)/v2/$repo/manifests/$tag" 2>/dev/null || true)"
  if [ -n "$have" ] && [ "$(cat "$record" 2>/dev/null)" = "$want $have" ]; then
    LAB_STATUS="present: $LAB_BUILD_IMAGE@$have ($LAB_BUILD_IMAGE_PLATFORMS)"
    return 0
  fi
  LAB_STEP_LOG="$LAB_LOGS/build-image-build.log"
  build_dockerfile >"$BUILD_DIR/Dockerfile"
  lab_buildctl build --progress=plain \
    --frontend dockerfile.v0 \
    --local context="$BUILD_DIR" --local dockerfile="$BUILD_DIR" \
    --opt "platform=$LAB_BUILD_IMAGE_PLATFORMS" \
    --opt "build-arg:BASE_IMAGE=$LAB_BASE_IMAGE@$base_digest" \
    --output "type=image,name=$LAB_BUILD_IMAGE,push=true,oci-mediatypes=true" \
    >"$LAB_STEP_LOG" 2>&1
  have="$(curl -fsS -o /dev/null -w '%header{docker-content-digest}' -I \
            -H "Accept: $LAB_INDEX_ACCEPT, application/vnd.oci.image.manifest.v1+json" \
            "$(lab_registry_url)/v2/$repo/manifests/$tag")"
  printf '%s %s\n' "$want" "$have" >"$record"
  LAB_STATUS="pushed: $LAB_BUILD_IMAGE@$have ($LAB_BUILD_IMAGE_PLATFORMS)"
}

lab_require_root
lab_step base-rootfs rootfs_step
lab_step base-image base_image_step
lab_step build-image build_image_step
