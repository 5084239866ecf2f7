#!/usr/bin/env bash
# check_abi.sh CC WORKDIR: vgpu's ABI headers against NVIDIA's CUDA 13 headers (check_abi_vs_cuda13.c),
# where a CUDA toolkit is installed ($CUDA_INC, else /usr/local/cuda/include). Skipped (exit 77), saying
# why, on machines without one, which is every build machine: the shims build without a toolkit.
set -euo pipefail
cc=${1:?} work=${2:?}
src=$(cd "$(dirname "$0")" && pwd)/check_abi_vs_cuda13.c
inc=${CUDA_INC:-/usr/local/cuda/include}
if [[ ! -f $inc/cuda.h || ! -f $inc/cuda_runtime_api.h ]]; then
  echo "skipped: no CUDA toolkit headers in $inc (set CUDA_INC to check against one)"
  exit 77
fi
mkdir -p "$work"
"$cc" -std=c11 -I"$inc" -DVGPU_CHECK_SIDE=1 -c "$src" -o "$work/real.o"
"$cc" -std=c11 -I"$(cd "$(dirname "$0")/../../shims/include" && pwd)" -DVGPU_CHECK_SIDE=2 -c "$src" -o "$work/ours.o"
"$cc" "$work/real.o" "$work/ours.o" -o "$work/check_abi"
"$work/check_abi"
