#!/usr/bin/env bash
# discovery.sh BUILD_DIR [RUNS]: in one run, alternating,
#   present: a runner (ggml's registry, as Ollama's runner loads it) with the CUDA backend directory and
#            vgpu's shims, up to its device list;
#   no-stub: the CUDA backend directory present but no stub device (ggml-cuda loads, finds nothing):
#            present minus no-stub is the cost of discovering the device itself;
#   absent:  the same runner with only the CPU backend (the cuda_vNN directory left out);
# for the CUDA 12 and CUDA 13 ggml builds; prints median wall times and their ratio. Then the cost of
# hot runtime queries in ns (bench/hot_query.c).
set -euo pipefail
build=$(realpath "${1:?usage: discovery.sh BUILD_DIR [RUNS]}")
runs=${2:-21}
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
shims="$build/lib64" runner="$build/libexec/vgpu/ggml-runner"
"$here/tests/make_sysfs_stub.sh" "$work/sysfs"
export VGPU_SYSFS_ROOT="$work/sysfs" VGPU_STATE_DIR="$work"
unset VGPU_LOG

source "$here/bench/lib.sh"

echo "runner start to device list, median of $runs alternating runs (microseconds)"
for spec in 3.10.0:12 3.22.1:13; do
  version=${spec%:*} cuda=${spec#*:}
  bins=$("$here/tests/fetch_ggml.sh" "$version")
  root="$work/ollama-$version"
  "$here/tests/e2e/make_ollama_layout.sh" "$root" "$bins" "$cuda" "$shims"
  lib="$root/lib/ollama"
  export LD_LIBRARY_PATH="$lib:$lib/cuda_v$cuda:$root/nvidia"
  "$runner" "$lib" "$lib/cuda_v$cuda" 2>/dev/null | grep -q 'gpu: 1' || { echo "the runner finds no GPU"; exit 1; }
  "$runner" "$lib" "$lib/cuda_v$cuda" >/dev/null 2>&1  # warm the page cache for both variants
  mkdir -p "$work/empty-sysfs/bus/pci/devices"
  : >"$work/present" && : >"$work/nostub" && : >"$work/absent"
  for ((i = 0; i < runs; i++)); do
    time_us "$runner" "$lib" "$lib/cuda_v$cuda" >>"$work/present"
    VGPU_SYSFS_ROOT="$work/empty-sysfs" time_us "$runner" "$lib" "$lib/cuda_v$cuda" >>"$work/nostub"
    time_us "$runner" "$lib" >>"$work/absent"
  done
  p=$(median <"$work/present") n=$(median <"$work/nostub") a=$(median <"$work/absent")
  printf '  %-8s CUDA %s   present %6d   no-stub %6d   absent %6d   present/absent %.2f   present/no-stub %.2f\n' \
    "$version" "$cuda" "$p" "$n" "$a" "$(awk -v p="$p" -v a="$a" 'BEGIN {print p / a}')" \
    "$(awk -v p="$p" -v n="$n" 'BEGIN {print p / n}')"
done
unset LD_LIBRARY_PATH

echo "hot queries through libvgpu-cudart.so.13"
cc -O2 -o "$work/hot_query" "$here/bench/hot_query.c" -ldl
"$work/hot_query" "$shims"
