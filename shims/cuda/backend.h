// The execution backend: the one seam between the driver API entry points and whatever holds device
// memory and runs kernels. The entry points (device.cc, memory.cc, stream.cc, module.cc) validate
// arguments, keep the CUDA object model (contexts, streams, events, modules) and VRAM accounting, and
// call the backend for everything that touches device memory or executes work.
//
// This stage ships one backend, "host": device memory is host memory (a device pointer is a host
// address, so copies and memsets work and pointer arithmetic is exact), and anything that must execute
// device code answers CUDA_ERROR_NOT_SUPPORTED. A later backend that forwards to a daemon on a machine
// with a real GPU implements the same interface over a socket; no entry point changes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "vgpu/abi/cuda_driver_types.h"

namespace vgpu::drv {

// Handles the backend hands out are opaque 64-bit values; the entry points never look inside.
using BackendModule = uint64_t;
using BackendFunction = uint64_t;
using StreamId = uint64_t;  // 0 = the legacy default stream

struct LaunchParams {
  BackendFunction function;
  unsigned grid[3];
  unsigned block[3];
  unsigned shared_mem;
  StreamId stream;
  void** kernel_params;
  void** extra;
  bool cooperative;
};

// One cuBLAS call, described for the backend (the cuBLAS shim fills it; see shims/cublas).
struct BlasCall {
  const char* entry_point;  // "cublasGemmEx", ...
  StreamId stream;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // Device memory. `device` is the index in Platform::devices().
  virtual CUresult mem_alloc(int device, size_t bytes, uintptr_t* out) = 0;
  virtual CUresult mem_free(int device, uintptr_t ptr, size_t bytes) = 0;
  // Copies between any two addresses the driver has classified (host, device, pinned, managed).
  virtual CUresult copy(uintptr_t dst, uintptr_t src, size_t bytes, StreamId stream) = 0;
  virtual CUresult copy_2d(uintptr_t dst, size_t dpitch, uintptr_t src, size_t spitch, size_t width, size_t height,
                           StreamId stream) = 0;
  virtual CUresult memset(uintptr_t dst, unsigned value, unsigned element_size, size_t count, StreamId stream) = 0;

  // Virtual memory management (cuMemAddressReserve / cuMemCreate / cuMemMap ...).
  virtual CUresult va_reserve(size_t bytes, size_t alignment, uintptr_t hint, uintptr_t* out) = 0;
  virtual CUresult va_free(uintptr_t base, size_t bytes) = 0;
  virtual CUresult physical_create(int device, size_t bytes, uint64_t* handle) = 0;
  virtual CUresult physical_release(uint64_t handle) = 0;
  virtual CUresult map(uintptr_t va, size_t bytes, uint64_t handle, size_t offset) = 0;
  virtual CUresult unmap(uintptr_t va, size_t bytes) = 0;
  virtual CUresult set_access(uintptr_t va, size_t bytes, bool read, bool write) = 0;

  // Code: module images as the application registered them (fatbin, cubin or PTX), and execution.
  virtual CUresult module_load(int device, const void* image, BackendModule* out) = 0;
  virtual CUresult module_unload(BackendModule module) = 0;
  virtual CUresult module_get_function(BackendModule module, const char* name, BackendFunction* out) = 0;
  virtual CUresult launch(const LaunchParams& params) = 0;
  virtual CUresult graph_launch(StreamId stream) = 0;
  virtual CUresult blas(const BlasCall& call) = 0;
  virtual CUresult synchronize(StreamId stream) = 0;  // 0: the whole device
};

// The backend Config::backend names, created on first use.
Backend& backend();

}  // namespace vgpu::drv
