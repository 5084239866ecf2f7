#!/usr/bin/env bash
# coverage.sh ELF_IMPORTS SHIM_DIR VERSION CUDA_MAJOR
# Every CUDA import of a real ggml build must be satisfied by the shim standing in for its provider,
# judged per symbol the way glibc does (tools: core/elf_file.h missing_imports):
#   libggml-cuda.so's imports @libcudart.so.N  against libvgpu-cudart.so.N
#                                @libcublas.so.N  against libvgpu-cublas.so.N
#                    unversioned cu*              against libvgpu-cuda.so (libcuda.so.1)
# Any gap fails, naming the symbols.
set -euo pipefail
imports=${1:?} shims=${2:?} version=${3:?} cuda=${4:?}
here=$(cd "$(dirname "$0")/.." && pwd)
bins=$("$here/fetch_ggml.sh" "$version") || exit $?
consumer="$bins/libggml-cuda.so"
status=0
check() {
  local needed=$1 provider=$2 prefix=${3:-}
  local n
  if [[ -n $prefix ]]; then
    n=$(nm -D --undefined-only "$consumer" | awk '{print $2}' | grep -c "^$prefix[^@]*\$" || true)
  else
    n=$(nm -D --undefined-only "$consumer" | awk '{print $2}' | grep -c "@$needed\$" || true)
  fi
  if "$imports" "$consumer" "$needed" "$provider" $prefix >"$TMPDIR_/gaps" 2>&1; then
    echo "ok: $needed: all $n imports of libggml-cuda.so ($version) satisfied by $(basename "$provider")"
  else
    echo "FAIL: $needed: imports of libggml-cuda.so ($version) that $(basename "$provider") does not satisfy:"
    sed 's/^/  /' "$TMPDIR_/gaps"
    status=1
  fi
}
TMPDIR_=$(mktemp -d)
trap 'rm -rf "$TMPDIR_"' EXIT
check "libcudart.so.$cuda" "$shims/libvgpu-cudart.so.$cuda"
check "libcublas.so.$cuda" "$shims/libvgpu-cublas.so.$cuda"
check "libcuda.so.1" "$shims/libvgpu-cuda.so" cu
exit $status
