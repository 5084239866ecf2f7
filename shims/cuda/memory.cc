// Memory: device allocations with VRAM accounting, host (pinned/registered) memory, copies and memsets,
// pointer attributes, and the virtual memory management API that ggml's VMM pool uses.
#include <cstring>

#include "driver.h"
#include "log.h"

using namespace vgpu;
using namespace vgpu::drv;

namespace vgpu::drv {

const Allocation* Driver::find_allocation(uintptr_t ptr) const {
  auto it = allocations.upper_bound(ptr);
  if (it == allocations.begin()) return nullptr;
  --it;
  const Allocation& a = it->second;
  return ptr >= a.base && ptr < a.base + (a.size ? a.size : 1) ? &a : nullptr;
}

}  // namespace vgpu::drv

namespace {

VirtualDevice& platform_device(int index) {
  return const_cast<VirtualDevice&>(Platform::get().devices()[static_cast<size_t>(index)]);
}

CUresult alloc_device(CUdeviceptr* dptr, size_t bytes, MemKind kind) {
  if (CUresult r = check_init()) return r;
  if (!dptr || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  Context* ctx;
  if (CUresult r = require_context(&ctx)) return r;
  VirtualDevice& dev = platform_device(ctx->device);
  if (!dev.vram->reserve(bytes)) return CUDA_ERROR_OUT_OF_MEMORY;
  uintptr_t p = 0;
  if (CUresult r = backend().mem_alloc(ctx->device, bytes, &p)) {
    dev.vram->release(bytes);
    return r;
  }
  std::lock_guard<std::mutex> lock(driver().mutex);
  driver().allocations[p] = Allocation{p, bytes, kind, ctx->device, 0, reinterpret_cast<CUcontext>(ctx)};
  *dptr = p;
  return CUDA_SUCCESS;
}

// Host memory the device can see: pinned allocations live outside VRAM, exactly as on a GPU.
CUresult alloc_host(void** pp, size_t bytes, unsigned flags) {
  if (CUresult r = check_init()) return r;
  if (!pp || bytes == 0) return CUDA_ERROR_INVALID_VALUE;
  if (flags & ~0x7u) return CUDA_ERROR_INVALID_VALUE;  // PORTABLE | DEVICEMAP | WRITECOMBINED
  Context* ctx;
  if (CUresult r = require_context(&ctx)) return r;
  uintptr_t p = 0;
  if (CUresult r = backend().mem_alloc(ctx->device, bytes, &p)) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  driver().allocations[p] = Allocation{p, bytes, MemKind::host_pinned, ctx->device, flags, reinterpret_cast<CUcontext>(ctx)};
  *pp = reinterpret_cast<void*>(p);
  return CUDA_SUCCESS;
}

CUresult free_kind(uintptr_t ptr, bool host) {
  if (CUresult r = check_init()) return r;
  if (ptr == 0) return CUDA_SUCCESS;
  Allocation a;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    auto it = driver().allocations.find(ptr);
    if (it == driver().allocations.end()) return CUDA_ERROR_INVALID_VALUE;
    bool is_host = it->second.kind == MemKind::host_pinned;
    if (is_host != host || it->second.kind == MemKind::host_registered || it->second.kind == MemKind::vmm_reserved)
      return CUDA_ERROR_INVALID_VALUE;
    a = it->second;
    driver().allocations.erase(it);
  }
  backend().mem_free(a.device, a.base, a.size);
  if (!host) platform_device(a.device).vram->release(a.size);
  return CUDA_SUCCESS;
}

// A copy is valid when each side is either known memory of the right extent or, for host sides,
// any address the process owns (pageable host memory is not registered with the driver).
CUresult check_range(uintptr_t p, size_t bytes, bool must_be_device) {
  if (p == 0) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  const Allocation* a = driver().find_allocation(p);
  if (!a) return must_be_device ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
  if (a->kind == MemKind::vmm_reserved) return CUDA_SUCCESS;  // access rights are the mapping's business
  if (bytes > a->size - (p - a->base)) return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

CUresult do_copy(uintptr_t dst, uintptr_t src, size_t bytes, bool dst_dev, bool src_dev, CUstream hs) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hs, &s)) return r;
  if (bytes == 0) return CUDA_SUCCESS;
  if (CUresult r = check_range(dst, bytes, dst_dev)) return r;
  if (CUresult r = check_range(src, bytes, src_dev)) return r;
  return backend().copy(dst, src, bytes, stream_id(s));
}

CUresult do_memset(uintptr_t dst, unsigned value, unsigned elem, size_t count, CUstream hs) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(hs, &s)) return r;
  if (count == 0) return CUDA_SUCCESS;
  if (CUresult r = check_range(dst, count * elem, true)) return r;
  return backend().memset(dst, value, elem, count, stream_id(s));
}

CUresult do_memset_2d(uintptr_t dst, size_t pitch, unsigned value, unsigned elem, size_t width, size_t height,
                      CUstream hs) {
  for (size_t row = 0; row < height; ++row)
    if (CUresult r = do_memset(dst + row * pitch, value, elem, width, hs)) return r;
  return CUDA_SUCCESS;
}

CUresult copy_2d(const CUDA_MEMCPY2D* c, CUstream hs) {
  if (CUresult r = check_init()) return r;
  if (!c) return CUDA_ERROR_INVALID_VALUE;
  auto address = [](CUmemorytype type, const void* host, CUdeviceptr dev, size_t x, size_t y, size_t pitch) {
    uintptr_t base = type == CU_MEMORYTYPE_HOST ? reinterpret_cast<uintptr_t>(host) : static_cast<uintptr_t>(dev);
    return base + y * pitch + x;
  };
  if (c->srcMemoryType == CU_MEMORYTYPE_ARRAY || c->dstMemoryType == CU_MEMORYTYPE_ARRAY) return CUDA_ERROR_NOT_SUPPORTED;
  if (c->WidthInBytes > c->srcPitch && c->Height > 1) return CUDA_ERROR_INVALID_VALUE;
  if (c->WidthInBytes > c->dstPitch && c->Height > 1) return CUDA_ERROR_INVALID_VALUE;
  uintptr_t src = address(c->srcMemoryType, c->srcHost, c->srcDevice, c->srcXInBytes, c->srcY, c->srcPitch);
  uintptr_t dst = address(c->dstMemoryType, c->dstHost, c->dstDevice, c->dstXInBytes, c->dstY, c->dstPitch);
  Stream* s;
  if (CUresult r = resolve_stream(hs, &s)) return r;
  if (c->WidthInBytes == 0 || c->Height == 0) return CUDA_SUCCESS;
  size_t span_src = (c->Height - 1) * c->srcPitch + c->WidthInBytes;
  size_t span_dst = (c->Height - 1) * c->dstPitch + c->WidthInBytes;
  if (CUresult r = check_range(src, span_src, c->srcMemoryType == CU_MEMORYTYPE_DEVICE)) return r;
  if (CUresult r = check_range(dst, span_dst, c->dstMemoryType == CU_MEMORYTYPE_DEVICE)) return r;
  return backend().copy_2d(dst, c->dstPitch, src, c->srcPitch, c->WidthInBytes, c->Height, stream_id(s));
}

}  // namespace

extern "C" {

VGPU_EXPORT CUresult cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytesize) { return alloc_device(dptr, bytesize, MemKind::device); }

VGPU_EXPORT CUresult cuMemAllocManaged(CUdeviceptr* dptr, size_t bytesize, unsigned int flags) {
  if (flags != 1 && flags != 2) return CUDA_ERROR_INVALID_VALUE;  // CU_MEM_ATTACH_GLOBAL | CU_MEM_ATTACH_HOST
  return alloc_device(dptr, bytesize, MemKind::managed);
}

VGPU_EXPORT CUresult cuMemAllocPitch_v2(CUdeviceptr* dptr, size_t* pPitch, size_t width, size_t height,
                                        unsigned int elementSize) {
  if (!pPitch || (elementSize != 4 && elementSize != 8 && elementSize != 16)) return CUDA_ERROR_INVALID_VALUE;
  size_t pitch = (width + 511) & ~size_t{511};  // texture pitch alignment of the device (attribute 12)
  if (CUresult r = alloc_device(dptr, pitch * height, MemKind::device)) return r;
  *pPitch = pitch;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemFree_v2(CUdeviceptr dptr) { return free_kind(dptr, false); }

VGPU_EXPORT CUresult cuMemGetInfo_v2(size_t* free, size_t* total) {
  if (CUresult r = check_init()) return r;
  if (!free || !total) return CUDA_ERROR_INVALID_VALUE;
  Context* ctx;
  if (CUresult r = require_context(&ctx)) return r;
  VirtualDevice& dev = platform_device(ctx->device);
  uint64_t used = dev.vram->used();
  *total = dev.total_mem;
  *free = used >= dev.total_mem ? 0 : dev.total_mem - used;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemGetAddressRange_v2(CUdeviceptr* pbase, size_t* psize, CUdeviceptr dptr) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  const Allocation* a = driver().find_allocation(dptr);
  if (!a || a->kind == MemKind::host_pinned || a->kind == MemKind::host_registered) return CUDA_ERROR_NOT_FOUND;
  if (pbase) *pbase = a->base;
  if (psize) *psize = a->size;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemAllocHost_v2(void** pp, size_t bytesize) { return alloc_host(pp, bytesize, 0); }
VGPU_EXPORT CUresult cuMemHostAlloc(void** pp, size_t bytesize, unsigned int flags) { return alloc_host(pp, bytesize, flags); }
VGPU_EXPORT CUresult cuMemFreeHost(void* p) { return free_kind(reinterpret_cast<uintptr_t>(p), true); }

VGPU_EXPORT CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr* pdptr, void* p, unsigned int flags) {
  if (CUresult r = check_init()) return r;
  if (!pdptr || !p || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  const Allocation* a = driver().find_allocation(reinterpret_cast<uintptr_t>(p));
  if (!a || (a->kind != MemKind::host_pinned && a->kind != MemKind::host_registered)) return CUDA_ERROR_INVALID_VALUE;
  *pdptr = reinterpret_cast<uintptr_t>(p);  // unified addressing: the device sees host memory at the same address
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemHostGetFlags(unsigned int* pFlags, void* p) {
  if (CUresult r = check_init()) return r;
  if (!pFlags) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  const Allocation* a = driver().find_allocation(reinterpret_cast<uintptr_t>(p));
  if (!a || (a->kind != MemKind::host_pinned && a->kind != MemKind::host_registered)) return CUDA_ERROR_INVALID_VALUE;
  *pFlags = a->flags;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemHostRegister_v2(void* p, size_t bytesize, unsigned int flags) {
  if (CUresult r = check_init()) return r;
  if (!p || bytesize == 0 || (flags & ~0xfu)) return CUDA_ERROR_INVALID_VALUE;
  Context* ctx;
  if (CUresult r = require_context(&ctx)) return r;
  uintptr_t base = reinterpret_cast<uintptr_t>(p);
  std::lock_guard<std::mutex> lock(driver().mutex);
  auto it = driver().allocations.lower_bound(base);
  if ((it != driver().allocations.end() && it->first < base + bytesize) || driver().find_allocation(base))
    return CUDA_ERROR_HOST_MEMORY_ALREADY_REGISTERED;
  driver().allocations[base] =
      Allocation{base, bytesize, MemKind::host_registered, ctx->device, flags, reinterpret_cast<CUcontext>(ctx)};
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuMemHostRegister(void* p, size_t bytesize, unsigned int flags) {
  return cuMemHostRegister_v2(p, bytesize, flags);
}

VGPU_EXPORT CUresult cuMemHostUnregister(void* p) {
  if (CUresult r = check_init()) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  auto it = driver().allocations.find(reinterpret_cast<uintptr_t>(p));
  if (it == driver().allocations.end() || it->second.kind != MemKind::host_registered)
    return CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED;
  driver().allocations.erase(it);
  return CUDA_SUCCESS;
}

// ---- copies (the per-thread-stream variants behave the same: all work completes in order) ----

VGPU_EXPORT CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t n) { return do_copy(dst, src, n, false, false, nullptr); }
VGPU_EXPORT CUresult cuMemcpy_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n) { return cuMemcpy(dst, src, n); }
VGPU_EXPORT CUresult cuMemcpyAsync(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
  return do_copy(dst, src, n, false, false, s);
}
VGPU_EXPORT CUresult cuMemcpyAsync_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
  return cuMemcpyAsync(dst, src, n, s);
}
VGPU_EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t n) {
  return do_copy(dst, reinterpret_cast<uintptr_t>(src), n, true, false, nullptr);
}
VGPU_EXPORT CUresult cuMemcpyHtoD_v2_ptds(CUdeviceptr dst, const void* src, size_t n) { return cuMemcpyHtoD_v2(dst, src, n); }
VGPU_EXPORT CUresult cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t n) {
  return do_copy(reinterpret_cast<uintptr_t>(dst), src, n, false, true, nullptr);
}
VGPU_EXPORT CUresult cuMemcpyDtoH_v2_ptds(void* dst, CUdeviceptr src, size_t n) { return cuMemcpyDtoH_v2(dst, src, n); }
VGPU_EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t n) { return do_copy(dst, src, n, true, true, nullptr); }
VGPU_EXPORT CUresult cuMemcpyDtoD_v2_ptds(CUdeviceptr dst, CUdeviceptr src, size_t n) { return cuMemcpyDtoD_v2(dst, src, n); }
VGPU_EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t n, CUstream s) {
  return do_copy(dst, reinterpret_cast<uintptr_t>(src), n, true, false, s);
}
VGPU_EXPORT CUresult cuMemcpyHtoDAsync_v2_ptsz(CUdeviceptr dst, const void* src, size_t n, CUstream s) {
  return cuMemcpyHtoDAsync_v2(dst, src, n, s);
}
VGPU_EXPORT CUresult cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t n, CUstream s) {
  return do_copy(reinterpret_cast<uintptr_t>(dst), src, n, false, true, s);
}
VGPU_EXPORT CUresult cuMemcpyDtoHAsync_v2_ptsz(void* dst, CUdeviceptr src, size_t n, CUstream s) {
  return cuMemcpyDtoHAsync_v2(dst, src, n, s);
}
VGPU_EXPORT CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
  return do_copy(dst, src, n, true, true, s);
}
VGPU_EXPORT CUresult cuMemcpyDtoDAsync_v2_ptsz(CUdeviceptr dst, CUdeviceptr src, size_t n, CUstream s) {
  return cuMemcpyDtoDAsync_v2(dst, src, n, s);
}
VGPU_EXPORT CUresult cuMemcpyPeer(CUdeviceptr dst, CUcontext, CUdeviceptr src, CUcontext, size_t n) {
  return do_copy(dst, src, n, true, true, nullptr);
}
VGPU_EXPORT CUresult cuMemcpyPeer_ptds(CUdeviceptr dst, CUcontext dc, CUdeviceptr src, CUcontext sc, size_t n) {
  return cuMemcpyPeer(dst, dc, src, sc, n);
}
VGPU_EXPORT CUresult cuMemcpyPeerAsync(CUdeviceptr dst, CUcontext, CUdeviceptr src, CUcontext, size_t n, CUstream s) {
  return do_copy(dst, src, n, true, true, s);
}
VGPU_EXPORT CUresult cuMemcpyPeerAsync_ptsz(CUdeviceptr dst, CUcontext dc, CUdeviceptr src, CUcontext sc, size_t n,
                                            CUstream s) {
  return cuMemcpyPeerAsync(dst, dc, src, sc, n, s);
}
VGPU_EXPORT CUresult cuMemcpy2D_v2(const CUDA_MEMCPY2D* c) { return copy_2d(c, nullptr); }
VGPU_EXPORT CUresult cuMemcpy2D_v2_ptds(const CUDA_MEMCPY2D* c) { return copy_2d(c, nullptr); }
VGPU_EXPORT CUresult cuMemcpy2DUnaligned_v2(const CUDA_MEMCPY2D* c) { return copy_2d(c, nullptr); }
VGPU_EXPORT CUresult cuMemcpy2DUnaligned_v2_ptds(const CUDA_MEMCPY2D* c) { return copy_2d(c, nullptr); }
VGPU_EXPORT CUresult cuMemcpy2DAsync_v2(const CUDA_MEMCPY2D* c, CUstream s) { return copy_2d(c, s); }
VGPU_EXPORT CUresult cuMemcpy2DAsync_v2_ptsz(const CUDA_MEMCPY2D* c, CUstream s) { return copy_2d(c, s); }

// ---- memsets ----

VGPU_EXPORT CUresult cuMemsetD8_v2(CUdeviceptr d, unsigned char v, size_t n) { return do_memset(d, v, 1, n, nullptr); }
VGPU_EXPORT CUresult cuMemsetD8_v2_ptds(CUdeviceptr d, unsigned char v, size_t n) { return cuMemsetD8_v2(d, v, n); }
VGPU_EXPORT CUresult cuMemsetD16_v2(CUdeviceptr d, unsigned short v, size_t n) { return do_memset(d, v, 2, n, nullptr); }
VGPU_EXPORT CUresult cuMemsetD16_v2_ptds(CUdeviceptr d, unsigned short v, size_t n) { return cuMemsetD16_v2(d, v, n); }
VGPU_EXPORT CUresult cuMemsetD32_v2(CUdeviceptr d, unsigned int v, size_t n) { return do_memset(d, v, 4, n, nullptr); }
VGPU_EXPORT CUresult cuMemsetD32_v2_ptds(CUdeviceptr d, unsigned int v, size_t n) { return cuMemsetD32_v2(d, v, n); }
VGPU_EXPORT CUresult cuMemsetD8Async(CUdeviceptr d, unsigned char v, size_t n, CUstream s) { return do_memset(d, v, 1, n, s); }
VGPU_EXPORT CUresult cuMemsetD8Async_ptsz(CUdeviceptr d, unsigned char v, size_t n, CUstream s) { return cuMemsetD8Async(d, v, n, s); }
VGPU_EXPORT CUresult cuMemsetD16Async(CUdeviceptr d, unsigned short v, size_t n, CUstream s) { return do_memset(d, v, 2, n, s); }
VGPU_EXPORT CUresult cuMemsetD16Async_ptsz(CUdeviceptr d, unsigned short v, size_t n, CUstream s) { return cuMemsetD16Async(d, v, n, s); }
VGPU_EXPORT CUresult cuMemsetD32Async(CUdeviceptr d, unsigned int v, size_t n, CUstream s) { return do_memset(d, v, 4, n, s); }
VGPU_EXPORT CUresult cuMemsetD32Async_ptsz(CUdeviceptr d, unsigned int v, size_t n, CUstream s) { return cuMemsetD32Async(d, v, n, s); }
VGPU_EXPORT CUresult cuMemsetD2D8_v2(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h) {
  return do_memset_2d(d, pitch, v, 1, w, h, nullptr);
}
VGPU_EXPORT CUresult cuMemsetD2D8_v2_ptds(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h) {
  return cuMemsetD2D8_v2(d, pitch, v, w, h);
}
VGPU_EXPORT CUresult cuMemsetD2D8Async(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h, CUstream s) {
  return do_memset_2d(d, pitch, v, 1, w, h, s);
}
VGPU_EXPORT CUresult cuMemsetD2D8Async_ptsz(CUdeviceptr d, size_t pitch, unsigned char v, size_t w, size_t h, CUstream s) {
  return cuMemsetD2D8Async(d, pitch, v, w, h, s);
}

// ---- pointer attributes ----

VGPU_EXPORT CUresult cuPointerGetAttribute(void* data, CUpointer_attribute attribute, CUdeviceptr ptr) {
  if (CUresult r = check_init()) return r;
  if (!data) return CUDA_ERROR_INVALID_VALUE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  const Allocation* a = driver().find_allocation(ptr);
  if (!a) return CUDA_ERROR_INVALID_VALUE;  // what the driver answers for memory it does not know
  bool host = a->kind == MemKind::host_pinned || a->kind == MemKind::host_registered;
  switch (attribute) {
    case CU_POINTER_ATTRIBUTE_CONTEXT: *static_cast<CUcontext*>(data) = a->context; break;
    case CU_POINTER_ATTRIBUTE_MEMORY_TYPE:
      *static_cast<unsigned*>(data) = host ? CU_MEMORYTYPE_HOST : CU_MEMORYTYPE_DEVICE;
      break;
    case CU_POINTER_ATTRIBUTE_DEVICE_POINTER: *static_cast<CUdeviceptr*>(data) = ptr; break;
    case CU_POINTER_ATTRIBUTE_HOST_POINTER:
      if (!host && a->kind != MemKind::managed) return CUDA_ERROR_INVALID_VALUE;
      *static_cast<void**>(data) = reinterpret_cast<void*>(ptr);
      break;
    case CU_POINTER_ATTRIBUTE_IS_MANAGED: *static_cast<unsigned*>(data) = a->kind == MemKind::managed; break;
    case CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL: {
      Context* c = reinterpret_cast<Context*>(a->context);
      *static_cast<int*>(data) = driver().contexts.count(c) ? c->ordinal : 0;
      break;
    }
    case CU_POINTER_ATTRIBUTE_RANGE_START_ADDR: *static_cast<CUdeviceptr*>(data) = a->base; break;
    case CU_POINTER_ATTRIBUTE_RANGE_SIZE: *static_cast<size_t*>(data) = a->size; break;
    case CU_POINTER_ATTRIBUTE_MAPPED: *static_cast<unsigned*>(data) = 1; break;
    case CU_POINTER_ATTRIBUTE_BUFFER_ID: *static_cast<unsigned long long*>(data) = a->base; break;
    case CU_POINTER_ATTRIBUTE_SYNC_MEMOPS: *static_cast<unsigned*>(data) = 1; break;
    case CU_POINTER_ATTRIBUTE_IS_LEGACY_CUDA_IPC_CAPABLE: *static_cast<unsigned*>(data) = 0; break;
    default: return CUDA_ERROR_INVALID_VALUE;
  }
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuPointerGetAttributes(unsigned int numAttributes, CUpointer_attribute* attributes, void** data,
                                            CUdeviceptr ptr) {
  if (!attributes || !data) return CUDA_ERROR_INVALID_VALUE;
  for (unsigned i = 0; i < numAttributes; ++i) {
    if (!data[i]) continue;
    if (cuPointerGetAttribute(data[i], attributes[i], ptr) != CUDA_SUCCESS) {
      // Unlike the single query, the batch reports unknown memory through the values, not an error.
      if (attributes[i] == CU_POINTER_ATTRIBUTE_MEMORY_TYPE) *static_cast<unsigned*>(data[i]) = 0;
      else if (attributes[i] == CU_POINTER_ATTRIBUTE_CONTEXT) *static_cast<CUcontext*>(data[i]) = nullptr;
    }
  }
  return CUDA_SUCCESS;
}

// ---- virtual memory management (ggml's VMM pool: reserve, create, map, set access) ----

VGPU_EXPORT CUresult cuMemGetAllocationGranularity(size_t* granularity, const CUmemAllocationProp* prop,
                                                   CUmemAllocationGranularity_flags option) {
  if (CUresult r = check_init()) return r;
  if (!granularity || !prop) return CUDA_ERROR_INVALID_VALUE;
  if (prop->type != CU_MEM_ALLOCATION_TYPE_PINNED || prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
    return CUDA_ERROR_INVALID_VALUE;
  VirtualDevice* d = device_of(prop->location.id);
  if (!d) return CUDA_ERROR_INVALID_DEVICE;
  const char* key = option == CU_MEM_ALLOC_GRANULARITY_RECOMMENDED ? "vmm_granularity_recommended" : "vmm_granularity_minimum";
  long long g = d->profile->integer("driver", key, 0);
  if (g <= 0) return CUDA_ERROR_NOT_SUPPORTED;
  *granularity = static_cast<size_t>(g);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemAddressReserve(CUdeviceptr* ptr, size_t size, size_t alignment, CUdeviceptr addr,
                                         unsigned long long flags) {
  if (CUresult r = check_init()) return r;
  if (!ptr || size == 0 || flags != 0 || (alignment & (alignment - 1))) return CUDA_ERROR_INVALID_VALUE;
  uintptr_t base;
  if (CUresult r = backend().va_reserve(size, alignment, addr, &base)) return r;
  std::lock_guard<std::mutex> lock(driver().mutex);
  driver().allocations[base] = Allocation{base, size, MemKind::vmm_reserved, 0, 0, nullptr};
  *ptr = base;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemAddressFree(CUdeviceptr ptr, size_t size) {
  if (CUresult r = check_init()) return r;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    auto it = driver().allocations.find(ptr);
    if (it == driver().allocations.end() || it->second.kind != MemKind::vmm_reserved || it->second.size != size)
      return CUDA_ERROR_INVALID_VALUE;
    driver().allocations.erase(it);
  }
  return backend().va_free(ptr, size);
}

VGPU_EXPORT CUresult cuMemCreate(CUmemGenericAllocationHandle* handle, size_t size, const CUmemAllocationProp* prop,
                                 unsigned long long flags) {
  if (CUresult r = check_init()) return r;
  if (!handle || !prop || size == 0 || flags != 0) return CUDA_ERROR_INVALID_VALUE;
  if (prop->type != CU_MEM_ALLOCATION_TYPE_PINNED || prop->location.type != CU_MEM_LOCATION_TYPE_DEVICE)
    return CUDA_ERROR_INVALID_VALUE;
  VirtualDevice* d = device_of(prop->location.id);
  if (!d) return CUDA_ERROR_INVALID_DEVICE;
  size_t gran = static_cast<size_t>(d->profile->integer("driver", "vmm_granularity_minimum", 0));
  if (gran && size % gran) return CUDA_ERROR_INVALID_VALUE;
  if (!d->vram->reserve(size)) return CUDA_ERROR_OUT_OF_MEMORY;
  uint64_t h;
  if (CUresult r = backend().physical_create(d->index, size, &h)) {
    d->vram->release(size);
    return r;
  }
  std::lock_guard<std::mutex> lock(driver().mutex);
  driver().vmm_handles[h] = VmmHandle{d->index, size, h, 1};
  *handle = h;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuMemRelease(CUmemGenericAllocationHandle handle) {
  if (CUresult r = check_init()) return r;
  VmmHandle h;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    auto it = driver().vmm_handles.find(handle);
    if (it == driver().vmm_handles.end()) return CUDA_ERROR_INVALID_VALUE;
    if (--it->second.refs > 0) return CUDA_SUCCESS;
    h = it->second;
    driver().vmm_handles.erase(it);
  }
  platform_device(h.device).vram->release(h.size);
  return backend().physical_release(h.backend_handle);
}

VGPU_EXPORT CUresult cuMemMap(CUdeviceptr ptr, size_t size, size_t offset, CUmemGenericAllocationHandle handle,
                              unsigned long long flags) {
  if (CUresult r = check_init()) return r;
  if (flags != 0 || size == 0) return CUDA_ERROR_INVALID_VALUE;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    auto it = driver().vmm_handles.find(handle);
    if (it == driver().vmm_handles.end() || offset + size > it->second.size) return CUDA_ERROR_INVALID_VALUE;
    const Allocation* a = driver().find_allocation(ptr);
    if (!a || a->kind != MemKind::vmm_reserved || ptr + size > a->base + a->size) return CUDA_ERROR_INVALID_VALUE;
  }
  return backend().map(ptr, size, handle, offset);
}

VGPU_EXPORT CUresult cuMemUnmap(CUdeviceptr ptr, size_t size) {
  if (CUresult r = check_init()) return r;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    const Allocation* a = driver().find_allocation(ptr);
    if (!a || a->kind != MemKind::vmm_reserved || ptr + size > a->base + a->size) return CUDA_ERROR_INVALID_VALUE;
  }
  return backend().unmap(ptr, size);
}

VGPU_EXPORT CUresult cuMemSetAccess(CUdeviceptr ptr, size_t size, const CUmemAccessDesc* desc, size_t count) {
  if (CUresult r = check_init()) return r;
  if (!desc || count == 0) return CUDA_ERROR_INVALID_VALUE;
  bool read = false, write = false;
  for (size_t i = 0; i < count; ++i) {
    if (desc[i].location.type != CU_MEM_LOCATION_TYPE_DEVICE || !device_of(desc[i].location.id))
      return CUDA_ERROR_INVALID_DEVICE;
    read |= desc[i].flags != CU_MEM_ACCESS_FLAGS_PROT_NONE;
    write |= desc[i].flags == CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  }
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    const Allocation* a = driver().find_allocation(ptr);
    if (!a || a->kind != MemKind::vmm_reserved || ptr + size > a->base + a->size) return CUDA_ERROR_INVALID_VALUE;
  }
  return backend().set_access(ptr, size, read, write);
}

}  // extern "C"
