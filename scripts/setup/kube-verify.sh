#!/usr/bin/env bash
# Smoke test of the local cluster (run by kube.sh when LAB_SETUP_VERIFY=1): a Deployment of the
# lab's Node base image pulled from the loopback registry over plain HTTP, 2 replicas answering
# process.arch on :8080, a NodePort Service, and HTTP requests from the host to 127.0.0.1:<nodePort>
# (kube-proxy, iptables mode, localhost NodePorts). The namespace is deleted afterwards unless
# LAB_KUBE_VERIFY_KEEP=1.
set -euo pipefail
# shellcheck source=scripts/setup/kube-lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/kube-lib.sh"
: "${LAB_KUBE_VERIFY_NS:=lab-kube-verify}"
: "${LAB_KUBE_VERIFY_NODEPORT:=30080}"
: "${LAB_KUBE_VERIFY_KEEP:=0}"
NS="$LAB_KUBE_VERIFY_NS"

nodes_step() {
  local out; out="$(kube_kubectl get nodes --no-headers -o custom-columns='N:.metadata.name,A:.metadata.labels.kubernetes\.io/arch,R:.status.conditions[?(@.type=="Ready")].status')"
  local want; case "$(uname -m)" in aarch64 | arm64) want=arm64 ;; *) want=amd64 ;; esac
  awk -v w="$want" '$2 == w && $3 == "True" { ok = 1 } END { exit !ok }' <<<"$out" ||
    { echo "no Ready node with kubernetes.io/arch=$want: $out" >&2; return 1; }
  LAB_STATUS="$(tr -s ' ' <<<"$out" | paste -sd';')"
}

deploy_step() {
  LAB_STEP_LOG="$LAB_LOGS/kube-verify.log"
  kube_kubectl apply -f - >"$LAB_STEP_LOG" 2>&1 <<YAML
apiVersion: v1
kind: Namespace
metadata: { name: $NS }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: hello, namespace: $NS }
spec:
  replicas: 2
  selector: { matchLabels: { app: hello } }
  template:
    metadata: { labels: { app: hello } }
    spec:
      automountServiceAccountToken: false
      terminationGracePeriodSeconds: 2   # node as PID 1 ignores SIGTERM
      containers:
        - name: hello
          image: $LAB_BASE_IMAGE
          command: ["node", "-e", "require('http').createServer((q,s)=>s.end(process.arch)).listen(8080)"]
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
  LAB_STATUS="$(kube_kubectl -n "$NS" get pods -l app=hello --no-headers -o custom-columns='N:.metadata.name,IP:.status.podIP,S:.status.phase' | tr -s ' ' | paste -sd';')"
}

traffic_step() {
  local url="http://127.0.0.1:$LAB_KUBE_VERIFY_NODEPORT/" body answers=() want
  case "$(uname -m)" in aarch64 | arm64) want=arm64 ;; *) want=x64 ;; esac
  # kube-proxy programs the new Service within a second or two.
  local deadline=$(( $(date +%s) + 30 ))
  until curl -fsS --max-time 2 -o /dev/null "$url" 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "no answer from $url after 30 s" >&2; return 1; }
    sleep 0.5
  done
  for _ in 1 2 3 4 5 6; do
    body="$(curl -fsS --max-time 5 "$url")"
    [ "$body" = "$want" ] || { echo "GET $url answered '$body', want '$want'" >&2; return 1; }
    answers+=("$body")
  done
  LAB_STATUS="GET $url -> ${answers[*]}"
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
