# shellcheck shell=bash
# Shared settings and helpers for scripts/setup/docker*.sh. Source it; don't run it.
#
# Every knob is an environment variable with a default, so a fresh clone in any
# folder of the machine finds the same cache and the same services.

LAB_SETUP_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck disable=SC2034 # used by the step scripts
LAB_REPO_ROOT="$(cd "$LAB_SETUP_DIR/../.." && pwd)"

: "${LAB_CACHE_DIR:=${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}"
: "${LAB_REGISTRY:=127.0.0.1:5000}"
: "${LAB_BASE_IMAGE:=$LAB_REGISTRY/lab/node:18-bookworm}"
: "${LAB_BUILD_IMAGE:=$LAB_REGISTRY/lab/node:18-bookworm-npm}"
case "$(uname -m)" in aarch64|arm64) _lab_native=linux/arm64 ;; *) _lab_native=linux/amd64 ;; esac
: "${LAB_BUILD_IMAGE_PLATFORMS:=$_lab_native}"
: "${LAB_BUILDER:=lab}"
: "${LAB_BUILDKIT_SOCK:=$LAB_CACHE_DIR/buildkit/buildkitd.sock}"
: "${BUILDKIT_HOST:=unix://$LAB_BUILDKIT_SOCK}"
: "${LAB_BUILDX_VERSION:=v0.38.2}"
# dockerd: overlay2 works on this machine's ext4 root; the script falls back to
# vfs by itself when overlay2 can't start and the driver wasn't chosen explicitly.
: "${LAB_DOCKER_STORAGE_DRIVER:=}"
# dockerd networking: "bridge" = the docker0 bridge at LAB_DOCKER_BIP, with no iptables rules, no
# NAT and no ip_forward change: `-p 127.0.0.1::PORT` works through docker-proxy (the userland
# proxy), which is how verify's variants reach each container. "none" = no docker0 (containers get
# only lo; -p has no effect). "default" = Docker's usual bridge + iptables NAT.
: "${LAB_DOCKER_BRIDGE:=bridge}"
# Private, and clear of the local cluster's ranges (LAB_KUBE_* in kube-lib.sh: 10.88.0.0/15 pods,
# 10.96.0.0/16 services) and of Docker's default 172.17.0.0/16.
: "${LAB_DOCKER_BIP:=172.30.0.1/24}"
: "${LAB_BUILDKIT_SNAPSHOTTER:=overlayfs}"
: "${LAB_DEBIAN_SUITE:=bookworm}"
: "${LAB_BASE_PACKAGES:=nodejs,ca-certificates}"
: "${LAB_DEBIAN_MIRROR:=http://deb.debian.org/debian}"
: "${LAB_DEBIAN_SECURITY_MIRROR:=http://deb.debian.org/debian-security}"
: "${LAB_SETUP_VERIFY:=1}"

DOCKER_CONFIG="${DOCKER_CONFIG:-$HOME/.docker}"
BUILDX_CONFIG="${BUILDX_CONFIG:-$DOCKER_CONFIG/buildx}"
export LAB_CACHE_DIR LAB_REGISTRY LAB_BASE_IMAGE LAB_BUILD_IMAGE LAB_BUILDER BUILDKIT_HOST DOCKER_CONFIG BUILDX_CONFIG

LAB_BIN="$LAB_CACHE_DIR/bin"
LAB_LOGS="$LAB_CACHE_DIR/logs"
mkdir -p "$LAB_BIN" "$LAB_LOGS"
case ":$PATH:" in *":$LAB_BIN:"*) ;; *) PATH="$LAB_BIN:$PATH" ;; esac
# Go and sbin tools (dockerd, runc) may be missing from a minimal PATH.
for d in /usr/local/go/bin /usr/local/sbin /usr/sbin /sbin; do
  case ":$PATH:" in *":$d:"*) ;; *) [ -d "$d" ] && PATH="$PATH:$d" ;; esac
done
export PATH

LAB_REGISTRY_HOST="${LAB_REGISTRY%:*}"

lab_is_loopback_registry() {
  case "$LAB_REGISTRY_HOST" in
    127.*|localhost) return 0 ;;
    *) return 1 ;;
  esac
}

# --- step bookkeeping -------------------------------------------------------

LAB_STATUS=""

# lab_join SEP ITEMS...: print ITEMS separated by SEP.
lab_join() {
  local sep="$1" out=""; shift
  local x; for x in "$@"; do out="${out:+$out$sep}$x"; done
  printf '%s' "$out"
}

lab_now() { date +%s.%N; }

lab_elapsed() { awk -v a="$1" -v b="$(lab_now)" 'BEGIN { printf "%.1f", b - a }'; }

# Step lines: "<prefix> <name padded to width> <status>"; kube-lib.sh sets its own prefix and width.
: "${LAB_STEP_PREFIX:=[setup/docker]}"
: "${LAB_STEP_WIDTH:=15}"

lab_fail() {
  local name="$1" log="${2:-}"
  printf '%s %-*s FAILED%s\n' "$LAB_STEP_PREFIX" "$LAB_STEP_WIDTH" "$name" "${log:+ (log: $log)}" >&2
  if [ -n "$log" ] && [ -f "$log" ]; then tail -n 15 "$log" | cut -c1-240 | sed 's/^/    /' >&2; fi
  # Last, so that a caller showing only the last lines (the driver) shows the cause.
  [ -z "${LAB_FAIL_REASON:-}" ] || printf '    %s\n' "$LAB_FAIL_REASON" >&2
}

# lab_step NAME FUNCTION [ARGS...]: run FUNCTION (which sets LAB_STATUS and may
# set LAB_STEP_LOG), then print one line: name, status, seconds.
lab_step() {
  local name="$1"; shift
  local t0; t0="$(lab_now)"
  LAB_STATUS="ok"
  LAB_STEP_LOG=""
  LAB_FAIL_REASON=""
  set -E
  # shellcheck disable=SC2064
  # Report once, from the step's own shell (subshells inherit the trap through set -E).
  trap "[ \$BASH_SUBSHELL -ne 0 ] || lab_fail '$name' \"\${LAB_STEP_LOG:-}\"; trap - ERR" ERR
  "$@"
  trap - ERR
  printf '%s %-*s %s (%ss)\n' "$LAB_STEP_PREFIX" "$LAB_STEP_WIDTH" "$name" "$LAB_STATUS" "$(lab_elapsed "$t0")"
}

# lab_apt_install LOG PKG...: apt-installs the packages not yet installed (output in
# $LAB_LOGS/LOG, which becomes the step's log); LAB_APT_MISSING lists what it installed.
lab_apt_install() {
  local log="$1" p
  shift
  LAB_APT_MISSING=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || LAB_APT_MISSING+=("$p")
  done
  [ "${#LAB_APT_MISSING[@]}" -eq 0 ] && return 0
  LAB_STEP_LOG="$LAB_LOGS/$log"
  {
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${LAB_APT_MISSING[@]}"
  } >"$LAB_STEP_LOG" 2>&1
}

# lab_pid_alive PID: the process exists and is not a zombie (this machine's init
# does not always reap orphans, so a dead daemon can linger as <defunct>).
lab_pid_alive() {
  [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null &&
    [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# lab_wait_daemon NAME SECONDS COMMAND...: poll COMMAND every 0.2 s until it
# succeeds; give up after SECONDS or as soon as the process started by
# `lab_start_daemon NAME` has exited.
lab_wait_daemon() {
  local pid; pid="$(cat "$LAB_CACHE_DIR/run/$1.pid")"
  local secs="$2"; shift 2
  local deadline=$(( $(date +%s) + secs ))
  while ! "$@" >/dev/null 2>&1; do
    if ! lab_pid_alive "$pid"; then echo "process $pid exited" >&2; return 1; fi
    [ "$(date +%s)" -lt "$deadline" ] || { echo "no answer after ${secs}s" >&2; return 1; }
    sleep 0.2
  done
}

# lab_start_daemon NAME LOG COMMAND...: start COMMAND detached (own session, so
# it outlives this script), append output to LOG, write its pid to
# $LAB_CACHE_DIR/run/NAME.pid and its start time to NAME.start.
lab_start_daemon() {
  local name="$1" log="$2"; shift 2
  mkdir -p "$LAB_CACHE_DIR/run"
  printf '\n==== %s starting %s\n' "$(date -u +%FT%TZ)" "$*" >>"$log"
  # fd 9 is the setup lock (docker.sh): the daemon must not inherit it.
  setsid "$@" >>"$log" 2>&1 </dev/null 9>&- &
  echo $! >"$LAB_CACHE_DIR/run/$name.pid"
  lab_proc_start $! >"$LAB_CACHE_DIR/run/$name.start"
}

# lab_proc_start PID: when the process started (clock ticks after boot, /proc/PID/stat field 22;
# an exec keeps it).
lab_proc_start() {
  local s; s="$(cat "/proc/$1/stat" 2>/dev/null)" || return 0
  s="${s##*) }" # after the command name, which may hold spaces
  # shellcheck disable=SC2086 # the fields, split on purpose
  set -- $s
  printf '%s\n' "${20}"
}

# lab_daemon_pid NAME: the pid lab_start_daemon recorded for NAME while that process runs; empty
# when it ended, or when the pid now belongs to another process (pid files outlive a session, and
# pids are reused: never signal a stranger).
lab_daemon_pid() {
  local f="$LAB_CACHE_DIR/run/$1" pid
  pid="$(cat "$f.pid" 2>/dev/null)" || return 0
  lab_pid_alive "$pid" || return 0
  if [ -f "$f.start" ] && [ "$(cat "$f.start")" != "$(lab_proc_start "$pid")" ]; then return 0; fi
  printf '%s\n' "$pid"
}

# lab_forget_daemon NAME: drop what lab_start_daemon recorded.
lab_forget_daemon() { rm -f "$LAB_CACHE_DIR/run/$1.pid" "$LAB_CACHE_DIR/run/$1.start"; }

# lab_stop_daemon NAME [SECONDS]: SIGTERM the process lab_start_daemon recorded, if alive, and
# SIGKILL it after SECONDS (default 10): containerd keeps serving open streams for a while after
# SIGTERM, the apiserver drains watches, and a hung daemon must not outlive its record (the next
# start would run a second one).
lab_stop_daemon() {
  local secs="${2:-10}" pid i
  pid="$(lab_daemon_pid "$1")"
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 5; i++)); do lab_pid_alive "$pid" || break; sleep 0.2; done
    if lab_pid_alive "$pid"; then
      kill -9 "$pid" 2>/dev/null || true
      for ((i = 0; i < 25; i++)); do lab_pid_alive "$pid" || break; sleep 0.2; done
    fi
  fi
  lab_forget_daemon "$1"
}

lab_buildctl() { buildctl --addr "$BUILDKIT_HOST" "$@"; }

lab_registry_url() { printf 'http://%s' "$LAB_REGISTRY"; }

LAB_INDEX_ACCEPT='application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json'

# lab_index_platforms REPO TAG: print "os/arch" lines of the registry's index for
# REPO:TAG (attestation entries "unknown/unknown" dropped); fail if the tag is
# missing or is not an index / manifest list.
lab_index_platforms() {
  local repo="$1" tag="$2" body
  body="$(curl -fsS -H "Accept: $LAB_INDEX_ACCEPT" "$(lab_registry_url)/v2/$repo/manifests/$tag")" || return 1
  jq -er '
    select(.mediaType == "application/vnd.oci.image.index.v1+json"
        or .mediaType == "application/vnd.docker.distribution.manifest.list.v2+json")
    | .manifests[] | .platform | select(.os != "unknown") | "\(.os)/\(.architecture)"' <<<"$body" | sort
}

# lab_platform_digest REPO TAG ARCH: digest of the ARCH manifest inside the index.
lab_platform_digest() {
  curl -fsS -H "Accept: $LAB_INDEX_ACCEPT" "$(lab_registry_url)/v2/$1/manifests/$2" |
    jq -er --arg a "$3" '.manifests[] | select(.platform.os == "linux" and .platform.architecture == $a) | .digest' | head -n1
}

# Split LAB_BASE_IMAGE (registry/repo:tag) into repo and tag.
lab_base_repo() { local r="${LAB_BASE_IMAGE#"$LAB_REGISTRY"/}"; printf '%s' "${r%:*}"; }
lab_base_tag() { printf '%s' "${LAB_BASE_IMAGE##*:}"; }

lab_require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/setup/docker*.sh must run as root (dockerd, buildkitd, binfmt_misc)" >&2
    exit 1
  fi
}
