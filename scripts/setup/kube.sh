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

# --- binaries -------------------------------------------------------------------

# A binary is rebuilt when the Go version or the tools module's pins change, or, for our own
# commands (bin_key DIR), their sources.
bin_key() {
  printf '%s %s %s\n' "$(go env GOVERSION)" "$(kube_version)" \
    "$(cat "$KUBE_TOOLS_DIR/go.mod" "$KUBE_TOOLS_DIR/go.sum" ${1:+"$KUBE_TOOLS_DIR/$1"/*.go} | sha256sum | cut -c1-16)"
}

kube_ldflags() {
  local v; v="$(kube_version)"
  local minor="${v#v1.}"; minor="${minor%%.*}"
  local ld="-s -w" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld+=" -X $p.gitCommit=module-k8s.io/kubernetes@$v -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  printf '%s' "$ld"
}

# build_step NAME PACKAGE [GOARCH]: go build PACKAGE from tools/kube into $KUBE_BIN/NAME, or for
# linux/GOARCH into $KUBE_BIN/GOARCH/NAME.
build_step() {
  local name="$1" pkg="$2" arch="${3:-}" key
  local out="$KUBE_BIN/${arch:+$arch/}$name" stamp="$KUBE_BIN/.${arch:+$arch-}$name.stamp"
  command -v go >/dev/null || { echo "go not found (expected /usr/local/go/bin/go)" >&2; return 1; }
  case "$pkg" in ./*) key="$(bin_key "${pkg#./}")" ;; *) key="$(bin_key)" ;; esac
  key="$key${arch:+ $arch}"
  if [ -x "$out" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    LAB_STATUS="cached: $(kube_version) in $(dirname "$out")"
    return 0
  fi
  LAB_STEP_LOG="$LAB_LOGS/kube-build-${arch:+$arch-}$name.log"
  mkdir -p "$(dirname "$out")"
  local tmp; tmp="$(mktemp -d "$KUBE_BIN/.build.XXXXXX")"
  (
    cd "$KUBE_TOOLS_DIR"
    [ -z "$arch" ] || export GOOS=linux GOARCH="$arch"
    go version
    CGO_ENABLED=0 go build -mod=readonly -buildvcs=false -trimpath -ldflags "$(kube_ldflags)" -o "$tmp/$name" "$pkg"
  ) >"$LAB_STEP_LOG" 2>&1
  mv -f "$tmp/$name" "$out"
  rmdir "$tmp"
  printf '%s\n' "$key" >"$stamp"
  LAB_STATUS="built ${arch:+$arch/}$name $(kube_version) ($(go env GOVERSION), $(du -m "$out" | cut -f1) MB)"
}

containerd_version() { awk '$1 == "github.com/containerd/containerd" { print $2; exit }' "$KUBE_CONTAINERD_TOOLS_DIR/go.mod"; }

# The arm64 node's runtime, from tools/containerd: containerd for linux/arm64, patched (qemu-user
# refuses PR_SET_SECCOMP, so its CRI would find seccomp unsupported and fail every sandbox; and
# the filter must be the amd64 one, since the host runc applies it to qemu's amd64 syscalls), and
# containerd-shim-runc-v2 for the host (qemu-user refuses PR_SET_CHILD_SUBREAPER, so an arm64
# shim exits at start). The patch is applied to a copy of the module under $LAB_KUBE_DIR/src,
# wired in by a temporary -modfile with a replace, so the committed go.mod stays plain.
arm64_containerd_build_step() {
  local v key stamp="$KUBE_BIN/.arm64-containerd.stamp" t="$KUBE_CONTAINERD_TOOLS_DIR"
  command -v go >/dev/null || { echo "go not found (expected /usr/local/go/bin/go)" >&2; return 1; }
  v="$(containerd_version)"
  key="$(printf '%s %s %s\n' "$(go env GOVERSION)" "$v" "$(cat "$t/go.mod" "$t/go.sum" "$t"/patches/*.patch | sha256sum | cut -c1-16)")"
  if [ -x "$KUBE_ARM64_BIN/containerd" ] && [ -x "$KUBE_ARM64_BIN/path/containerd-shim-runc-v2" ] &&
    [ "$(cat "$stamp" 2>/dev/null)" = "$key" ]; then
    LAB_STATUS="cached: containerd $v (arm64, patched) + shim (amd64) in $KUBE_ARM64_BIN"
    return 0
  fi
  LAB_STEP_LOG="$LAB_LOGS/kube-build-arm64-containerd.log"
  local src="$LAB_KUBE_DIR/src" tmp
  tmp="$(mktemp -d "$KUBE_BIN/.build.XXXXXX")"
  local ld="-s -w -X github.com/containerd/containerd/version.Version=$v"
  ld+=" -X github.com/containerd/containerd/version.Revision=module-$v+lab-seccomp-under-qemu"
  ld+=" -X github.com/containerd/containerd/version.Package=github.com/containerd/containerd"
  local flags=(-mod=readonly -buildvcs=false -trimpath -tags "no_btrfs no_devmapper no_zfs no_aufs" -ldflags "$ld")
  (
    cd "$t"
    go version
    go mod download github.com/containerd/containerd
    rm -rf "$src"; mkdir -p "$src"
    cp -r "$(go env GOMODCACHE)/github.com/containerd/containerd@$v" "$src/containerd"
    chmod -R u+w "$src/containerd"
    for p in patches/*.patch; do echo "applying $p"; patch -d "$src/containerd" -p1 <"$p"; done
    cp go.mod "$src/go.mod"; cp go.sum "$src/go.sum"
    go mod edit -modfile "$src/go.mod" -replace "github.com/containerd/containerd=$src/containerd"
    CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -modfile "$src/go.mod" "${flags[@]}" -o "$tmp/containerd" github.com/containerd/containerd/cmd/containerd
    CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go build "${flags[@]}" -o "$tmp/containerd-shim-runc-v2" github.com/containerd/containerd/cmd/containerd-shim-runc-v2
  ) >"$LAB_STEP_LOG" 2>&1
  rm -rf "$src"
  mkdir -p "$KUBE_ARM64_BIN/path"
  mv -f "$tmp/containerd" "$KUBE_ARM64_BIN/containerd"
  mv -f "$tmp/containerd-shim-runc-v2" "$KUBE_ARM64_BIN/path/containerd-shim-runc-v2"
  # containerd looks its shim up in PATH: the node's containerd runs with this dir first.
  ln -sfn ../containerd "$KUBE_ARM64_BIN/path/containerd"
  rmdir "$tmp"
  printf '%s\n' "$key" >"$stamp"
  LAB_STATUS="built containerd $v (arm64, patched, $(du -m "$KUBE_ARM64_BIN/containerd" | cut -f1) MB) + containerd-shim-runc-v2 (amd64, $(du -m "$KUBE_ARM64_BIN/path/containerd-shim-runc-v2" | cut -f1) MB)"
}

# --- pause image -----------------------------------------------------------------

# The pod sandbox image: tools/kube/pause (Go, static) FROM scratch, amd64 + arm64, pushed to the
# loopback registry. Re-pushed when the binaries changed or the registry lost it.
pause_step() {
  local dir="$LAB_KUBE_DIR/pause" ref="$LAB_KUBE_PAUSE_IMAGE"
  local repo="${ref#"$LAB_REGISTRY"/}"; local tag="${repo##*:}"; repo="${repo%:*}"
  LAB_STEP_LOG="$LAB_LOGS/kube-pause.log"
  mkdir -p "$dir"
  local key; key="$(bin_key pause)"
  if [ "$(cat "$dir/pushed.key" 2>/dev/null)" = "$key" ] &&
    [ "$(lab_index_platforms "$repo" "$tag" 2>/dev/null | tr '\n' ' ')" = "linux/amd64 linux/arm64 " ]; then
    LAB_STATUS="present: $ref (amd64, arm64)"
    return 0
  fi
  {
    local arch
    for arch in amd64 arm64; do
      mkdir -p "$dir/$arch"
      (cd "$KUBE_TOOLS_DIR" && CGO_ENABLED=0 GOOS=linux GOARCH=$arch go build -mod=readonly -buildvcs=false -trimpath \
        -ldflags "-s -w -X main.version=$tag-lab" -o "$dir/$arch/pause" ./pause)
    done
    cat >"$dir/Dockerfile" <<'DOCKERFILE'
FROM scratch
ARG TARGETARCH
COPY ${TARGETARCH}/pause /pause
USER 65535:65535
ENTRYPOINT ["/pause"]
DOCKERFILE
    lab_buildctl build --frontend dockerfile.v0 --local context="$dir" --local dockerfile="$dir" \
      --opt platform=linux/amd64,linux/arm64 --output "type=image,name=$ref,push=true"
  } >"$LAB_STEP_LOG" 2>&1
  printf '%s\n' "$key" >"$dir/pushed.key"
  LAB_STATUS="pushed $ref (amd64, arm64; $(du -k "$dir/amd64/pause" | cut -f1) KiB binary)"
}

# --- certificates and kubeconfigs ------------------------------------------------

# cert NAME SUBJECT EKU [SAN]: a key and a certificate signed by the cluster CA, unless present.
cert() {
  local name="$1" subj="$2" eku="$3" san="${4:-}"
  [ -s "$KUBE_PKI/$name.crt" ] && [ -s "$KUBE_PKI/$name.key" ] && return 0
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout "$KUBE_PKI/$name.key" -subj "$subj" -out "$KUBE_PKI/$name.csr" 2>/dev/null
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$KUBE_PKI/$name.ext"
  openssl x509 -req -in "$KUBE_PKI/$name.csr" -CA "$KUBE_PKI/ca.crt" -CAkey "$KUBE_PKI/ca.key" \
    -CAcreateserial -days 3650 -sha256 -extfile "$KUBE_PKI/$name.ext" -out "$KUBE_PKI/$name.crt" 2>/dev/null
  rm -f "$KUBE_PKI/$name.csr" "$KUBE_PKI/$name.ext"
  CERTS_MADE+=("$name")
}

pki_step() {
  LAB_STEP_LOG="$LAB_LOGS/kube-pki.log"
  CERTS_MADE=()
  umask 077
  if [ ! -s "$KUBE_PKI/ca.crt" ] || [ ! -s "$KUBE_PKI/ca.key" ]; then
    # A new CA invalidates every other certificate.
    rm -f "$KUBE_PKI"/*.crt "$KUBE_PKI"/*.key
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 -sha256 \
      -keyout "$KUBE_PKI/ca.key" -out "$KUBE_PKI/ca.crt" -subj "/CN=multiarch-lab-kube-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>>"$LAB_STEP_LOG"
    CERTS_MADE+=(ca)
  fi
  local n="$LAB_KUBE_NODE_NAME"
  cert apiserver "/CN=kube-apiserver" serverAuth \
    "DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$LAB_KUBE_SERVICE_IP,IP:$LAB_KUBE_NODE_IP"
  cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  cert admin "/O=system:masters/CN=lab-admin" clientAuth
  cert controller-manager "/CN=system:kube-controller-manager" clientAuth
  cert scheduler "/CN=system:kube-scheduler" clientAuth
  cert kube-proxy "/CN=system:kube-proxy" clientAuth
  cert kubelet-client "/O=system:nodes/CN=system:node:$n" clientAuth
  cert kubelet-server "/CN=$n" serverAuth "DNS:$n,DNS:localhost,IP:127.0.0.1,IP:$LAB_KUBE_NODE_IP"
  if [ "$LAB_KUBE_ARM64_NODE" = 1 ]; then
    local a="$LAB_KUBE_ARM64_NODE_NAME"
    cert kubelet-arm64-client "/O=system:nodes/CN=system:node:$a" clientAuth
    # The apiserver reaches it at its InternalIP (see kubelet_reach).
    cert kubelet-arm64-server "/CN=$a" serverAuth "DNS:$a,DNS:localhost,IP:127.0.0.1,IP:$LAB_KUBE_ARM64_NODE_IP"
  fi
  if [ ! -s "$KUBE_PKI/sa.key" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$KUBE_PKI/sa.key" 2>>"$LAB_STEP_LOG"
    openssl pkey -in "$KUBE_PKI/sa.key" -pubout -out "$KUBE_PKI/sa.pub" 2>>"$LAB_STEP_LOG"
    CERTS_MADE+=(sa)
  fi
  umask 022
  if [ "${#CERTS_MADE[@]}" -eq 0 ]; then LAB_STATUS="present in $KUBE_PKI"; else LAB_STATUS="made ${CERTS_MADE[*]} in $KUBE_PKI"; fi
}

# kubeconfig FILE USER CERTNAME: a kubeconfig with the CA and client cert embedded.
kubeconfig() {
  local file="$1" user="$2" c="$3"
  umask 077
  cat >"$file.tmp" <<YAML
apiVersion: v1
kind: Config
clusters:
- name: multiarch-lab
  cluster:
    server: $KUBE_APISERVER_URL
    certificate-authority-data: $(base64 -w0 <"$KUBE_PKI/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 <"$KUBE_PKI/$c.crt")
    client-key-data: $(base64 -w0 <"$KUBE_PKI/$c.key")
contexts:
- name: multiarch-lab
  context:
    cluster: multiarch-lab
    user: $user
current-context: multiarch-lab
YAML
  umask 022
  if cmp -s "$file.tmp" "$file"; then rm -f "$file.tmp"; else mv -f "$file.tmp" "$file"; KUBECONFIGS_MADE+=("$(basename "$file")"); fi
}

kubeconfig_step() {
  KUBECONFIGS_MADE=()
  kubeconfig "$KUBE_ADMIN_KUBECONFIG" lab-admin admin
  kubeconfig "$KUBE_ETC/controller-manager.kubeconfig" system:kube-controller-manager controller-manager
  kubeconfig "$KUBE_ETC/scheduler.kubeconfig" system:kube-scheduler scheduler
  kubeconfig "$KUBE_ETC/kube-proxy.kubeconfig" system:kube-proxy kube-proxy
  kubeconfig "$KUBE_ETC/kubelet.kubeconfig" "system:node:$LAB_KUBE_NODE_NAME" kubelet-client
  if [ "$LAB_KUBE_ARM64_NODE" = 1 ]; then
    mkdir -p "$KUBE_ARM64_ETC"
    kubeconfig "$KUBE_ARM64_ETC/kubelet-arm64.kubeconfig" "system:node:$LAB_KUBE_ARM64_NODE_NAME" kubelet-arm64-client
  fi
  if [ "${#KUBECONFIGS_MADE[@]}" -eq 0 ]; then LAB_STATUS="up to date ($KUBE_ADMIN_KUBECONFIG)"; else LAB_STATUS="wrote ${KUBECONFIGS_MADE[*]}"; fi
}

# --- pod network ----------------------------------------------------------------

# bridge_up BRIDGE IP/PREFIX: the bridge with that address, up; prints " (created)" if it was new.
bridge_up() {
  if ! ip link show "$1" >/dev/null 2>&1; then
    ip link add "$1" type bridge
    printf ' (created)'
  fi
  ip -4 addr show dev "$1" | grep -q "inet $2" || ip addr add "$2" dev "$1"
  ip link set "$1" up
}

# conflist NAME BRIDGE POD_CIDR GATEWAY IPAM_DIR [OTHER_POD_CIDR]: a bridge network. No default
# route and no masquerading: pods reach their own range (on-link), Services, and the other
# node's pod range (through the host, which routes between the bridges) only.
conflist() {
  local routes="{ \"dst\": \"$LAB_KUBE_SERVICE_CIDR\" }"
  [ -z "${6:-}" ] || routes+=", { \"dst\": \"$6\" }"
  cat <<JSON
{
  "cniVersion": "1.0.0",
  "name": "$1",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$2",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$5",
        "ranges": [[{ "subnet": "$3", "gateway": "$4" }]],
        "routes": [$routes]
      }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
}

network_step() {
  local made="" prefix="${LAB_KUBE_POD_CIDR#*/}" other="" created
  created="$(bridge_up "$LAB_KUBE_BRIDGE" "$LAB_KUBE_NODE_IP/$prefix")"
  mkdir -p "$KUBE_ETC/cni"
  [ "$LAB_KUBE_ARM64_NODE" != 1 ] || other="$LAB_KUBE_ARM64_POD_CIDR"
  conflist lab "$LAB_KUBE_BRIDGE" "$LAB_KUBE_POD_CIDR" "$LAB_KUBE_NODE_IP" "$LAB_KUBE_RUN_DIR/cni-ipam" "$other" >"$KUBE_ETC/cni/10-lab.conflist.tmp"
  if cmp -s "$KUBE_ETC/cni/10-lab.conflist.tmp" "$KUBE_ETC/cni/10-lab.conflist"; then
    rm -f "$KUBE_ETC/cni/10-lab.conflist.tmp"
  else
    mv -f "$KUBE_ETC/cni/10-lab.conflist.tmp" "$KUBE_ETC/cni/10-lab.conflist"; made+="wrote CNI config; "
  fi
  LAB_STATUS="${made}bridge $LAB_KUBE_BRIDGE $LAB_KUBE_NODE_IP/$prefix$created, pods $LAB_KUBE_POD_CIDR"
  [ "$LAB_KUBE_ARM64_NODE" = 1 ] || return 0
  # The arm64 node: its own bridge and range (its own containerd reads its own CNI dir).
  local aprefix="${LAB_KUBE_ARM64_POD_CIDR#*/}"
  created="$(bridge_up "$LAB_KUBE_ARM64_BRIDGE" "$LAB_KUBE_ARM64_NODE_IP/$aprefix")"
  mkdir -p "$KUBE_ARM64_ETC/cni"
  conflist lab-arm64 "$LAB_KUBE_ARM64_BRIDGE" "$LAB_KUBE_ARM64_POD_CIDR" "$LAB_KUBE_ARM64_NODE_IP" \
    "$LAB_KUBE_ARM64_RUN_DIR/cni-ipam" "$LAB_KUBE_POD_CIDR" | write_if_changed "$KUBE_ARM64_ETC/cni/10-lab-arm64.conflist"
  LAB_STATUS+="; bridge $LAB_KUBE_ARM64_BRIDGE $LAB_KUBE_ARM64_NODE_IP/$aprefix$created, pods $LAB_KUBE_ARM64_POD_CIDR (arm64 node)"
  # Pods of one node reach the other's through the host (kube-stop.sh restores the value).
  if [ "$(cat /proc/sys/net/ipv4/ip_forward)" != 1 ]; then
    [ -f "$LAB_KUBE_RUN_DIR/ip_forward.orig" ] || cat /proc/sys/net/ipv4/ip_forward >"$LAB_KUBE_RUN_DIR/ip_forward.orig"
    echo 1 >/proc/sys/net/ipv4/ip_forward
    LAB_STATUS+="; set ip_forward=1"
  fi
}

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

# LAB_KUBE_ARM64_NODE=0: no arm64 node; one left from an earlier start is stopped.
arm64_off_step() {
  if kube_arm64_present; then
    kube_arm64_down
    LAB_STATUS="LAB_KUBE_ARM64_NODE=0: $LAB_STATUS"
  else
    LAB_STATUS="off (LAB_KUBE_ARM64_NODE=0)"
  fi
}

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

node_step() {
  LAB_STEP_LOG="$LAB_LOGS/kubelet.log"
  local nodes=("$LAB_KUBE_NODE_NAME") n deleted=""
  if [ "$LAB_KUBE_ARM64_NODE" = 1 ]; then
    nodes+=("$LAB_KUBE_ARM64_NODE_NAME")
  elif kube_kubectl get node "$LAB_KUBE_ARM64_NODE_NAME" >/dev/null 2>&1; then
    # Left from a start with the arm64 node (etcd kept): its labels would still say arm64.
    kube_kubectl delete node "$LAB_KUBE_ARM64_NODE_NAME" >/dev/null
    deleted="; deleted node $LAB_KUBE_ARM64_NODE_NAME (LAB_KUBE_ARM64_NODE=0)"
  fi
  local deadline=$(( $(date +%s) + 180 ))
  for n in "${nodes[@]}"; do
    [ "$n" = "$LAB_KUBE_NODE_NAME" ] || LAB_STEP_LOG="$LAB_LOGS/kube-arm64-kubelet.log"
    until node_ready "$n"; do
      [ "$(date +%s)" -lt "$deadline" ] || { kube_kubectl describe node "$n" >&2 || true; return 1; }
      sleep 1
    done
  done
  LAB_STATUS="$(kube_kubectl get node "${nodes[@]}" --no-headers \
    -o custom-columns='N:.metadata.name,V:.status.nodeInfo.kubeletVersion,A:.metadata.labels.kubernetes\.io/arch,M:.status.nodeInfo.architecture,IP:.status.addresses[?(@.type=="InternalIP")].address' |
    awk '{print $1 " Ready, kubelet " $2 ", kubernetes.io/arch=" $3 ", architecture " $4 ", InternalIP " $5}' | paste -sd';' | sed 's/;/; /g')$deleted"
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
