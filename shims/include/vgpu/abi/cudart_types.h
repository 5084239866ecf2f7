/* vgpu/abi/cudart_types.h: the types of the CUDA runtime API (libcudart.so.12 and libcudart.so.13) that
 * vgpu's shims take and return, declared by vgpu so that the shims build on a machine without a CUDA
 * toolkit. Pure C (C11 and C++20), LP64 Linux.
 *
 * Naming rule (as in every vgpu/abi header): what has one meaning and one layout in every CUDA version
 * vgpu serves keeps NVIDIA's spelling (cudaError_t, cudaSuccess, struct cudaPos, ...); what changed
 * between versions, or exists only in C++, gets a vgpu_ name:
 *   vgpu_cudaDeviceProp_v11   the CUDA 11.x struct: what libcudart.so.12's unsuffixed
 *                             cudaGetDeviceProperties fills (CUDA 12 headers rename calls to _v2);
 *   vgpu_cudaDeviceProp_v12   the CUDA 12.x struct, filled by libcudart.so.12's cudaGetDeviceProperties_v2;
 *   vgpu_cudaDeviceProp_v13   the CUDA 13.0 struct, filled by libcudart.so.13's cudaGetDeviceProperties;
 *   vgpu_cudaPointerAttributes_v12 / _v13 (CUDA 13 appended reserved space);
 *   vgpu_dim3                 NVIDIA's dim3 is a C++ class with constructors; same three unsigned ints.
 * These headers never meet NVIDIA's in one translation unit; tests/abi/check_abi_vs_cuda13.c compares
 * them from two separate units. Enumerator values are CUDA 13.0's (driver_types.h, CUDART_VERSION 13000)
 * unless a comment says otherwise. Provenance and CUDA 11/12/13 differences: ABI-NOTES.md beside this file. */
#ifndef VGPU_ABI_CUDART_TYPES_H
#define VGPU_ABI_CUDART_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifndef VGPU_ABI_STATIC_ASSERT
#ifdef __cplusplus
#define VGPU_ABI_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#else
#define VGPU_ABI_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ---- handles (the driver API's tags, so the two APIs' handles interconvert) -------------------------- */

typedef struct CUstream_st* cudaStream_t;
typedef struct CUevent_st* cudaEvent_t;
typedef struct CUgraph_st* cudaGraph_t;
typedef struct CUgraphExec_st* cudaGraphExec_t;
typedef struct CUgraphNode_st* cudaGraphNode_t;
typedef struct CUgraphDeviceUpdatableNode_st* cudaGraphDeviceNode_t;
typedef struct CUkern_st* cudaKernel_t;
typedef struct CUlib_st* cudaLibrary_t;
typedef struct CUfunc_st* cudaFunction_t;
typedef struct CUmemPoolHandle_st* cudaMemPool_t;
typedef struct cudaArray* cudaArray_t;
typedef const struct cudaArray* cudaArray_const_t;
typedef struct cudaMipmappedArray* cudaMipmappedArray_t;

/* Special stream handles (driver_types.h spells them as casts of these integers). */
#define cudaStreamLegacy ((cudaStream_t)0x1)
#define cudaStreamPerThread ((cudaStream_t)0x2)

#ifndef VGPU_ABI_CUUUID_DEFINED
#define VGPU_ABI_CUUUID_DEFINED
typedef struct CUuuid_st {
  char bytes[16];
} CUuuid;
#endif
typedef struct CUuuid_st cudaUUID_t;

/* dim3 without its C++ constructors: what crosses the ABI is three unsigned ints, passed by value. */
typedef struct vgpu_dim3 {
  unsigned int x, y, z;
} vgpu_dim3;

/* ---- error codes ----------------------------------------------------------------------------------- */

/* Every code of CUDA 13.0. No code of CUDA 11.4..12.9 was removed or renumbered, and 13.0 added none:
 * 12.6 added 913..915, 12.8 added cudaErrorContained (226) and cudaErrorTensorMemoryLeak (721)
 * (ABI-NOTES.md). */
typedef enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorCudartUnloading = 4,
  cudaErrorProfilerDisabled = 5,
  cudaErrorProfilerNotInitialized = 6,
  cudaErrorProfilerAlreadyStarted = 7,
  cudaErrorProfilerAlreadyStopped = 8,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidPitchValue = 12,
  cudaErrorInvalidSymbol = 13,
  cudaErrorInvalidHostPointer = 16,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidTexture = 18,
  cudaErrorInvalidTextureBinding = 19,
  cudaErrorInvalidChannelDescriptor = 20,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorAddressOfConstant = 22,
  cudaErrorTextureFetchFailed = 23,
  cudaErrorTextureNotBound = 24,
  cudaErrorSynchronizationError = 25,
  cudaErrorInvalidFilterSetting = 26,
  cudaErrorInvalidNormSetting = 27,
  cudaErrorMixedDeviceExecution = 28,
  cudaErrorNotYetImplemented = 31,
  cudaErrorMemoryValueTooLarge = 32,
  cudaErrorStubLibrary = 34,
  cudaErrorInsufficientDriver = 35,
  cudaErrorCallRequiresNewerDriver = 36,
  cudaErrorInvalidSurface = 37,
  cudaErrorDuplicateVariableName = 43,
  cudaErrorDuplicateTextureName = 44,
  cudaErrorDuplicateSurfaceName = 45,
  cudaErrorDevicesUnavailable = 46,
  cudaErrorIncompatibleDriverContext = 49,
  cudaErrorMissingConfiguration = 52,
  cudaErrorPriorLaunchFailure = 53,
  cudaErrorLaunchMaxDepthExceeded = 65,
  cudaErrorLaunchFileScopedTex = 66,
  cudaErrorLaunchFileScopedSurf = 67,
  cudaErrorSyncDepthExceeded = 68,
  cudaErrorLaunchPendingCountExceeded = 69,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorDeviceNotLicensed = 102,
  cudaErrorSoftwareValidityNotEstablished = 103,
  cudaErrorStartupFailure = 127,
  cudaErrorInvalidKernelImage = 200,
  cudaErrorDeviceUninitialized = 201,
  cudaErrorMapBufferObjectFailed = 205,
  cudaErrorUnmapBufferObjectFailed = 206,
  cudaErrorArrayIsMapped = 207,
  cudaErrorAlreadyMapped = 208,
  cudaErrorNoKernelImageForDevice = 209,
  cudaErrorAlreadyAcquired = 210,
  cudaErrorNotMapped = 211,
  cudaErrorNotMappedAsArray = 212,
  cudaErrorNotMappedAsPointer = 213,
  cudaErrorECCUncorrectable = 214,
  cudaErrorUnsupportedLimit = 215,
  cudaErrorDeviceAlreadyInUse = 216,
  cudaErrorPeerAccessUnsupported = 217,
  cudaErrorInvalidPtx = 218,
  cudaErrorInvalidGraphicsContext = 219,
  cudaErrorNvlinkUncorrectable = 220,
  cudaErrorJitCompilerNotFound = 221,
  cudaErrorUnsupportedPtxVersion = 222,
  cudaErrorJitCompilationDisabled = 223,
  cudaErrorUnsupportedExecAffinity = 224,
  cudaErrorUnsupportedDevSideSync = 225,
  cudaErrorContained = 226,
  cudaErrorInvalidSource = 300,
  cudaErrorFileNotFound = 301,
  cudaErrorSharedObjectSymbolNotFound = 302,
  cudaErrorSharedObjectInitFailed = 303,
  cudaErrorOperatingSystem = 304,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorIllegalState = 401,
  cudaErrorLossyQuery = 402,
  cudaErrorSymbolNotFound = 500,
  cudaErrorNotReady = 600,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorLaunchTimeout = 702,
  cudaErrorLaunchIncompatibleTexturing = 703,
  cudaErrorPeerAccessAlreadyEnabled = 704,
  cudaErrorPeerAccessNotEnabled = 705,
  cudaErrorSetOnActiveProcess = 708,
  cudaErrorContextIsDestroyed = 709,
  cudaErrorAssert = 710,
  cudaErrorTooManyPeers = 711,
  cudaErrorHostMemoryAlreadyRegistered = 712,
  cudaErrorHostMemoryNotRegistered = 713,
  cudaErrorHardwareStackError = 714,
  cudaErrorIllegalInstruction = 715,
  cudaErrorMisalignedAddress = 716,
  cudaErrorInvalidAddressSpace = 717,
  cudaErrorInvalidPc = 718,
  cudaErrorLaunchFailure = 719,
  cudaErrorCooperativeLaunchTooLarge = 720,
  cudaErrorTensorMemoryLeak = 721,
  cudaErrorNotPermitted = 800,
  cudaErrorNotSupported = 801,
  cudaErrorSystemNotReady = 802,
  cudaErrorSystemDriverMismatch = 803,
  cudaErrorCompatNotSupportedOnDevice = 804,
  cudaErrorMpsConnectionFailed = 805,
  cudaErrorMpsRpcFailure = 806,
  cudaErrorMpsServerNotReady = 807,
  cudaErrorMpsMaxClientsReached = 808,
  cudaErrorMpsMaxConnectionsReached = 809,
  cudaErrorMpsClientTerminated = 810,
  cudaErrorCdpNotSupported = 811,
  cudaErrorCdpVersionMismatch = 812,
  cudaErrorStreamCaptureUnsupported = 900,
  cudaErrorStreamCaptureInvalidated = 901,
  cudaErrorStreamCaptureMerge = 902,
  cudaErrorStreamCaptureUnmatched = 903,
  cudaErrorStreamCaptureUnjoined = 904,
  cudaErrorStreamCaptureIsolation = 905,
  cudaErrorStreamCaptureImplicit = 906,
  cudaErrorCapturedEvent = 907,
  cudaErrorStreamCaptureWrongThread = 908,
  cudaErrorTimeout = 909,
  cudaErrorGraphExecUpdateFailure = 910,
  cudaErrorExternalDevice = 911,
  cudaErrorInvalidClusterSize = 912,
  cudaErrorFunctionNotLoaded = 913,
  cudaErrorInvalidResourceType = 914,
  cudaErrorInvalidResourceConfiguration = 915,
  cudaErrorUnknown = 999,
  cudaErrorApiFailureBase = 10000,
} cudaError_t;

/* ---- device attributes (cudaDeviceGetAttribute) ----------------------------------------------------- */

/* Every name of CUDA 13.0, plus the two CUDA 12.x names that 13.0 dropped (at the end, marked). The
 * runtime API has no name for 0, 44, 102..105, 107, 110, 136, 137 and 146 (most of those are driver
 * attributes with no runtime counterpart). */
typedef enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxBlockDimX = 2,
  cudaDevAttrMaxBlockDimY = 3,
  cudaDevAttrMaxBlockDimZ = 4,
  cudaDevAttrMaxGridDimX = 5,
  cudaDevAttrMaxGridDimY = 6,
  cudaDevAttrMaxGridDimZ = 7,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrTotalConstantMemory = 9,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMaxPitch = 11,
  cudaDevAttrMaxRegistersPerBlock = 12,
  cudaDevAttrClockRate = 13,
  cudaDevAttrTextureAlignment = 14,
  cudaDevAttrGpuOverlap = 15,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrKernelExecTimeout = 17,
  cudaDevAttrIntegrated = 18,
  cudaDevAttrCanMapHostMemory = 19,
  cudaDevAttrComputeMode = 20,
  cudaDevAttrMaxTexture1DWidth = 21,
  cudaDevAttrMaxTexture2DWidth = 22,
  cudaDevAttrMaxTexture2DHeight = 23,
  cudaDevAttrMaxTexture3DWidth = 24,
  cudaDevAttrMaxTexture3DHeight = 25,
  cudaDevAttrMaxTexture3DDepth = 26,
  cudaDevAttrMaxTexture2DLayeredWidth = 27,
  cudaDevAttrMaxTexture2DLayeredHeight = 28,
  cudaDevAttrMaxTexture2DLayeredLayers = 29,
  cudaDevAttrSurfaceAlignment = 30,
  cudaDevAttrConcurrentKernels = 31,
  cudaDevAttrEccEnabled = 32,
  cudaDevAttrPciBusId = 33,
  cudaDevAttrPciDeviceId = 34,
  cudaDevAttrTccDriver = 35,
  cudaDevAttrMemoryClockRate = 36,
  cudaDevAttrGlobalMemoryBusWidth = 37,
  cudaDevAttrL2CacheSize = 38,
  cudaDevAttrMaxThreadsPerMultiProcessor = 39,
  cudaDevAttrAsyncEngineCount = 40,
  cudaDevAttrUnifiedAddressing = 41,
  cudaDevAttrMaxTexture1DLayeredWidth = 42,
  cudaDevAttrMaxTexture1DLayeredLayers = 43,
  cudaDevAttrMaxTexture2DGatherWidth = 45,
  cudaDevAttrMaxTexture2DGatherHeight = 46,
  cudaDevAttrMaxTexture3DWidthAlt = 47,
  cudaDevAttrMaxTexture3DHeightAlt = 48,
  cudaDevAttrMaxTexture3DDepthAlt = 49,
  cudaDevAttrPciDomainId = 50,
  cudaDevAttrTexturePitchAlignment = 51,
  cudaDevAttrMaxTextureCubemapWidth = 52,
  cudaDevAttrMaxTextureCubemapLayeredWidth = 53,
  cudaDevAttrMaxTextureCubemapLayeredLayers = 54,
  cudaDevAttrMaxSurface1DWidth = 55,
  cudaDevAttrMaxSurface2DWidth = 56,
  cudaDevAttrMaxSurface2DHeight = 57,
  cudaDevAttrMaxSurface3DWidth = 58,
  cudaDevAttrMaxSurface3DHeight = 59,
  cudaDevAttrMaxSurface3DDepth = 60,
  cudaDevAttrMaxSurface1DLayeredWidth = 61,
  cudaDevAttrMaxSurface1DLayeredLayers = 62,
  cudaDevAttrMaxSurface2DLayeredWidth = 63,
  cudaDevAttrMaxSurface2DLayeredHeight = 64,
  cudaDevAttrMaxSurface2DLayeredLayers = 65,
  cudaDevAttrMaxSurfaceCubemapWidth = 66,
  cudaDevAttrMaxSurfaceCubemapLayeredWidth = 67,
  cudaDevAttrMaxSurfaceCubemapLayeredLayers = 68,
  cudaDevAttrMaxTexture1DLinearWidth = 69,
  cudaDevAttrMaxTexture2DLinearWidth = 70,
  cudaDevAttrMaxTexture2DLinearHeight = 71,
  cudaDevAttrMaxTexture2DLinearPitch = 72,
  cudaDevAttrMaxTexture2DMipmappedWidth = 73,
  cudaDevAttrMaxTexture2DMipmappedHeight = 74,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxTexture1DMipmappedWidth = 77,
  cudaDevAttrStreamPrioritiesSupported = 78,
  cudaDevAttrGlobalL1CacheSupported = 79,
  cudaDevAttrLocalL1CacheSupported = 80,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxRegistersPerMultiprocessor = 82,
  cudaDevAttrManagedMemory = 83,
  cudaDevAttrIsMultiGpuBoard = 84,
  cudaDevAttrMultiGpuBoardGroupID = 85,
  cudaDevAttrHostNativeAtomicSupported = 86,
  cudaDevAttrSingleToDoublePrecisionPerfRatio = 87,
  cudaDevAttrPageableMemoryAccess = 88,
  cudaDevAttrConcurrentManagedAccess = 89,
  cudaDevAttrComputePreemptionSupported = 90,
  cudaDevAttrCanUseHostPointerForRegisteredMem = 91,
  cudaDevAttrReserved92 = 92,
  cudaDevAttrReserved93 = 93,
  cudaDevAttrReserved94 = 94,
  cudaDevAttrCooperativeLaunch = 95,
  cudaDevAttrReserved96 = 96,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
  cudaDevAttrCanFlushRemoteWrites = 98,
  cudaDevAttrHostRegisterSupported = 99,
  cudaDevAttrPageableMemoryAccessUsesHostPageTables = 100,
  cudaDevAttrDirectManagedMemAccessFromHost = 101,
  cudaDevAttrMaxBlocksPerMultiprocessor = 106,
  cudaDevAttrMaxPersistingL2CacheSize = 108,
  cudaDevAttrMaxAccessPolicyWindowSize = 109,
  cudaDevAttrReservedSharedMemoryPerBlock = 111,
  cudaDevAttrSparseCudaArraySupported = 112,
  cudaDevAttrHostRegisterReadOnlySupported = 113,
  cudaDevAttrTimelineSemaphoreInteropSupported = 114,
  cudaDevAttrMemoryPoolsSupported = 115,
  cudaDevAttrGPUDirectRDMASupported = 116,
  cudaDevAttrGPUDirectRDMAFlushWritesOptions = 117,
  cudaDevAttrGPUDirectRDMAWritesOrdering = 118,
  cudaDevAttrMemoryPoolSupportedHandleTypes = 119,
  cudaDevAttrClusterLaunch = 120,
  cudaDevAttrDeferredMappingCudaArraySupported = 121,
  cudaDevAttrReserved122 = 122,
  cudaDevAttrReserved123 = 123,
  cudaDevAttrReserved124 = 124,
  cudaDevAttrIpcEventSupport = 125,
  cudaDevAttrMemSyncDomainCount = 126,
  cudaDevAttrReserved127 = 127,
  cudaDevAttrReserved128 = 128,
  cudaDevAttrReserved129 = 129,
  cudaDevAttrNumaConfig = 130,
  cudaDevAttrNumaId = 131,
  cudaDevAttrReserved132 = 132,
  cudaDevAttrMpsEnabled = 133,
  cudaDevAttrHostNumaId = 134,
  cudaDevAttrD3D12CigSupported = 135,
  cudaDevAttrVulkanCigSupported = 138,
  cudaDevAttrGpuPciDeviceId = 139,
  cudaDevAttrGpuPciSubsystemId = 140,
  cudaDevAttrReserved141 = 141,
  cudaDevAttrHostNumaMemoryPoolsSupported = 142,
  cudaDevAttrHostNumaMultinodeIpcSupported = 143,
  cudaDevAttrHostMemoryPoolsSupported = 144,
  cudaDevAttrReserved145 = 145,
  cudaDevAttrOnlyPartialHostNativeAtomicSupported = 147,
  cudaDevAttrMax = 148,
  cudaDevAttrCooperativeMultiDeviceLaunch = 96, /* CUDA 11.x/12.x name; CUDA 13 calls 96 cudaDevAttrReserved96 */
  cudaDevAttrMaxTimelineSemaphoreInteropSupported = 114, /* CUDA 11.x/12.x alias of cudaDevAttrTimelineSemaphoreInteropSupported, dropped in 13 */
} cudaDeviceAttr;

/* ---- small enums ----------------------------------------------------------------------------------- */

typedef enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
} cudaMemcpyKind;

typedef enum cudaMemoryType {
  cudaMemoryTypeUnregistered = 0,
  cudaMemoryTypeHost = 1,
  cudaMemoryTypeDevice = 2,
  cudaMemoryTypeManaged = 3,
} cudaMemoryType;

typedef enum cudaStreamCaptureStatus {
  cudaStreamCaptureStatusNone = 0,
  cudaStreamCaptureStatusActive = 1,
  cudaStreamCaptureStatusInvalidated = 2,
} cudaStreamCaptureStatus;

typedef enum cudaStreamCaptureMode {
  cudaStreamCaptureModeGlobal = 0,
  cudaStreamCaptureModeThreadLocal = 1,
  cudaStreamCaptureModeRelaxed = 2,
} cudaStreamCaptureMode;

typedef enum cudaFuncAttribute {
  cudaFuncAttributeMaxDynamicSharedMemorySize = 8,
  cudaFuncAttributePreferredSharedMemoryCarveout = 9,
  cudaFuncAttributeClusterDimMustBeSet = 10,
  cudaFuncAttributeRequiredClusterWidth = 11,
  cudaFuncAttributeRequiredClusterHeight = 12,
  cudaFuncAttributeRequiredClusterDepth = 13,
  cudaFuncAttributeNonPortableClusterSizeAllowed = 14,
  cudaFuncAttributeClusterSchedulingPolicyPreference = 15,
  cudaFuncAttributeMax = 16,
} cudaFuncAttribute;

typedef enum cudaChannelFormatKind {
  cudaChannelFormatKindSigned = 0,
  cudaChannelFormatKindUnsigned = 1,
  cudaChannelFormatKindFloat = 2,
  cudaChannelFormatKindNone = 3,
  cudaChannelFormatKindNV12 = 4,
  cudaChannelFormatKindUnsignedNormalized8X1 = 5,
  cudaChannelFormatKindUnsignedNormalized8X2 = 6,
  cudaChannelFormatKindUnsignedNormalized8X4 = 7,
  cudaChannelFormatKindUnsignedNormalized16X1 = 8,
  cudaChannelFormatKindUnsignedNormalized16X2 = 9,
  cudaChannelFormatKindUnsignedNormalized16X4 = 10,
  cudaChannelFormatKindSignedNormalized8X1 = 11,
  cudaChannelFormatKindSignedNormalized8X2 = 12,
  cudaChannelFormatKindSignedNormalized8X4 = 13,
  cudaChannelFormatKindSignedNormalized16X1 = 14,
  cudaChannelFormatKindSignedNormalized16X2 = 15,
  cudaChannelFormatKindSignedNormalized16X4 = 16,
  cudaChannelFormatKindUnsignedBlockCompressed1 = 17,
  cudaChannelFormatKindUnsignedBlockCompressed1SRGB = 18,
  cudaChannelFormatKindUnsignedBlockCompressed2 = 19,
  cudaChannelFormatKindUnsignedBlockCompressed2SRGB = 20,
  cudaChannelFormatKindUnsignedBlockCompressed3 = 21,
  cudaChannelFormatKindUnsignedBlockCompressed3SRGB = 22,
  cudaChannelFormatKindUnsignedBlockCompressed4 = 23,
  cudaChannelFormatKindSignedBlockCompressed4 = 24,
  cudaChannelFormatKindUnsignedBlockCompressed5 = 25,
  cudaChannelFormatKindSignedBlockCompressed5 = 26,
  cudaChannelFormatKindUnsignedBlockCompressed6H = 27,
  cudaChannelFormatKindSignedBlockCompressed6H = 28,
  cudaChannelFormatKindUnsignedBlockCompressed7 = 29,
  cudaChannelFormatKindUnsignedBlockCompressed7SRGB = 30,
  cudaChannelFormatKindUnsignedNormalized1010102 = 31,
} cudaChannelFormatKind;

typedef enum cudaGraphExecUpdateResult {
  cudaGraphExecUpdateSuccess = 0x0,
  cudaGraphExecUpdateError = 0x1,
  cudaGraphExecUpdateErrorTopologyChanged = 0x2,
  cudaGraphExecUpdateErrorNodeTypeChanged = 0x3,
  cudaGraphExecUpdateErrorFunctionChanged = 0x4,
  cudaGraphExecUpdateErrorParametersChanged = 0x5,
  cudaGraphExecUpdateErrorNotSupported = 0x6,
  cudaGraphExecUpdateErrorUnsupportedFunctionChange = 0x7,
  cudaGraphExecUpdateErrorAttributesChanged = 0x8,
} cudaGraphExecUpdateResult;

typedef enum cudaDriverEntryPointQueryResult {
  cudaDriverEntryPointSuccess = 0,
  cudaDriverEntryPointSymbolNotFound = 1,
  cudaDriverEntryPointVersionNotSufficent = 2,
} cudaDriverEntryPointQueryResult;

/* cudaGetDriverEntryPoint's flags (same values as the driver's CU_GET_PROC_ADDRESS_*). */
typedef enum cudaGetDriverEntryPointFlags {
  cudaEnableDefault = 0x0,
  cudaEnableLegacyStream = 0x1,
  cudaEnablePerThreadDefaultStream = 0x2,
} cudaGetDriverEntryPointFlags;

/* ---- cudaGetDeviceProperties: three layouts ---------------------------------------------------------- */

/* The fields from name through maxGridSize are common to all three layouts. */
#define VGPU_CUDA_DEVICE_PROP_HEAD \
  char name[256];                  \
  cudaUUID_t uuid;                 \
  char luid[8];                    \
  unsigned int luidDeviceNodeMask; \
  size_t totalGlobalMem;           \
  size_t sharedMemPerBlock;        \
  int regsPerBlock;                \
  int warpSize;                    \
  size_t memPitch;                 \
  int maxThreadsPerBlock;          \
  int maxThreadsDim[3];            \
  int maxGridSize[3];

/* CUDA 11.x and 12.x, from clockRate through reservedSharedMemPerBlock (the whole CUDA 11.x tail). */
#define VGPU_CUDA_DEVICE_PROP_V11_BODY          \
  int clockRate;                                \
  size_t totalConstMem;                         \
  int major;                                    \
  int minor;                                    \
  size_t textureAlignment;                      \
  size_t texturePitchAlignment;                 \
  int deviceOverlap;                            \
  int multiProcessorCount;                      \
  int kernelExecTimeoutEnabled;                 \
  int integrated;                               \
  int canMapHostMemory;                         \
  int computeMode;                              \
  int maxTexture1D;                             \
  int maxTexture1DMipmap;                       \
  int maxTexture1DLinear;                       \
  int maxTexture2D[2];                          \
  int maxTexture2DMipmap[2];                    \
  int maxTexture2DLinear[3];                    \
  int maxTexture2DGather[2];                    \
  int maxTexture3D[3];                          \
  int maxTexture3DAlt[3];                       \
  int maxTextureCubemap;                        \
  int maxTexture1DLayered[2];                   \
  int maxTexture2DLayered[3];                   \
  int maxTextureCubemapLayered[2];              \
  int maxSurface1D;                             \
  int maxSurface2D[2];                          \
  int maxSurface3D[3];                          \
  int maxSurface1DLayered[2];                   \
  int maxSurface2DLayered[3];                   \
  int maxSurfaceCubemap;                        \
  int maxSurfaceCubemapLayered[2];              \
  size_t surfaceAlignment;                      \
  int concurrentKernels;                        \
  int ECCEnabled;                               \
  int pciBusID;                                 \
  int pciDeviceID;                              \
  int pciDomainID;                              \
  int tccDriver;                                \
  int asyncEngineCount;                         \
  int unifiedAddressing;                        \
  int memoryClockRate;                          \
  int memoryBusWidth;                           \
  int l2CacheSize;                              \
  int persistingL2CacheMaxSize;                 \
  int maxThreadsPerMultiProcessor;              \
  int streamPrioritiesSupported;                \
  int globalL1CacheSupported;                   \
  int localL1CacheSupported;                    \
  size_t sharedMemPerMultiprocessor;            \
  int regsPerMultiprocessor;                    \
  int managedMemory;                            \
  int isMultiGpuBoard;                          \
  int multiGpuBoardGroupID;                     \
  int hostNativeAtomicSupported;                \
  int singleToDoublePrecisionPerfRatio;         \
  int pageableMemoryAccess;                     \
  int concurrentManagedAccess;                  \
  int computePreemptionSupported;               \
  int canUseHostPointerForRegisteredMem;        \
  int cooperativeLaunch;                        \
  int cooperativeMultiDeviceLaunch;             \
  size_t sharedMemPerBlockOptin;                \
  int pageableMemoryAccessUsesHostPageTables;   \
  int directManagedMemAccessFromHost;           \
  int maxBlocksPerMultiProcessor;               \
  int accessPolicyMaxWindowSize;                \
  size_t reservedSharedMemPerBlock;

/* Fields CUDA 12.0 appended after reservedSharedMemPerBlock; CUDA 13.0 keeps them in the same order. */
#define VGPU_CUDA_DEVICE_PROP_V12_TAIL         \
  int hostRegisterSupported;                   \
  int sparseCudaArraySupported;                \
  int hostRegisterReadOnlySupported;           \
  int timelineSemaphoreInteropSupported;       \
  int memoryPoolsSupported;                    \
  int gpuDirectRDMASupported;                  \
  unsigned int gpuDirectRDMAFlushWritesOptions; \
  int gpuDirectRDMAWritesOrdering;             \
  unsigned int memoryPoolSupportedHandleTypes; \
  int deferredMappingCudaArraySupported;       \
  int ipcEventSupported;                       \
  int clusterLaunch;                           \
  int unifiedFunctionPointers;

/* CUDA 11.0 .. 11.8 (one layout for the whole series): 728 bytes. libcudart.so.12's unsuffixed
 * cudaGetDeviceProperties writes exactly these 728 bytes (seen in 12.4.127's code, ABI-NOTES.md). */
typedef struct vgpu_cudaDeviceProp_v11 {
  VGPU_CUDA_DEVICE_PROP_HEAD
  VGPU_CUDA_DEVICE_PROP_V11_BODY
} vgpu_cudaDeviceProp_v11;

/* CUDA 12.0 .. 12.9: 1032 bytes, one layout for the whole series. The 63 trailing ints are reserved; the
 * 12.3..12.6 headers (12.5 was read) split them as reserved2[2], reserved1[1], reserved[60], 12.0 and
 * 12.8/12.9 as reserved[63], 12.1/12.2 as reserved2[2], reserved[61]: same bytes. libcudart 12.4.127's
 * cudaGetDeviceProperties_v2 writes the first 792 bytes (through reserved1). */
typedef struct vgpu_cudaDeviceProp_v12 {
  VGPU_CUDA_DEVICE_PROP_HEAD
  VGPU_CUDA_DEVICE_PROP_V11_BODY
  VGPU_CUDA_DEVICE_PROP_V12_TAIL
  int reserved2[2];
  int reserved1[1];
  int reserved[60];
} vgpu_cudaDeviceProp_v12;

/* CUDA 13.0: 1008 bytes. CUDA 13.0 deleted clockRate, deviceOverlap, kernelExecTimeoutEnabled,
 * computeMode, maxTexture1DLinear, memoryClockRate, singleToDoublePrecisionPerfRatio and
 * cooperativeMultiDeviceLaunch, so every field after maxGridSize moved; the NUMA/PCI fields that follow
 * unifiedFunctionPointers are new. libcudart 13.0.96 writes the first 784 bytes (through
 * hostNumaMultinodeIpcSupported). */
typedef struct vgpu_cudaDeviceProp_v13 {
  VGPU_CUDA_DEVICE_PROP_HEAD
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
  VGPU_CUDA_DEVICE_PROP_V12_TAIL
  int deviceNumaConfig;
  int deviceNumaId;
  int mpsEnabled;
  int hostNumaId;
  unsigned int gpuPciDeviceID;    /* PCI device ID << 16 | vendor ID */
  unsigned int gpuPciSubsystemID; /* subsystem ID << 16 | subsystem vendor ID */
  int hostNumaMultinodeIpcSupported;
  int reserved[56];
} vgpu_cudaDeviceProp_v13;

/* ---- cudaFuncGetAttributes (same layout in CUDA 12.x and 13.0; CUDA 11.x lacked the cluster fields
 *      and the reserved tail) ------------------------------------------------------------------------ */

typedef struct cudaFuncAttributes {
  size_t sharedSizeBytes;
  size_t constSizeBytes;
  size_t localSizeBytes;
  int maxThreadsPerBlock;
  int numRegs;
  int ptxVersion;    /* major * 10 + minor */
  int binaryVersion; /* major * 10 + minor */
  int cacheModeCA;
  int maxDynamicSharedSizeBytes;
  int preferredShmemCarveout;
  int clusterDimMustBeSet;
  int requiredClusterWidth;
  int requiredClusterHeight;
  int requiredClusterDepth;
  int clusterSchedulingPolicyPreference;
  int nonPortableClusterSizeAllowed;
  int reserved[16];
} cudaFuncAttributes;

/* ---- cudaPointerGetAttributes ---------------------------------------------------------------------- */

/* CUDA 11.x/12.x: 24 bytes. */
typedef struct vgpu_cudaPointerAttributes_v12 {
  enum cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
} vgpu_cudaPointerAttributes_v12;

/* CUDA 13.0 appended reserved space: 88 bytes. */
typedef struct vgpu_cudaPointerAttributes_v13 {
  enum cudaMemoryType type;
  int device;
  void* devicePointer;
  void* hostPointer;
  long reserved[8];
} vgpu_cudaPointerAttributes_v13;

/* What both versions' callers have room for: a shim that fills only these 24 bytes serves both. */
typedef vgpu_cudaPointerAttributes_v12 cudaPointerAttributes;

/* ---- 3D copies --------------------------------------------------------------------------------------- */

typedef struct cudaPos {
  size_t x;
  size_t y;
  size_t z;
} cudaPos;

typedef struct cudaExtent {
  size_t width; /* bytes for linear memory, elements for arrays */
  size_t height;
  size_t depth;
} cudaExtent;

typedef struct cudaPitchedPtr {
  void* ptr;
  size_t pitch;
  size_t xsize;
  size_t ysize;
} cudaPitchedPtr;

typedef struct cudaMemcpy3DParms {
  cudaArray_t srcArray;
  struct cudaPos srcPos;
  struct cudaPitchedPtr srcPtr;
  cudaArray_t dstArray;
  struct cudaPos dstPos;
  struct cudaPitchedPtr dstPtr;
  struct cudaExtent extent;
  enum cudaMemcpyKind kind;
} cudaMemcpy3DParms;

typedef struct cudaMemcpy3DPeerParms {
  cudaArray_t srcArray;
  struct cudaPos srcPos;
  struct cudaPitchedPtr srcPtr;
  int srcDevice;
  cudaArray_t dstArray;
  struct cudaPos dstPos;
  struct cudaPitchedPtr dstPtr;
  int dstDevice;
  struct cudaExtent extent;
} cudaMemcpy3DPeerParms;

typedef struct cudaChannelFormatDesc {
  int x; /* bits per component */
  int y;
  int z;
  int w;
  enum cudaChannelFormatKind f;
} cudaChannelFormatDesc;

/* ---- graphs ------------------------------------------------------------------------------------------ */

/* cudaGraphExecUpdate's result (CUDA 12+ form; CUDA 11.x passed errorNode and result as separate
 * arguments). */
typedef struct cudaGraphExecUpdateResultInfo_st {
  enum cudaGraphExecUpdateResult result;
  cudaGraphNode_t errorNode;
  cudaGraphNode_t errorFromNode;
} cudaGraphExecUpdateResultInfo;

/* ---- cudaLaunchKernelExC ------------------------------------------------------------------------------- */

typedef enum cudaAccessProperty {
  cudaAccessPropertyNormal = 0,
  cudaAccessPropertyStreaming = 1,
  cudaAccessPropertyPersisting = 2,
} cudaAccessProperty;

typedef enum cudaSynchronizationPolicy {
  cudaSyncPolicyAuto = 1,
  cudaSyncPolicySpin = 2,
  cudaSyncPolicyYield = 3,
  cudaSyncPolicyBlockingSync = 4,
} cudaSynchronizationPolicy;

typedef enum cudaClusterSchedulingPolicy {
  cudaClusterSchedulingPolicyDefault = 0,
  cudaClusterSchedulingPolicySpread = 1,
  cudaClusterSchedulingPolicyLoadBalancing = 2,
} cudaClusterSchedulingPolicy;

typedef enum cudaLaunchMemSyncDomain {
  cudaLaunchMemSyncDomainDefault = 0,
  cudaLaunchMemSyncDomainRemote = 1,
} cudaLaunchMemSyncDomain;

/* CUDA 12.8 added 11, CUDA 13.0 added 16; 15 is unused. */
typedef enum cudaLaunchAttributeID {
  cudaLaunchAttributeIgnore = 0,
  cudaLaunchAttributeAccessPolicyWindow = 1,
  cudaLaunchAttributeCooperative = 2,
  cudaLaunchAttributeSynchronizationPolicy = 3,
  cudaLaunchAttributeClusterDimension = 4,
  cudaLaunchAttributeClusterSchedulingPolicyPreference = 5,
  cudaLaunchAttributeProgrammaticStreamSerialization = 6,
  cudaLaunchAttributeProgrammaticEvent = 7,
  cudaLaunchAttributePriority = 8,
  cudaLaunchAttributeMemSyncDomainMap = 9,
  cudaLaunchAttributeMemSyncDomain = 10,
  cudaLaunchAttributePreferredClusterDimension = 11,
  cudaLaunchAttributeLaunchCompletionEvent = 12,
  cudaLaunchAttributeDeviceUpdatableKernelNode = 13,
  cudaLaunchAttributePreferredSharedMemoryCarveout = 14,
  cudaLaunchAttributeNvlinkUtilCentricScheduling = 16,
} cudaLaunchAttributeID;

typedef struct cudaAccessPolicyWindow {
  void* base_ptr;
  size_t num_bytes;
  float hitRatio;
  enum cudaAccessProperty hitProp;
  enum cudaAccessProperty missProp;
} cudaAccessPolicyWindow;

typedef struct cudaLaunchMemSyncDomainMap_st {
  unsigned char default_;
  unsigned char remote;
} cudaLaunchMemSyncDomainMap;

/* Same 64-byte union as the driver's CUlaunchAttributeValue. */
typedef union cudaLaunchAttributeValue {
  char pad[64];
  struct cudaAccessPolicyWindow accessPolicyWindow;
  int cooperative;
  enum cudaSynchronizationPolicy syncPolicy;
  struct {
    unsigned int x, y, z;
  } clusterDim;
  enum cudaClusterSchedulingPolicy clusterSchedulingPolicyPreference;
  int programmaticStreamSerializationAllowed;
  struct {
    cudaEvent_t event;
    int flags;
    int triggerAtBlockStart;
  } programmaticEvent;
  int priority;
  cudaLaunchMemSyncDomainMap memSyncDomainMap;
  cudaLaunchMemSyncDomain memSyncDomain;
  struct {
    unsigned int x, y, z;
  } preferredClusterDim; /* CUDA 12.8+ */
  struct {
    cudaEvent_t event;
    int flags;
  } launchCompletionEvent;
  struct {
    int deviceUpdatable;
    cudaGraphDeviceNode_t devNode;
  } deviceUpdatableKernelNode;
  unsigned int sharedMemCarveout;
  unsigned int nvlinkUtilCentricScheduling; /* CUDA 13.0+ */
} cudaLaunchAttributeValue;

typedef struct cudaLaunchAttribute_st {
  cudaLaunchAttributeID id;
  char pad[8 - sizeof(cudaLaunchAttributeID)];
  cudaLaunchAttributeValue val; /* "val" here, "value" in the driver API */
} cudaLaunchAttribute;

typedef struct cudaLaunchConfig_st {
  vgpu_dim3 gridDim;
  vgpu_dim3 blockDim;
  size_t dynamicSmemBytes;
  cudaStream_t stream;
  cudaLaunchAttribute* attrs;
  unsigned int numAttrs;
} cudaLaunchConfig_t;

/* ---- layout checks (LP64) --------------------------------------------------------------------------- */

#if defined(__LP64__) || defined(_LP64)
VGPU_ABI_STATIC_ASSERT(sizeof(cudaError_t) == 4 && sizeof(enum cudaDeviceAttr) == 4, "enums are int-sized");
VGPU_ABI_STATIC_ASSERT(sizeof(vgpu_dim3) == 12, "dim3");

VGPU_ABI_STATIC_ASSERT(sizeof(vgpu_cudaDeviceProp_v11) == 728, "cudaDeviceProp (11.x) size");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, name) == 0, "v11 name");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, uuid) == 256, "v11 uuid");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, totalGlobalMem) == 288, "v11 totalGlobalMem");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, clockRate) == 348, "v11 clockRate");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, major) == 360, "v11 major");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, pciBusID) == 584, "v11 pciBusID");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, sharedMemPerBlockOptin) == 696, "v11 sharedMemPerBlockOptin");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v11, reservedSharedMemPerBlock) == 720, "v11 reservedSharedMemPerBlock");

VGPU_ABI_STATIC_ASSERT(sizeof(vgpu_cudaDeviceProp_v12) == 1032, "cudaDeviceProp (12.x) size");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, uuid) == 256, "v12 uuid");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, totalGlobalMem) == 288, "v12 totalGlobalMem");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, major) == 360, "v12 major");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, pciBusID) == 584, "v12 pciBusID");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, sharedMemPerBlockOptin) == 696, "v12 sharedMemPerBlockOptin");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, hostRegisterSupported) == 728, "v12 hostRegisterSupported");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, unifiedFunctionPointers) == 776, "v12 unifiedFunctionPointers");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, reserved2) == 780, "v12 reserved2");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v12, reserved) == 792, "v12 reserved");

VGPU_ABI_STATIC_ASSERT(sizeof(vgpu_cudaDeviceProp_v13) == 1008, "cudaDeviceProp (13.0) size");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, uuid) == 256, "v13 uuid");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, totalGlobalMem) == 288, "v13 totalGlobalMem");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, totalConstMem) == 352, "v13 totalConstMem");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, major) == 360, "v13 major");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, pciBusID) == 568, "v13 pciBusID");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, sharedMemPerBlockOptin) == 672, "v13 sharedMemPerBlockOptin");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, hostRegisterSupported) == 704, "v13 hostRegisterSupported");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, hostNumaMultinodeIpcSupported) == 780, "v13 hostNumaMultinodeIpcSupported");
VGPU_ABI_STATIC_ASSERT(offsetof(vgpu_cudaDeviceProp_v13, reserved) == 784, "v13 reserved");

VGPU_ABI_STATIC_ASSERT(sizeof(cudaFuncAttributes) == 144, "cudaFuncAttributes");
VGPU_ABI_STATIC_ASSERT(sizeof(vgpu_cudaPointerAttributes_v12) == 24, "cudaPointerAttributes (12.x)");
VGPU_ABI_STATIC_ASSERT(sizeof(vgpu_cudaPointerAttributes_v13) == 88, "cudaPointerAttributes (13.0)");
VGPU_ABI_STATIC_ASSERT(sizeof(cudaMemcpy3DParms) == 160, "cudaMemcpy3DParms");
VGPU_ABI_STATIC_ASSERT(offsetof(cudaMemcpy3DParms, kind) == 152, "cudaMemcpy3DParms.kind");
VGPU_ABI_STATIC_ASSERT(sizeof(cudaMemcpy3DPeerParms) == 168, "cudaMemcpy3DPeerParms");
VGPU_ABI_STATIC_ASSERT(sizeof(cudaChannelFormatDesc) == 20, "cudaChannelFormatDesc");
VGPU_ABI_STATIC_ASSERT(sizeof(cudaGraphExecUpdateResultInfo) == 24, "cudaGraphExecUpdateResultInfo");
VGPU_ABI_STATIC_ASSERT(sizeof(cudaLaunchAttributeValue) == 64, "cudaLaunchAttributeValue");
VGPU_ABI_STATIC_ASSERT(sizeof(cudaLaunchAttribute) == 72, "cudaLaunchAttribute");
VGPU_ABI_STATIC_ASSERT(sizeof(cudaLaunchConfig_t) == 56, "cudaLaunchConfig_t");
VGPU_ABI_STATIC_ASSERT(offsetof(cudaLaunchConfig_t, dynamicSmemBytes) == 24, "cudaLaunchConfig_t.dynamicSmemBytes");
VGPU_ABI_STATIC_ASSERT(offsetof(cudaLaunchConfig_t, numAttrs) == 48, "cudaLaunchConfig_t.numAttrs");
#endif

#ifdef __cplusplus
}
#endif

#endif /* VGPU_ABI_CUDART_TYPES_H */
