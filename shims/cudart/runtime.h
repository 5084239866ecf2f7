// vgpu's CUDA runtime, built twice from the same sources: as libvgpu-cudart.so.12 (CUDA 12 ABI,
// VGPU_CUDART_ABI=12) and libvgpu-cudart.so.13 (VGPU_CUDART_ABI=13). Like NVIDIA's runtime it is a layer
// over the driver API: it loads libcuda.so.1, takes every driver entry point from cuGetProcAddress, and
// keeps only runtime state itself (current device, last error, registered kernels, launch
// configurations). The device state lives in libvgpu-cuda.
#pragma once

#include "stub_support.h"
#include "vgpu/abi/cuda_driver_types.h"
#include "vgpu/abi/cudart_types.h"

#ifndef VGPU_CUDART_ABI
#error "VGPU_CUDART_ABI must be 12 or 13"
#endif

namespace vgpu::rt {

// The driver entry points the runtime uses, resolved once through cuGetProcAddress.
struct DriverApi {
#define VGPU_DRIVER_FN(name, version, ...) CUresult (*name)(__VA_ARGS__) = nullptr;
#include "driver_functions.def"
#undef VGPU_DRIVER_FN
};

// Loads libcuda.so.1 and resolves DriverApi on first use. Returns the runtime error a program sees
// when there is no usable driver (cudaErrorInsufficientDriver), else cudaSuccess.
cudaError_t driver_api(const DriverApi** out);

// CUresult -> cudaError_t. The runtime's codes have mirrored the driver's since CUDA 10.1 where a
// counterpart exists; the few renamed ones are mapped explicitly.
cudaError_t to_runtime_error(CUresult r);

// Records `e` as the thread's last error (unless it is cudaSuccess) and returns it.
cudaError_t set_error(cudaError_t e);

// Makes the calling thread's current device's primary context current (the runtime's lazy init).
cudaError_t ensure_context(const DriverApi** api = nullptr);
int current_device();
void set_current_device(int device);

// The runtime version this build reports (12080 for the .12 ABI, 13000 for .13).
inline constexpr int kRuntimeVersion = VGPU_CUDART_ABI == 12 ? 12080 : 13000;

}  // namespace vgpu::rt
