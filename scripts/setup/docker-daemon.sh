#!/usr/bin/env bash
# Step 2: start dockerd (Debian docker.io 20.10) if no daemon answers on /var/run/docker.sock, or
# restart the one this script started when its daemon.json is not what it would write now.
#
# Both docker clients on the machine talk to this one daemon: /usr/local/bin/docker
# (28.x, first on PATH; negotiates API 1.41 down from 1.50) and /usr/bin/docker (20.10).
# The daemon is only used for `docker run` / `docker pull`; multi-platform builds go
# to our own buildkitd (docker-buildkit.sh) through the buildx "remote" builder.
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

DOCKERD_LOG="$LAB_LOGS/dockerd.log"
DOCKERD_CONF="$LAB_CACHE_DIR/docker/daemon.json"

docker_up() { timeout 10 docker info --format '{{.ServerVersion}}'; }

# daemon_json DRIVER: the daemon config this script runs dockerd with, on stdout.
daemon_json() {
  jq -n --arg driver "$1" --arg reg "$LAB_REGISTRY" --arg bridge "$LAB_DOCKER_BRIDGE" --arg bip "$LAB_DOCKER_BIP" '
    {"storage-driver": $driver, "insecure-registries": [$reg]}
    + (if $bridge == "none"
       then {"bridge": "none", "iptables": false, "ip-forward": false, "ip-masq": false}
       elif $bridge == "bridge"
       then {"bip": $bip, "iptables": false, "ip-forward": false, "ip-masq": false}
       else {} end)'
}

write_daemon_json() {
  mkdir -p "$(dirname "$DOCKERD_CONF")"
  daemon_json "$1" >"$DOCKERD_CONF.tmp" && mv -f "$DOCKERD_CONF.tmp" "$DOCKERD_CONF"
}

start_dockerd() {
  local driver="$1"
  # Called under `if !`, where set -e is off: a failed write must not start the old config.
  write_daemon_json "$driver" || return 1
  # A pid file left by a daemon that died with the last session blocks a new start.
  if [ -f /var/run/docker.pid ]; then
    local old; old="$(cat /var/run/docker.pid)"
    if ! { lab_pid_alive "$old" && [ "$(cat "/proc/$old/comm" 2>/dev/null)" = dockerd ]; }; then
      rm -f /var/run/docker.pid
    fi
  fi
  lab_start_daemon dockerd "$DOCKERD_LOG" dockerd --config-file "$DOCKERD_CONF"
  lab_wait_daemon dockerd 60 docker_up
}

dockerd_up_status() {
  printf 'dockerd %s, storage %s, bridge %s' "$(docker_up)" "$(docker info --format '{{.Driver}}')" "$LAB_DOCKER_BRIDGE"
}

dockerd_step() {
  LAB_STEP_LOG="$DOCKERD_LOG"
  if docker_up >/dev/null 2>&1; then
    # A daemon this script did not start (the machine's own Docker) is used as it is.
    if [ -z "$(lab_daemon_pid dockerd)" ]; then
      LAB_STATUS="running (not started by setup, its config left as is): dockerd $(docker_up)"
      return 0
    fi
    local driver; driver="$(docker info --format '{{.Driver}}')"
    if daemon_json "$driver" | cmp -s - "$DOCKERD_CONF"; then
      LAB_STATUS="running: $(dockerd_up_status)"
      return 0
    fi
    # Its settings changed (e.g. LAB_DOCKER_BRIDGE, or this script's defaults on a warm machine):
    # restart it. Only its own containers stop (verify's, which live seconds): the registry,
    # buildkitd and the local cluster (its own containerd) do not run in dockerd.
    lab_stop_daemon dockerd 30
    start_dockerd "$driver"
    LAB_STATUS="restarted with the new settings: $(dockerd_up_status)"
    return 0
  fi
  local driver="${LAB_DOCKER_STORAGE_DRIVER:-overlay2}"
  if ! start_dockerd "$driver"; then
    if [ -n "$LAB_DOCKER_STORAGE_DRIVER" ] || [ "$driver" = vfs ]; then
      return 1
    fi
    # overlay2 needs a backing filesystem that supports it (ext4/xfs do; overlayfs
    # or some container sandboxes don't): fall back to vfs (slow, but works anywhere).
    lab_stop_daemon dockerd
    driver=vfs
    start_dockerd "$driver"
  fi
  LAB_STATUS="started: $(dockerd_up_status)"
}

lab_require_root
lab_step dockerd dockerd_step
