#!/usr/bin/env bash
# npm run setup:local — prepare this machine for the local target, with no cloud account and no
# registry but the package registries: Docker Engine, QEMU binfmt for arm64, a loopback OCI
# registry, BuildKit + a buildx builder, the offline Node base images (scripts/setup/docker.sh),
# and the Pulumi CLI, Node.js language host and provider plugins built from their Go modules
# (scripts/setup/pulumi.sh), and a single-node Kubernetes cluster on loopback (scripts/setup/kube.sh),
# started once to prove it works, then stopped: `npm run lab` starts it for a local lab and stops
# it when no lab is left (kube-stop.sh --if-unused). Idempotent: a second run takes seconds. Services
# end with the session, so run it again in each new session (CI does).
#
# It ends by writing $LAB_CACHE_DIR/env.json, which `npm run lab` reads (automation/toolchain.ts),
# so no shell needs to source anything. Details: docs/LOCAL.md.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export LAB_CACHE_DIR="${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}"
mkdir -p "$LAB_CACHE_DIR/bin"
start=$(date +%s)

if [[ $(id -u) -ne 0 ]]; then
  echo "setup:local: must run as root (it installs Debian packages and starts dockerd); try: sudo npm run setup:local" >&2
  exit 2
fi

bash "$HERE/setup/docker.sh"
bash "$HERE/setup/pulumi.sh"
bash "$HERE/setup/kube.sh"

# kube-score (issue #11: the live lab's Deployment and Service are scored in the e2e test), built
# from its Go module like the rest of the toolchain.
if [[ ! -x "$LAB_CACHE_DIR/bin/kube-score" ]]; then
  t0=$(date +%s)
  go_bin="$(command -v go || echo /usr/local/go/bin/go)"
  GOBIN="$LAB_CACHE_DIR/bin" "$go_bin" install github.com/zegl/kube-score/cmd/kube-score@v1.20.0
  echo "[setup] built kube-score v1.20.0 in $(($(date +%s) - t0)) s"
fi
# Unless a kept lab (--keep) is in it, the cluster stops until a lab needs it.
bash "$HERE/setup/kube-stop.sh" --if-unused

# Dynamic providers (infra/localRegistry.ts) run through pulumi-resource-pulumi-nodejs, which a
# Pulumi release ships beside the CLI; a CLI built from source has none, so add the launcher. It
# runs in the program's directory (infra/): find @pulumi/pulumi upward from there, as Node would.
shim="$LAB_CACHE_DIR/bin/pulumi-resource-pulumi-nodejs"
cat >"$shim.tmp" <<'SHIM'
#!/bin/sh
d=$PWD
while [ "$d" != / ] && [ ! -d "$d/node_modules/@pulumi/pulumi" ]; do d=$(dirname "$d"); done
exec node "$d/node_modules/@pulumi/pulumi/cmd/dynamic-provider" "$@"
SHIM
chmod +x "$shim.tmp"
if ! cmp -s "$shim.tmp" "$shim"; then
  mv -f "$shim.tmp" "$shim"
  echo "[setup] wrote $shim"
else
  rm -f "$shim.tmp"
fi

# One machine-readable record of the toolchain for the lab driver: PATH entries and variables.
(
  set +u
  # shellcheck disable=SC1091
  source "$LAB_CACHE_DIR/docker-env.sh"
  # shellcheck disable=SC1091
  source "$LAB_CACHE_DIR/env.sh"
  node -e '
    const keys = ["LAB_CACHE_DIR", "LAB_REGISTRY", "LAB_BASE_IMAGE", "LAB_BUILD_IMAGE", "BUILDKIT_HOST",
      "BUILDX_BUILDER", "BUILDX_CONFIG", "DOCKER_CONFIG", "PULUMI_HOME", "PULUMI_SKIP_UPDATE_CHECK",
      "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"];
    const env = Object.fromEntries(keys.filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
    // The cluster kube.sh started: the local target deploys to it (automation/localCluster.ts).
    env.LAB_KUBECONFIG = process.argv[2];
    const out = { path: [process.env.LAB_CACHE_DIR + "/bin"], env };
    require("fs").writeFileSync(process.argv[1], JSON.stringify(out, null, 2) + "\n");
  ' "$LAB_CACHE_DIR/env.json" "${LAB_KUBE_DIR:-$LAB_CACHE_DIR/kube}/admin.kubeconfig"
)
echo "[setup] wrote $LAB_CACHE_DIR/env.json (read by npm run lab)"
echo "[setup] local toolchain ready in $(($(date +%s) - start)) s"
