#!/usr/bin/env bash
# Sourced by kube.sh: its binaries (built from tools/kube and tools/containerd) and the pause image.
# It defines steps and the variables they share; kube.sh runs them, in its order.

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
