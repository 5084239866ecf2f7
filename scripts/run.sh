#!/usr/bin/env bash
# From a fresh Debian 12 machine: installs dependencies, builds, installs vgpu into PREFIX (default
# ./_install; `sudo scripts/run.sh /usr` for a real installation) and runs the main job: shows the
# virtual GPU as CUDA and NVML report it (vgpu-smi), then has real ggml builds (CUDA 12 and CUDA 13)
# discover it the way an Ollama runner does (scripts/demo.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=${1:-$PWD/_install}
scripts/install-deps.sh
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DVGPU_BUILD_TESTS=OFF
cmake --build build/release -j "$(nproc)"
cmake --install build/release --prefix "$prefix"
scripts/demo.sh "$prefix"
