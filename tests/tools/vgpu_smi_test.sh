#!/usr/bin/env bash
# vgpu_smi_test.sh VGPU_SMI SHIM_DIR WORKDIR: vgpu-smi over the shims under NVIDIA's names.
#   with the stub:    exit 0, one device, "agree", the stub's bus id in both APIs;
#   without the stub: exit 1, "no CUDA device";
#   with CUDA_VISIBLE_DEVICES hiding the device: exit 1, CUDA 0 devices vs NVML 1 (NVML ignores it).
set -euo pipefail
smi=${1:?} shims=$(realpath "${2:?}") work=${3:?}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work" && mkdir -p "$work/nvidia" "$work/state" "$work/empty/bus/pci/devices"
ln -s "$shims/libvgpu-cuda.so" "$work/nvidia/libcuda.so.1"
ln -s "$shims/libvgpu-nvml.so" "$work/nvidia/libnvidia-ml.so.1"
"$here/make_sysfs_stub.sh" "$work/sysfs"
run() { env LD_LIBRARY_PATH="$work/nvidia" VGPU_STATE_DIR="$work/state" VGPU_CONFIG=/nonexistent "$@" "$smi" >"$work/out" 2>&1; }
fail() { echo "FAIL: $*"; cat "$work/out"; exit 1; }

run VGPU_SYSFS_ROOT="$work/sysfs" || fail "exit $? with the stub"
grep -q '^agree: 1 device' "$work/out" || fail "no agreement line"
grep -q '0000:00:05.0' "$work/out" && grep -q '00000000:00:05.0' "$work/out" || fail "bus ids missing"
cat "$work/out"
if run VGPU_SYSFS_ROOT="$work/empty"; then fail "exit 0 without the stub"; fi
grep -q 'no CUDA device' "$work/out" || fail "no 'no CUDA device' line"
if run VGPU_SYSFS_ROOT="$work/sysfs" CUDA_VISIBLE_DEVICES=""; then fail "exit 0 with the device hidden from CUDA"; fi
grep -q 'disagree: CUDA reports 0 device(s), NVML 1' "$work/out" || fail "no count disagreement"
echo "ok: vgpu-smi agrees with the stub, and reports no device and a hidden device"
