#!/usr/bin/env bash
# Step 1: Debian packages for the local multi-platform toolchain (only the missing ones).
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

LAB_APT_PACKAGES=(
  docker.io        # dockerd 20.10 + Debian's docker CLI; pulls containerd, runc, tini
  docker-registry  # distribution/registry 2.8 (OCI index capable)
  qemu-user-static # qemu-aarch64-static for binfmt_misc
  mmdebstrap       # builds the base image root filesystems
  arch-test        # mmdebstrap needs it for foreign architectures; also our binfmt check
  iptables uidmap
  curl jq ca-certificates
)

apt_step() {
  local missing=() p
  for p in "${LAB_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    LAB_STATUS="all ${#LAB_APT_PACKAGES[@]} packages present"
    return 0
  fi
  LAB_STEP_LOG="$LAB_LOGS/apt.log"
  {
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
  } >"$LAB_STEP_LOG" 2>&1
  LAB_STATUS="installed: ${missing[*]}"
}

lab_require_root
lab_step apt apt_step
