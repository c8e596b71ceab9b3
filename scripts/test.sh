#!/usr/bin/env bash
# README command (2): install dependencies, build, and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# Seconds-long checks before the long build: dependency direction (includes;
# links are checked when CMake configures), formatting of the lines changed
# since the base revision, and the self-test of both checks.
bash scripts/check_layout.sh
bash scripts/check_format.sh
bash scripts/selftest_checks.sh
bash scripts/build.sh -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=ON
launcher=()
if command -v ccache >/dev/null 2>&1; then launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache); fi

# The libFuzzer targets need clang: build them in their own tree and give each
# a short smoke run, so a fuzz target that stops building fails the suite.
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DVIGIL_BUILD_FUZZ=ON -DVIGIL_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build build-fuzz --target fuzz -j"$(nproc)"
(cd build-fuzz && ctest --output-on-failure --no-tests=error -R '_fuzz_smoke$')

(cd build && ctest --output-on-failure -j2 --timeout 900)

# ASan+UBSan: the tests labelled "sanitize" (the subset is listed in
# tests/CMakeLists.txt, README "Sanitizers" says why) in their own tree. An
# ASan/LSan report from any process, including a vigil that an end-to-end test
# started, lands in build-asan/sanitizer-reports and fails the suite.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVIGIL_SANITIZE=address \
  -DVIGIL_BUILD_TESTS=ON -DVIGIL_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build build-asan --target sanitize_subset -j"$(nproc)"
rm -rf build-asan/sanitizer-reports
mkdir -p build-asan/sanitizer-reports
asan_status=0
(cd build-asan && ctest --output-on-failure --no-tests=error -L sanitize -j2 --timeout 900) ||
  asan_status=$?
if [ -n "$(ls -A build-asan/sanitizer-reports)" ]; then
  echo "test.sh: sanitizer reports:" >&2
  cat build-asan/sanitizer-reports/* >&2
  exit 1
fi
exit "$asan_status"
