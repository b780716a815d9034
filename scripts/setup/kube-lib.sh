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
export LAB_KUBE_DIR KUBE_ADMIN_KUBECONFIG

# Our kubectl (same version as the cluster) first; the machine's may be older.
case ":$PATH:" in *":$KUBE_BIN:"*) ;; *) PATH="$KUBE_BIN:$PATH" ;; esac
export PATH

kube_kubectl() { "$KUBE_BIN/kubectl" --kubeconfig "$KUBE_ADMIN_KUBECONFIG" "$@"; }

# kube_stop_daemon NAME [SECONDS]: SIGTERM the process lab_start_daemon recorded, SIGKILL it
# after SECONDS (default 10): containerd keeps serving the kubelet's open streams for a while
# after SIGTERM, and the apiserver drains watches.
kube_stop_daemon() {
  local pidfile="$LAB_CACHE_DIR/run/$1.pid" secs="${2:-10}" pid i
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if lab_pid_alive "$pid"; then
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < secs * 5; i++)); do lab_pid_alive "$pid" || break; sleep 0.2; done
    if lab_pid_alive "$pid"; then
      kill -9 "$pid" 2>/dev/null || true
      for ((i = 0; i < 25; i++)); do lab_pid_alive "$pid" || break; sleep 0.2; done
    fi
  fi
  rm -f "$pidfile"
}

kube_pid() { cat "$LAB_CACHE_DIR/run/$1.pid" 2>/dev/null || true; }

kube_require_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "scripts/setup/kube*.sh must run as root (containerd, kubelet, iptables, mounts)" >&2
    exit 1
  fi
}
