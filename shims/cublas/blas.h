// The cuBLAS shim's internal interface (see cublas.cc).
#pragma once

#include "vgpu/abi/cublas_types.h"
#include "vgpu/abi/cuda_driver_types.h"

#ifndef VGPU_CUBLAS_ABI
#error "VGPU_CUBLAS_ABI must be 12 or 13"
#endif

namespace vgpu::blas {

// A cuBLAS call that computes: validates the handle and hands the call to the execution backend.
cublasStatus_t compute(const char* entry_point, cublasHandle_t handle);

}  // namespace vgpu::blas
