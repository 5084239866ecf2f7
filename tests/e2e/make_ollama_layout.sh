#!/usr/bin/env bash
# make_ollama_layout.sh ROOT GGML_BINS CUDA_MAJOR SHIM_DIR
# Lays out a directory as an Ollama installation has it, with vgpu's shims under NVIDIA's names:
#   ROOT/lib/ollama/libggml-base.so, libggml.so, libggml-cpu-*.so         (from GGML_BINS)
#   ROOT/lib/ollama/cuda_vN/libggml-cuda.so                               (from GGML_BINS)
#   ROOT/lib/ollama/cuda_vN/libcudart.so.N  -> SHIM_DIR/libvgpu-cudart.so.N (Ollama bundles these here)
#   ROOT/lib/ollama/cuda_vN/libcublas.so.N  -> SHIM_DIR/libvgpu-cublas.so.N
#   ROOT/nvidia/libcuda.so.1                -> SHIM_DIR/libvgpu-cuda.so     (the system's driver directory)
#   ROOT/nvidia/libnvidia-ml.so.1           -> SHIM_DIR/libvgpu-nvml.so
# The ggml files are symbolic links into the download cache (libggml-cuda.so is hundreds of MB).
set -euo pipefail
root=${1:?} bins=${2:?} cuda=${3:?} shims=$(realpath "${4:?}")
lib="$root/lib/ollama"
mkdir -p "$lib/cuda_v$cuda" "$root/nvidia"
for f in "$bins"/libggml-base.so "$bins"/libggml.so "$bins"/libggml-cpu-*.so; do
  ln -sf "$(realpath "$f")" "$lib/$(basename "$f")"
done
ln -sf "$(realpath "$bins/libggml-cuda.so")" "$lib/cuda_v$cuda/libggml-cuda.so"
ln -sf "$shims/libvgpu-cudart.so.$cuda" "$lib/cuda_v$cuda/libcudart.so.$cuda"
ln -sf "$shims/libvgpu-cublas.so.$cuda" "$lib/cuda_v$cuda/libcublas.so.$cuda"
ln -sf "$shims/libvgpu-cuda.so" "$root/nvidia/libcuda.so.1"
ln -sf "$shims/libvgpu-nvml.so" "$root/nvidia/libnvidia-ml.so.1"
