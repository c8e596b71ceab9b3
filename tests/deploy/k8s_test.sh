#!/usr/bin/env bash
# deploy_k8s: validates deploy/k8s offline against the Kubernetes API schemas and checks
# that the objects fit together (validate_k8s.mjs says what), then runs `vigil check
# config` on the prometheus.yml of the vigil-config ConfigMap. The validator's npm
# packages (kubernetes-models, yaml; pinned in k8s_validator/package-lock.json) are
# installed with `npm ci` into NPM_DIR the first time and when the lock file changes.
#
#   k8s_test.sh VIGIL_BINARY NPM_DIR      exit 77 (skipped) without node and npm
set -euo pipefail

vigil=$1
npm_dir=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)

for tool in node npm; do
  command -v "$tool" >/dev/null ||
    { echo "SKIP deploy_k8s: $tool is not installed (apt-get install nodejs npm)"; exit 77; }
done

mkdir -p "$npm_dir"
if [ ! -d "$npm_dir/node_modules" ] || ! cmp -s "$here/k8s_validator/package-lock.json" "$npm_dir/package-lock.json"; then
  cp "$here/k8s_validator/package.json" "$here/k8s_validator/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --no-audit --no-fund --prefer-offline --loglevel=error)
fi

work=$(mktemp -d /tmp/vigil-k8s-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
node "$here/validate_k8s.mjs" --node-modules "$npm_dir/node_modules" --k8s "$repo/deploy/k8s" \
  --grafana "$repo/deploy/grafana" --extract-config "$work/prometheus.yml"
"$vigil" check config "$work/prometheus.yml"
echo "deploy_k8s: all checks passed"
