#!/usr/bin/env bash
# Step 3: binfmt_misc entry for arm64 ELF binaries -> qemu-aarch64-static, flag F.
#
# F (fix-binary) makes the kernel open the interpreter at registration time, so it
# also works inside containers and BuildKit sandboxes whose root filesystem has no
# qemu binary. There is no systemd-binfmt/binfmt-support here, so we register ourselves.
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

BINFMT=/proc/sys/fs/binfmt_misc
ENTRY="$BINFMT/qemu-aarch64"
# Debian's qemu-user-static ships this line (flags OCF/OPF depending on version).
DEBIAN_CONF=/usr/lib/binfmt.d/qemu-aarch64.conf
FALLBACK_LINE=':qemu-aarch64:M::\x7f\x45\x4c\x46\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\xb7\x00:\xff\xff\xff\xff\xff\xff\xff\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:/usr/bin/qemu-aarch64-static:OCF'

entry_ok() {
  [ -f "$ENTRY" ] &&
    head -n1 "$ENTRY" | grep -qx enabled &&
    grep -q '^flags: .*F' "$ENTRY" &&
    [ -x "$(awk '/^interpreter /{print $2}' "$ENTRY")" ]
}

binfmt_step() {
  local did=()
  if ! mountpoint -q "$BINFMT"; then
    mount -t binfmt_misc binfmt_misc "$BINFMT"
    did+=("mounted binfmt_misc")
  fi
  [ "$(cat "$BINFMT/status")" = enabled ] || echo 1 >"$BINFMT/status"
  if ! entry_ok; then
    # Wrong flags or a stale interpreter: drop the entry and register ours.
    [ -f "$ENTRY" ] && echo -1 >"$ENTRY"
    local line
    if [ -f "$DEBIAN_CONF" ]; then line="$(head -n1 "$DEBIAN_CONF")"; else line="$FALLBACK_LINE"; fi
    local flags="${line##*:}"
    case "$flags" in *F*) ;; *) line="${line%:*}:${flags}F" ;; esac
    printf '%s' "$line" >"$BINFMT/register"
    did+=("registered qemu-aarch64")
  fi
  entry_ok
  # arch-test runs a tiny static arm64 program: proves the kernel hands it to qemu.
  local probe; probe="$(arch-test arm64 2>&1 || true)"
  case "$probe" in *ok*) ;; *) echo "arch-test arm64: $probe" >&2; return 1 ;; esac
  [ "${#did[@]}" -gt 0 ] || did=("already registered")
  LAB_STATUS="$(lab_join ', ' "${did[@]}"); flags $(awk '/^flags:/{print $2}' "$ENTRY"), arch-test arm64 ok"
}

lab_require_root
lab_step binfmt binfmt_step
