/* The CUDA runtime API types the shims implement (see cuda_driver_types.h for the approach), including
 * the three layouts of cudaDeviceProp a libcudart must fill:
 *   vgpu_cudaDeviceProp_v11  libcudart.so.12's unsuffixed cudaGetDeviceProperties (programs built with
 *                            CUDA 11 headers); declared here as the CUDA 11.0 fields, the prefix every
 *                            11.x layout shares, so no 11.x caller's struct is ever overrun;
 *   vgpu_cudaDeviceProp_v12  cudaGetDeviceProperties_v2 of libcudart.so.12 (CUDA 12.x headers);
 *   vgpu_cudaDeviceProp_v13  cudaGetDeviceProperties of libcudart.so.13.
 * The struct and field names are NVIDIA's. */
#ifndef VGPU_ABI_CUDART_TYPES_H
#define VGPU_ABI_CUDART_TYPES_H

#include <stddef.h>

#include "cudart_enums.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
typedef struct CUgraph_st* cudaGraph_t;
typedef struct CUgraphExec_st* cudaGraphExec_t;
typedef struct CUkern_st* cudaKernel_t;
#define cudaStreamLegacy ((cudaStream_t)0x1)
#define cudaStreamPerThread ((cudaStream_t)0x2)

typedef struct vgpu_dim3 {
  unsigned int x, y, z;
} vgpu_dim3;

typedef struct CUuuid_st cudaUUID_t;

typedef struct cudaPointerAttributes {
  enum cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
} cudaPointerAttributes;

typedef struct cudaFuncAttributes cudaFuncAttributes; /* never filled in this stage */

typedef struct cudaLaunchAttribute_st cudaLaunchAttribute;
typedef struct cudaLaunchConfig_st {
  vgpu_dim3 gridDim;
  vgpu_dim3 blockDim;
  size_t dynamicSmemBytes;
  cudaStream_t stream;
  cudaLaunchAttribute* attrs;
  unsigned int numAttrs;
} cudaLaunchConfig_t;

/* Fields every layout shares, in order, up to the first difference (after totalConstMem the CUDA 11
 * and 12 layouts carry clockRate and others that CUDA 13 removed). */
#define VGPU_DEVICE_PROP_HEAD   \
  char name[256];               \
  unsigned char uuid[16];       \
  char luid[8];                 \
  unsigned int luidDeviceNodeMask; \
  size_t totalGlobalMem;        \
  size_t sharedMemPerBlock;     \
  int regsPerBlock;             \
  int warpSize;                 \
  size_t memPitch;              \
  int maxThreadsPerBlock;       \
  int maxThreadsDim[3];         \
  int maxGridSize[3];

/* CUDA 11.x and 12.x, from clockRate to reservedSharedMemPerBlock. */
#define VGPU_DEVICE_PROP_V11_BODY           \
  int clockRate;                            \
  size_t totalConstMem;                     \
  int major;                                \
  int minor;                                \
  size_t textureAlignment;                  \
  size_t texturePitchAlignment;             \
  int deviceOverlap;                        \
  int multiProcessorCount;                  \
  int kernelExecTimeoutEnabled;             \
  int integrated;                           \
  int canMapHostMemory;                     \
  int computeMode;                          \
  int maxTexture1D;                         \
  int maxTexture1DMipmap;                   \
  int maxTexture1DLinear;                   \
  int maxTexture2D[2];                      \
  int maxTexture2DMipmap[2];                \
  int maxTexture2DLinear[3];                \
  int maxTexture2DGather[2];                \
  int maxTexture3D[3];                      \
  int maxTexture3DAlt[3];                   \
  int maxTextureCubemap;                    \
  int maxTexture1DLayered[2];               \
  int maxTexture2DLayered[3];               \
  int maxTextureCubemapLayered[2];          \
  int maxSurface1D;                         \
  int maxSurface2D[2];                      \
  int maxSurface3D[3];                      \
  int maxSurface1DLayered[2];               \
  int maxSurface2DLayered[3];               \
  int maxSurfaceCubemap;                    \
  int maxSurfaceCubemapLayered[2];          \
  size_t surfaceAlignment;                  \
  int concurrentKernels;                    \
  int ECCEnabled;                           \
  int pciBusID;                             \
  int pciDeviceID;                          \
  int pciDomainID;                          \
  int tccDriver;                            \
  int asyncEngineCount;                     \
  int unifiedAddressing;                    \
  int memoryClockRate;                      \
  int memoryBusWidth;                       \
  int l2CacheSize;                          \
  int persistingL2CacheMaxSize;             \
  int maxThreadsPerMultiProcessor;          \
  int streamPrioritiesSupported;            \
  int globalL1CacheSupported;               \
  int localL1CacheSupported;                \
  size_t sharedMemPerMultiprocessor;        \
  int regsPerMultiprocessor;                \
  int managedMemory;                        \
  int isMultiGpuBoard;                      \
  int multiGpuBoardGroupID;                 \
  int hostNativeAtomicSupported;            \
  int singleToDoublePrecisionPerfRatio;     \
  int pageableMemoryAccess;                 \
  int concurrentManagedAccess;              \
  int computePreemptionSupported;           \
  int canUseHostPointerForRegisteredMem;    \
  int cooperativeLaunch;                    \
  int cooperativeMultiDeviceLaunch;         \
  size_t sharedMemPerBlockOptin;            \
  int pageableMemoryAccessUsesHostPageTables; \
  int directManagedMemAccessFromHost;       \
  int maxBlocksPerMultiProcessor;           \
  int accessPolicyMaxWindowSize;            \
  size_t reservedSharedMemPerBlock;

/* Added during CUDA 11.1-11.8, after reservedSharedMemPerBlock; kept in 12 and 13. */
#define VGPU_DEVICE_PROP_11X_ADDITIONS        \
  int hostRegisterSupported;                  \
  int sparseCudaArraySupported;               \
  int hostRegisterReadOnlySupported;          \
  int timelineSemaphoreInteropSupported;      \
  int memoryPoolsSupported;                   \
  int gpuDirectRDMASupported;                 \
  unsigned int gpuDirectRDMAFlushWritesOptions; \
  int gpuDirectRDMAWritesOrdering;            \
  unsigned int memoryPoolSupportedHandleTypes; \
  int deferredMappingCudaArraySupported;      \
  int ipcEventSupported;                      \
  int clusterLaunch;                          \
  int unifiedFunctionPointers;

typedef struct vgpu_cudaDeviceProp_v11 {
  VGPU_DEVICE_PROP_HEAD
  VGPU_DEVICE_PROP_V11_BODY
} vgpu_cudaDeviceProp_v11;

typedef struct vgpu_cudaDeviceProp_v12 {
  VGPU_DEVICE_PROP_HEAD
  VGPU_DEVICE_PROP_V11_BODY
  VGPU_DEVICE_PROP_11X_ADDITIONS
  int reserved2[2];
  int reserved1[1];
  int reserved[60];
} vgpu_cudaDeviceProp_v12;

typedef struct vgpu_cudaDeviceProp_v13 {
  VGPU_DEVICE_PROP_HEAD
  size_t totalConstMem;
  int major;
  int minor;
  size_t textureAlignment;
  size_t texturePitchAlignment;
  int multiProcessorCount;
  int integrated;
  int canMapHostMemory;
  int maxTexture1D;
  int maxTexture1DMipmap;
  int maxTexture2D[2];
  int maxTexture2DMipmap[2];
  int maxTexture2DLinear[3];
  int maxTexture2DGather[2];
  int maxTexture3D[3];
  int maxTexture3DAlt[3];
  int maxTextureCubemap;
  int maxTexture1DLayered[2];
  int maxTexture2DLayered[3];
  int maxTextureCubemapLayered[2];
  int maxSurface1D;
  int maxSurface2D[2];
  int maxSurface3D[3];
  int maxSurface1DLayered[2];
  int maxSurface2DLayered[3];
  int maxSurfaceCubemap;
  int maxSurfaceCubemapLayered[2];
  size_t surfaceAlignment;
  int concurrentKernels;
  int ECCEnabled;
  int pciBusID;
  int pciDeviceID;
  int pciDomainID;
  int tccDriver;
  int asyncEngineCount;
  int unifiedAddressing;
  int memoryBusWidth;
  int l2CacheSize;
  int persistingL2CacheMaxSize;
  int maxThreadsPerMultiProcessor;
  int streamPrioritiesSupported;
  int globalL1CacheSupported;
  int localL1CacheSupported;
  size_t sharedMemPerMultiprocessor;
  int regsPerMultiprocessor;
  int managedMemory;
  int isMultiGpuBoard;
  int multiGpuBoardGroupID;
  int hostNativeAtomicSupported;
  int pageableMemoryAccess;
  int concurrentManagedAccess;
  int computePreemptionSupported;
  int canUseHostPointerForRegisteredMem;
  int cooperativeLaunch;
  size_t sharedMemPerBlockOptin;
  int pageableMemoryAccessUsesHostPageTables;
  int directManagedMemAccessFromHost;
  int maxBlocksPerMultiProcessor;
  int accessPolicyMaxWindowSize;
  size_t reservedSharedMemPerBlock;
  VGPU_DEVICE_PROP_11X_ADDITIONS
  int deviceNumaConfig;
  int deviceNumaId;
  int mpsEnabled;
  int hostNumaId;
  unsigned int gpuPciDeviceID;
  unsigned int gpuPciSubsystemID;
  int hostNumaMultinodeIpcSupported;
  int reserved[56];
} vgpu_cudaDeviceProp_v13;

#ifdef __cplusplus
}
#endif

#endif /* VGPU_ABI_CUDART_TYPES_H */
