#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs dependencies, builds twice (the normal
# build with warnings as errors, and an ASan+UBSan build of the core library, its tests and vgpu-trace)
# and runs every test; the trace tests run twice, the second time with the sanitized vgpu-trace. Real
# ggml builds are downloaded with npm into ~/.cache/vgpu-tests on first use.
# Usage: scripts/test.sh [extra ctest arguments]
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
jobs=$(nproc)
cmake -S . -B build/test -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVGPU_WERROR=ON
cmake --build build/test -j "$jobs"
cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DVGPU_WERROR=ON -DVGPU_SANITIZE=ON -DVGPU_NORMAL_TREE="$PWD/build/test"
cmake --build build/sanitize -j "$jobs" --target vgpu_core_tests vgpu-trace
status=0
ctest --test-dir build/test --output-on-failure -j "$jobs" "$@" || status=$?
ctest --test-dir build/sanitize --output-on-failure -j "$jobs" "$@" || status=$?
exit $status
