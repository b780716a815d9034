#!/usr/bin/env bash
# Stop the services that scripts/setup/docker.sh started (buildkitd, registry,
# dockerd), by the pids it recorded in $LAB_CACHE_DIR/run/. Caches, registry
# storage, images and the binfmt entry stay. docker.sh restarts whatever is down (and restarts
# dockerd by itself when its settings, e.g. LAB_DOCKER_BRIDGE, changed).
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"
lab_require_root

stop_one() {
  local pid; pid="$(lab_daemon_pid "$1")"
  if [ -n "$pid" ]; then
    lab_stop_daemon "$1"
    LAB_STATUS="stopped (pid $pid)"
  else
    lab_forget_daemon "$1"
    LAB_STATUS="not running"
  fi
}

for name in buildkitd registry dockerd; do
  lab_step "stop-$name" stop_one "$name"
done
