/*
 * vgpu-profile-capture: records what a real NVIDIA GPU answers through the CUDA driver API
 * (libcuda.so.1), the CUDA runtime (libcudart.so.13) and NVML (libnvidia-ml.so.1), plus the PCI
 * identity sysfs shows for it, and prints it as a vgpu device profile (a small TOML subset) on
 * stdout. vgpu's shims answer from such profiles; shims/profiles/README.md describes the format.
 *
 * The libraries are dlopen()ed and every entry point is resolved with dlsym(), so the program needs
 * no CUDA library at link time, only the CUDA 13 headers at build time. Every call's return code is
 * checked: a failing call becomes a comment line "# <call> failed: <code> (<name>)" (an attribute also
 * gets an entry under [attributes_unsupported] / [runtime_attributes_unsupported]); a library that
 * cannot be loaded becomes a comment and its sections are skipped.
 *
 * Build (no GPU needed):
 *   gcc -O1 -std=c11 -Wall -Wextra -I/usr/local/cuda/include \
 *       shims/profiles/capture/vgpu-profile-capture.c -ldl -o vgpu-profile-capture
 * Run on the machine with the real GPU (device 0 is captured; the optional argument is the
 * profile id written under [profile], default "h100-sxm5-80gb"):
 *   ./vgpu-profile-capture [profile-id] > shims/profiles/h100-sxm5-80gb.toml
 * libcudart.so.13 is looked for on the library path, then in /usr/local/cuda/lib64, then as
 * libcudart.so; [prop] is written only when the runtime loaded is CUDA 13.x, whose struct
 * cudaDeviceProp layout this program was compiled against.
 *
 * Order of work: NVML is queried first, before this process has any CUDA context, so its memory
 * figures are those of an idle card; then the driver API (primary context retained for the
 * memory figures), then the runtime. The NVML section is printed after [prop], as the format asks.
 */
#define _POSIX_C_SOURCE 200809L

#include <ctype.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cuda.h>
#include <cuda_runtime_api.h>

#if CUDA_VERSION < 13000 || CUDART_VERSION < 13000
#error "build against the CUDA 13 headers (struct cudaDeviceProp and the attribute enums are CUDA 13's)"
#endif

#define DEFAULT_PROFILE_ID "h100-sxm5-80gb"

/* ---------------------------------------------------------------------------------------------
 * NVML: the few types used here, declared locally so that nvml.h is not needed at build time.
 * Layouts as in NVIDIA's nvml.h.
 * ------------------------------------------------------------------------------------------- */
typedef int nvmlReturn_t; /* NVML_SUCCESS == 0 */
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct {
  unsigned long long total, free, used;
} nvml_memory_v1;
typedef struct {
  unsigned int version;
  unsigned long long total, reserved, free, used;
} nvml_memory_v2;
#define NVML_MEMORY_V2_VERSION ((unsigned int)(sizeof(nvml_memory_v2) | (2u << 24))) /* nvmlMemory_v2 */
typedef struct {
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
} nvml_pci_info; /* nvmlPciInfo_t (v3) */
typedef struct {
  unsigned long long bar1Total, bar1Free, bar1Used;
} nvml_bar1_memory;

/* ---------------------------------------------------------------------------------------------
 * Name tables, generated from cuda.h / driver_types.h (CUDA 13.0) and kept as enum constants so
 * that the compiler checks every value. Where the header gives a value several names (deprecated
 * aliases), the first, current name is listed.
 * ------------------------------------------------------------------------------------------- */
struct enum_name {
  int value;
  const char *name;
};
#define E(x) \
  { (int)(x), #x }

static const struct enum_name cu_attr_names[] = {
    E(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK),
    E(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X),
    E(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y),
    E(CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z),
    E(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X),
    E(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y),
    E(CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z),
    E(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK),
    E(CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY),
    E(CU_DEVICE_ATTRIBUTE_WARP_SIZE),
    E(CU_DEVICE_ATTRIBUTE_MAX_PITCH),
    E(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK),
    E(CU_DEVICE_ATTRIBUTE_CLOCK_RATE),
    E(CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT),
    E(CU_DEVICE_ATTRIBUTE_GPU_OVERLAP),
    E(CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT),
    E(CU_DEVICE_ATTRIBUTE_KERNEL_EXEC_TIMEOUT),
    E(CU_DEVICE_ATTRIBUTE_INTEGRATED),
    E(CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY),
    E(CU_DEVICE_ATTRIBUTE_COMPUTE_MODE),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_LAYERS),
    E(CU_DEVICE_ATTRIBUTE_SURFACE_ALIGNMENT),
    E(CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS),
    E(CU_DEVICE_ATTRIBUTE_ECC_ENABLED),
    E(CU_DEVICE_ATTRIBUTE_PCI_BUS_ID),
    E(CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID),
    E(CU_DEVICE_ATTRIBUTE_TCC_DRIVER),
    E(CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE),
    E(CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE),
    E(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR),
    E(CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT),
    E(CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_LAYERS),
    E(CU_DEVICE_ATTRIBUTE_CAN_TEX2D_GATHER),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH_ALTERNATE),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT_ALTERNATE),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH_ALTERNATE),
    E(CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID),
    E(CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_LAYERS),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_DEPTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_LAYERS),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_LAYERS),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_LAYERS),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LINEAR_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_PITCH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_HEIGHT),
    E(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR),
    E(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR),
    E(CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH),
    E(CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR),
    E(CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR),
    E(CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY),
    E(CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD),
    E(CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD_GROUP_ID),
    E(CU_DEVICE_ATTRIBUTE_HOST_NATIVE_ATOMIC_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO),
    E(CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS),
    E(CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS),
    E(CU_DEVICE_ATTRIBUTE_COMPUTE_PREEMPTION_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM),
    E(CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_MEM_OPS_V1),
    E(CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS_V1),
    E(CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR_V1),
    E(CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH),
    E(CU_DEVICE_ATTRIBUTE_COOPERATIVE_MULTI_DEVICE_LAUNCH),
    E(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN),
    E(CU_DEVICE_ATTRIBUTE_CAN_FLUSH_REMOTE_WRITES),
    E(CU_DEVICE_ATTRIBUTE_HOST_REGISTER_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES),
    E(CU_DEVICE_ATTRIBUTE_DIRECT_MANAGED_MEM_ACCESS_FROM_HOST),
    E(CU_DEVICE_ATTRIBUTE_VIRTUAL_ADDRESS_MANAGEMENT_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_HANDLE_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_KMT_HANDLE_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR),
    E(CU_DEVICE_ATTRIBUTE_GENERIC_COMPRESSION_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE),
    E(CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE),
    E(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WITH_CUDA_VMM_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK),
    E(CU_DEVICE_ATTRIBUTE_SPARSE_CUDA_ARRAY_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_READ_ONLY_HOST_REGISTER_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_FLUSH_WRITES_OPTIONS),
    E(CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WRITES_ORDERING),
    E(CU_DEVICE_ATTRIBUTE_MEMPOOL_SUPPORTED_HANDLE_TYPES),
    E(CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH),
    E(CU_DEVICE_ATTRIBUTE_DEFERRED_MAPPING_CUDA_ARRAY_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS),
    E(CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR),
    E(CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_IPC_EVENT_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_MEM_SYNC_DOMAIN_COUNT),
    E(CU_DEVICE_ATTRIBUTE_TENSOR_MAP_ACCESS_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_UNIFIED_FUNCTION_POINTERS),
    E(CU_DEVICE_ATTRIBUTE_NUMA_CONFIG),
    E(CU_DEVICE_ATTRIBUTE_NUMA_ID),
    E(CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_MPS_ENABLED),
    E(CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID),
    E(CU_DEVICE_ATTRIBUTE_D3D12_CIG_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_MEM_DECOMPRESS_ALGORITHM_MASK),
    E(CU_DEVICE_ATTRIBUTE_MEM_DECOMPRESS_MAXIMUM_LENGTH),
    E(CU_DEVICE_ATTRIBUTE_VULKAN_CIG_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_GPU_PCI_DEVICE_ID),
    E(CU_DEVICE_ATTRIBUTE_GPU_PCI_SUBSYSTEM_ID),
    E(CU_DEVICE_ATTRIBUTE_HOST_NUMA_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HOST_NUMA_MEMORY_POOLS_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HOST_NUMA_MULTINODE_IPC_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HOST_MEMORY_POOLS_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HOST_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_HOST_ALLOC_DMA_BUF_SUPPORTED),
    E(CU_DEVICE_ATTRIBUTE_ONLY_PARTIAL_HOST_NATIVE_ATOMIC_SUPPORTED),
};

static const struct enum_name rt_attr_names[] = {
    E(cudaDevAttrMaxThreadsPerBlock),
    E(cudaDevAttrMaxBlockDimX),
    E(cudaDevAttrMaxBlockDimY),
    E(cudaDevAttrMaxBlockDimZ),
    E(cudaDevAttrMaxGridDimX),
    E(cudaDevAttrMaxGridDimY),
    E(cudaDevAttrMaxGridDimZ),
    E(cudaDevAttrMaxSharedMemoryPerBlock),
    E(cudaDevAttrTotalConstantMemory),
    E(cudaDevAttrWarpSize),
    E(cudaDevAttrMaxPitch),
    E(cudaDevAttrMaxRegistersPerBlock),
    E(cudaDevAttrClockRate),
    E(cudaDevAttrTextureAlignment),
    E(cudaDevAttrGpuOverlap),
    E(cudaDevAttrMultiProcessorCount),
    E(cudaDevAttrKernelExecTimeout),
    E(cudaDevAttrIntegrated),
    E(cudaDevAttrCanMapHostMemory),
    E(cudaDevAttrComputeMode),
    E(cudaDevAttrMaxTexture1DWidth),
    E(cudaDevAttrMaxTexture2DWidth),
    E(cudaDevAttrMaxTexture2DHeight),
    E(cudaDevAttrMaxTexture3DWidth),
    E(cudaDevAttrMaxTexture3DHeight),
    E(cudaDevAttrMaxTexture3DDepth),
    E(cudaDevAttrMaxTexture2DLayeredWidth),
    E(cudaDevAttrMaxTexture2DLayeredHeight),
    E(cudaDevAttrMaxTexture2DLayeredLayers),
    E(cudaDevAttrSurfaceAlignment),
    E(cudaDevAttrConcurrentKernels),
    E(cudaDevAttrEccEnabled),
    E(cudaDevAttrPciBusId),
    E(cudaDevAttrPciDeviceId),
    E(cudaDevAttrTccDriver),
    E(cudaDevAttrMemoryClockRate),
    E(cudaDevAttrGlobalMemoryBusWidth),
    E(cudaDevAttrL2CacheSize),
    E(cudaDevAttrMaxThreadsPerMultiProcessor),
    E(cudaDevAttrAsyncEngineCount),
    E(cudaDevAttrUnifiedAddressing),
    E(cudaDevAttrMaxTexture1DLayeredWidth),
    E(cudaDevAttrMaxTexture1DLayeredLayers),
    E(cudaDevAttrMaxTexture2DGatherWidth),
    E(cudaDevAttrMaxTexture2DGatherHeight),
    E(cudaDevAttrMaxTexture3DWidthAlt),
    E(cudaDevAttrMaxTexture3DHeightAlt),
    E(cudaDevAttrMaxTexture3DDepthAlt),
    E(cudaDevAttrPciDomainId),
    E(cudaDevAttrTexturePitchAlignment),
    E(cudaDevAttrMaxTextureCubemapWidth),
    E(cudaDevAttrMaxTextureCubemapLayeredWidth),
    E(cudaDevAttrMaxTextureCubemapLayeredLayers),
    E(cudaDevAttrMaxSurface1DWidth),
    E(cudaDevAttrMaxSurface2DWidth),
    E(cudaDevAttrMaxSurface2DHeight),
    E(cudaDevAttrMaxSurface3DWidth),
    E(cudaDevAttrMaxSurface3DHeight),
    E(cudaDevAttrMaxSurface3DDepth),
    E(cudaDevAttrMaxSurface1DLayeredWidth),
    E(cudaDevAttrMaxSurface1DLayeredLayers),
    E(cudaDevAttrMaxSurface2DLayeredWidth),
    E(cudaDevAttrMaxSurface2DLayeredHeight),
    E(cudaDevAttrMaxSurface2DLayeredLayers),
    E(cudaDevAttrMaxSurfaceCubemapWidth),
    E(cudaDevAttrMaxSurfaceCubemapLayeredWidth),
    E(cudaDevAttrMaxSurfaceCubemapLayeredLayers),
    E(cudaDevAttrMaxTexture1DLinearWidth),
    E(cudaDevAttrMaxTexture2DLinearWidth),
    E(cudaDevAttrMaxTexture2DLinearHeight),
    E(cudaDevAttrMaxTexture2DLinearPitch),
    E(cudaDevAttrMaxTexture2DMipmappedWidth),
    E(cudaDevAttrMaxTexture2DMipmappedHeight),
    E(cudaDevAttrComputeCapabilityMajor),
    E(cudaDevAttrComputeCapabilityMinor),
    E(cudaDevAttrMaxTexture1DMipmappedWidth),
    E(cudaDevAttrStreamPrioritiesSupported),
    E(cudaDevAttrGlobalL1CacheSupported),
    E(cudaDevAttrLocalL1CacheSupported),
    E(cudaDevAttrMaxSharedMemoryPerMultiprocessor),
    E(cudaDevAttrMaxRegistersPerMultiprocessor),
    E(cudaDevAttrManagedMemory),
    E(cudaDevAttrIsMultiGpuBoard),
    E(cudaDevAttrMultiGpuBoardGroupID),
    E(cudaDevAttrHostNativeAtomicSupported),
    E(cudaDevAttrSingleToDoublePrecisionPerfRatio),
    E(cudaDevAttrPageableMemoryAccess),
    E(cudaDevAttrConcurrentManagedAccess),
    E(cudaDevAttrComputePreemptionSupported),
    E(cudaDevAttrCanUseHostPointerForRegisteredMem),
    E(cudaDevAttrReserved92),
    E(cudaDevAttrReserved93),
    E(cudaDevAttrReserved94),
    E(cudaDevAttrCooperativeLaunch),
    E(cudaDevAttrReserved96),
    E(cudaDevAttrMaxSharedMemoryPerBlockOptin),
    E(cudaDevAttrCanFlushRemoteWrites),
    E(cudaDevAttrHostRegisterSupported),
    E(cudaDevAttrPageableMemoryAccessUsesHostPageTables),
    E(cudaDevAttrDirectManagedMemAccessFromHost),
    E(cudaDevAttrMaxBlocksPerMultiprocessor),
    E(cudaDevAttrMaxPersistingL2CacheSize),
    E(cudaDevAttrMaxAccessPolicyWindowSize),
    E(cudaDevAttrReservedSharedMemoryPerBlock),
    E(cudaDevAttrSparseCudaArraySupported),
    E(cudaDevAttrHostRegisterReadOnlySupported),
    E(cudaDevAttrTimelineSemaphoreInteropSupported),
    E(cudaDevAttrMemoryPoolsSupported),
    E(cudaDevAttrGPUDirectRDMASupported),
    E(cudaDevAttrGPUDirectRDMAFlushWritesOptions),
    E(cudaDevAttrGPUDirectRDMAWritesOrdering),
    E(cudaDevAttrMemoryPoolSupportedHandleTypes),
    E(cudaDevAttrClusterLaunch),
    E(cudaDevAttrDeferredMappingCudaArraySupported),
    E(cudaDevAttrReserved122),
    E(cudaDevAttrReserved123),
    E(cudaDevAttrReserved124),
    E(cudaDevAttrIpcEventSupport),
    E(cudaDevAttrMemSyncDomainCount),
    E(cudaDevAttrReserved127),
    E(cudaDevAttrReserved128),
    E(cudaDevAttrReserved129),
    E(cudaDevAttrNumaConfig),
    E(cudaDevAttrNumaId),
    E(cudaDevAttrReserved132),
    E(cudaDevAttrMpsEnabled),
    E(cudaDevAttrHostNumaId),
    E(cudaDevAttrD3D12CigSupported),
    E(cudaDevAttrVulkanCigSupported),
    E(cudaDevAttrGpuPciDeviceId),
    E(cudaDevAttrGpuPciSubsystemId),
    E(cudaDevAttrReserved141),
    E(cudaDevAttrHostNumaMemoryPoolsSupported),
    E(cudaDevAttrHostNumaMultinodeIpcSupported),
    E(cudaDevAttrHostMemoryPoolsSupported),
    E(cudaDevAttrReserved145),
    E(cudaDevAttrOnlyPartialHostNativeAtomicSupported),
};

/* ---------------------------------------------------------------------------------------------
 * Output helpers
 * ------------------------------------------------------------------------------------------- */
static const char *enum_name_of(const struct enum_name *t, size_t n, int value) {
  for (size_t i = 0; i < n; i++)
    if (t[i].value == value) return t[i].name;
  return NULL;
}

/* key = "string", with TOML basic-string escapes. */
static void put_str(FILE *f, const char *key, const char *s) {
  fprintf(f, "%s = \"", key);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p == '"' || *p == '\\')
      fprintf(f, "\\%c", *p);
    else if (*p < 0x20 || *p == 0x7f)
      fprintf(f, "\\u%04x", *p);
    else
      fputc(*p, f);
  }
  fputs("\"\n", f);
}

static void put_u64(FILE *f, const char *key, unsigned long long v) { fprintf(f, "%s = %llu\n", key, v); }
static void put_i64(FILE *f, const char *key, long long v) { fprintf(f, "%s = %lld\n", key, v); }
static void put_hex32(FILE *f, const char *key, unsigned int v) { fprintf(f, "%s = 0x%08x\n", key, v); }

static void hex_bytes(char *dst, const void *src, size_t n) {
  const unsigned char *b = src;
  for (size_t i = 0; i < n; i++) sprintf(dst + 2 * i, "%02x", b[i]);
  dst[2 * n] = '\0';
}

/* Loads a symbol into a function pointer of any type (the POSIX-sanctioned dlsym idiom). */
#define LOAD(lib, table, fn) (*(void **)(&(table).fn) = ((lib) ? dlsym((lib), #fn) : NULL))

static void *open_first(const char *const *names, const char **opened) {
  for (const char *const *n = names; *n; n++) {
    void *h = dlopen(*n, RTLD_NOW | RTLD_LOCAL);
    if (h) {
      *opened = *n;
      return h;
    }
  }
  *opened = NULL;
  return NULL;
}

static int missing(FILE *f, const char *fn, const char *lib) {
  fprintf(f, "# %s failed: not found in %s\n", fn, lib);
  return 0;
}

/* ---------------------------------------------------------------------------------------------
 * CUDA driver API
 * ------------------------------------------------------------------------------------------- */
static struct {
  CUresult (*cuInit)(unsigned int);
  CUresult (*cuDriverGetVersion)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceTotalMem_v2)(size_t *, CUdevice);
  CUresult (*cuDeviceGetUuid_v2)(CUuuid *, CUdevice);
  CUresult (*cuDeviceGetPCIBusId)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, CUdevice_attribute, CUdevice);
  CUresult (*cuMemGetAllocationGranularity)(size_t *, const CUmemAllocationProp *,
                                            CUmemAllocationGranularity_flags);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuDevicePrimaryCtxRelease_v2)(CUdevice);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuMemGetInfo_v2)(size_t *, size_t *);
  CUresult (*cuGetErrorName)(CUresult, const char **);
} cu;
static void *cu_lib;

static int cu_check(const char *call, CUresult r) {
  if (r == CUDA_SUCCESS) return 1;
  const char *name = NULL;
  if (!cu.cuGetErrorName || cu.cuGetErrorName(r, &name) != CUDA_SUCCESS) name = NULL;
  printf("# %s failed: %d (%s)\n", call, (int)r, name ? name : "?");
  return 0;
}
#define CU(fn, args) (cu.fn ? cu_check(#fn, cu.fn args) : missing(stdout, #fn, "libcuda.so.1"))

static void load_cuda(void) {
  static const char *const names[] = {"libcuda.so.1", NULL};
  const char *opened;
  cu_lib = open_first(names, &opened);
  if (!cu_lib) {
    printf("# libcuda.so.1 could not be loaded: %s\n", dlerror());
    return;
  }
  LOAD(cu_lib, cu, cuInit);
  LOAD(cu_lib, cu, cuDriverGetVersion);
  LOAD(cu_lib, cu, cuDeviceGet);
  LOAD(cu_lib, cu, cuDeviceGetName);
  LOAD(cu_lib, cu, cuDeviceTotalMem_v2);
  LOAD(cu_lib, cu, cuDeviceGetUuid_v2);
  /* A driver without the _v2 name: its cuDeviceGetUuid takes the same arguments. */
  if (!cu.cuDeviceGetUuid_v2) *(void **)(&cu.cuDeviceGetUuid_v2) = dlsym(cu_lib, "cuDeviceGetUuid");
  LOAD(cu_lib, cu, cuDeviceGetPCIBusId);
  LOAD(cu_lib, cu, cuDeviceGetAttribute);
  LOAD(cu_lib, cu, cuMemGetAllocationGranularity);
  LOAD(cu_lib, cu, cuDevicePrimaryCtxRetain);
  LOAD(cu_lib, cu, cuDevicePrimaryCtxRelease_v2);
  LOAD(cu_lib, cu, cuCtxSetCurrent);
  LOAD(cu_lib, cu, cuMemGetInfo_v2);
  LOAD(cu_lib, cu, cuGetErrorName);
}

/* Device 0's handle and PCI bus id, found before anything else (cuInit makes no context). */
static int cu_ready;
static CUdevice cu_dev;
static char cu_bus_id[64];

static void cuda_open_device(void) {
  if (!cu_lib) return;
  if (!CU(cuInit, (0)) || !CU(cuDeviceGet, (&cu_dev, 0))) return;
  cu_ready = 1;
  if (!CU(cuDeviceGetPCIBusId, (cu_bus_id, (int)sizeof cu_bus_id, cu_dev))) cu_bus_id[0] = '\0';
}

/* The comment naming attribute value a: its name in names, else (the runtime's enum has gaps that
 * cudaDeviceGetAttribute still answers) the driver API's name for the same number. */
static void print_attr_name(const struct enum_name *names, size_t n_names, int a) {
  const char *name = enum_name_of(names, n_names, a);
  if (name) {
    printf("  # %s\n", name);
    return;
  }
  const char *cu_name = names == cu_attr_names
                            ? NULL
                            : enum_name_of(cu_attr_names, sizeof cu_attr_names / sizeof cu_attr_names[0], a);
  if (cu_name)
    printf("  # (no cudaDeviceAttr name) %s\n", cu_name);
  else
    printf("  # (no name in the header)\n");
}

static void print_attr_section(const char *section, const char *unsupported_section,
                               const struct enum_name *names, size_t n_names, int max, const int *ok,
                               const int *value, const int *code) {
  int answered = 0;
  for (int a = 1; a < max; a++) answered += ok[a];
  printf("\n[%s]\n# %d of %d attribute values answered\n", section, answered, max - 1);
  for (int a = 1; a < max; a++) {
    if (!ok[a]) continue;
    printf("%d = %d", a, value[a]);
    print_attr_name(names, n_names, a);
  }
  printf("\n[%s]\n", unsupported_section);
  for (int a = 1; a < max; a++) {
    if (ok[a]) continue;
    printf("%d = %d", a, code[a]);
    print_attr_name(names, n_names, a);
  }
}

static void capture_driver(void) {
  printf("\n[driver]\n");
  if (!cu_lib) {
    printf("# libcuda.so.1 not loaded: section skipped\n");
    return;
  }
  int version = 0;
  if (CU(cuDriverGetVersion, (&version))) put_i64(stdout, "driver_version", version);
  if (!cu_ready) {
    printf("# no CUDA device 0: rest of [driver], [attributes] skipped\n");
    return;
  }

  char name[256] = "";
  if (CU(cuDeviceGetName, (name, (int)sizeof name, cu_dev))) put_str(stdout, "name", name);
  size_t total = 0;
  if (CU(cuDeviceTotalMem_v2, (&total, cu_dev))) put_u64(stdout, "total_mem", total);
  CUuuid u;
  if (CU(cuDeviceGetUuid_v2, (&u, cu_dev))) {
    const unsigned char *b = (const unsigned char *)u.bytes;
    char s[64];
    snprintf(s, sizeof s, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    put_str(stdout, "uuid", s);
  }
  if (cu_bus_id[0]) put_str(stdout, "pci_bus_id", cu_bus_id);

  CUmemAllocationProp prop;
  memset(&prop, 0, sizeof prop);
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = cu_dev;
  size_t gran = 0;
  if (CU(cuMemGetAllocationGranularity, (&gran, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM)))
    put_u64(stdout, "vmm_granularity_minimum", gran);
  if (CU(cuMemGetAllocationGranularity, (&gran, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED)))
    put_u64(stdout, "vmm_granularity_recommended", gran);

  CUcontext ctx = NULL;
  if (CU(cuDevicePrimaryCtxRetain, (&ctx, cu_dev))) {
    size_t mfree = 0, mtotal = 0;
    if (CU(cuCtxSetCurrent, (ctx)) && CU(cuMemGetInfo_v2, (&mfree, &mtotal))) {
      put_u64(stdout, "mem_free_after_ctx", mfree);
      put_u64(stdout, "mem_total_after_ctx", mtotal);
    }
    CU(cuCtxSetCurrent, (NULL));
    CU(cuDevicePrimaryCtxRelease_v2, (cu_dev));
  }

  /* Every attribute value 1 .. CU_DEVICE_ATTRIBUTE_MAX-1. */
  enum { MAX = CU_DEVICE_ATTRIBUTE_MAX };
  static int ok[MAX], value[MAX], code[MAX];
  if (!cu.cuDeviceGetAttribute) {
    missing(stdout, "cuDeviceGetAttribute", "libcuda.so.1");
    return;
  }
  for (int a = 1; a < MAX; a++) {
    CUresult r = cu.cuDeviceGetAttribute(&value[a], (CUdevice_attribute)a, cu_dev);
    ok[a] = r == CUDA_SUCCESS;
    code[a] = (int)r;
  }
  print_attr_section("attributes", "attributes_unsupported", cu_attr_names,
                     sizeof cu_attr_names / sizeof cu_attr_names[0], MAX, ok, value, code);
}

/* ---------------------------------------------------------------------------------------------
 * CUDA runtime
 * ------------------------------------------------------------------------------------------- */
static struct {
  cudaError_t (*cudaRuntimeGetVersion)(int *);
  cudaError_t (*cudaDriverGetVersion)(int *);
  cudaError_t (*cudaGetDeviceCount)(int *);
  cudaError_t (*cudaSetDevice)(int);
  cudaError_t (*cudaFree)(void *);
  cudaError_t (*cudaMemGetInfo)(size_t *, size_t *);
  cudaError_t (*cudaDeviceGetPCIBusId)(char *, int, int);
  cudaError_t (*cudaDeviceGetAttribute)(int *, enum cudaDeviceAttr, int);
  cudaError_t (*cudaGetDeviceProperties)(struct cudaDeviceProp *, int);
  const char *(*cudaGetErrorName)(cudaError_t);
} rt;
static void *rt_lib;
static const char *rt_lib_name;

static int rt_check(const char *call, cudaError_t r) {
  if (r == cudaSuccess) return 1;
  const char *name = rt.cudaGetErrorName ? rt.cudaGetErrorName(r) : NULL;
  printf("# %s failed: %d (%s)\n", call, (int)r, name ? name : "?");
  return 0;
}
#define RT(fn, args) (rt.fn ? rt_check(#fn, rt.fn args) : missing(stdout, #fn, rt_lib_name))

static void load_cudart(void) {
  static const char *const names[] = {"libcudart.so.13", "/usr/local/cuda/lib64/libcudart.so.13",
                                      "libcudart.so", NULL};
  rt_lib = open_first(names, &rt_lib_name);
  if (!rt_lib) return;
  LOAD(rt_lib, rt, cudaRuntimeGetVersion);
  LOAD(rt_lib, rt, cudaDriverGetVersion);
  LOAD(rt_lib, rt, cudaGetDeviceCount);
  LOAD(rt_lib, rt, cudaSetDevice);
  LOAD(rt_lib, rt, cudaFree);
  LOAD(rt_lib, rt, cudaMemGetInfo);
  LOAD(rt_lib, rt, cudaDeviceGetPCIBusId);
  LOAD(rt_lib, rt, cudaDeviceGetAttribute);
  LOAD(rt_lib, rt, cudaGetDeviceProperties);
  LOAD(rt_lib, rt, cudaGetErrorName);
}

/* One struct cudaDeviceProp field: where it is, how big, how to print it. */
enum prop_kind { P_STR, P_HEX, P_INT, P_UINT, P_SIZE };
struct prop_field {
  const char *name;
  size_t offset, size;
  enum prop_kind kind;
};
#define F(f, k) \
  { #f, offsetof(struct cudaDeviceProp, f), sizeof(((struct cudaDeviceProp *)0)->f), k }
static const struct prop_field prop_fields[] = {
    F(name, P_STR),
    F(uuid, P_HEX),
    F(luid, P_HEX),
    F(luidDeviceNodeMask, P_UINT),
    F(totalGlobalMem, P_SIZE),
    F(sharedMemPerBlock, P_SIZE),
    F(regsPerBlock, P_INT),
    F(warpSize, P_INT),
    F(memPitch, P_SIZE),
    F(maxThreadsPerBlock, P_INT),
    F(maxThreadsDim, P_INT),
    F(maxGridSize, P_INT),
    F(totalConstMem, P_SIZE),
    F(major, P_INT),
    F(minor, P_INT),
    F(textureAlignment, P_SIZE),
    F(texturePitchAlignment, P_SIZE),
    F(multiProcessorCount, P_INT),
    F(integrated, P_INT),
    F(canMapHostMemory, P_INT),
    F(maxTexture1D, P_INT),
    F(maxTexture1DMipmap, P_INT),
    F(maxTexture2D, P_INT),
    F(maxTexture2DMipmap, P_INT),
    F(maxTexture2DLinear, P_INT),
    F(maxTexture2DGather, P_INT),
    F(maxTexture3D, P_INT),
    F(maxTexture3DAlt, P_INT),
    F(maxTextureCubemap, P_INT),
    F(maxTexture1DLayered, P_INT),
    F(maxTexture2DLayered, P_INT),
    F(maxTextureCubemapLayered, P_INT),
    F(maxSurface1D, P_INT),
    F(maxSurface2D, P_INT),
    F(maxSurface3D, P_INT),
    F(maxSurface1DLayered, P_INT),
    F(maxSurface2DLayered, P_INT),
    F(maxSurfaceCubemap, P_INT),
    F(maxSurfaceCubemapLayered, P_INT),
    F(surfaceAlignment, P_SIZE),
    F(concurrentKernels, P_INT),
    F(ECCEnabled, P_INT),
    F(pciBusID, P_INT),
    F(pciDeviceID, P_INT),
    F(pciDomainID, P_INT),
    F(tccDriver, P_INT),
    F(asyncEngineCount, P_INT),
    F(unifiedAddressing, P_INT),
    F(memoryBusWidth, P_INT),
    F(l2CacheSize, P_INT),
    F(persistingL2CacheMaxSize, P_INT),
    F(maxThreadsPerMultiProcessor, P_INT),
    F(streamPrioritiesSupported, P_INT),
    F(globalL1CacheSupported, P_INT),
    F(localL1CacheSupported, P_INT),
    F(sharedMemPerMultiprocessor, P_SIZE),
    F(regsPerMultiprocessor, P_INT),
    F(managedMemory, P_INT),
    F(isMultiGpuBoard, P_INT),
    F(multiGpuBoardGroupID, P_INT),
    F(hostNativeAtomicSupported, P_INT),
    F(pageableMemoryAccess, P_INT),
    F(concurrentManagedAccess, P_INT),
    F(computePreemptionSupported, P_INT),
    F(canUseHostPointerForRegisteredMem, P_INT),
    F(cooperativeLaunch, P_INT),
    F(sharedMemPerBlockOptin, P_SIZE),
    F(pageableMemoryAccessUsesHostPageTables, P_INT),
    F(directManagedMemAccessFromHost, P_INT),
    F(maxBlocksPerMultiProcessor, P_INT),
    F(accessPolicyMaxWindowSize, P_INT),
    F(reservedSharedMemPerBlock, P_SIZE),
    F(hostRegisterSupported, P_INT),
    F(sparseCudaArraySupported, P_INT),
    F(hostRegisterReadOnlySupported, P_INT),
    F(timelineSemaphoreInteropSupported, P_INT),
    F(memoryPoolsSupported, P_INT),
    F(gpuDirectRDMASupported, P_INT),
    F(gpuDirectRDMAFlushWritesOptions, P_UINT),
    F(gpuDirectRDMAWritesOrdering, P_INT),
    F(memoryPoolSupportedHandleTypes, P_UINT),
    F(deferredMappingCudaArraySupported, P_INT),
    F(ipcEventSupported, P_INT),
    F(clusterLaunch, P_INT),
    F(unifiedFunctionPointers, P_INT),
    F(deviceNumaConfig, P_INT),
    F(deviceNumaId, P_INT),
    F(mpsEnabled, P_INT),
    F(hostNumaId, P_INT),
    F(gpuPciDeviceID, P_UINT),
    F(gpuPciSubsystemID, P_UINT),
    F(hostNumaMultinodeIpcSupported, P_INT),
};

_Static_assert(offsetof(struct cudaDeviceProp, hostNumaMultinodeIpcSupported) + sizeof(int) ==
                   offsetof(struct cudaDeviceProp, reserved),
               "prop_fields must end with the last field before reserved");

_Static_assert(sizeof(((struct cudaDeviceProp *)0)->name) < 600, "print_prop's buffer holds name");

static void print_prop(const struct cudaDeviceProp *p) {
  const unsigned char *base = (const unsigned char *)p;
  for (size_t i = 0; i < sizeof prop_fields / sizeof prop_fields[0]; i++) {
    const struct prop_field *f = &prop_fields[i];
    const unsigned char *at = base + f->offset;
    size_t elem = f->kind == P_SIZE                       ? sizeof(size_t)
                  : f->kind == P_INT || f->kind == P_UINT ? sizeof(int)
                                                          : 1;
    size_t count = f->size / elem;
    char buf[600];
    switch (f->kind) {
      case P_STR:
        memcpy(buf, at, f->size);
        buf[f->size - 1] = '\0';
        put_str(stdout, f->name, buf);
        continue;
      case P_HEX:
        hex_bytes(buf, at, f->size);
        put_str(stdout, f->name, buf);
        continue;
      default:
        break;
    }
    printf("%s = ", f->name);
    if (count > 1) printf("[");
    for (size_t j = 0; j < count; j++) {
      const unsigned char *e = at + j * elem;
      if (f->kind == P_INT) {
        int v;
        memcpy(&v, e, sizeof v);
        printf("%d", v);
      } else if (f->kind == P_UINT) {
        unsigned int v;
        memcpy(&v, e, sizeof v);
        printf("%u", v);
      } else {
        size_t v;
        memcpy(&v, e, sizeof v);
        printf("%zu", v);
      }
      if (j + 1 < count) printf(", ");
    }
    printf(count > 1 ? "]\n" : "\n");
  }
}

static void capture_runtime(void) {
  printf("\n[runtime]\n");
  if (!rt_lib) {
    printf(
        "# libcudart.so.13 / libcudart.so could not be loaded: [runtime], [runtime_attributes], [prop] "
        "skipped\n");
    return;
  }
  printf("# loaded %s\n", rt_lib_name);
  int rt_version = 0, drv_version = 0, count = 0;
  if (RT(cudaRuntimeGetVersion, (&rt_version))) put_i64(stdout, "runtime_version", rt_version);
  if (RT(cudaDriverGetVersion, (&drv_version))) put_i64(stdout, "driver_version", drv_version);
  if (RT(cudaGetDeviceCount, (&count))) put_i64(stdout, "device_count", count);
  int have_dev = count > 0 && RT(cudaSetDevice, (0)) && RT(cudaFree, (NULL));
  if (have_dev) {
    size_t mfree = 0, mtotal = 0;
    if (RT(cudaMemGetInfo, (&mfree, &mtotal))) {
      put_u64(stdout, "mem_free", mfree);
      put_u64(stdout, "mem_total", mtotal);
    }
  }
  if (count <= 0) {
    printf("# no CUDA device: [runtime_attributes], [prop] skipped\n");
    return;
  }
  char bus[64];
  if (RT(cudaDeviceGetPCIBusId, (bus, (int)sizeof bus, 0))) put_str(stdout, "pci_bus_id", bus);

  enum { MAX = cudaDevAttrMax };
  static int ok[MAX], value[MAX], code[MAX];
  if (rt.cudaDeviceGetAttribute) {
    for (int a = 1; a < MAX; a++) {
      cudaError_t r = rt.cudaDeviceGetAttribute(&value[a], (enum cudaDeviceAttr)a, 0);
      ok[a] = r == cudaSuccess;
      code[a] = (int)r;
    }
    print_attr_section("runtime_attributes", "runtime_attributes_unsupported", rt_attr_names,
                       sizeof rt_attr_names / sizeof rt_attr_names[0], MAX, ok, value, code);
  } else {
    printf("\n[runtime_attributes]\n");
    missing(stdout, "cudaDeviceGetAttribute", rt_lib_name);
  }

  printf("\n[prop]\n");
  if (rt_version / 1000 != CUDART_VERSION / 1000) {
    printf("# runtime %d is not CUDA %d.x: its struct cudaDeviceProp layout differs, [prop] skipped\n",
           rt_version, CUDART_VERSION / 1000);
    return;
  }
  /* Room past the struct in case a newer 13.x runtime writes more than this header's layout. */
  static union {
    struct cudaDeviceProp p;
    unsigned char room[sizeof(struct cudaDeviceProp) + 4096];
  } prop;
  memset(&prop, 0, sizeof prop);
  if (RT(cudaGetDeviceProperties, (&prop.p, 0))) print_prop(&prop.p);
}

/* ---------------------------------------------------------------------------------------------
 * NVML
 * ------------------------------------------------------------------------------------------- */
static void *nvml_lib;
static nvmlDevice_t nvml_dev;
static nvmlReturn_t (*nvml_get_memory_v2)(nvmlDevice_t, nvml_memory_v2 *);
static const char *(*nvml_error_string)(nvmlReturn_t);

static void *nvml_sym(FILE *f, const char *fn) {
  void *p = dlsym(nvml_lib, fn);
  if (!p) missing(f, fn, "libnvidia-ml.so.1");
  return p;
}

static int nvml_check(FILE *f, const char *call, nvmlReturn_t r) {
  if (r == 0) return 1;
  const char *s = nvml_error_string ? nvml_error_string(r) : NULL;
  fprintf(f, "# %s failed: %d (%s)\n", call, r, s ? s : "?");
  return 0;
}

/* The [nvml] section, in the order the format lists its keys. */
enum nvml_kind {
  NK_DEV_STR,   /* (device, char *, unsigned length) */
  NK_DEV_UINT,  /* (device, unsigned * or 32-bit enum *) */
  NK_DEV_PAIR,  /* (device, unsigned *, unsigned *): key, key2 */
  NK_DEV_ARG,   /* (device, enum arg, unsigned *) */
  NK_CC,        /* nvmlDeviceGetCudaComputeCapability: [major, minor] */
  NK_SYS_STR,   /* (char *, unsigned length) */
  NK_SYS_INT,   /* (int *) */
  NK_SYS_UINT,  /* (unsigned *) */
  NK_MEMORY_V1, /* nvmlDeviceGetMemoryInfo */
  NK_MEMORY_V2, /* nvmlDeviceGetMemoryInfo_v2 */
  NK_PCI,       /* nvmlDeviceGetPciInfo_v3 */
  NK_BAR1       /* nvmlDeviceGetBAR1MemoryInfo: bar1Total */
};
struct nvml_query {
  const char *key;
  const char *key2;
  const char *fn;
  enum nvml_kind kind;
  unsigned int arg;
};
static const struct nvml_query nvml_queries[] = {
    {"name", NULL, "nvmlDeviceGetName", NK_DEV_STR, 0},
    {"uuid", NULL, "nvmlDeviceGetUUID", NK_DEV_STR, 0},
    {"serial", NULL, "nvmlDeviceGetSerial", NK_DEV_STR, 0},
    {"driver_version", NULL, "nvmlSystemGetDriverVersion", NK_SYS_STR, 0},
    {"nvml_version", NULL, "nvmlSystemGetNVMLVersion", NK_SYS_STR, 0},
    {"cuda_driver_version", NULL, "nvmlSystemGetCudaDriverVersion_v2", NK_SYS_INT, 0},
    {"device_count", NULL, "nvmlDeviceGetCount_v2", NK_SYS_UINT, 0},
    {"memory", NULL, "nvmlDeviceGetMemoryInfo", NK_MEMORY_V1, 0},
    {"memory_v2", NULL, "nvmlDeviceGetMemoryInfo_v2", NK_MEMORY_V2, 0},
    {"pci", NULL, "nvmlDeviceGetPciInfo_v3", NK_PCI, 0},
    {"brand", NULL, "nvmlDeviceGetBrand", NK_DEV_UINT, 0},
    {"architecture", NULL, "nvmlDeviceGetArchitecture", NK_DEV_UINT, 0},
    {"cuda_compute_capability", NULL, "nvmlDeviceGetCudaComputeCapability", NK_CC, 0},
    {"board_part_number", NULL, "nvmlDeviceGetBoardPartNumber", NK_DEV_STR, 0},
    {"vbios_version", NULL, "nvmlDeviceGetVbiosVersion", NK_DEV_STR, 0},
    {"inforom_image_version", NULL, "nvmlDeviceGetInforomImageVersion", NK_DEV_STR, 0},
    {"minor_number", NULL, "nvmlDeviceGetMinorNumber", NK_DEV_UINT, 0},
    {"compute_mode", NULL, "nvmlDeviceGetComputeMode", NK_DEV_UINT, 0},
    {"persistence_mode", NULL, "nvmlDeviceGetPersistenceMode", NK_DEV_UINT, 0},
    {"display_mode", NULL, "nvmlDeviceGetDisplayMode", NK_DEV_UINT, 0},
    {"display_active", NULL, "nvmlDeviceGetDisplayActive", NK_DEV_UINT, 0},
    {"ecc_mode_current", "ecc_mode_pending", "nvmlDeviceGetEccMode", NK_DEV_PAIR, 0},
    {"mig_mode_current", "mig_mode_pending", "nvmlDeviceGetMigMode", NK_DEV_PAIR, 0},
    {"virtualization_mode", NULL, "nvmlDeviceGetVirtualizationMode", NK_DEV_UINT, 0},
    {"multi_gpu_board", NULL, "nvmlDeviceGetMultiGpuBoard", NK_DEV_UINT, 0},
    {"num_gpu_cores", NULL, "nvmlDeviceGetNumGpuCores", NK_DEV_UINT, 0},
    {"memory_bus_width", NULL, "nvmlDeviceGetMemoryBusWidth", NK_DEV_UINT, 0},
    {"bar1_total", NULL, "nvmlDeviceGetBAR1MemoryInfo", NK_BAR1, 0},
    {"power_management_limit", NULL, "nvmlDeviceGetPowerManagementLimit", NK_DEV_UINT, 0},
    {"power_management_default_limit", NULL, "nvmlDeviceGetPowerManagementDefaultLimit", NK_DEV_UINT, 0},
    {"power_limit_min", "power_limit_max", "nvmlDeviceGetPowerManagementLimitConstraints", NK_DEV_PAIR, 0},
    {"enforced_power_limit", NULL, "nvmlDeviceGetEnforcedPowerLimit", NK_DEV_UINT, 0},
    {"max_clock_graphics", NULL, "nvmlDeviceGetMaxClockInfo", NK_DEV_ARG, 0 /* NVML_CLOCK_GRAPHICS */},
    {"max_clock_sm", NULL, "nvmlDeviceGetMaxClockInfo", NK_DEV_ARG, 1 /* NVML_CLOCK_SM */},
    {"max_clock_mem", NULL, "nvmlDeviceGetMaxClockInfo", NK_DEV_ARG, 2 /* NVML_CLOCK_MEM */},
    {"max_clock_video", NULL, "nvmlDeviceGetMaxClockInfo", NK_DEV_ARG, 3 /* NVML_CLOCK_VIDEO */},
    {"default_app_clock_graphics", NULL, "nvmlDeviceGetDefaultApplicationsClock", NK_DEV_ARG, 0},
    {"default_app_clock_mem", NULL, "nvmlDeviceGetDefaultApplicationsClock", NK_DEV_ARG, 2},
    {"max_pcie_link_generation", NULL, "nvmlDeviceGetMaxPcieLinkGeneration", NK_DEV_UINT, 0},
    {"max_pcie_link_width", NULL, "nvmlDeviceGetMaxPcieLinkWidth", NK_DEV_UINT, 0},
    {"curr_pcie_link_generation", NULL, "nvmlDeviceGetCurrPcieLinkGeneration", NK_DEV_UINT, 0},
    {"curr_pcie_link_width", NULL, "nvmlDeviceGetCurrPcieLinkWidth", NK_DEV_UINT, 0},
    {"temperature_threshold_shutdown", NULL, "nvmlDeviceGetTemperatureThreshold", NK_DEV_ARG,
     0 /* NVML_TEMPERATURE_THRESHOLD_SHUTDOWN */},
    {"temperature_threshold_slowdown", NULL, "nvmlDeviceGetTemperatureThreshold", NK_DEV_ARG,
     1 /* NVML_TEMPERATURE_THRESHOLD_SLOWDOWN */},
};

static int nvml_run_query(FILE *f, const struct nvml_query *q) {
  void *p = nvml_sym(f, q->fn);
  if (!p) return 0;
  char call[160];
  if (q->kind == NK_DEV_ARG)
    snprintf(call, sizeof call, "%s(%u)", q->fn, q->arg);
  else
    snprintf(call, sizeof call, "%s", q->fn);
  char s[256] = "";
  unsigned int u = 0, u2 = 0;
  int i = 0, i2 = 0;
  switch (q->kind) {
    case NK_DEV_STR: {
      nvmlReturn_t (*fn)(nvmlDevice_t, char *, unsigned int);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(nvml_dev, s, sizeof s))) return 0;
      s[sizeof s - 1] = '\0';
      put_str(f, q->key, s);
      return 1;
    }
    case NK_SYS_STR: {
      nvmlReturn_t (*fn)(char *, unsigned int);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(s, sizeof s))) return 0;
      s[sizeof s - 1] = '\0';
      put_str(f, q->key, s);
      return 1;
    }
    case NK_DEV_UINT: {
      nvmlReturn_t (*fn)(nvmlDevice_t, unsigned int *);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(nvml_dev, &u))) return 0;
      put_u64(f, q->key, u);
      return 1;
    }
    case NK_DEV_PAIR: {
      nvmlReturn_t (*fn)(nvmlDevice_t, unsigned int *, unsigned int *);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(nvml_dev, &u, &u2))) return 0;
      put_u64(f, q->key, u);
      put_u64(f, q->key2, u2);
      return 1;
    }
    case NK_DEV_ARG: {
      nvmlReturn_t (*fn)(nvmlDevice_t, unsigned int, unsigned int *);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(nvml_dev, q->arg, &u))) return 0;
      put_u64(f, q->key, u);
      return 1;
    }
    case NK_CC: {
      nvmlReturn_t (*fn)(nvmlDevice_t, int *, int *);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(nvml_dev, &i, &i2))) return 0;
      fprintf(f, "%s = [%d, %d]\n", q->key, i, i2);
      return 1;
    }
    case NK_SYS_INT: {
      nvmlReturn_t (*fn)(int *);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(&i))) return 0;
      put_i64(f, q->key, i);
      return 1;
    }
    case NK_SYS_UINT: {
      nvmlReturn_t (*fn)(unsigned int *);
      *(void **)(&fn) = p;
      if (!nvml_check(f, call, fn(&u))) return 0;
      put_u64(f, q->key, u);
      return 1;
    }
    case NK_MEMORY_V1: {
      nvmlReturn_t (*fn)(nvmlDevice_t, nvml_memory_v1 *);
      *(void **)(&fn) = p;
      nvml_memory_v1 m;
      memset(&m, 0, sizeof m);
      if (!nvml_check(f, call, fn(nvml_dev, &m))) return 0;
      put_u64(f, "memory_total", m.total);
      put_u64(f, "memory_free", m.free);
      put_u64(f, "memory_used", m.used);
      return 1;
    }
    case NK_MEMORY_V2: {
      nvml_memory_v2 m;
      memset(&m, 0, sizeof m);
      m.version = NVML_MEMORY_V2_VERSION;
      *(void **)(&nvml_get_memory_v2) = p;
      if (!nvml_check(f, call, nvml_get_memory_v2(nvml_dev, &m))) return 0;
      put_u64(f, "memory_v2_total", m.total);
      put_u64(f, "memory_v2_reserved", m.reserved);
      put_u64(f, "memory_v2_free", m.free);
      put_u64(f, "memory_v2_used", m.used);
      return 1;
    }
    case NK_PCI: {
      nvmlReturn_t (*fn)(nvmlDevice_t, nvml_pci_info *);
      *(void **)(&fn) = p;
      nvml_pci_info pci;
      memset(&pci, 0, sizeof pci);
      if (!nvml_check(f, call, fn(nvml_dev, &pci))) return 0;
      pci.busId[sizeof pci.busId - 1] = '\0';
      pci.busIdLegacy[sizeof pci.busIdLegacy - 1] = '\0';
      put_str(f, "pci_bus_id", pci.busId);
      put_str(f, "pci_bus_id_legacy", pci.busIdLegacy);
      put_u64(f, "pci_domain", pci.domain);
      put_u64(f, "pci_bus", pci.bus);
      put_u64(f, "pci_device", pci.device);
      put_hex32(f, "pci_device_id", pci.pciDeviceId);
      put_hex32(f, "pci_subsystem_id", pci.pciSubSystemId);
      return 1;
    }
    case NK_BAR1: {
      nvmlReturn_t (*fn)(nvmlDevice_t, nvml_bar1_memory *);
      *(void **)(&fn) = p;
      nvml_bar1_memory b;
      memset(&b, 0, sizeof b);
      if (!nvml_check(f, call, fn(nvml_dev, &b))) return 0;
      put_u64(f, q->key, b.bar1Total);
      return 1;
    }
  }
  return 0;
}

static char nvml_driver_version[96];

/* Writes the [nvml] section into f (printed later). Returns 1 if a device handle was obtained. */
static int capture_nvml(FILE *f) {
  fprintf(f, "\n[nvml]\n");
  nvml_lib = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!nvml_lib) {
    fprintf(f, "# libnvidia-ml.so.1 could not be loaded: %s\n", dlerror());
    return 0;
  }
  *(void **)(&nvml_error_string) = dlsym(nvml_lib, "nvmlErrorString");
  nvmlReturn_t (*init)(void);
  nvmlReturn_t (*by_index)(unsigned int, nvmlDevice_t *);
  nvmlReturn_t (*by_bus_id)(const char *, nvmlDevice_t *);
  nvmlReturn_t (*driver_version)(char *, unsigned int);
  *(void **)(&init) = nvml_sym(f, "nvmlInit_v2");
  *(void **)(&by_index) = nvml_sym(f, "nvmlDeviceGetHandleByIndex_v2");
  *(void **)(&by_bus_id) = dlsym(nvml_lib, "nvmlDeviceGetHandleByPciBusId_v2");
  *(void **)(&driver_version) = dlsym(nvml_lib, "nvmlSystemGetDriverVersion");
  if (!init || !nvml_check(f, "nvmlInit_v2", init())) {
    fprintf(f, "# NVML not initialized: section skipped\n");
    return 0;
  }
  if (driver_version && driver_version(nvml_driver_version, sizeof nvml_driver_version) != 0)
    nvml_driver_version[0] = '\0';

  /* The NVML device that is CUDA device 0 (found by PCI bus id), else NVML index 0. */
  int found = 0;
  if (cu_bus_id[0] && by_bus_id && by_bus_id(cu_bus_id, &nvml_dev) == 0) {
    fprintf(f, "# device: the one at CUDA device 0's PCI bus id %s\n", cu_bus_id);
    found = 1;
  }
  if (!found && by_index && nvml_check(f, "nvmlDeviceGetHandleByIndex_v2(0)", by_index(0, &nvml_dev))) {
    fprintf(f, "# device: NVML index 0\n");
    found = 1;
  }
  if (!found) fprintf(f, "# no NVML device: only the system queries follow\n");
  for (size_t i = 0; i < sizeof nvml_queries / sizeof nvml_queries[0]; i++) {
    const struct nvml_query *q = &nvml_queries[i];
    int per_device = q->kind != NK_SYS_STR && q->kind != NK_SYS_INT && q->kind != NK_SYS_UINT;
    if (per_device && !found) continue;
    nvml_run_query(f, q);
  }
  return found;
}

/* After the CUDA work (while the runtime's primary context is still alive), for reference. */
static void nvml_memory_with_context(FILE *f) {
  if (!nvml_get_memory_v2) return;
  nvml_memory_v2 m;
  memset(&m, 0, sizeof m);
  m.version = NVML_MEMORY_V2_VERSION;
  if (nvml_get_memory_v2(nvml_dev, &m) == 0)
    fprintf(f,
            "# for reference, with this process's CUDA primary context alive: memory_v2_used = %llu, "
            "memory_v2_free = %llu\n",
            m.used, m.free);
}

static void nvml_shutdown(void) {
  if (!nvml_lib) return;
  nvmlReturn_t (*shutdown)(void);
  *(void **)(&shutdown) = dlsym(nvml_lib, "nvmlShutdown");
  if (shutdown) shutdown();
}

/* ---------------------------------------------------------------------------------------------
 * sysfs
 * ------------------------------------------------------------------------------------------- */
static void capture_pci(const char *bus_id) {
  static const char *const attrs[] = {"vendor",           "device",           "class",
                                      "subsystem_vendor", "subsystem_device", "revision"};
  printf("\n[pci]\n");
  if (!bus_id[0]) {
    printf("# no PCI bus id for device 0: section skipped\n");
    return;
  }
  char bdf[64];
  size_t n = 0;
  for (; bus_id[n] && n + 1 < sizeof bdf; n++) bdf[n] = (char)tolower((unsigned char)bus_id[n]);
  bdf[n] = '\0';
  printf("# /sys/bus/pci/devices/%s\n", bdf);
  for (size_t i = 0; i < sizeof attrs / sizeof attrs[0]; i++) {
    char path[256], buf[64] = "";
    snprintf(path, sizeof path, "/sys/bus/pci/devices/%s/%s", bdf, attrs[i]);
    FILE *fp = fopen(path, "r");
    if (!fp) {
      printf("# %s could not be opened\n", path);
      continue;
    }
    int got = fgets(buf, sizeof buf, fp) != NULL;
    fclose(fp);
    buf[strcspn(buf, " \t\r\n")] = '\0';
    int valid = got && buf[0] == '0' && buf[1] == 'x' && buf[2] &&
                strspn(buf + 2, "0123456789abcdefABCDEF") == strlen(buf + 2);
    if (valid)
      printf("%s = %s\n", attrs[i], buf);
    else
      printf("# %s: unexpected content \"%s\"\n", path, buf);
  }
}

/* ---------------------------------------------------------------------------------------------
 * main
 * ------------------------------------------------------------------------------------------- */
int main(int argc, char **argv) {
  const char *profile_id = argc > 1 ? argv[1] : DEFAULT_PROFILE_ID;

  printf("# vgpu device profile, captured by vgpu-profile-capture from a real GPU. Do not edit by hand.\n");

  /* Load the driver API and find device 0's bus id first: cuInit creates no context, so NVML,
   * queried next, still sees an idle card. */
  load_cuda();
  cuda_open_device();

  char *nvml_text = NULL;
  size_t nvml_len = 0;
  FILE *nvml_out = open_memstream(&nvml_text, &nvml_len);
  if (!nvml_out) {
    perror("open_memstream");
    return 1;
  }
  int nvml_have_dev = capture_nvml(nvml_out);

  char date[32] = "unknown";
  time_t now = time(NULL);
  struct tm tm;
  if (gmtime_r(&now, &tm)) strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
  printf("[profile]\n");
  put_str(stdout, "id", profile_id);
  put_str(stdout, "captured", date);
  if (nvml_driver_version[0])
    put_str(stdout, "driver", nvml_driver_version);
  else
    printf("# driver: nvmlSystemGetDriverVersion gave no answer\n");

  capture_driver();
  load_cudart();
  capture_runtime();

  if (nvml_have_dev) nvml_memory_with_context(nvml_out);
  nvml_shutdown();
  if (fclose(nvml_out) == 0 && nvml_text) fputs(nvml_text, stdout);
  free(nvml_text);

  capture_pci(cu_bus_id);
  return fflush(stdout) == 0 ? 0 : 1;
}
