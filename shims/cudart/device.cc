// Device management and cudaGetDeviceProperties. Properties are assembled from driver attributes, as
// NVIDIA's runtime does, into whichever struct layout the caller was compiled against:
//   ABI 12: cudaGetDeviceProperties_v2 -> CUDA 12 layout; unsuffixed cudaGetDeviceProperties -> the
//           CUDA 11 layout (binaries built with 11.x headers against libcudart.so.12's compat symbol);
//   ABI 13: cudaGetDeviceProperties -> CUDA 13 layout.
#include <cstdio>
#include <cstring>

#include "log.h"
#include "runtime.h"

using namespace vgpu;
using namespace vgpu::rt;

namespace {

cudaError_t device_count(const DriverApi** api, int* count) {
  if (cudaError_t e = driver_api(api)) return e;
  CUresult r = (*api)->cuDeviceGetCount(count);
  return to_runtime_error(r);
}

cudaError_t check_device(int device, const DriverApi** api) {
  int count = 0;
  if (cudaError_t e = device_count(api, &count)) return e;
  if (count == 0) return cudaErrorNoDevice;
  if (device < 0 || device >= count) return cudaErrorInvalidDevice;
  return cudaSuccess;
}

// Fills every field the layout P has from the driver. Fields that exist only in some layouts are
// assigned through `requires`, so one function serves the 11, 12 and 13 layouts.
template <class P>
cudaError_t fill_properties(P* p, int device) {
  const DriverApi* api;
  if (cudaError_t e = check_device(device, &api)) return e;
  std::memset(p, 0, sizeof *p);
  auto attr = [&](CUdevice_attribute a) {
    int v = 0;
    api->cuDeviceGetAttribute(&v, a, device);
    return v;
  };
  api->cuDeviceGetName(p->name, sizeof p->name, device);
  CUuuid u{};
  api->cuDeviceGetUuid(&u, device);
  std::memcpy(&p->uuid, u.bytes, sizeof u.bytes);
  size_t total = 0;
  api->cuDeviceTotalMem(&total, device);
  p->totalGlobalMem = total;
  p->sharedMemPerBlock = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK));
  p->regsPerBlock = attr(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK);
  p->warpSize = attr(CU_DEVICE_ATTRIBUTE_WARP_SIZE);
  p->memPitch = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_MAX_PITCH));
  p->maxThreadsPerBlock = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  p->maxThreadsDim[0] = attr(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X);
  p->maxThreadsDim[1] = attr(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y);
  p->maxThreadsDim[2] = attr(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z);
  p->maxGridSize[0] = attr(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X);
  p->maxGridSize[1] = attr(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y);
  p->maxGridSize[2] = attr(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z);
  p->totalConstMem = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY));
  p->major = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  p->minor = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  p->textureAlignment = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT));
  p->texturePitchAlignment = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT));
  p->multiProcessorCount = attr(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
  p->integrated = attr(CU_DEVICE_ATTRIBUTE_INTEGRATED);
  p->canMapHostMemory = attr(CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY);
  p->maxTexture1D = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_WIDTH);
  p->maxTexture1DMipmap = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH);
  p->maxTexture2D[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_WIDTH);
  p->maxTexture2D[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_HEIGHT);
  p->maxTexture2DMipmap[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH);
  p->maxTexture2DMipmap[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_HEIGHT);
  p->maxTexture2DLinear[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_WIDTH);
  p->maxTexture2DLinear[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_HEIGHT);
  p->maxTexture2DLinear[2] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_PITCH);
  p->maxTexture2DGather[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_WIDTH);
  p->maxTexture2DGather[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_HEIGHT);
  p->maxTexture3D[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH);
  p->maxTexture3D[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT);
  p->maxTexture3D[2] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH);
  p->maxTexture3DAlt[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH_ALTERNATE);
  p->maxTexture3DAlt[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT_ALTERNATE);
  p->maxTexture3DAlt[2] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH_ALTERNATE);
  p->maxTextureCubemap = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_WIDTH);
  p->maxTexture1DLayered[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_WIDTH);
  p->maxTexture1DLayered[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_LAYERS);
  p->maxTexture2DLayered[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_WIDTH);
  p->maxTexture2DLayered[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_HEIGHT);
  p->maxTexture2DLayered[2] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_LAYERS);
  p->maxTextureCubemapLayered[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_WIDTH);
  p->maxTextureCubemapLayered[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_LAYERS);
  p->maxSurface1D = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_WIDTH);
  p->maxSurface2D[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_WIDTH);
  p->maxSurface2D[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_HEIGHT);
  p->maxSurface3D[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_WIDTH);
  p->maxSurface3D[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_HEIGHT);
  p->maxSurface3D[2] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_DEPTH);
  p->maxSurface1DLayered[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_WIDTH);
  p->maxSurface1DLayered[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_LAYERS);
  p->maxSurface2DLayered[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_WIDTH);
  p->maxSurface2DLayered[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_HEIGHT);
  p->maxSurface2DLayered[2] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_LAYERS);
  p->maxSurfaceCubemap = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_WIDTH);
  p->maxSurfaceCubemapLayered[0] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_WIDTH);
  p->maxSurfaceCubemapLayered[1] = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_LAYERS);
  p->surfaceAlignment = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_SURFACE_ALIGNMENT));
  p->concurrentKernels = attr(CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS);
  p->ECCEnabled = attr(CU_DEVICE_ATTRIBUTE_ECC_ENABLED);
  p->pciBusID = attr(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID);
  p->pciDeviceID = attr(CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID);
  p->pciDomainID = attr(CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID);
  p->tccDriver = attr(CU_DEVICE_ATTRIBUTE_TCC_DRIVER);
  p->asyncEngineCount = attr(CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT);
  p->unifiedAddressing = attr(CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING);
  p->memoryBusWidth = attr(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
  p->l2CacheSize = attr(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
  p->persistingL2CacheMaxSize = attr(CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE);
  p->maxThreadsPerMultiProcessor = attr(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR);
  p->streamPrioritiesSupported = attr(CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED);
  p->globalL1CacheSupported = attr(CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED);
  p->localL1CacheSupported = attr(CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED);
  p->sharedMemPerMultiprocessor = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR));
  p->regsPerMultiprocessor = attr(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR);
  p->managedMemory = attr(CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY);
  p->isMultiGpuBoard = attr(CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD);
  p->multiGpuBoardGroupID = attr(CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD_GROUP_ID);
  p->hostNativeAtomicSupported = attr(CU_DEVICE_ATTRIBUTE_HOST_NATIVE_ATOMIC_SUPPORTED);
  p->pageableMemoryAccess = attr(CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS);
  p->concurrentManagedAccess = attr(CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS);
  p->computePreemptionSupported = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_PREEMPTION_SUPPORTED);
  p->canUseHostPointerForRegisteredMem = attr(CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM);
  p->cooperativeLaunch = attr(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH);
  p->sharedMemPerBlockOptin = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN));
  p->pageableMemoryAccessUsesHostPageTables = attr(CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES);
  p->directManagedMemAccessFromHost = attr(CU_DEVICE_ATTRIBUTE_DIRECT_MANAGED_MEM_ACCESS_FROM_HOST);
  // Fields not every layout has.
  if constexpr (requires { p->clockRate; }) p->clockRate = attr(CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
  if constexpr (requires { p->deviceOverlap; }) p->deviceOverlap = attr(CU_DEVICE_ATTRIBUTE_GPU_OVERLAP);
  if constexpr (requires { p->kernelExecTimeoutEnabled; })
    p->kernelExecTimeoutEnabled = attr(CU_DEVICE_ATTRIBUTE_KERNEL_EXEC_TIMEOUT);
  if constexpr (requires { p->computeMode; }) p->computeMode = attr(CU_DEVICE_ATTRIBUTE_COMPUTE_MODE);
  if constexpr (requires { p->maxTexture1DLinear; })
    p->maxTexture1DLinear = attr(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LINEAR_WIDTH);
  if constexpr (requires { p->memoryClockRate; }) p->memoryClockRate = attr(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
  if constexpr (requires { p->singleToDoublePrecisionPerfRatio; })
    p->singleToDoublePrecisionPerfRatio = attr(CU_DEVICE_ATTRIBUTE_SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO);
  if constexpr (requires { p->cooperativeMultiDeviceLaunch; })
    p->cooperativeMultiDeviceLaunch = attr(CU_DEVICE_ATTRIBUTE_COOPERATIVE_MULTI_DEVICE_LAUNCH);
  if constexpr (requires { p->maxBlocksPerMultiProcessor; })
    p->maxBlocksPerMultiProcessor = attr(CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR);
  if constexpr (requires { p->accessPolicyMaxWindowSize; })
    p->accessPolicyMaxWindowSize = attr(CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE);
  if constexpr (requires { p->reservedSharedMemPerBlock; })
    p->reservedSharedMemPerBlock = static_cast<size_t>(attr(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK));
  if constexpr (requires { p->hostRegisterSupported; })
    p->hostRegisterSupported = attr(CU_DEVICE_ATTRIBUTE_HOST_REGISTER_SUPPORTED);
  if constexpr (requires { p->sparseCudaArraySupported; })
    p->sparseCudaArraySupported = attr(CU_DEVICE_ATTRIBUTE_SPARSE_CUDA_ARRAY_SUPPORTED);
  if constexpr (requires { p->hostRegisterReadOnlySupported; })
    p->hostRegisterReadOnlySupported = attr(CU_DEVICE_ATTRIBUTE_READ_ONLY_HOST_REGISTER_SUPPORTED);
  if constexpr (requires { p->timelineSemaphoreInteropSupported; })
    p->timelineSemaphoreInteropSupported = attr(CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED);
  if constexpr (requires { p->memoryPoolsSupported; })
    p->memoryPoolsSupported = attr(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED);
  if constexpr (requires { p->gpuDirectRDMASupported; })
    p->gpuDirectRDMASupported = attr(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED);
  if constexpr (requires { p->gpuDirectRDMAFlushWritesOptions; })
    p->gpuDirectRDMAFlushWritesOptions =
        static_cast<unsigned>(attr(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_FLUSH_WRITES_OPTIONS));
  if constexpr (requires { p->gpuDirectRDMAWritesOrdering; })
    p->gpuDirectRDMAWritesOrdering = attr(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WRITES_ORDERING);
  if constexpr (requires { p->memoryPoolSupportedHandleTypes; })
    p->memoryPoolSupportedHandleTypes = static_cast<unsigned>(attr(CU_DEVICE_ATTRIBUTE_MEMPOOL_SUPPORTED_HANDLE_TYPES));
  if constexpr (requires { p->deferredMappingCudaArraySupported; })
    p->deferredMappingCudaArraySupported = attr(CU_DEVICE_ATTRIBUTE_DEFERRED_MAPPING_CUDA_ARRAY_SUPPORTED);
  if constexpr (requires { p->ipcEventSupported; }) p->ipcEventSupported = attr(CU_DEVICE_ATTRIBUTE_IPC_EVENT_SUPPORTED);
  if constexpr (requires { p->clusterLaunch; }) p->clusterLaunch = attr(CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH);
  if constexpr (requires { p->unifiedFunctionPointers; })
    p->unifiedFunctionPointers = attr(CU_DEVICE_ATTRIBUTE_UNIFIED_FUNCTION_POINTERS);
  if constexpr (requires { p->deviceNumaConfig; }) p->deviceNumaConfig = attr(CU_DEVICE_ATTRIBUTE_NUMA_CONFIG);
  if constexpr (requires { p->deviceNumaId; }) p->deviceNumaId = attr(CU_DEVICE_ATTRIBUTE_NUMA_ID);
  if constexpr (requires { p->mpsEnabled; }) p->mpsEnabled = attr(CU_DEVICE_ATTRIBUTE_MPS_ENABLED);
  if constexpr (requires { p->hostNumaId; }) p->hostNumaId = attr(CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID);
  if constexpr (requires { p->gpuPciDeviceID; })
    p->gpuPciDeviceID = static_cast<unsigned>(attr(CU_DEVICE_ATTRIBUTE_GPU_PCI_DEVICE_ID));
  if constexpr (requires { p->gpuPciSubsystemID; })
    p->gpuPciSubsystemID = static_cast<unsigned>(attr(CU_DEVICE_ATTRIBUTE_GPU_PCI_SUBSYSTEM_ID));
  if constexpr (requires { p->hostNumaMultinodeIpcSupported; })
    p->hostNumaMultinodeIpcSupported = attr(CU_DEVICE_ATTRIBUTE_HOST_NUMA_MULTINODE_IPC_SUPPORTED);
  return cudaSuccess;
}

}  // namespace

extern "C" {

VGPU_EXPORT cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  cudaError_t e = device_count(&api, count);
  if (e == cudaErrorNoDevice || (e == cudaSuccess && *count == 0)) {
    *count = 0;
    return set_error(cudaErrorNoDevice);
  }
  if (e) *count = 0;
  return set_error(e);
}

VGPU_EXPORT cudaError_t cudaGetDevice(int* device) {
  if (!device) return set_error(cudaErrorInvalidValue);
  *device = current_device();
  return cudaSuccess;
}

VGPU_EXPORT cudaError_t cudaSetDevice(int device) {
  const DriverApi* api;
  if (cudaError_t e = check_device(device, &api)) return set_error(e);
  set_current_device(device);
  return set_error(ensure_context());  // CUDA 12: cudaSetDevice initialises the primary context
}

VGPU_EXPORT cudaError_t cudaInitDevice(int device, unsigned int deviceFlags, unsigned int flags) {
  (void)deviceFlags;
  if (flags) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = check_device(device, &api)) return set_error(e);
  int saved = current_device();
  set_current_device(device);
  cudaError_t e = ensure_context();
  set_current_device(saved);
  return set_error(e);
}

VGPU_EXPORT cudaError_t cudaSetDeviceFlags(unsigned int flags) {
  const DriverApi* api;
  if (cudaError_t e = check_device(current_device(), &api)) return set_error(e);
  if (flags & ~0x1fu) return set_error(cudaErrorInvalidValue);
  // cudaDeviceMapHost (0x8) is always on with unified addressing; the driver keeps the scheduling bits.
  return set_error(to_runtime_error(api->cuDevicePrimaryCtxSetFlags(current_device(), flags & 0x7u)));
}

VGPU_EXPORT cudaError_t cudaGetDeviceFlags(unsigned int* flags) {
  if (!flags) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = check_device(current_device(), &api)) return set_error(e);
  unsigned f = 0;
  int active = 0;
  api->cuDevicePrimaryCtxGetState(current_device(), &f, &active);
  *flags = f | 0x8u;  // cudaDeviceMapHost
  return cudaSuccess;
}

VGPU_EXPORT cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
  if (!value) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = check_device(device, &api)) return set_error(e);
  // cudaDeviceAttr values are the driver's CUdevice_attribute values (cudart_types.h checks this).
  CUresult r = api->cuDeviceGetAttribute(value, static_cast<CUdevice_attribute>(attr), device);
  return set_error(r == CUDA_SUCCESS ? cudaSuccess : cudaErrorInvalidValue);
}

VGPU_EXPORT cudaError_t cudaDeviceGetPCIBusId(char* pciBusId, int len, int device) {
  if (!pciBusId || len <= 0) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = check_device(device, &api)) return set_error(e);
  return set_error(to_runtime_error(api->cuDeviceGetPCIBusId(pciBusId, len, device)));
}

VGPU_EXPORT cudaError_t cudaDeviceGetByPCIBusId(int* device, const char* pciBusId) {
  if (!device || !pciBusId) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = driver_api(&api)) return set_error(e);
  CUresult r = api->cuDeviceGetByPCIBusId(device, pciBusId);
  return set_error(r == CUDA_SUCCESS ? cudaSuccess : r == CUDA_ERROR_INVALID_DEVICE ? cudaErrorInvalidDevice
                                                                                      : cudaErrorInvalidValue);
}

VGPU_EXPORT cudaError_t cudaDeviceSynchronize() {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return set_error(e);
  return set_error(to_runtime_error(api->cuCtxSynchronize()));
}

VGPU_EXPORT cudaError_t cudaDeviceReset() {
  const DriverApi* api;
  if (cudaError_t e = check_device(current_device(), &api)) return set_error(e);
  return set_error(to_runtime_error(api->cuDevicePrimaryCtxReset(current_device())));
}

VGPU_EXPORT cudaError_t cudaDeviceGetLimit(size_t* value, int limit) {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return set_error(e);
  return set_error(api->cuCtxGetLimit(value, limit) == CUDA_SUCCESS ? cudaSuccess : cudaErrorUnsupportedLimit);
}

VGPU_EXPORT cudaError_t cudaDeviceSetLimit(int limit, size_t value) {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return set_error(e);
  return set_error(api->cuCtxSetLimit(limit, value) == CUDA_SUCCESS ? cudaSuccess : cudaErrorUnsupportedLimit);
}

VGPU_EXPORT cudaError_t cudaDeviceGetStreamPriorityRange(int* least, int* greatest) {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return set_error(e);
  return set_error(to_runtime_error(api->cuCtxGetStreamPriorityRange(least, greatest)));
}

VGPU_EXPORT cudaError_t cudaDeviceCanAccessPeer(int* canAccessPeer, int device, int peerDevice) {
  if (!canAccessPeer) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = check_device(device, &api)) return set_error(e);
  if (cudaError_t e = check_device(peerDevice, &api)) return set_error(e);
  return set_error(to_runtime_error(api->cuDeviceCanAccessPeer(canAccessPeer, device, peerDevice)));
}

VGPU_EXPORT cudaError_t cudaDeviceEnablePeerAccess(int peerDevice, unsigned int flags) {
  const DriverApi* api;
  if (flags) return set_error(cudaErrorInvalidValue);
  if (cudaError_t e = check_device(peerDevice, &api)) return set_error(e);
  if (peerDevice == current_device()) return set_error(cudaErrorInvalidDevice);
  return set_error(cudaErrorPeerAccessUnsupported);  // virtual devices share no fabric (cuDeviceCanAccessPeer = 0)
}

VGPU_EXPORT cudaError_t cudaDeviceDisablePeerAccess(int peerDevice) {
  const DriverApi* api;
  if (cudaError_t e = check_device(peerDevice, &api)) return set_error(e);
  return set_error(cudaErrorPeerAccessNotEnabled);
}

#if VGPU_CUDART_ABI == 12
VGPU_EXPORT cudaError_t cudaGetDeviceProperties_v2(vgpu_cudaDeviceProp_v12* prop, int device) {
  if (!prop) return set_error(cudaErrorInvalidValue);
  return set_error(fill_properties(prop, device));
}
// The CUDA 11 layout, for binaries built with 11.x headers that run against libcudart.so.12.
VGPU_EXPORT cudaError_t cudaGetDeviceProperties(vgpu_cudaDeviceProp_v11* prop, int device) {
  if (!prop) return set_error(cudaErrorInvalidValue);
  return set_error(fill_properties(prop, device));
}
#else
VGPU_EXPORT cudaError_t cudaGetDeviceProperties(vgpu_cudaDeviceProp_v13* prop, int device) {
  if (!prop) return set_error(cudaErrorInvalidValue);
  return set_error(fill_properties(prop, device));
}
#endif

}  // extern "C"
