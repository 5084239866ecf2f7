#!/usr/bin/env bash
# doctor.sh BUILD_DIR [RUNS]: in one run, alternating, on the full Ollama-like layout of both real ggml
# builds (CUDA 12 and CUDA 13, shims wired in): the whole `vgpu-doctor check` (links, resolution, every
# versioned symbol, environment, stub) against `ldd -r` and `libtree` on the same backend libraries.
# Prints median wall times (ms) and the ratios. libtree comes from Debian's package `libtree`.
set -euo pipefail
build=$(realpath "${1:?usage: doctor.sh BUILD_DIR [RUNS]}")
runs=${2:-11}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-bench-doctor.XXXXXX")
trap 'rm -rf "$work"' EXIT
command -v libtree >/dev/null || { echo "libtree is not installed (apt-get install libtree)"; exit 1; }
"$here/tests/make_sysfs_stub.sh" "$work/sysfs"
source "$here/bench/lib.sh"
echo "median of $runs alternating runs, milliseconds (each run includes starting the program)"
for spec in 3.10.0:12 3.22.1:13; do
  version=${spec%:*} cuda=${spec#*:}
  bins=$("$here/tests/fetch_ggml.sh" "$version")
  root="$work/ollama-$version"
  "$here/tests/e2e/make_ollama_layout.sh" "$root" "$bins" "$cuda" "$build/lib64"
  lib="$root/lib/ollama"
  printf 'LD_LIBRARY_PATH=%s\nVGPU_SYSFS_ROOT=%s\n' "$root/nvidia" "$work/sysfs" >"$work/env"
  cuda_lib="$lib/cuda_v$cuda/libggml-cuda.so"
  llp="$lib:$lib/cuda_v$cuda:$root/nvidia"
  doctor=("$build/bin/vgpu-doctor" check --ollama-dir "$lib" --shim-dir "$build/lib64" --env-file "$work/env")
  "${doctor[@]}" >/dev/null || { echo "the layout is not healthy"; "${doctor[@]}"; exit 1; }
  : >"$work/d" && : >"$work/l" && : >"$work/t"
  for ((i = 0; i < runs; i++)); do
    time_us "${doctor[@]}" >>"$work/d"
    time_us env LD_LIBRARY_PATH="$llp" ldd -r "$cuda_lib" >>"$work/l"
    time_us env LD_LIBRARY_PATH="$llp" libtree -vvv "$cuda_lib" >>"$work/t"
  done
  d=$(median <"$work/d") l=$(median <"$work/l") t=$(median <"$work/t")
  printf '  %-7s CUDA %s  vgpu-doctor check %6.1f   ldd -r %6.1f   libtree %6.1f   doctor/ldd %.2f   doctor/libtree %.2f\n' \
    "$version" "$cuda" "$(awk -v a="$d" 'BEGIN {print a / 1000}')" "$(awk -v a="$l" 'BEGIN {print a / 1000}')" \
    "$(awk -v a="$t" 'BEGIN {print a / 1000}')" "$(awk -v a="$d" -v b="$l" 'BEGIN {print a / (b ? b : 1)}')" \
    "$(awk -v a="$d" -v b="$t" 'BEGIN {print a / (b ? b : 1)}')"
done
