#!/usr/bin/env bash
# README command (1): install dependencies, build, and run Vigil on the example
# config with data in ./data. Extra arguments go to vigil.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DVIGIL_BUILD_TESTS=OFF -DVIGIL_BUILD_BENCH=OFF
exec ./build/src/vigil --config.file=examples/prometheus.yml --storage.tsdb.path=./data \
  --web.enable-lifecycle "$@"
