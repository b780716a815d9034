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
  lab_apt_install apt.log "${LAB_APT_PACKAGES[@]}"
  if [ "${#LAB_APT_MISSING[@]}" -eq 0 ]; then
    LAB_STATUS="all ${#LAB_APT_PACKAGES[@]} packages present"
  else
    LAB_STATUS="installed: ${LAB_APT_MISSING[*]}"
  fi
}

lab_require_root
lab_step apt apt_step
