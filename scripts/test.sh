#!/usr/bin/env bash
# README command (2): install dependencies, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=ON

# The libFuzzer targets need clang: build them in their own tree and give each
# a short smoke run, so a fuzz target that stops building fails the suite.
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVIGIL_BUILD_FUZZ=ON -DVIGIL_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz --target fuzz -j"$(nproc)"
(cd build-fuzz && ctest --output-on-failure --no-tests=error -R '_fuzz_smoke$')

cd build
ctest --output-on-failure -j2 --timeout 900
