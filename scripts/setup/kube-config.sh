#!/usr/bin/env bash
# Sourced by kube.sh: the cluster CA and certificates, kubeconfigs, and the pod network (bridges, CNI).
# It defines steps and the variables they share; kube.sh runs them, in its order.

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
