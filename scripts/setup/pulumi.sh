#!/usr/bin/env bash
# Build the Pulumi toolchain from Go modules and install it where the engine
# finds it without downloading anything (see docs/LOCAL-TOOLCHAIN-pulumi.md).
#
#   bash scripts/setup/pulumi.sh          # build what is missing or stale
#   source "${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}/env.sh"
#
# Builds (each from its own module under tools/pulumi/, pins in its go.mod):
#   pulumi                        CLI/engine            tools/pulumi/cli
#   pulumi-language-nodejs        our Node.js host      tools/pulumi/cli/cmd/pulumi-language-nodejs
#   pulumi-resource-docker-build  provider plugin       tools/pulumi/docker-build
#   pulumi-resource-kubernetes    provider plugin       tools/pulumi/kubernetes
# (The language host is ours: upstream's newest fetchable one, in sdk/v3@v3.68.0,
# is too old for this engine/SDK. The dynamic-provider launcher
# pulumi-resource-pulumi-nodejs is written by scripts/setup-local.sh, not here.)
# into $LAB_CACHE_DIR/bin (outside the repo, so a fresh clone reuses it), and
# copies the two providers into the engine's plugin cache
# $PULUMI_HOME/plugins/resource-<name>-v<version>/.
#
# Environment:
#   LAB_CACHE_DIR        cache root (default ${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab)
#   PULUMI_HOME          engine home holding plugins/ (default $HOME/.pulumi)
#   LAB_PULUMI_BUILD_CLI=1  build our CLI even if another `pulumi` is on PATH
#   LAB_PULUMI_REBUILD=1    ignore stamps and rebuild everything
set -euo pipefail

log() { printf '[setup/pulumi] %s\n' "$*"; }
die() { printf '[setup/pulumi] ERROR: %s\n' "$*" >&2; exit 1; }

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tools_dir="$repo_root/tools/pulumi"

cache_dir="${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}"
# bin/ holds pulumi and pulumi-language-nodejs and goes on PATH. The provider
# builds live in providers/, which must NOT be on PATH: the engine would pick
# them up as "ambient" plugins and print a warning on every run.
bin_dir="$cache_dir/bin"
plugin_bin_dir="$cache_dir/providers"
stamp_dir="$cache_dir/stamps"
stage_dir="$cache_dir/build"
pulumi_home="${PULUMI_HOME:-$HOME/.pulumi}"
mkdir -p "$bin_dir" "$plugin_bin_dir" "$stamp_dir" "$stage_dir"
# One run at a time per cache (a CI clone and a dev shell may share it).
if command -v flock >/dev/null; then
  exec 9>"$cache_dir/.setup-pulumi.lock"
  flock 9
fi
# Never let the engine try to download plugins or check for CLI updates.
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true

# Versions the engine must see. They have to equal the npm SDK packages in
# package.json (@pulumi/docker-build, @pulumi/kubernetes): the SDKs ask the
# engine for exactly these plugin versions.
DOCKER_BUILD_PLUGIN_VERSION=0.0.22
KUBERNETES_PLUGIN_VERSION=4.34.2

# --- Go ---------------------------------------------------------------------
go_bin=$(command -v go || true)
if [[ -z "$go_bin" && -x /usr/local/go/bin/go ]]; then go_bin=/usr/local/go/bin/go; fi
[[ -n "$go_bin" ]] || die "go not found (need Go >= 1.26.6; /usr/local/go/bin/go or on PATH)"
# The CLI module needs go >= 1.26.6; an older local go fetches a newer
# toolchain through the module proxy (GOTOOLCHAIN=auto), which works here.
go_version=$("$go_bin" env GOVERSION)
log "go: $go_bin ($go_version)"

# require_version <go.mod> <module path>: the version pinned for a module.
require_version() {
  awk -v m="$2" '($1 == m) { print $2; exit } ($1 == "require" && $2 == m) { print $3; exit }' "$1"
}

# stamp_key <module dir> <version> <paths...>: hash of the Go toolchain, the
# version stamped into the binary, and the Go sources/pins under <paths>.
stamp_key() {
  local dir=$1 version=$2
  shift 2
  {
    printf '%s\n' "$go_version" "$version"
    (cd "$dir" && find "$@" -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) -print0 |
      LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -c1-16
}

# fresh <out dir> <name> <key>: true when <out dir>/<name> exists and was built for <key>.
fresh() {
  [[ "${LAB_PULUMI_REBUILD:-}" != 1 && -x "$1/$2" && -f "$stamp_dir/$2" ]] &&
    grep -qx "key=$3" "$stamp_dir/$2"
}

write_stamp() { # <name> <key> <version> <source>
  printf 'key=%s\nversion=%s\nsource=%s\ngo=%s\nbuilt=%s\n' \
    "$2" "$3" "$4" "$go_version" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$stamp_dir/$1"
}

# run_go <args...>: go, minus the "go: downloading ..." lines of a cold module cache.
run_go() {
  "$go_bin" "$@" 2> >(grep -v '^go: downloading ' >&2)
}

# go_build <module dir> <out dir> <output name> <ldflags> <package> [go build flags...]
go_build() {
  local dir=$1 out=$2 name=$3 ldflags=$4 pkg=$5 start=$SECONDS
  shift 5
  (cd "$dir" && run_go build -trimpath "$@" -ldflags "-s -w $ldflags" -o "$out/$name.tmp" "$pkg")
  mv -f "$out/$name.tmp" "$out/$name"
  log "built $name in $((SECONDS - start))s ($(du -h "$out/$name" | cut -f1))"
}

# --- 1. CLI + Node.js language host ------------------------------------------
cli_mod="$tools_dir/cli"
pulumi_version=$(require_version "$cli_mod/go.mod" github.com/pulumi/pulumi/pkg/v3)
[[ -n "$pulumi_version" ]] || die "no github.com/pulumi/pulumi/pkg/v3 pin in $cli_mod/go.mod"
sdk_version=$(require_version "$cli_mod/go.mod" github.com/pulumi/pulumi/sdk/v3)
[[ "$sdk_version" == "$pulumi_version" ]] ||
  die "tools/pulumi/cli pins pkg/v3 $pulumi_version but sdk/v3 $sdk_version; they must match"
version_ldflag="-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$pulumi_version"

existing=$(command -v pulumi || true)
if [[ -n "$existing" && "$(readlink -f "$existing")" != "$(readlink -f "$bin_dir/pulumi")" &&
  "${LAB_PULUMI_BUILD_CLI:-}" != 1 ]]; then
  log "using pulumi already on PATH: $existing ($("$existing" version 2>/dev/null || echo 'version unknown')); not building the CLI"
  use_own_cli=0
else
  use_own_cli=1
  key=$(stamp_key "$cli_mod" "$pulumi_version" go.mod go.sum tools.go)
  if fresh "$bin_dir" pulumi "$key"; then
    log "pulumi $pulumi_version is up to date in $bin_dir"
  else
    log "building pulumi $pulumi_version (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi); ~4 min from cold caches on 2 cores"
    go_build "$cli_mod" "$bin_dir" pulumi "$version_ldflag" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
    write_stamp pulumi "$key" "$pulumi_version" "github.com/pulumi/pulumi/pkg/v3@$pulumi_version"
  fi
  key=$(stamp_key "$cli_mod" "$pulumi_version" go.mod go.sum cmd)
  if fresh "$bin_dir" pulumi-language-nodejs "$key"; then
    log "pulumi-language-nodejs is up to date in $bin_dir"
  else
    log "building pulumi-language-nodejs (tools/pulumi/cli/cmd/pulumi-language-nodejs, reports $pulumi_version)"
    go_build "$cli_mod" "$bin_dir" pulumi-language-nodejs "$version_ldflag" ./cmd/pulumi-language-nodejs
    write_stamp pulumi-language-nodejs "$key" "$pulumi_version" "tools/pulumi/cli/cmd/pulumi-language-nodejs (this repo)"
  fi
fi

# --- 2. docker-build provider -----------------------------------------------
db_mod="$tools_dir/docker-build"
db_src=$(require_version "$db_mod/go.mod" github.com/pulumi/pulumi-docker-build)
[[ "$db_src" == "v$DOCKER_BUILD_PLUGIN_VERSION" ]] ||
  die "tools/pulumi/docker-build pins $db_src, expected v$DOCKER_BUILD_PLUGIN_VERSION"
key=$(stamp_key "$db_mod" "$DOCKER_BUILD_PLUGIN_VERSION" .)
if fresh "$plugin_bin_dir" pulumi-resource-docker-build "$key"; then
  log "pulumi-resource-docker-build $DOCKER_BUILD_PLUGIN_VERSION is up to date"
else
  log "building pulumi-resource-docker-build $DOCKER_BUILD_PLUGIN_VERSION (github.com/pulumi/pulumi-docker-build@$db_src); ~2 min cold"
  go_build "$db_mod" "$plugin_bin_dir" pulumi-resource-docker-build \
    "-X github.com/pulumi/pulumi-docker-build/provider.Version=$DOCKER_BUILD_PLUGIN_VERSION" \
    github.com/pulumi/pulumi-docker-build/provider/cmd/pulumi-resource-docker-build
  write_stamp pulumi-resource-docker-build "$key" "$DOCKER_BUILD_PLUGIN_VERSION" \
    "github.com/pulumi/pulumi-docker-build@$db_src"
fi

# --- 3. kubernetes provider -------------------------------------------------
k8s_mod="$tools_dir/kubernetes"
k8s_src=$(require_version "$k8s_mod/go.mod" github.com/pulumi/pulumi-kubernetes/provider/v4)
[[ -n "$k8s_src" ]] || die "no pulumi-kubernetes/provider/v4 pin in $k8s_mod/go.mod"
key=$(stamp_key "$k8s_mod" "$KUBERNETES_PLUGIN_VERSION" .)
if fresh "$plugin_bin_dir" pulumi-resource-kubernetes "$key"; then
  log "pulumi-resource-kubernetes $KUBERNETES_PLUGIN_VERSION is up to date"
else
  # Upstream's main package embeds schema-embed.json/terraform-mapping-embed.json,
  # which its Makefile generates and the Go module does not contain. Stage our
  # copy of the main package outside the repo, generate them there, build.
  stage="$stage_dir/kubernetes"
  log "staging kubernetes provider build in $stage"
  rm -rf "$stage"
  mkdir -p "$stage"
  cp -R "$k8s_mod/." "$stage/"
  k8s_dir=$(cd "$stage" && run_go mod download github.com/pulumi/pulumi-kubernetes/provider/v4 &&
    "$go_bin" list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)
  [[ -n "$k8s_dir" ]] || die "could not locate github.com/pulumi/pulumi-kubernetes/provider/v4@$k8s_src"
  log "generating embedded schema (version $KUBERNETES_PLUGIN_VERSION) from provider/v4@$k8s_src"
  (cd "$stage" && run_go run ./internal/genembed -src "$k8s_dir/cmd/pulumi-resource-kubernetes" \
    -out cmd/pulumi-resource-kubernetes -version "$KUBERNETES_PLUGIN_VERSION")
  log "building pulumi-resource-kubernetes $KUBERNETES_PLUGIN_VERSION (source github.com/pulumi/pulumi-kubernetes/provider/v4@$k8s_src); ~6 min cold"
  go_build "$stage" "$plugin_bin_dir" pulumi-resource-kubernetes \
    "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PLUGIN_VERSION" \
    ./cmd/pulumi-resource-kubernetes -tags lab_k8s_staged
  write_stamp pulumi-resource-kubernetes "$key" "$KUBERNETES_PLUGIN_VERSION" \
    "github.com/pulumi/pulumi-kubernetes/provider/v4@$k8s_src"
fi

# --- 4. install the providers into the engine's plugin cache -----------------
# Layout the engine reads: $PULUMI_HOME/plugins/resource-<name>-v<version>/pulumi-resource-<name>.
# An install is complete when no sibling "<dir>.partial" marker exists; we set
# the marker while copying so an interrupted copy is never used.
install_plugin() { # <name> <version>
  local name=$1 version=$2 src="$plugin_bin_dir/pulumi-resource-$1"
  local dir="$pulumi_home/plugins/resource-$name-v$version"
  local dst="$dir/pulumi-resource-$name"
  if [[ -x "$dst" && ! -e "$dir.partial" ]] && cmp -s "$src" "$dst"; then
    log "plugin resource-$name-v$version already installed in $pulumi_home/plugins"
    return
  fi
  mkdir -p "$pulumi_home/plugins"
  : >"$dir.partial"
  rm -rf "$dir"
  mkdir -p "$dir"
  ln "$src" "$dst" 2>/dev/null || cp "$src" "$dst"
  chmod 0755 "$dst"
  rm -f "$dir.partial" "$dir.lock"
  log "installed plugin resource-$name-v$version -> $dir"
}
install_plugin docker-build "$DOCKER_BUILD_PLUGIN_VERSION"
install_plugin kubernetes "$KUBERNETES_PLUGIN_VERSION"

# Warn when package.json asks for other SDK versions than the plugins we have.
if [[ -f "$repo_root/package.json" ]] && command -v node >/dev/null; then
  # shellcheck disable=SC2016 # JavaScript, not shell
  node -e '
    const d = require(process.argv[1]).dependencies || {};
    const want = { "@pulumi/docker-build": process.argv[2], "@pulumi/kubernetes": process.argv[3] };
    for (const [p, v] of Object.entries(want))
      if (d[p] && d[p] !== v) console.log(`[setup/pulumi] WARNING: package.json has ${p} ${d[p]}, plugin built is ${v}`);
  ' "$repo_root/package.json" "$DOCKER_BUILD_PLUGIN_VERSION" "$KUBERNETES_PLUGIN_VERSION"
fi

# --- 5. env file --------------------------------------------------------------
env_file="$cache_dir/env.sh"
{
  echo "# Generated by scripts/setup/pulumi.sh; source it to use the local Pulumi toolchain."
  if [[ "$use_own_cli" == 1 ]]; then
    # shellcheck disable=SC2016 # expanded when env.sh is sourced
    printf 'case ":$PATH:" in *":%s:"*) ;; *) export PATH="%s:$PATH" ;; esac\n' "$bin_dir" "$bin_dir"
  fi
  # The home this run installed the plugins into; a PULUMI_HOME already set by
  # the caller wins (run this script with that PULUMI_HOME so the plugins are there).
  # shellcheck disable=SC2016
  printf 'export PULUMI_HOME="${PULUMI_HOME:-%s}"\n' "$pulumi_home"
  echo 'export PULUMI_SKIP_UPDATE_CHECK=true'
  echo 'export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true'
} >"$env_file"
log "wrote $env_file"

if [[ "$use_own_cli" == 1 ]]; then
  log "pulumi: $("$bin_dir/pulumi" version) at $bin_dir/pulumi"
fi
log "done. To use it in this shell:"
echo "  source $env_file"
echo "  # or:"
[[ "$use_own_cli" == 1 ]] && echo "  export PATH=\"$bin_dir:\$PATH\""
echo "  export PULUMI_HOME=\"$pulumi_home\" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true"
