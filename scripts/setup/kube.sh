#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, from Go modules and Debian packages,
# bound to loopback: etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet and
# kube-proxy built from k8s.io/kubernetes (tools/kube), a containerd of its own for the CRI
# (Debian's), the bridge CNI plugin, a pause image made here, and an admin kubeconfig at
# $LAB_CACHE_DIR/kube/admin.kubeconfig. With LAB_KUBE_ARM64_NODE=1 (the default) a second node,
# an honest arm64 one: an arm64 kubelet and containerd (tools/containerd, patched) run by
# qemu-user through binfmt, in a mount namespace of their own, with their own bridge.
#
# Idempotent: starts what is down, restarts what changed, one line per step. Needs the
# toolchain of scripts/setup/docker.sh (registry on 127.0.0.1:5000, buildkitd) for the pause
# image. Stop and clean up with scripts/setup/kube-stop.sh. Details: docs/LOCAL-KUBE.md.
set -euo pipefail
# shellcheck source=scripts/setup/kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh"
kube_require_root
exec 9>"$LAB_CACHE_DIR/.kube.lock"
flock 9

mkdir -p "$KUBE_BIN" "$KUBE_PKI" "$KUBE_ETC" "$LAB_KUBE_RUN_DIR"

# write_if_changed FILE: stdin to FILE, atomically and only when the content differs (kube-proxy
# exits as soon as its config file changes, and a truncate-then-write looks like a change).
write_if_changed() {
  cat >"$1.tmp"
  if cmp -s "$1.tmp" "$1"; then rm -f "$1.tmp"; else mv -f "$1.tmp" "$1"; fi
}

kube_version() { awk '$1 == "k8s.io/kubernetes" { print $2; exit }' "$KUBE_TOOLS_DIR/go.mod"; }

# --- apt ----------------------------------------------------------------------

apt_step() {
  lab_apt_install kube-apt.log containerd runc containernetworking-plugins iptables conntrack openssl curl jq
  if [ "${#LAB_APT_MISSING[@]}" -eq 0 ]; then
    LAB_STATUS="present: containerd $(dpkg-query -W -f='${Version}' containerd), runc $(dpkg-query -W -f='${Version}' runc), CNI plugins $(dpkg-query -W -f='${Version}' containernetworking-plugins)"
  else
    # Debian's package starts containerd on /run/containerd only under systemd; ours is separate.
    LAB_STATUS="installed ${LAB_APT_MISSING[*]}"
  fi
}

# shellcheck source=scripts/setup/kube-build.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-build.sh"
# shellcheck source=scripts/setup/kube-config.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-config.sh"
# shellcheck source=scripts/setup/kube-daemons.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-daemons.sh"
# shellcheck source=scripts/setup/kube-arm64.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-arm64.sh"

kube_proxy_up() { curl -fsS --max-time 2 http://127.0.0.1:10256/healthz >/dev/null; }

kube_proxy_step() {
  # One kube-proxy serves both nodes (they share the host's network namespace).
  local cidr="$LAB_KUBE_POD_CIDR"
  [ "$LAB_KUBE_ARM64_NODE" != 1 ] || cidr="$LAB_KUBE_CLUSTER_CIDR"
  write_if_changed "$KUBE_ETC/kube-proxy.yaml" <<YAML
# Written by scripts/setup/kube.sh
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection:
  kubeconfig: $KUBE_ETC/kube-proxy.kubeconfig
hostnameOverride: $LAB_KUBE_NODE_NAME
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clusterCIDR: $cidr
# NodePorts answer on loopback only (iptables mode: sets net.ipv4.conf.all.route_localnet=1;
# kube-stop.sh restores the previous value).
nodePortAddresses: ["127.0.0.0/8"]
iptables:
  localhostNodePorts: true
# Leave the host's conntrack sysctls alone.
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
YAML
  [ -f "$LAB_KUBE_RUN_DIR/route_localnet.orig" ] ||
    cat /proc/sys/net/ipv4/conf/all/route_localnet >"$LAB_KUBE_RUN_DIR/route_localnet.orig"
  KUBE_DAEMON_FILES=("$KUBE_ETC/kube-proxy.yaml" "$KUBE_ETC/kube-proxy.kubeconfig")
  daemon_step kube-proxy kube_proxy_up 60 "$KUBE_BIN/kube-proxy" --config="$KUBE_ETC/kube-proxy.yaml" --v=1
}

node_ready() {
  [ "$(kube_kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null)" = True ]
}

# node_reason NODE: its Ready condition's reason and message (or why there is none: not registered).
node_reason() {
  kube_kubectl get node "$1" -o \
    jsonpath='{.status.conditions[?(@.type=="Ready")].reason}: {.status.conditions[?(@.type=="Ready")].message}' 2>&1 || true
}

node_step() {
  local t0; t0=$(date +%s)
  LAB_STEP_LOG="$LAB_LOGS/kubelet.log"
  local nodes=("$LAB_KUBE_NODE_NAME") n deleted=""
  if [ "$LAB_KUBE_ARM64_NODE" = 1 ]; then
    nodes+=("$LAB_KUBE_ARM64_NODE_NAME")
  elif kube_kubectl get node "$LAB_KUBE_ARM64_NODE_NAME" >/dev/null 2>&1; then
    # Left from a start with the arm64 node (etcd kept): its labels would still say arm64.
    kube_kubectl delete node "$LAB_KUBE_ARM64_NODE_NAME" >/dev/null
    deleted="; deleted node $LAB_KUBE_ARM64_NODE_NAME (LAB_KUBE_ARM64_NODE=0)"
  fi
  local deadline=$(( $(date +%s) + 180 )) retry=$(( $(date +%s) + 60 )) restarted=""
  for n in "${nodes[@]}"; do
    [ "$n" = "$LAB_KUBE_NODE_NAME" ] || LAB_STEP_LOG="$LAB_LOGS/kube-arm64-kubelet.log"
    until node_ready "$n"; do
      # An emulated kubelet that hung at start (arm64_kubelet_restart) gets one restart.
      if [ "$n" = "$LAB_KUBE_ARM64_NODE_NAME" ] && [ -z "$restarted" ] && [ "$(date +%s)" -ge "$retry" ]; then
        restarted="; $n not Ready after 60 s ($(node_reason "$n")): its kubelet restarted"
        echo "[setup/kube] node                ${restarted#; }" >&2
        arm64_kubelet_restart || return 1
        deadline=$(( $(date +%s) + 120 ))
      fi
      if [ "$(date +%s)" -ge "$deadline" ]; then
        kube_kubectl describe node "$n" >&2 || true
        LAB_FAIL_REASON="node $n not Ready after $(( $(date +%s) - t0 )) s: $(node_reason "$n")"
        return 1
      fi
      sleep 1
    done
  done
  LAB_STATUS="$(kube_kubectl get node "${nodes[@]}" --no-headers \
    -o custom-columns='N:.metadata.name,V:.status.nodeInfo.kubeletVersion,A:.metadata.labels.kubernetes\.io/arch,M:.status.nodeInfo.architecture,IP:.status.addresses[?(@.type=="InternalIP")].address' |
    awk '{print $1 " Ready, kubelet " $2 ", kubernetes.io/arch=" $3 ", architecture " $4 ", InternalIP " $5}' | paste -sd';' | sed 's/;/; /g')$deleted$restarted"
}

env_step() {
  cat >"$LAB_KUBE_DIR/kube-env.sh.tmp" <<SH
# Written by scripts/setup/kube.sh: source it for kubectl access to the local cluster.
export PATH="$KUBE_BIN:\$PATH"
export KUBECONFIG="$KUBE_ADMIN_KUBECONFIG"
SH
  mv -f "$LAB_KUBE_DIR/kube-env.sh.tmp" "$LAB_KUBE_DIR/kube-env.sh"
  LAB_STATUS="wrote $LAB_KUBE_DIR/kube-env.sh"
}

start=$(date +%s)
lab_step apt apt_step
lab_step bin-etcd build_step etcd go.etcd.io/etcd/server/v3
lab_step bin-kube-apiserver build_step kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
lab_step bin-kube-controller-manager build_step kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
lab_step bin-kube-scheduler build_step kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
lab_step bin-kubelet build_step kubelet k8s.io/kubernetes/cmd/kubelet
lab_step bin-kube-proxy build_step kube-proxy k8s.io/kubernetes/cmd/kube-proxy
lab_step bin-kubectl build_step kubectl k8s.io/kubernetes/cmd/kubectl
lab_step bin-crirm build_step crirm ./crirm
if [ "$LAB_KUBE_ARM64_NODE" = 1 ]; then
  lab_step bin-arm64-kubelet build_step kubelet k8s.io/kubernetes/cmd/kubelet arm64
  lab_step bin-arm64-containerd arm64_containerd_build_step
fi
lab_step pause-image pause_step
lab_step pki pki_step
lab_step kubeconfigs kubeconfig_step
lab_step network network_step
lab_step containerd containerd_step
lab_step etcd etcd_step
lab_step kube-apiserver apiserver_step
lab_step controller-manager controller_manager_step
lab_step scheduler scheduler_step
lab_step kubelet kubelet_step
if [ "$LAB_KUBE_ARM64_NODE" = 1 ]; then
  lab_step arm64-ns arm64_ns_step
  lab_step arm64-containerd arm64_containerd_step
  lab_step arm64-kubelet arm64_kubelet_step
else
  lab_step arm64-node arm64_off_step
fi
lab_step kube-proxy kube_proxy_step
lab_step node node_step
lab_step env env_step
echo "[setup/kube] cluster ready in $(($(date +%s) - start)) s: KUBECONFIG=$KUBE_ADMIN_KUBECONFIG"
if [ "$LAB_SETUP_VERIFY" = 1 ]; then
  flock -u 9
  bash "$LAB_SETUP_DIR/kube-verify.sh"
fi
