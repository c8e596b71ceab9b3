#!/usr/bin/env bash
# Configures and builds Vigil in ./build (extra arguments go to cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
launcher=()  # ccache (installed by install-deps.sh) when present: rebuilds are cache hits
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" "$@"
cmake --build build -j"$(nproc)"
