#!/usr/bin/env bash
# ollama_layout_test.sh SHIM_DIR RUNNER VERSION CUDA_MAJOR WORKDIR
# End to end with real third-party code: the ggml build of @node-llama-cpp/linux-x64-cuda@VERSION in an
# Ollama-like layout with vgpu's shims, loaded by a runner that uses ggml's own registry
# (ggml_backend_load_all_from_path), in the environment Ollama gives its runners.
#   with the stub:    a GPU device whose description contains "H100", with about 80 GB (79-81 GiB);
#   without the stub: no GPU device, the CPU device still listed, exit status 0;
#   in both:          the shims print nothing (VGPU_LOG unset), so stderr holds only ggml's own lines.
set -euo pipefail
shims=${1:?} runner=${2:?} version=${3:?} cuda=${4:?} work=${5:?}
here=$(cd "$(dirname "$0")/.." && pwd)
bins=$("$here/fetch_ggml.sh" "$version") || exit $?   # 77: skipped, with the reason on stderr
rm -rf "$work" && mkdir -p "$work"
"$here/e2e/make_ollama_layout.sh" "$work/root" "$bins" "$cuda" "$shims"
"$here/make_sysfs_stub.sh" "$work/sysfs"
mkdir -p "$work/empty/bus/pci/devices" "$work/state"
lib="$work/root/lib/ollama"
run() {  # run SYSFS_ROOT: the runner, as Ollama (era B) starts it
  env -u VGPU_LOG -u VGPU_LOG_FILE VGPU_SYSFS_ROOT="$1" VGPU_STATE_DIR="$work/state" \
    LD_LIBRARY_PATH="$lib:$lib/cuda_v$cuda:$work/root/nvidia" "$runner" "$lib" "$lib/cuda_v$cuda" \
    >"$work/out" 2>"$work/err"
}
fail() { echo "FAIL: $*"; echo "--- stdout"; cat "$work/out"; echo "--- stderr"; cat "$work/err"; exit 1; }

run "$work/sysfs" || fail "runner exited $? with the stub"
cat "$work/out"
line=$(grep -E '^device [0-9]+: .*\| type gpu \|' "$work/out") || fail "no GPU device with the stub"
[[ $line == *H100* ]] || fail "the GPU is not an H100: $line"
mib=$(sed -E 's/.*\| ([0-9]+) MiB total.*/\1/' <<<"$line")
((mib >= 79 * 1024 && mib <= 81 * 1024)) || fail "total memory $mib MiB is not about 80 GB"
grep -q 'vgpu\[' "$work/err" "$work/out" && fail "the shims printed into the program without VGPU_LOG"

run "$work/empty" || fail "runner exited $? without the stub"
cat "$work/out"
grep -q '^devices: [0-9]* (gpu: 0)$' "$work/out" || fail "a GPU device was listed without the stub"
grep -q '| type cpu |' "$work/out" || fail "the CPU device is missing"
grep -q 'vgpu\[' "$work/err" "$work/out" && fail "the shims printed into the program without VGPU_LOG"
echo "ok: @node-llama-cpp/linux-x64-cuda@$version (CUDA $cuda): H100 with $mib MiB; none without the stub"
