// Runtime memory API over the driver: allocations, copies, memsets, host memory, pointer attributes.
#include <cstring>

#include "runtime.h"

using namespace vgpu;
using namespace vgpu::rt;

namespace {

cudaError_t ctx(const DriverApi** api) { return ensure_context(api); }

CUstream to_stream(cudaStream_t s) { return reinterpret_cast<CUstream>(s); }

// The direction a cudaMemcpyKind promises, checked against what the pointers are (unified addressing
// makes cudaMemcpyDefault always valid).
cudaError_t check_kind(const DriverApi* api, const void* dst, const void* src, cudaMemcpyKind kind) {
  if (kind == cudaMemcpyDefault || kind == cudaMemcpyHostToHost) return cudaSuccess;
  if (kind < cudaMemcpyHostToHost || kind > cudaMemcpyDefault) return cudaErrorInvalidMemcpyDirection;
  auto is_device = [&](const void* p) {
    unsigned type = 0;
    return api->cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, reinterpret_cast<CUdeviceptr>(p)) ==
               CUDA_SUCCESS &&
           type == CU_MEMORYTYPE_DEVICE;
  };
  bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if ((dst_dev && !is_device(dst)) || (src_dev && !is_device(src))) return cudaErrorInvalidValue;
  return cudaSuccess;
}

cudaError_t copy(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t s, bool sync) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return e;
  if (n == 0) return cudaSuccess;
  if (!dst || !src) return cudaErrorInvalidValue;
  if (cudaError_t e = check_kind(api, dst, src, kind)) return e;
  CUresult r = api->cuMemcpyAsync(reinterpret_cast<CUdeviceptr>(dst), reinterpret_cast<CUdeviceptr>(src), n, to_stream(s));
  if (r == CUDA_SUCCESS && sync) r = api->cuStreamSynchronize(to_stream(s));
  return r == CUDA_ERROR_INVALID_VALUE ? cudaErrorInvalidValue : to_runtime_error(r);
}

cudaError_t copy_2d(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                    cudaMemcpyKind kind, cudaStream_t s, bool sync) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return e;
  if (width > dpitch || width > spitch) return cudaErrorInvalidPitchValue;
  if (cudaError_t e = check_kind(api, dst, src, kind)) return e;
  CUDA_MEMCPY2D c{};
  c.srcMemoryType = CU_MEMORYTYPE_UNIFIED;
  c.srcDevice = reinterpret_cast<CUdeviceptr>(src);
  c.srcHost = src;
  c.srcPitch = spitch;
  c.dstMemoryType = CU_MEMORYTYPE_UNIFIED;
  c.dstDevice = reinterpret_cast<CUdeviceptr>(dst);
  c.dstHost = dst;
  c.dstPitch = dpitch;
  c.WidthInBytes = width;
  c.Height = height;
  CUresult r = api->cuMemcpy2DAsync(&c, to_stream(s));
  if (r == CUDA_SUCCESS && sync) r = api->cuStreamSynchronize(to_stream(s));
  return to_runtime_error(r);
}

cudaError_t memset_2d(void* p, size_t pitch, int value, size_t width, size_t height, cudaStream_t s, bool sync) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return e;
  CUresult r = height == 1 ? api->cuMemsetD8Async(reinterpret_cast<CUdeviceptr>(p), static_cast<unsigned char>(value), width, to_stream(s))
                           : api->cuMemsetD2D8Async(reinterpret_cast<CUdeviceptr>(p), pitch, static_cast<unsigned char>(value),
                                                    width, height, to_stream(s));
  if (r == CUDA_SUCCESS && sync) r = api->cuStreamSynchronize(to_stream(s));
  return to_runtime_error(r);
}

}  // namespace

extern "C" {

VGPU_EXPORT cudaError_t cudaMalloc(void** devPtr, size_t size) {
  if (!devPtr) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  if (size == 0) {
    *devPtr = nullptr;  // the runtime's documented answer for a zero-size request
    return cudaSuccess;
  }
  CUdeviceptr p = 0;
  CUresult r = api->cuMemAlloc(&p, size);
  *devPtr = r == CUDA_SUCCESS ? reinterpret_cast<void*>(p) : nullptr;
  return set_error(to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaMallocManaged(void** devPtr, size_t size, unsigned int flags) {
  if (!devPtr || size == 0) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  CUdeviceptr p = 0;
  CUresult r = api->cuMemAllocManaged(&p, size, flags ? flags : 1);
  *devPtr = reinterpret_cast<void*>(p);
  return set_error(to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaMallocPitch(void** devPtr, size_t* pitch, size_t width, size_t height) {
  if (!devPtr || !pitch) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  CUdeviceptr p = 0;
  CUresult r = api->cuMemAllocPitch(&p, pitch, width, height, 16);
  *devPtr = reinterpret_cast<void*>(p);
  return set_error(to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaFree(void* devPtr) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  if (!devPtr) return cudaSuccess;  // cudaFree(0) is the classic "initialise the runtime" call
  CUresult r = api->cuMemFree(reinterpret_cast<CUdeviceptr>(devPtr));
  return set_error(r == CUDA_ERROR_INVALID_VALUE ? cudaErrorInvalidValue : to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaMemGetInfo(size_t* free, size_t* total) {
  if (!free || !total) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  return set_error(to_runtime_error(api->cuMemGetInfo(free, total)));
}

VGPU_EXPORT cudaError_t cudaHostAlloc(void** pHost, size_t size, unsigned int flags) {
  if (!pHost) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  if (size == 0) {
    *pHost = nullptr;
    return cudaSuccess;
  }
  CUresult r = api->cuMemHostAlloc(pHost, size, flags);
  return set_error(to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaMallocHost(void** ptr, size_t size) { return cudaHostAlloc(ptr, size, 0); }

VGPU_EXPORT cudaError_t cudaFreeHost(void* ptr) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  if (!ptr) return cudaSuccess;
  return set_error(api->cuMemFreeHost(ptr) == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue);
}

VGPU_EXPORT cudaError_t cudaHostRegister(void* ptr, size_t size, unsigned int flags) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  CUresult r = api->cuMemHostRegister(ptr, size, flags);
  return set_error(r == CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED ? cudaErrorHostMemoryAlreadyRegistered
                                                                  : to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaHostUnregister(void* ptr) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  CUresult r = api->cuMemHostUnregister(ptr);
  return set_error(r == CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED ? cudaErrorHostMemoryNotRegistered : to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaHostGetDevicePointer(void** pDevice, void* pHost, unsigned int flags) {
  if (!pDevice) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  CUdeviceptr d = 0;
  CUresult r = api->cuMemHostGetDevicePointer(&d, pHost, flags);
  *pDevice = reinterpret_cast<void*>(d);
  return set_error(to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaHostGetFlags(unsigned int* pFlags, void* pHost) {
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  return set_error(to_runtime_error(api->cuMemHostGetFlags(pFlags, pHost)));
}

VGPU_EXPORT cudaError_t cudaMemcpy(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return set_error(copy(dst, src, count, kind, nullptr, true));
}
VGPU_EXPORT cudaError_t cudaMemcpy_ptds(void* dst, const void* src, size_t count, cudaMemcpyKind kind) {
  return set_error(copy(dst, src, count, kind, cudaStreamPerThread, true));
}
VGPU_EXPORT cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t s) {
  return set_error(copy(dst, src, count, kind, s, false));
}
VGPU_EXPORT cudaError_t cudaMemcpyAsync_ptsz(void* dst, const void* src, size_t count, cudaMemcpyKind kind, cudaStream_t s) {
  return set_error(copy(dst, src, count, kind, s ? s : cudaStreamPerThread, false));
}
VGPU_EXPORT cudaError_t cudaMemcpyPeer(void* dst, int, const void* src, int, size_t count) {
  return set_error(copy(dst, src, count, cudaMemcpyDefault, nullptr, true));
}
VGPU_EXPORT cudaError_t cudaMemcpyPeerAsync(void* dst, int, const void* src, int, size_t count, cudaStream_t s) {
  return set_error(copy(dst, src, count, cudaMemcpyDefault, s, false));
}
VGPU_EXPORT cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                                     size_t height, cudaMemcpyKind kind) {
  return set_error(copy_2d(dst, dpitch, src, spitch, width, height, kind, nullptr, true));
}
VGPU_EXPORT cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                                          size_t height, cudaMemcpyKind kind, cudaStream_t s) {
  return set_error(copy_2d(dst, dpitch, src, spitch, width, height, kind, s, false));
}
VGPU_EXPORT cudaError_t cudaMemcpy2DAsync_ptsz(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width,
                                               size_t height, cudaMemcpyKind kind, cudaStream_t s) {
  return set_error(copy_2d(dst, dpitch, src, spitch, width, height, kind, s ? s : cudaStreamPerThread, false));
}
VGPU_EXPORT cudaError_t cudaMemset(void* p, int value, size_t count) {
  return set_error(memset_2d(p, count, value, count, 1, nullptr, true));
}
VGPU_EXPORT cudaError_t cudaMemsetAsync(void* p, int value, size_t count, cudaStream_t s) {
  return set_error(memset_2d(p, count, value, count, 1, s, false));
}
VGPU_EXPORT cudaError_t cudaMemsetAsync_ptsz(void* p, int value, size_t count, cudaStream_t s) {
  return set_error(memset_2d(p, count, value, count, 1, s ? s : cudaStreamPerThread, false));
}
VGPU_EXPORT cudaError_t cudaMemset2D(void* p, size_t pitch, int value, size_t width, size_t height) {
  return set_error(memset_2d(p, pitch, value, width, height, nullptr, true));
}
VGPU_EXPORT cudaError_t cudaMemset2DAsync(void* p, size_t pitch, int value, size_t width, size_t height, cudaStream_t s) {
  return set_error(memset_2d(p, pitch, value, width, height, s, false));
}

VGPU_EXPORT cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* attributes, const void* ptr) {
  if (!attributes) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = ctx(&api)) return set_error(e);
  std::memset(attributes, 0, sizeof *attributes);
  unsigned type = 0;
  CUdeviceptr p = reinterpret_cast<CUdeviceptr>(ptr);
  if (api->cuPointerGetAttribute(&type, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, p) != CUDA_SUCCESS) {
    attributes->type = cudaMemoryTypeUnregistered;  // pageable host memory: success, type unregistered
    attributes->device = -2;
    attributes->hostPointer = const_cast<void*>(ptr);
    return cudaSuccess;
  }
  unsigned managed = 0;
  api->cuPointerGetAttribute(&managed, CU_POINTER_ATTRIBUTE_IS_MANAGED, p);
  int ordinal = 0;
  api->cuPointerGetAttribute(&ordinal, CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL, p);
  attributes->type = managed ? cudaMemoryTypeManaged : type == CU_MEMORYTYPE_HOST ? cudaMemoryTypeHost : cudaMemoryTypeDevice;
  attributes->device = ordinal;
  attributes->devicePointer = const_cast<void*>(ptr);
  attributes->hostPointer = type == CU_MEMORYTYPE_HOST || managed ? const_cast<void*>(ptr) : nullptr;
  return cudaSuccess;
}

}  // extern "C"
