#!/usr/bin/env bash
# Sourced by kube.sh: (re)starting the host node's daemons: containerd, etcd, the control plane, the kubelet.
# It defines steps and the variables they share; kube.sh runs them, in its order.

# --- daemons --------------------------------------------------------------------

# daemon_step NAME HEALTH_FN SECONDS COMMAND...: (re)start COMMAND unless it runs with the same
# command line, config files (KUBE_DAEMON_FILES) and binaries (unless KUBE_DAEMON_STAMPS=0), and
# HEALTH_FN answers.
KUBE_DAEMON_STAMPS=1
daemon_step() {
  local name="$1" health="$2" secs="$3"; shift 3
  LAB_STEP_LOG="$LAB_LOGS/$name.log"
  local fp fpfile="$LAB_KUBE_RUN_DIR/$name.fingerprint" f
  fp="$(
    printf '%s\n' "$*"
    for f in "${KUBE_DAEMON_FILES[@]}"; do cat "$f"; done
    [ "$KUBE_DAEMON_STAMPS" = 0 ] || cat "$KUBE_BIN"/.*.stamp 2>/dev/null
  )"
  fp="$(printf '%s' "$fp" | sha256sum | cut -c1-16)"
  local pid; pid="$(lab_daemon_pid "$name")"
  if lab_pid_alive "$pid" && "$health" >/dev/null 2>&1; then
    if [ "$(cat "$fpfile" 2>/dev/null)" = "$fp" ]; then
      LAB_STATUS="running (pid $pid)"
      return 0
    fi
    RESTARTED="restarted"
  else
    RESTARTED="started"
  fi
  lab_stop_daemon "$name" 5
  if "$health" >/dev/null 2>&1; then
    echo "something we did not start already answers for $name; stop it first" >&2
    return 1
  fi
  lab_start_daemon "$name" "$LAB_STEP_LOG" "$@"
  lab_wait_daemon "$name" "$secs" "$health"
  printf '%s\n' "$fp" >"$fpfile"
  LAB_STATUS="$RESTARTED (pid $(lab_daemon_pid "$name"))"
}

# containerd_config ROOT RUN_DIR CNI_CONF_DIR [RUNC]: a CRI runtime's config.toml; socket, state
# and runc root under RUN_DIR. RUNC (the arm64 node's) also sets what its mount namespace needs.
containerd_config() {
  cat <<TOML
# Written by scripts/setup/kube.sh: the CRI runtime of the local cluster, separate from
# dockerd's containerd (own socket, root and state).
version = 2
root = "$1"
state = "$2/containerd"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.zfs"]

[grpc]
  address = "$2/containerd.sock"

[ttrpc]
  address = "$2/containerd.sock.ttrpc"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$LAB_KUBE_PAUSE_IMAGE"
  enable_unprivileged_ports = true
  # This sandbox withholds CAP_SYS_RESOURCE, so no process may lower its oom_score_adj below 0
  # (runc failed with "failed to update /proc/self/oom_score_adj: Permission denied" for the
  # sandbox's -998): never ask for less than containerd's own score.
  restrict_oom_score_adj = true
TOML
  [ -z "${4:-}" ] || cat <<TOML
  # Pod netns bind mounts under the state dir (in the node's mount namespace), not /run/netns.
  netns_mounts_under_state_dir = true
TOML
  cat <<TOML
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
TOML
  [ -z "${4:-}" ] || cat <<TOML
        # The host's runc (native amd64: namespaces, seccomp, cgroups).
        BinaryName = "$4"
TOML
  cat <<TOML
        Root = "$2/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$LAB_KUBE_CNI_BIN_DIR"
    conf_dir = "$3"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$KUBE_ETC/containerd/certs.d"
TOML
}

# The loopback registry speaks plain HTTP (both nodes' containerd read this).
registry_hosts() {
  mkdir -p "$KUBE_ETC/containerd/certs.d/$LAB_REGISTRY"
  write_if_changed "$KUBE_ETC/containerd/certs.d/$LAB_REGISTRY/hosts.toml" <<TOML
server = "http://$LAB_REGISTRY"

[host."http://$LAB_REGISTRY"]
  capabilities = ["pull", "resolve"]
TOML
}

containerd_up() { [ -S "$KUBE_CONTAINERD_SOCK" ] && ctr --address "$KUBE_CONTAINERD_SOCK" --connect-timeout 2s version; }

containerd_step() {
  registry_hosts
  containerd_config "$LAB_KUBE_DIR/containerd" "$LAB_KUBE_RUN_DIR" "$KUBE_ETC/cni" |
    write_if_changed "$KUBE_ETC/containerd/config.toml"
  KUBE_DAEMON_FILES=("$KUBE_ETC/containerd/config.toml" "$KUBE_ETC/containerd/certs.d/$LAB_REGISTRY/hosts.toml")
  daemon_step kube-containerd containerd_up 30 containerd --config "$KUBE_ETC/containerd/config.toml"
  LAB_STATUS="$LAB_STATUS $(containerd --version | awk '{print $3}') on $KUBE_CONTAINERD_SOCK"
}

etcd_up() { curl -fsS --max-time 2 "http://127.0.0.1:$LAB_KUBE_ETCD_PORT/health" | grep -q '"health":"true"'; }

etcd_step() {
  KUBE_DAEMON_FILES=()
  mkdir -p "$KUBE_ETCD_DATA"; chmod 700 "$KUBE_ETCD_DATA"
  daemon_step kube-etcd etcd_up 60 "$KUBE_BIN/etcd" --name lab --data-dir "$KUBE_ETCD_DATA" \
    --listen-client-urls "http://127.0.0.1:$LAB_KUBE_ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$LAB_KUBE_ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((LAB_KUBE_ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((LAB_KUBE_ETCD_PORT + 1))" \
    --initial-cluster "lab=http://127.0.0.1:$((LAB_KUBE_ETCD_PORT + 1))" --listen-metrics-urls "" --log-level warn
  LAB_STATUS="$LAB_STATUS $("$KUBE_BIN/etcd" --version | awk '/etcd Version/{print $3}') on 127.0.0.1:$LAB_KUBE_ETCD_PORT"
}

apiserver_up() {
  curl -fsS --max-time 3 --cacert "$KUBE_PKI/ca.crt" --cert "$KUBE_PKI/admin.crt" --key "$KUBE_PKI/admin.key" \
    "$KUBE_APISERVER_URL/readyz" | grep -qx ok
}

# The apiserver reaches the kubelet by the node's Hostname address when that name resolves to
# loopback (then the kubelet listens on 127.0.0.1 only); else by the node IP on the pod bridge.
# With the arm64 node always by node IP: its name resolves nowhere, and the apiserver uses one
# address type for all nodes (each kubelet then listens on its own bridge address).
kubelet_reach() {
  if [ "$LAB_KUBE_ARM64_NODE" != 1 ] && getent ahostsv4 "$LAB_KUBE_NODE_NAME" | awk '{print $1}' | grep -q '^127\.'; then
    KUBELET_ADDRESS=127.0.0.1; KUBELET_ADDRESS_TYPES=Hostname
  else
    KUBELET_ADDRESS="$LAB_KUBE_NODE_IP"; KUBELET_ADDRESS_TYPES=InternalIP
  fi
}

apiserver_step() {
  KUBE_DAEMON_FILES=("$KUBE_PKI/ca.crt" "$KUBE_PKI/apiserver.crt" "$KUBE_PKI/sa.pub")
  kubelet_reach
  # --endpoint-reconciler-type=none: the Endpoints API refuses loopback addresses, and the
  # apiserver listens on loopback only, so the `kubernetes` Service has no endpoints (in-cluster
  # clients can't reach the API; nothing here needs it).
  daemon_step kube-apiserver apiserver_up 120 "$KUBE_BIN/kube-apiserver" \
    --bind-address=127.0.0.1 --secure-port="$LAB_KUBE_APISERVER_PORT" --advertise-address="$LAB_KUBE_NODE_IP" \
    --endpoint-reconciler-type=none \
    --etcd-servers="http://127.0.0.1:$LAB_KUBE_ETCD_PORT" \
    --service-cluster-ip-range="$LAB_KUBE_SERVICE_CIDR" --service-node-port-range=30000-32767 \
    --client-ca-file="$KUBE_PKI/ca.crt" \
    --tls-cert-file="$KUBE_PKI/apiserver.crt" --tls-private-key-file="$KUBE_PKI/apiserver.key" \
    --kubelet-client-certificate="$KUBE_PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$KUBE_PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$KUBE_PKI/ca.crt" \
    --kubelet-preferred-address-types="$KUBELET_ADDRESS_TYPES" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$KUBE_PKI/sa.pub" --service-account-signing-key-file="$KUBE_PKI/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true --profiling=false --v=1
}

controller_manager_up() { curl -fsSk --max-time 2 https://127.0.0.1:10257/healthz | grep -qx ok; }

controller_manager_step() {
  KUBE_DAEMON_FILES=("$KUBE_ETC/controller-manager.kubeconfig")
  local kc="$KUBE_ETC/controller-manager.kubeconfig"
  daemon_step kube-controller-manager controller_manager_up 60 "$KUBE_BIN/kube-controller-manager" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false --use-service-account-credentials=true \
    --root-ca-file="$KUBE_PKI/ca.crt" --service-account-private-key-file="$KUBE_PKI/sa.key" \
    --cluster-signing-cert-file="$KUBE_PKI/ca.crt" --cluster-signing-key-file="$KUBE_PKI/ca.key" \
    --service-cluster-ip-range="$LAB_KUBE_SERVICE_CIDR" --allocate-node-cidrs=false --profiling=false \
    --flex-volume-plugin-dir="$KUBE_KUBELET_ROOT/volume-plugins" --v=1
}

scheduler_up() { curl -fsSk --max-time 2 https://127.0.0.1:10259/healthz | grep -qx ok; }

scheduler_step() {
  KUBE_DAEMON_FILES=("$KUBE_ETC/scheduler.kubeconfig")
  local kc="$KUBE_ETC/scheduler.kubeconfig"
  daemon_step kube-scheduler scheduler_up 60 "$KUBE_BIN/kube-scheduler" \
    --kubeconfig="$kc" --authentication-kubeconfig="$kc" --authorization-kubeconfig="$kc" \
    --bind-address=127.0.0.1 --leader-elect=false --profiling=false --v=1
}

kubelet_up() { curl -fsS --max-time 2 http://127.0.0.1:10248/healthz | grep -qx ok; }

# kubelet_config ADDRESS PORT HEALTHZ_PORT CERT CRI_SOCKET POD_LOGS [CGROUP_ROOT]
kubelet_config() {
  cat <<YAML
# Written by scripts/setup/kube.sh
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $1
port: $2
healthzBindAddress: 127.0.0.1
healthzPort: $3
readOnlyPort: 0
tlsCertFile: $KUBE_PKI/$4.crt
tlsPrivateKeyFile: $KUBE_PKI/$4.key
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $KUBE_PKI/ca.crt }
authorization:
  mode: Webhook
containerRuntimeEndpoint: unix://$5
# No systemd here; the host has cgroup v1 (hybrid), which kubelet 1.34 still runs on when told to.
cgroupDriver: cgroupfs
YAML
  [ -z "${7:-}" ] || cat <<YAML
# The second node's pods go under their own cgroup root (made by kube.sh in each hierarchy).
cgroupRoot: /$7
YAML
  cat <<YAML
failCgroupV1: false
failSwapOn: false
podLogsDir: $6
resolvConf: /etc/resolv.conf
clusterDomain: cluster.local
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
registerNode: true
maxPods: 30
# The machine's disk is shared: evict only when it is really full.
evictionHard:
  nodefs.available: "2%"
  imagefs.available: "2%"
  memory.available: "100Mi"
imageGCHighThresholdPercent: 95
imageGCLowThresholdPercent: 90
YAML
}

kubelet_step() {
  kubelet_reach
  mkdir -p "$KUBE_KUBELET_ROOT" "$KUBE_POD_LOGS"
  kubelet_config "$KUBELET_ADDRESS" 10250 10248 kubelet-server "$KUBE_CONTAINERD_SOCK" "$KUBE_POD_LOGS" |
    write_if_changed "$KUBE_ETC/kubelet.yaml"
  KUBE_DAEMON_FILES=("$KUBE_ETC/kubelet.yaml" "$KUBE_ETC/kubelet.kubeconfig")
  daemon_step kubelet kubelet_up 60 "$KUBE_BIN/kubelet" \
    --config="$KUBE_ETC/kubelet.yaml" --kubeconfig="$KUBE_ETC/kubelet.kubeconfig" \
    --root-dir="$KUBE_KUBELET_ROOT" --cert-dir="$KUBE_KUBELET_ROOT/pki" \
    --volume-plugin-dir="$KUBE_KUBELET_ROOT/volume-plugins" \
    --hostname-override="$LAB_KUBE_NODE_NAME" --node-ip="$LAB_KUBE_NODE_IP" --v=1
  LAB_STATUS="$LAB_STATUS; serves on $KUBELET_ADDRESS:10250 (apiserver uses $KUBELET_ADDRESS_TYPES)"
}
