#!/usr/bin/env bash
# Sourced by kube.sh: the emulated arm64 node (its mount namespace, containerd and kubelet under QEMU).
# It defines steps and the variables they share; kube.sh runs them, in its order.

# --- the arm64 node ----------------------------------------------------------------
# Its containerd, its runc shims and its kubelet run in a mount namespace of their own, kept by a
# holder process (`sleep infinity` after `unshare --mount --propagation slave`; the host's mounts
# come in, the node's don't go out). There the fixed host paths they write are bind mounts of the
# node's own dirs: /var/lib/kubelet (the kubelet wipes its device-plugins dir at start whatever
# --root-dir says, which would remove the host kubelet's socket there), /var/log/containers (log
# links), and, so that nothing of the node outlives it on the host, /var/lib/cni (libcni's
# cache) and /run/containerd (shim sockets).
ARM64_BINDS=(/var/lib/kubelet /var/log/containers /var/lib/cni /run/containerd)

# arm64_bind_source TARGET: the node's own dir mounted on TARGET, e.g. var-lib-kubelet in its
# state dir (wiped on stop), or run-containerd in its run dir.
arm64_bind_source() {
  local name="${1#/}"; name="${name//\//-}"
  case "$1" in
    /var/lib/kubelet | /var/log/containers) echo "$KUBE_ARM64_DIR/$name" ;;
    *) echo "$LAB_KUBE_ARM64_RUN_DIR/$name" ;;
  esac
}

arm64_ns_up() {
  local pid t; pid="$(lab_daemon_pid kube-arm64-ns)"
  [ -n "$pid" ] || return 1
  for t in "${ARM64_BINDS[@]}"; do awk -v t="$t" '$5 == t { f = 1 } END { exit !f }' "/proc/$pid/mountinfo" || return 1; done
}

arm64_ns_step() {
  # binfmt_misc runs the arm64 binaries with qemu-user (docker-binfmt.sh registers it with F, so
  # it also works in the pods' root filesystems).
  local entry=/proc/sys/fs/binfmt_misc/qemu-aarch64
  if ! { [ "$(head -n1 "$entry" 2>/dev/null)" = enabled ] && grep -q '^flags: .*F' "$entry"; }; then
    echo "no qemu-aarch64 binfmt_misc entry with flag F: run scripts/setup/docker.sh (its binfmt step)" >&2
    return 1
  fi
  local pre=""
  # A namespace that is gone or lost its mounts while the node runs: start the node afresh (its
  # containerd, shims and pods live in the old namespace).
  if ! { lab_pid_alive "$(lab_daemon_pid kube-arm64-ns)" && arm64_ns_up; } &&
    { lab_pid_alive "$(lab_daemon_pid kube-arm64-containerd)" || lab_pid_alive "$(lab_daemon_pid kube-arm64-kubelet)"; }; then
    kube_arm64_down
    pre="broken mount namespace, $LAB_STATUS; "
    bridge_up "$LAB_KUBE_ARM64_BRIDGE" "$LAB_KUBE_ARM64_NODE_IP/${LAB_KUBE_ARM64_POD_CIDR#*/}" >/dev/null
  fi
  # The mount points must exist on the host (kube-stop.sh removes them again once empty).
  local t src script=""
  for t in "${ARM64_BINDS[@]}"; do
    src="$(arm64_bind_source "$t")"
    mkdir -p "$src"; [ -d "$t" ] || mkdir -m 0711 "$t"
    script+="mount --bind '$src' '$t' && "
  done
  # Restarted only when it is down: not when binaries change (KUBE_DAEMON_STAMPS).
  KUBE_DAEMON_FILES=() KUBE_DAEMON_STAMPS=0
  daemon_step kube-arm64-ns arm64_ns_up 10 unshare --mount --propagation slave sh -c "${script}exec sleep infinity"
  KUBE_DAEMON_STAMPS=1
  LAB_STATUS="$pre$LAB_STATUS; own $(lab_join ', ' "${ARM64_BINDS[@]}")"
}

arm64_containerd_up() { [ -S "$KUBE_ARM64_SOCK" ] && ctr --address "$KUBE_ARM64_SOCK" --connect-timeout 2s version; }

arm64_containerd_step() {
  mkdir -p "$KUBE_ARM64_ETC" "$LAB_KUBE_ARM64_RUN_DIR"
  registry_hosts
  containerd_config "$KUBE_ARM64_DIR/containerd" "$LAB_KUBE_ARM64_RUN_DIR" "$KUBE_ARM64_ETC/cni" "$(command -v runc)" |
    write_if_changed "$KUBE_ARM64_ETC/containerd.toml"
  KUBE_DAEMON_FILES=("$KUBE_ARM64_ETC/containerd.toml" "$KUBE_ETC/containerd/certs.d/$LAB_REGISTRY/hosts.toml")
  # nsenter execs in place (mount namespace only), so the pid file is the daemon's.
  local ns=(nsenter -t "$(lab_daemon_pid kube-arm64-ns)" -m --)
  # LAB_SECCOMP_*: tools/containerd/patches/seccomp-under-qemu.patch.
  daemon_step kube-arm64-containerd arm64_containerd_up 60 "${ns[@]}" env \
    PATH="$KUBE_ARM64_BIN/path:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
    LAB_SECCOMP_ASSUME_ENABLED=1 LAB_SECCOMP_ARCH=amd64 \
    "$KUBE_ARM64_BIN/path/containerd" --config "$KUBE_ARM64_ETC/containerd.toml"
  LAB_STATUS="$LAB_STATUS $(ctr --address "$KUBE_ARM64_SOCK" --connect-timeout 2s version 2>/dev/null | awk '/Server/ { s = 1 } s && /Version:/ { print $2; exit }') (linux/arm64, qemu-user) on $KUBE_ARM64_SOCK"
}

arm64_kubelet_up() { curl -fsS --max-time 2 "http://127.0.0.1:$KUBE_ARM64_HEALTHZ_PORT/healthz" | grep -qx ok; }

arm64_kubelet_step() {
  local d="$KUBE_ARM64_DIR" f
  mkdir -p "$d/kubelet" "$d/pod-logs"
  # cgroupRoot must exist in every v1 hierarchy; a new cpuset cgroup has no cpus/mems yet.
  for f in /sys/fs/cgroup/*/; do
    case "$f" in */unified/) ;; *) mkdir -p "$f$KUBE_ARM64_CGROUP" ;; esac
  done
  for f in cpus mems; do
    [ -n "$(cat "/sys/fs/cgroup/cpuset/$KUBE_ARM64_CGROUP/cpuset.$f")" ] ||
      cat "/sys/fs/cgroup/cpuset/cpuset.$f" >"/sys/fs/cgroup/cpuset/$KUBE_ARM64_CGROUP/cpuset.$f"
  done
  kubelet_config "$LAB_KUBE_ARM64_NODE_IP" "$KUBE_ARM64_PORT" "$KUBE_ARM64_HEALTHZ_PORT" kubelet-arm64-server \
    "$KUBE_ARM64_SOCK" "$d/pod-logs" "$KUBE_ARM64_CGROUP" | write_if_changed "$KUBE_ARM64_ETC/kubelet.yaml"
  KUBE_DAEMON_FILES=("$KUBE_ARM64_ETC/kubelet.yaml" "$KUBE_ARM64_ETC/kubelet-arm64.kubeconfig")
  local ns=(nsenter -t "$(lab_daemon_pid kube-arm64-ns)" -m --)
  daemon_step kube-arm64-kubelet arm64_kubelet_up 120 "${ns[@]}" "$KUBE_ARM64_BIN/kubelet" \
    --config="$KUBE_ARM64_ETC/kubelet.yaml" --kubeconfig="$KUBE_ARM64_ETC/kubelet-arm64.kubeconfig" \
    --root-dir="$d/kubelet" --cert-dir="$d/kubelet/pki" --volume-plugin-dir="$d/kubelet/volume-plugins" \
    --hostname-override="$LAB_KUBE_ARM64_NODE_NAME" --node-ip="$LAB_KUBE_ARM64_NODE_IP" --v=1
  LAB_STATUS="$LAB_STATUS; serves on $LAB_KUBE_ARM64_NODE_IP:$KUBE_ARM64_PORT"
}

# The emulated kubelet's first exec (its iptables check) sometimes never returns: seen once in
# about 45 starts here, as a node whose Ready reason stays "PLEG is not healthy: pleg has yet to
# be successful" because the sync loop waits behind that exec, and one stray process of the node left
# at the stop. A qemu-user 7.2 fork of a busy multi-threaded process is the likely cause (not
# proven). The kubelet and its children are killed, and it starts again; the node then comes up as
# usual.
arm64_kubelet_restart() {
  local pid; pid="$(lab_daemon_pid kube-arm64-kubelet)"
  [ -z "$pid" ] || pkill -9 -P "$pid" 2>/dev/null || true
  lab_stop_daemon kube-arm64-kubelet 10
  arm64_kubelet_step
}

# LAB_KUBE_ARM64_NODE=0: no arm64 node; one left from an earlier start is stopped.
arm64_off_step() {
  if kube_arm64_present; then
    kube_arm64_down
    LAB_STATUS="LAB_KUBE_ARM64_NODE=0: $LAB_STATUS"
  else
    LAB_STATUS="off (LAB_KUBE_ARM64_NODE=0)"
  fi
}
