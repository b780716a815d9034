#!/usr/bin/env bash
# Stop the local cluster that scripts/setup/kube.sh started, both nodes (the arm64 one whatever
# LAB_KUBE_ARM64_NODE says), and leave nothing behind: no processes (daemons, shims, pods), no
# containers, no mounts, no netns, no bridges, no iptables chains of kube-proxy/kubelet/CNI, no
# kubepods or /lab-arm64 cgroups; route_localnet and ip_forward restored. Cluster state (etcd
# data, kubelet dirs, pod logs) is wiped too unless LAB_KUBE_KEEP_STATE=1; binaries, certs,
# kubeconfigs and the image caches of both containerds stay, so the next kube.sh is quick.
#
# --if-unused (the lab driver's way, automation/localCluster.ts): stop only when no lab uses the
# cluster, i.e. no live process holds a lease in $LAB_KUBE_DIR/leases (a file named by its pid,
# written before it starts the cluster) and no lab namespace (label lab=multiarch-lab) is left.
# Checked under the same lock as kube.sh's start, so a lab starting meanwhile is never cut off.
set -euo pipefail
# shellcheck source=scripts/setup/kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh"
kube_require_root
exec 9>"$LAB_CACHE_DIR/.kube.lock"
flock 9
: "${LAB_KUBE_KEEP_STATE:=0}"

# in_use: prints why the cluster must stay (live leases, lab namespaces); prints nothing when unused.
in_use() {
  local f pid users=()
  for f in "$LAB_KUBE_DIR"/leases/*; do
    [ -e "$f" ] || continue
    pid="$(basename "$f")"
    if lab_pid_alive "$pid"; then users+=("$pid"); else rm -f "$f"; fi
  done
  if [ "${#users[@]}" -gt 0 ]; then
    echo "used by lab process ${users[*]}"
    return 0
  fi
  local ns
  if ! ns="$(kube_kubectl get namespaces -l lab=multiarch-lab -o 'jsonpath={.items[*].metadata.name}' --request-timeout=10s 2>&1)"; then
    echo "could not list its namespaces (${ns##*$'\n'}), so it stays"
    return 0
  fi
  [ -z "$ns" ] || echo "labs still in it: $ns"
}

if [ "${1:-}" = --if-unused ]; then
  running=0
  for d in kube-containerd kube-etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy "${kube_arm64_daemons[@]}"; do
    if lab_pid_alive "$(lab_daemon_pid "$d")"; then running=1; fi
  done
  if [ "$running" = 0 ]; then
    echo "[setup/kube] not running"
    exit 0
  fi
  # Without an apiserver no lab can use what is left: clean it up.
  why=""
  if lab_pid_alive "$(lab_daemon_pid kube-apiserver)"; then why="$(in_use)"; fi
  if [ -n "$why" ]; then
    echo "[setup/kube] kept running: $why"
    exit 0
  fi
elif [ -n "${1:-}" ]; then
  echo "usage: kube-stop.sh [--if-unused]" >&2
  exit 2
fi

stop_one() {
  local pid; pid="$(lab_daemon_pid "$1")"
  if lab_pid_alive "$pid"; then
    lab_stop_daemon "$1"
    STOPPED+=("$1")
  else
    lab_forget_daemon "$1"
  fi
  rm -f "$LAB_KUBE_RUN_DIR/$1.fingerprint"
}

nodes_step() {
  STOPPED=()
  LAB_STEP_LOG="$LAB_LOGS/kube-stop.log"
  stop_one kube-proxy
  stop_one kubelet
  # kube-proxy's own cleanup: its iptables (and ip6tables) chains and rules.
  if [ -x "$KUBE_BIN/kube-proxy" ]; then "$KUBE_BIN/kube-proxy" --cleanup >>"$LAB_STEP_LOG" 2>&1 || true; fi
  if [ -f "$LAB_KUBE_RUN_DIR/route_localnet.orig" ]; then
    cat "$LAB_KUBE_RUN_DIR/route_localnet.orig" >/proc/sys/net/ipv4/conf/all/route_localnet
    rm -f "$LAB_KUBE_RUN_DIR/route_localnet.orig"
  fi
  # kube.sh turns on forwarding for the arm64 node, if it was off.
  if [ -f "$LAB_KUBE_RUN_DIR/ip_forward.orig" ]; then
    cat "$LAB_KUBE_RUN_DIR/ip_forward.orig" >/proc/sys/net/ipv4/ip_forward
    rm -f "$LAB_KUBE_RUN_DIR/ip_forward.orig"
  fi
  LAB_STATUS="stopped: ${STOPPED[*]:-nothing was running}"
}

containerd_up() { [ -S "$KUBE_CONTAINERD_SOCK" ] && ctr --address "$KUBE_CONTAINERD_SOCK" --connect-timeout 2s version >/dev/null 2>&1; }

# Through the CRI, so containerd runs CNI DEL (veth, IPAM lease), unmounts and ends the shims.
pods_step() {
  LAB_STEP_LOG="$LAB_LOGS/kube-stop.log"
  if ! lab_pid_alive "$(lab_daemon_pid kube-containerd)" || ! containerd_up; then
    LAB_STATUS="containerd not running (leftovers are handled below)"
    return 0
  fi
  if [ ! -x "$KUBE_BIN/crirm" ]; then LAB_STATUS="no crirm binary; skipped"; return 0; fi
  LAB_STATUS="$("$KUBE_BIN/crirm" -endpoint "$KUBE_CRI_ENDPOINT" rm 2>>"$LAB_STEP_LOG")"
  # The containers' metadata and snapshots (the pulled images stay).
  local c
  for c in $(ctr --address "$KUBE_CONTAINERD_SOCK" -n k8s.io containers ls -q 2>/dev/null); do
    ctr --address "$KUBE_CONTAINERD_SOCK" -n k8s.io tasks kill -s KILL "$c" >/dev/null 2>&1 || true
    ctr --address "$KUBE_CONTAINERD_SOCK" -n k8s.io tasks delete "$c" >/dev/null 2>&1 || true
    ctr --address "$KUBE_CONTAINERD_SOCK" -n k8s.io containers delete "$c" >/dev/null 2>&1 || true
  done
}

control_plane_step() {
  STOPPED=()
  stop_one kube-scheduler
  stop_one kube-controller-manager
  stop_one kube-apiserver
  stop_one kube-etcd
  LAB_STATUS="stopped: ${STOPPED[*]:-nothing was running}"
}

# Processes whose command line names our containerd socket: its shims (they outlive containerd).
our_shims() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -q -- "containerd-shim.*-address $KUBE_CONTAINERD_SOCK" && basename "$p"
  done
  return 0
}

# Processes in the kubepods cgroups our kubelet made (only left if containerd died with pods up).
pod_processes() {
  local f
  for f in /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods /sys/fs/cgroup/unified/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$f" ] && find "$f" -name cgroup.procs -exec cat {} + 2>/dev/null
  done | sort -u
  return 0
}

runtime_step() {
  STOPPED=()
  stop_one kube-containerd
  local pids killed=0 pid
  pids="$(our_shims; pod_processes)"
  for pid in $pids; do kill -9 "$pid" 2>/dev/null && killed=$((killed + 1)); done
  [ "$killed" -eq 0 ] || sleep 0.5
  LAB_STATUS="stopped: ${STOPPED[*]:-nothing was running}; killed $killed leftover shim/pod processes"
}

# Mount points at DIR or below it, deepest first (the kubelet bind-mounts its root dir onto itself).
mounts_under() { findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1' | sort -r; }

mounts_step() {
  local n=0 m d
  for d in "$KUBE_KUBELET_ROOT" "$LAB_KUBE_DIR/containerd" "$LAB_KUBE_RUN_DIR"; do
    for m in $(mounts_under "$d"); do umount "$m" 2>/dev/null || umount -l "$m"; n=$((n + 1)); done
  done
  # Network namespaces of pods (containerd names them cni-<uuid>), if containerd could not.
  local ns=0
  for m in /run/netns/cni-*; do
    [ -e "$m" ] || continue
    umount "$m" 2>/dev/null || true; rm -f "$m"; ns=$((ns + 1))
  done
  # containerd (like `ip netns add`) bind-mounts /run/netns onto itself; undo that once it is empty.
  if [ -d /run/netns ] && [ -z "$(ls -A /run/netns)" ] && findmnt -rn /run/netns >/dev/null; then
    umount /run/netns && n=$((n + 1))
  fi
  LAB_STATUS="unmounted $n, removed $ns pod netns"
}

# kube_chains_cleanup CMD: delete the rules that jump to KUBE-*/CNI-* chains and those chains.
kube_chains_cleanup() {
  local cmd="$1" t line chains
  command -v "$cmd" >/dev/null || return 0
  for t in filter nat mangle; do
    "$cmd"-save -t "$t" >/dev/null 2>&1 || continue # "iptables-legacy tables present": not ours
    while IFS= read -r line; do
      # shellcheck disable=SC2086 # the rule's words, as iptables-save printed them
      eval "$cmd -t $t -D ${line#-A }" 2>/dev/null || true
      REMOVED=$((REMOVED + 1))
    done < <("$cmd"-save -t "$t" 2>/dev/null | grep -E '^-A ' | grep -E -- '-j (KUBE|CNI)-|^-A (KUBE|CNI)-' | grep -vE '^-A (KUBE|CNI)-')
    chains="$("$cmd"-save -t "$t" 2>/dev/null | awk '/^:(KUBE|CNI)-/{print substr($1, 2)}')"
    for line in $chains; do "$cmd" -t "$t" -F "$line" 2>/dev/null || true; done
    for line in $chains; do "$cmd" -t "$t" -X "$line" 2>/dev/null && REMOVED=$((REMOVED + 1)); done
  done
}

network_step() {
  local made=()
  if ip link show "$LAB_KUBE_BRIDGE" >/dev/null 2>&1; then ip link del "$LAB_KUBE_BRIDGE"; made+=("bridge $LAB_KUBE_BRIDGE"); fi
  rm -rf "$LAB_KUBE_RUN_DIR/cni-ipam"
  REMOVED=0
  kube_chains_cleanup iptables
  kube_chains_cleanup ip6tables
  LAB_STATUS="removed ${made[*]:-no bridge}; $REMOVED KUBE-/CNI- iptables rules/chains"
}

cgroups_step() {
  local n=0 d
  for d in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$d" ] || continue
    while IFS= read -r sub; do rmdir "$sub" 2>/dev/null && n=$((n + 1)); done < <(find "$d" -depth -type d)
  done
  LAB_STATUS="removed $n kubepods cgroups"
}

state_step() {
  if [ "$LAB_KUBE_KEEP_STATE" = 1 ]; then
    LAB_STATUS="kept (LAB_KUBE_KEEP_STATE=1)"
    return 0
  fi
  rm -rf "$KUBE_ETCD_DATA" "$KUBE_KUBELET_ROOT" "$KUBE_POD_LOGS" "$LAB_KUBE_RUN_DIR"
  # The arm64 node's (its containerd root, the image cache, stays).
  local d
  for d in kubelet pod-logs var-lib-kubelet var-log-containers; do rm -rf "${KUBE_ARM64_DIR:?}/$d"; done
  # The kubelet links every container's log into /var/log/containers (a fixed path).
  local l n=0
  for l in /var/log/containers/*.log; do
    [ -L "$l" ] || continue
    case "$(readlink "$l")" in "$KUBE_POD_LOGS"/*) rm -f "$l"; n=$((n + 1)) ;; esac
  done
  LAB_STATUS="wiped etcd data, kubelet dirs, pod logs ($n links in /var/log/containers), $LAB_KUBE_RUN_DIR"
}

# Fixed paths outside our dirs: the kubelet's device-plugin socket dir and container log links,
# containerd's pod netns, shim socket and fifo dirs, libcni's result cache. Only our entries, and only
# directories left empty. (The arm64 node is down by now: it bind-mounts over /var/lib/kubelet,
# and removing that dir would detach its mounts.)
host_dirs_step() {
  local n=0 d
  rm -f /var/lib/kubelet/device-plugins/kubelet.sock /var/lib/kubelet/device-plugins/kubelet_internal_checkpoint
  rm -f /var/lib/cni/results/lab-*
  for d in /var/lib/kubelet/device-plugins /var/lib/kubelet /var/log/containers /var/lib/cni/results /var/lib/cni /run/netns \
    /run/containerd/s /run/containerd/fifo /run/containerd/runc /run/containerd; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null && n=$((n + 1))
  done
  LAB_STATUS="removed $n empty directories"
}

# The arm64 node first, all of it (kube-lib.sh): then nothing runs in its mount namespace when
# the host dirs it bind-mounts over are removed below.
arm64_step() {
  LAB_STEP_LOG="$LAB_LOGS/kube-stop.log"
  if kube_arm64_present; then kube_arm64_down; else LAB_STATUS="not running"; fi
}

start=$(date +%s)
lab_step stop-arm64-node arm64_step
lab_step stop-nodes nodes_step
lab_step stop-pods pods_step
lab_step stop-control-plane control_plane_step
lab_step stop-runtime runtime_step
lab_step unmount mounts_step
lab_step network-cleanup network_step
lab_step cgroups cgroups_step
lab_step state state_step
lab_step host-dirs host_dirs_step
echo "[setup/kube] stopped in $(($(date +%s) - start)) s"
