#!/usr/bin/env bash
# Step 4: a plain-HTTP OCI registry (Debian docker-registry 2.8) on loopback.
#
# Storage lives in $LAB_CACHE_DIR/registry/data, so pushed images (the base image
# in particular) survive the end of a session even though the process does not.
# dockerd treats 127.0.0.0/8 as insecure by default (and we list LAB_REGISTRY in
# its insecure-registries too); buildkitd gets `http = true` in buildkitd.toml.
set -euo pipefail
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

REG_DIR="$LAB_CACHE_DIR/registry"
REG_CONF="$REG_DIR/config.yml"
REG_LOG="$LAB_LOGS/registry.log"

registry_up() { curl -fsS -o /dev/null --max-time 2 "$(lab_registry_url)/v2/" 2>/dev/null; }

registry_step() {
  if ! lab_is_loopback_registry; then
    echo "LAB_REGISTRY=$LAB_REGISTRY: only a loopback address (127.x or localhost) is allowed" >&2
    return 1
  fi
  if registry_up; then
    LAB_STATUS="running on $LAB_REGISTRY"
    return 0
  fi
  LAB_STEP_LOG="$REG_LOG"
  mkdir -p "$REG_DIR/data"
  cat >"$REG_CONF" <<YAML
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $REG_DIR/data
  delete:
    enabled: true
http:
  addr: $LAB_REGISTRY
  headers:
    X-Content-Type-Options: [nosniff]
YAML
  lab_start_daemon registry "$REG_LOG" docker-registry serve "$REG_CONF"
  lab_wait_daemon registry 30 registry_up
  LAB_STATUS="started on $LAB_REGISTRY (storage $REG_DIR/data)"
}

lab_require_root
lab_step registry registry_step
