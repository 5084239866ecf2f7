#!/usr/bin/env bash
# version_nodes.sh SHIM_DIR CC WORKDIR
# Proves the shims carry the version nodes NVIDIA's libraries use, and that getting them wrong fails the
# way glibc fails, using the very program that runs fine against the correct shim:
#   1. readelf/nm: libvgpu-cudart.so.12 defines node libcudart.so.12 and exports
#      __cudaRegisterFatBinary@@libcudart.so.12; .13 likewise; libvgpu-cuda.so and libvgpu-nvml.so carry
#      no version definitions (NVIDIA's have none);
#   2. a program linked against the shim (so it records `Version needs: libcudart.so.12`) runs;
#   3. the same program with an unversioned build of the same code installed as libcudart.so.12:
#      "no version information available", then ld.so's check_match assertion;
#   4. with a build whose node is libcudart.so.13 installed as libcudart.so.12: it loads, then
#      "symbol lookup error: ... undefined symbol: cudaGetDeviceCount, version libcudart.so.12".
set -euo pipefail
shims=${1:?} cc=${2:?} work=${3:?}
rm -rf "$work" && mkdir -p "$work/good" "$work/unversioned" "$work/wrong"
fail() { echo "FAIL: $*" >&2; exit 1; }

for abi in 12 13; do
  lib="$shims/libvgpu-cudart.so.$abi"
  grep -q "Name: libcudart.so.$abi" <<<"$(readelf -V "$lib")" || fail "$lib: no version node libcudart.so.$abi"
  exports=$(nm -D --defined-only "$lib")  # captured first: grep -q would close the pipe under pipefail
  grep -q " __cudaRegisterFatBinary@@libcudart.so.$abi\$" <<<"$exports" ||
    fail "$lib: __cudaRegisterFatBinary@@libcudart.so.$abi not exported"
  grep -q "Library soname: \[libcudart.so.$abi\]" <<<"$(readelf -d "$lib")" || fail "$lib: SONAME is not libcudart.so.$abi"
  blas="$shims/libvgpu-cublas.so.$abi"
  grep -q " cublasCreate_v2@@libcublas.so.$abi\$" <<<"$(nm -D --defined-only "$blas")" || fail "$blas: cublasCreate_v2@@libcublas.so.$abi"
  echo "ok: libvgpu-cudart.so.$abi and libvgpu-cublas.so.$abi carry their nodes"
done
grep -q " cudaGetDeviceProperties_v2@@libcudart.so.12$" <<<"$(nm -D --defined-only "$shims/libvgpu-cudart.so.12")" ||
  fail "the CUDA 12 _v2 entry point is missing"
grep -q " __cudaLaunchKernel@@libcudart.so.13$" <<<"$(nm -D --defined-only "$shims/libvgpu-cudart.so.13")" ||
  fail "the CUDA 13 launch path is missing"
for lib in libvgpu-cuda.so libvgpu-nvml.so; do
  if grep -q "Version definition" <<<"$(readelf -V "$shims/$lib")"; then fail "$lib has version definitions; NVIDIA's has none"; fi
done
echo "ok: libvgpu-cuda.so and libvgpu-nvml.so are unversioned, like NVIDIA's"

cat >"$work/app.c" <<'C'
#include <stdio.h>
int cudaGetDeviceCount(int*);
int main(void) { int n = -1; int r = cudaGetDeviceCount(&n); printf("cudaGetDeviceCount -> %d, %d devices\n", r, n); return 0; }
C
ln -s "$shims/libvgpu-cudart.so.12" "$work/good/libcudart.so.12"
ln -s "$shims/libvgpu-cuda.so" "$work/good/libcuda.so.1"
"$cc" "$work/app.c" -o "$work/app" "$work/good/libcudart.so.12"
grep -q "Name: libcudart.so.12" <<<"$(readelf -V "$work/app")" || fail "the app records no version need"
empty="$work/sysfs" && mkdir -p "$empty/bus/pci/devices"
run() { env -i PATH=/usr/bin:/bin VGPU_SYSFS_ROOT="$empty" LD_LIBRARY_PATH="$1" "$work/app" >"$work/out" 2>&1; }
run "$work/good" || fail "the app does not run against the correct shim: $(cat "$work/out")"
grep -q "cudaGetDeviceCount -> 100, 0 devices" "$work/out" || fail "unexpected: $(cat "$work/out")"
echo "ok: correct node: $(cat "$work/out")"

# The same code without version information, then with the wrong node, both under the name libcudart.so.12.
"$cc" -shared -fPIC -o "$work/unversioned/libcudart.so.12" -Wl,-soname,libcudart.so.12 -x c - <<'C'
int cudaGetDeviceCount(int* n) { *n = 0; return 100; }
C
echo 'libcudart.so.13 { global: cudaGetDeviceCount; local: *; };' >"$work/wrong.map"
"$cc" -shared -fPIC -o "$work/wrong/libcudart.so.12" -Wl,-soname,libcudart.so.12 -Wl,--version-script,"$work/wrong.map" -x c - <<'C'
int cudaGetDeviceCount(int* n) { *n = 0; return 100; }
C
for d in unversioned wrong; do ln -s "$shims/libvgpu-cuda.so" "$work/$d/libcuda.so.1"; done

if run "$work/unversioned"; then fail "an unversioned libcudart.so.12 ran: $(cat "$work/out")"; fi
grep -q "no version information available" "$work/out" || fail "no 'no version information' warning: $(cat "$work/out")"
grep -q "check_match" "$work/out" || fail "no check_match assertion: $(cat "$work/out")"
echo "ok: unversioned: $(grep -m1 -o 'Inconsistency detected by ld.so: [^:]*: [0-9]*: check_match' "$work/out")"

if run "$work/wrong"; then fail "a libcudart.so.12 with node libcudart.so.13 ran: $(cat "$work/out")"; fi
grep -q "version \`libcudart.so.12' not found\|undefined symbol: cudaGetDeviceCount, version libcudart.so.12" "$work/out" ||
  fail "unexpected failure text: $(cat "$work/out")"
echo "ok: wrong node: $(head -n1 "$work/out")"
