#!/usr/bin/env bash
# Smoke test of the local cluster (run by kube.sh when LAB_SETUP_VERIFY=1): a Deployment of the
# lab's Node base image pulled from the loopback registry over plain HTTP, answering process.arch
# and its pod name on :8080, a NodePort Service, and HTTP requests from the host to
# 127.0.0.1:<nodePort> (kube-proxy, iptables mode, localhost NodePorts). With the arm64 node
# (LAB_KUBE_ARM64_NODE=1), 4 replicas spread over kubernetes.io/arch: answers must come from both
# architectures, each from a pod on a node of that architecture. The namespace is deleted
# afterwards unless LAB_KUBE_VERIFY_KEEP=1.
set -euo pipefail
# shellcheck source=scripts/setup/kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh"
: "${LAB_KUBE_VERIFY_NS:=lab-kube-verify}"
: "${LAB_KUBE_VERIFY_NODEPORT:=30080}"
: "${LAB_KUBE_VERIFY_KEEP:=0}"
NS="$LAB_KUBE_VERIFY_NS"

# Node's process.arch for a kubernetes.io/arch value.
node_arch() { case "$1" in amd64) echo x64 ;; *) echo "$1" ;; esac; }

nodes_step() {
  local out; out="$(kube_kubectl get nodes --no-headers -o custom-columns='N:.metadata.name,A:.metadata.labels.kubernetes\.io/arch,M:.status.nodeInfo.architecture,R:.status.conditions[?(@.type=="Ready")].status')"
  local want=("$LAB_KUBE_NODE_NAME" "") w
  case "$(uname -m)" in aarch64 | arm64) want[1]=arm64 ;; *) want[1]=amd64 ;; esac
  [ "$LAB_KUBE_ARM64_NODE" != 1 ] || want+=("$LAB_KUBE_ARM64_NODE_NAME" arm64)
  for ((w = 0; w < ${#want[@]}; w += 2)); do
    awk -v n="${want[w]}" -v a="${want[w + 1]}" '$1 == n && $2 == a && $3 == a && $4 == "True" { ok = 1 } END { exit !ok }' <<<"$out" ||
      { echo "node ${want[w]} is not Ready with kubernetes.io/arch=${want[w + 1]} and architecture ${want[w + 1]}: $out" >&2; return 1; }
  done
  LAB_STATUS="$(tr -s ' ' <<<"$out" | paste -sd';' | sed 's/;/; /g')"
}

deploy_step() {
  LAB_STEP_LOG="$LAB_LOGS/kube-verify.log"
  local replicas=2 spread=""
  if [ "$LAB_KUBE_ARM64_NODE" = 1 ]; then
    # Two per architecture: each node gets pods, and the Service balances over both.
    replicas=4
    spread="
      topologySpreadConstraints:
        - { maxSkew: 1, minDomains: 2, topologyKey: kubernetes.io/arch, whenUnsatisfiable: DoNotSchedule, labelSelector: { matchLabels: { app: hello } } }"
  fi
  kube_kubectl apply -f - >"$LAB_STEP_LOG" 2>&1 <<YAML
apiVersion: v1
kind: Namespace
metadata: { name: $NS }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: hello, namespace: $NS }
spec:
  replicas: $replicas
  selector: { matchLabels: { app: hello } }
  template:
    metadata: { labels: { app: hello } }
    spec:
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 2   # node as PID 1 ignores SIGTERM$spread
      containers:
        - name: hello
          image: $LAB_BASE_IMAGE
          command: ["node", "-e", "require('http').createServer((q,s)=>s.end(process.arch+' '+require('os').hostname())).listen(8080)"]
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 2 }
---
apiVersion: v1
kind: Service
metadata: { name: hello, namespace: $NS }
spec:
  type: NodePort
  selector: { app: hello }
  ports: [{ port: 80, targetPort: 8080, nodePort: $LAB_KUBE_VERIFY_NODEPORT }]
YAML
  if ! kube_kubectl -n "$NS" rollout status deploy/hello --timeout=300s >>"$LAB_STEP_LOG" 2>&1; then
    kube_kubectl -n "$NS" get pods -o wide >>"$LAB_STEP_LOG" 2>&1 || true
    kube_kubectl -n "$NS" get events --sort-by=.lastTimestamp >>"$LAB_STEP_LOG" 2>&1 || true
    return 1
  fi
  LAB_STATUS="$(kube_kubectl -n "$NS" get pods -l app=hello --no-headers -o custom-columns='N:.metadata.name,IP:.status.podIP,NODE:.spec.nodeName,S:.status.phase' | tr -s ' ' | paste -sd';' | sed 's/;/; /g')"
}

traffic_step() {
  local url="http://127.0.0.1:$LAB_KUBE_VERIFY_NODEPORT/" body arch pod node want=() seen=()
  case "$(uname -m)" in aarch64 | arm64) want=(arm64) ;; *) want=(x64) ;; esac
  [ "$LAB_KUBE_ARM64_NODE" != 1 ] || [ "${want[0]}" = arm64 ] || want+=(arm64)
  # Pod -> node -> the node's kubernetes.io/arch, to check each answer against where it ran.
  declare -A node_of arch_of
  while read -r pod node; do node_of[$pod]="$node"; done < <(kube_kubectl -n "$NS" get pods -l app=hello --no-headers -o custom-columns='P:.metadata.name,N:.spec.nodeName')
  while read -r node arch; do arch_of[$node]="$arch"; done < <(kube_kubectl get nodes --no-headers -o custom-columns='N:.metadata.name,A:.metadata.labels.kubernetes\.io/arch')
  # kube-proxy programs the new Service within a second or two.
  local deadline=$(( $(date +%s) + 30 ))
  until curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "no answer from $url after 30 s" >&2; return 1; }
    sleep 0.5
  done
  # At least 6 requests; more, for up to 30 s, until every wanted architecture has answered
  # (kube-proxy adds the endpoints that became ready last a second or so after the rollout).
  local n=0
  deadline=$(( $(date +%s) + 30 ))
  while :; do
    n=$((n + 1))
    body="$(curl -fsS --max-time 5 "$url")"
    read -r arch pod <<<"$body"
    node="${node_of[$pod]:-}"
    [ -n "$node" ] || { echo "GET $url answered '$body', not from one of the Deployment's pods" >&2; return 1; }
    [ "$arch" = "$(node_arch "${arch_of[$node]:-}")" ] ||
      { echo "GET $url answered '$body' from node $node (kubernetes.io/arch=${arch_of[$node]:-?})" >&2; return 1; }
    case " ${seen[*]} " in *" $arch "*) ;; *) seen+=("$arch") ;; esac
    if [ "$n" -ge 6 ] && { [ "${#seen[@]}" -ge "${#want[@]}" ] || [ "$(date +%s)" -ge "$deadline" ]; }; then break; fi
    [ "$n" -lt 6 ] || sleep 0.2
  done
  for arch in "${want[@]}"; do
    case " ${seen[*]} " in *" $arch "*) ;; *) echo "no answer from $arch in $n requests (seen: ${seen[*]})" >&2; return 1 ;; esac
  done
  [ "${#seen[@]}" -eq "${#want[@]}" ] || { echo "unexpected architectures: ${seen[*]}, want ${want[*]}" >&2; return 1; }
  LAB_STATUS="GET $url x$n -> ${seen[*]}, each from a pod on a node of that architecture"
}

cleanup_step() {
  if [ "$LAB_KUBE_VERIFY_KEEP" = 1 ]; then LAB_STATUS="kept namespace $NS"; return 0; fi
  kube_kubectl delete namespace "$NS" --wait=true --timeout=120s >/dev/null
  LAB_STATUS="deleted namespace $NS"
}

lab_step verify-node nodes_step
lab_step verify-deploy deploy_step
lab_step verify-nodeport traffic_step
lab_step verify-cleanup cleanup_step
