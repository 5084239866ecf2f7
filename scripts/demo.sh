#!/usr/bin/env bash
# demo.sh PREFIX: the main job. With vgpu installed in PREFIX:
#   1. vgpu-smi: the virtual GPU as the CUDA driver shim and the NVML shim report it;
#   2. for a real CUDA 12 ggml build (node-llama-cpp 3.10.0, llama.cpp b5640) and a real CUDA 13 one
#      (3.22.1, v0.5.0): an Ollama-like directory (lib/ollama/libggml-base.so, lib/ollama/cuda_vNN/
#      libggml-cuda.so, the shims linked in under NVIDIA's names) and a runner that loads ggml's own
#      registry from it, as Ollama's runner does; once with the stub PCI device, once without.
#   3. vgpu-doctor check on this machine's Ollama installation, if it has one;
#   4. vgpu-doctor fix, check and probe on a bare install, then check on one broken the seeds' way;
#   5. vgpu-trace on the runner of that broken install: why ggml did not load its CUDA backend.
# Where this machine has no stub PCI device (vendor 0x10de, device $VGPU_DEVICE_ID or 0x2331), the demo
# makes one in a scratch sysfs tree and points VGPU_SYSFS_ROOT at it, and says so.
set -euo pipefail
prefix=$(realpath "${1:?usage: demo.sh PREFIX}")
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
runner="$prefix/libexec/vgpu/ggml-runner"
shims="$prefix/lib64"

device_id=${VGPU_DEVICE_ID:-0x2331}
sysfs_root=${VGPU_SYSFS_ROOT:-/sys}
has_stub() {
  for d in "$1"/bus/pci/devices/*; do
    [[ -r "$d/vendor" && $(cat "$d/vendor") == 0x10de && $(cat "$d/device") == "$device_id" ]] && return 0
  done
  return 1
}
if has_stub "$sysfs_root"; then
  echo "== stub PCI device found under $sysfs_root"
else
  sysfs_root="$work/sysfs"
  "$here/tests/make_sysfs_stub.sh" "$sysfs_root" 0000:00:05.0 "$device_id"
  echo "== no stub PCI device on this machine: simulating one at 0000:00:05.0 under $sysfs_root"
fi
export VGPU_SYSFS_ROOT="$sysfs_root" VGPU_STATE_DIR="$work"

echo
echo "== vgpu-smi"
mkdir -p "$work/nvidia"
ln -s "$shims/libvgpu-cuda.so" "$work/nvidia/libcuda.so.1"
ln -s "$shims/libvgpu-nvml.so" "$work/nvidia/libnvidia-ml.so.1"
LD_LIBRARY_PATH="$work/nvidia" "$prefix/bin/vgpu-smi"

for spec in 3.10.0:12 3.22.1:13; do
  version=${spec%:*} cuda=${spec#*:}
  bins=$("$here/tests/fetch_ggml.sh" "$version")
  root="$work/ollama-$version"
  lib="$root/lib/ollama"
  "$here/tests/e2e/make_ollama_layout.sh" "$root" "$bins" "$cuda" "$shims"
  # Ollama's runner environment (era B): its lib dirs first, then the inherited path.
  path="$lib:$lib/cuda_v$cuda:$root/nvidia"
  echo
  echo "== ggml from @node-llama-cpp/linux-x64-cuda@$version (CUDA $cuda), with the stub"
  LD_LIBRARY_PATH="$path" "$runner" "$lib" "$lib/cuda_v$cuda"
  echo "== the same, without the stub"
  mkdir -p "$work/empty-sysfs/bus/pci/devices"
  VGPU_SYSFS_ROOT="$work/empty-sysfs" LD_LIBRARY_PATH="$path" "$runner" "$lib" "$lib/cuda_v$cuda"
done

# 3. vgpu-doctor on this machine's own Ollama installation, when there is one.
if command -v ollama >/dev/null || [[ -d /usr/local/lib/ollama || -d /usr/lib/ollama ]]; then
  echo
  echo "== vgpu-doctor check on this machine's Ollama installation"
  "$prefix/bin/vgpu-doctor" check --shim-dir "$shims" || true
fi

# 4. vgpu-doctor on a bare Ollama-like install (NVIDIA's names not yet pointing at the shims): fix wires
#    it, check finds it healthy, probe finds the H100; then the install is broken the seeds' way (a
#    runtime whose version script does not export __cudaRegisterFatBinary under libcudart.so.12) and
#    check names the cause.
bins=$("$here/tests/fetch_ggml.sh" 3.10.0)
root="$work/doctor"
"$here/tests/e2e/make_ollama_layout.sh" "$root" "$bins" 12 "$shims"
rm -f "$root/lib/ollama/cuda_v12/libcudart.so.12" "$root/lib/ollama/cuda_v12/libcublas.so.12"
mkdir -p "$work/doctor-shims" && cp -a "$shims"/libvgpu-* "$work/doctor-shims/"
printf 'VGPU_SYSFS_ROOT=%s\n' "$VGPU_SYSFS_ROOT" >"$work/doctor-env"
doctor=("$prefix/bin/vgpu-doctor")
echo
echo "== vgpu-doctor fix (on a bare install)"
"${doctor[@]}" fix --ollama-dir "$root/lib/ollama" --shim-dir "$work/doctor-shims" --dropin-dir "$work/dropin"
echo
echo "== vgpu-doctor check"
"${doctor[@]}" check --ollama-dir "$root/lib/ollama" --shim-dir "$work/doctor-shims" --env-file "$work/dropin/vgpu.conf" \
  --sysfs-root "$VGPU_SYSFS_ROOT" || true
echo
echo "== vgpu-doctor probe"
printf 'LD_LIBRARY_PATH=%s\nVGPU_SYSFS_ROOT=%s\n' "$work/doctor-shims" "$VGPU_SYSFS_ROOT" >"$work/doctor-env"
"${doctor[@]}" probe --ollama-dir "$root/lib/ollama" --shim-dir "$work/doctor-shims" --env-file "$work/doctor-env" || true
echo
echo "== broken the seeds' way: a libcudart.so.12 that keeps __cudaRegisterFatBinary local"
printf 'int cudaGetDeviceCount(int* n) { *n = 0; return 0; }\nint __cudaRegisterFatBinary(void) { return 0; }\n' >"$work/seed.c"
printf 'libcudart.so.12 { global: cudaGetDeviceCount; local: *; };\n' >"$work/seed.map"
cc -shared -fPIC -o "$work/libcudart-seed.so" -Wl,-soname,libcudart.so.12 -Wl,--version-script,"$work/seed.map" "$work/seed.c"
ln -sf "$work/libcudart-seed.so" "$root/lib/ollama/cuda_v12/libcudart.so.12"
"${doctor[@]}" check --ollama-dir "$root/lib/ollama" --shim-dir "$work/doctor-shims" --env-file "$work/doctor-env" || true

# 5. vgpu-trace on the runner of that broken install: ggml prints nothing about the CUDA backend it
#    failed to load; the trace says which library was unmapped again and why.
echo
echo "== vgpu-trace: the runner of the broken install (ggml itself is silent about its CUDA backend)"
lib="$root/lib/ollama"
LD_LIBRARY_PATH="$lib:$lib/cuda_v12:$work/doctor-shims" "$prefix/bin/vgpu-trace" -o "$work/trace.txt" -- \
  "$runner" "$lib" "$lib/cuda_v12" || true
sed -n '/^== findings/,/^== details/p' "$work/trace.txt" | grep -v '^== details'
