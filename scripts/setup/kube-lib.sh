# shellcheck shell=bash disable=SC2034 # settings used by the kube*.sh scripts
# Shared settings and helpers for scripts/setup/kube*.sh (the local single-node
# Kubernetes cluster). Source it; don't run it. Builds on docker-lib.sh (cache
# dir, registry, daemon helpers) and only changes the step prefix.
#
# Every knob is an environment variable with a default.

LAB_STEP_PREFIX="[setup/kube]"
LAB_STEP_WIDTH=19
# shellcheck source=scripts/setup/docker-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/docker-lib.sh"

: "${LAB_KUBE_DIR:=$LAB_CACHE_DIR/kube}"
# Sockets, containerd state, CNI IPAM leases: state that must not outlive the
# machine. Short path: unix socket paths are limited to ~100 bytes.
: "${LAB_KUBE_RUN_DIR:=/run/multiarch-lab-kube}"
: "${LAB_KUBE_NODE_NAME:=$(hostname | tr '[:upper:]' '[:lower:]')}"
# The pod network: a Linux bridge this script creates, with the node's address
# as the pods' gateway. Pods get routes to the pod and service ranges only.
: "${LAB_KUBE_BRIDGE:=labbr0}"
: "${LAB_KUBE_POD_CIDR:=10.88.0.0/16}"
: "${LAB_KUBE_NODE_IP:=10.88.0.1}"
: "${LAB_KUBE_SERVICE_CIDR:=10.96.0.0/16}"
: "${LAB_KUBE_SERVICE_IP:=10.96.0.1}"
: "${LAB_KUBE_APISERVER_PORT:=6443}"
: "${LAB_KUBE_ETCD_PORT:=2379}"
: "${LAB_KUBE_PAUSE_IMAGE:=$LAB_REGISTRY/lab/pause:3.10}"
: "${LAB_KUBE_CNI_BIN_DIR:=/usr/lib/cni}"

# The emulated arm64 node (docs/LOCAL-KUBE.md): an arm64 kubelet and containerd under qemu-user,
# a second node of the same cluster with its own bridge and pod range. 0 = amd64-only cluster.
: "${LAB_KUBE_ARM64_NODE:=1}"
: "${LAB_KUBE_ARM64_NODE_NAME:=$LAB_KUBE_NODE_NAME-arm64}"
: "${LAB_KUBE_ARM64_BRIDGE:=labbr1}"
: "${LAB_KUBE_ARM64_POD_CIDR:=10.89.0.0/16}"
: "${LAB_KUBE_ARM64_NODE_IP:=10.89.0.1}"
# kube-proxy's clusterCIDR with the arm64 node: both pod ranges.
: "${LAB_KUBE_CLUSTER_CIDR:=10.88.0.0/15}"
: "${LAB_KUBE_ARM64_RUN_DIR:=/run/multiarch-lab-kube-arm64}"

KUBE_BIN="$LAB_KUBE_DIR/bin"
KUBE_PKI="$LAB_KUBE_DIR/pki"
KUBE_ETC="$LAB_KUBE_DIR/etc"
KUBE_TOOLS_DIR="$LAB_REPO_ROOT/tools/kube"
KUBE_CONTAINERD_SOCK="$LAB_KUBE_RUN_DIR/containerd.sock"
KUBE_CRI_ENDPOINT="unix://$KUBE_CONTAINERD_SOCK"
KUBE_ADMIN_KUBECONFIG="$LAB_KUBE_DIR/admin.kubeconfig"
KUBE_APISERVER_URL="https://127.0.0.1:$LAB_KUBE_APISERVER_PORT"
KUBE_KUBELET_ROOT="$LAB_KUBE_DIR/kubelet"
KUBE_POD_LOGS="$LAB_KUBE_DIR/pod-logs"
KUBE_ETCD_DATA="$LAB_KUBE_DIR/etcd"
# arm64 node: binaries (kubelet, containerd; path/ = the PATH its containerd runs with, which
# holds the native shim), state (images, kubelet root, pod logs), config, socket, cgroup root.
KUBE_ARM64_BIN="$KUBE_BIN/arm64"
KUBE_ARM64_DIR="$LAB_KUBE_DIR/arm64"
KUBE_ARM64_ETC="$KUBE_ETC/arm64"
KUBE_CONTAINERD_TOOLS_DIR="$LAB_REPO_ROOT/tools/containerd"
KUBE_ARM64_SOCK="$LAB_KUBE_ARM64_RUN_DIR/containerd.sock"
KUBE_ARM64_CGROUP=lab-arm64
KUBE_ARM64_PORT=10350
KUBE_ARM64_HEALTHZ_PORT=10348
export LAB_KUBE_DIR KUBE_ADMIN_KUBECONFIG

# Our kubectl (same version as the cluster) first; the machine's may be older.
case ":$PATH:" in *":$KUBE_BIN:"*) ;; *) PATH="$KUBE_BIN:$PATH" ;; esac
export PATH

kube_kubectl() { "$KUBE_BIN/kubectl" --kubeconfig "$KUBE_ADMIN_KUBECONFIG" "$@"; }

kube_require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/setup/kube*.sh must run as root (containerd, kubelet, iptables, mounts)" >&2
    exit 1
  fi
}

# --- the arm64 node: stop and clean up -------------------------------------------
# Used by kube-stop.sh (always, whatever LAB_KUBE_ARM64_NODE says) and by kube.sh when
# LAB_KUBE_ARM64_NODE=0 finds it running. Stops the kubelet, removes its pods through the CRI
# (CNI DEL, unmounts), stops containerd, kills leftover shims and pod processes, then the mount
# namespace holder: its mounts (the bind mounts over /var/lib/kubelet and /var/log/containers,
# overlays, pod netns) go with the namespace. Then the bridge, the /lab-arm64 cgroups and the run
# dir. The state under $KUBE_ARM64_DIR stays (kube-stop.sh's state step wipes it).

kube_arm64_daemons=(kube-arm64-kubelet kube-arm64-containerd kube-arm64-ns)

# kube_arm64_present: any of the node's daemons, its bridge, cgroups or run dir is there.
kube_arm64_present() {
  local d
  for d in "${kube_arm64_daemons[@]}"; do lab_pid_alive "$(lab_daemon_pid "$d")" && return 0; done
  ip link show "$LAB_KUBE_ARM64_BRIDGE" >/dev/null 2>&1 || [ -d "$LAB_KUBE_ARM64_RUN_DIR" ] ||
    compgen -G "/sys/fs/cgroup/*/$KUBE_ARM64_CGROUP" >/dev/null
}

# kube_arm64_processes: its shims (they name its socket), any process running one of its binaries
# (a kubelet of an earlier start that its pid file no longer names still holds its ports), and
# whatever is left in its cgroups.
kube_arm64_processes() {
  local p cmd
  for p in /proc/[0-9]*; do
    cmd="$({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)" || continue
    case "$cmd" in
      *containerd-shim*"-address $KUBE_ARM64_SOCK"* | "$KUBE_ARM64_BIN/"* | *" $KUBE_ARM64_BIN/"*) basename "$p" ;;
    esac
  done
  for p in /sys/fs/cgroup/*/"$KUBE_ARM64_CGROUP"; do
    [ -d "$p" ] && find "$p" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
  return 0
}

# kube_arm64_down: sets LAB_STATUS to what it did.
kube_arm64_down() {
  local stopped=() d pods="" pid killed=0 n=0 m
  lab_pid_alive "$(lab_daemon_pid kube-arm64-kubelet)" && stopped+=(kubelet)
  lab_stop_daemon kube-arm64-kubelet 10
  if lab_pid_alive "$(lab_daemon_pid kube-arm64-containerd)" && [ -S "$KUBE_ARM64_SOCK" ] && [ -x "$KUBE_BIN/crirm" ]; then
    pods="$("$KUBE_BIN/crirm" -endpoint "unix://$KUBE_ARM64_SOCK" rm 2>>"$LAB_LOGS/kube-stop.log")" || pods="crirm failed"
  fi
  lab_pid_alive "$(lab_daemon_pid kube-arm64-containerd)" && stopped+=(containerd)
  lab_stop_daemon kube-arm64-containerd 10
  for pid in $(kube_arm64_processes | sort -u); do kill -9 "$pid" 2>/dev/null && killed=$((killed + 1)); done
  [ "$killed" -eq 0 ] || sleep 0.5
  lab_pid_alive "$(lab_daemon_pid kube-arm64-ns)" && stopped+=("mount namespace")
  lab_stop_daemon kube-arm64-ns 2
  for d in "${kube_arm64_daemons[@]}"; do rm -f "$LAB_KUBE_RUN_DIR/$d.fingerprint"; done
  # Mounts that leaked to the host's namespace (there should be none).
  for d in "$KUBE_ARM64_DIR" "$LAB_KUBE_ARM64_RUN_DIR"; do
    for m in $(findmnt -rn -o TARGET | awk -v d="$d" '$0 == d || index($0, d "/") == 1' | sort -r); do
      umount "$m" 2>/dev/null || umount -l "$m"
    done
  done
  local bridge="no bridge"
  if ip link show "$LAB_KUBE_ARM64_BRIDGE" >/dev/null 2>&1; then ip link del "$LAB_KUBE_ARM64_BRIDGE"; bridge="bridge $LAB_KUBE_ARM64_BRIDGE"; fi
  for d in /sys/fs/cgroup/*/"$KUBE_ARM64_CGROUP"; do
    [ -d "$d" ] || continue
    while IFS= read -r m; do rmdir "$m" 2>/dev/null && n=$((n + 1)); done < <(find "$d" -depth -type d)
  done
  rm -rf "$LAB_KUBE_ARM64_RUN_DIR"
  local what; what="$(lab_join ', ' "${stopped[@]}")"
  LAB_STATUS="stopped: ${what:-nothing was running}; ${pods:+$pods; }killed $killed leftover shim/pod processes; removed $bridge, $n /$KUBE_ARM64_CGROUP cgroups"
}
