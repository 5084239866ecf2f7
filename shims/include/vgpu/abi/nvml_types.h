/* vgpu/abi/nvml_types.h: the NVML types (nvml.h) that vgpu's libnvidia-ml.so.1 shim takes and returns,
 * declared by vgpu so that the shim builds without NVIDIA's headers. Pure C (C11 and C++20), LP64.
 *
 * Naming rule (as in every vgpu/abi header): NVIDIA's spelling throughout. NVML never changes a struct in
 * place: a new layout gets a new _vN type and a new _vN entry point (nvmlDeviceGetPciInfo_v3,
 * nvmlDeviceGetComputeRunningProcesses_v3, nvmlDeviceGetMemoryInfo_v2, ...), so the unsuffixed typedefs
 * below name the layout that the current entry points use. Values are those of the nvml.h published with
 * CUDA 13.0 (NVML_API_VERSION 13); additions and removals since NVML 12.4 are marked. Provenance:
 * ABI-NOTES.md beside this file. */
#ifndef VGPU_ABI_NVML_TYPES_H
#define VGPU_ABI_NVML_TYPES_H

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

typedef struct nvmlDevice_st* nvmlDevice_t;

/* ---- return codes ---------------------------------------------------------------------------------- */

/* NVML_ERROR_RESET_TYPE_NOT_SUPPORTED (30) is new in NVML 13.0; 12.4..12.9 end at 29. */
typedef enum nvmlReturn_enum {
  NVML_SUCCESS = 0,
  NVML_ERROR_UNINITIALIZED = 1,
  NVML_ERROR_INVALID_ARGUMENT = 2,
  NVML_ERROR_NOT_SUPPORTED = 3,
  NVML_ERROR_NO_PERMISSION = 4,
  NVML_ERROR_ALREADY_INITIALIZED = 5,
  NVML_ERROR_NOT_FOUND = 6,
  NVML_ERROR_INSUFFICIENT_SIZE = 7,
  NVML_ERROR_INSUFFICIENT_POWER = 8,
  NVML_ERROR_DRIVER_NOT_LOADED = 9,
  NVML_ERROR_TIMEOUT = 10,
  NVML_ERROR_IRQ_ISSUE = 11,
  NVML_ERROR_LIBRARY_NOT_FOUND = 12,
  NVML_ERROR_FUNCTION_NOT_FOUND = 13,
  NVML_ERROR_CORRUPTED_INFOROM = 14,
  NVML_ERROR_GPU_IS_LOST = 15,
  NVML_ERROR_RESET_REQUIRED = 16,
  NVML_ERROR_OPERATING_SYSTEM = 17,
  NVML_ERROR_LIB_RM_VERSION_MISMATCH = 18,
  NVML_ERROR_IN_USE = 19,
  NVML_ERROR_MEMORY = 20,
  NVML_ERROR_NO_DATA = 21,
  NVML_ERROR_VGPU_ECC_NOT_SUPPORTED = 22,
  NVML_ERROR_INSUFFICIENT_RESOURCES = 23,
  NVML_ERROR_FREQ_NOT_SUPPORTED = 24,
  NVML_ERROR_ARGUMENT_VERSION_MISMATCH = 25,
  NVML_ERROR_DEPRECATED = 26,
  NVML_ERROR_NOT_READY = 27,
  NVML_ERROR_GPU_NOT_FOUND = 28,
  NVML_ERROR_INVALID_STATE = 29,
  NVML_ERROR_RESET_TYPE_NOT_SUPPORTED = 30,
  NVML_ERROR_UNKNOWN = 999,
} nvmlReturn_t;

/* ---- buffer sizes (bytes, terminating NUL included) and other constants ----------------------------- */

#define NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE 32     /* nvmlPciInfo_t.busId */
#define NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE 16  /* nvmlPciInfo_t.busIdLegacy */
#define NVML_DEVICE_INFOROM_VERSION_BUFFER_SIZE 16
#define NVML_DEVICE_UUID_BUFFER_SIZE 80
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_DEVICE_PART_NUMBER_BUFFER_SIZE 80
#define NVML_SYSTEM_DRIVER_VERSION_BUFFER_SIZE 80
#define NVML_SYSTEM_NVML_VERSION_BUFFER_SIZE 80
#define NVML_DEVICE_NAME_BUFFER_SIZE 64
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96
#define NVML_DEVICE_SERIAL_BUFFER_SIZE 30
#define NVML_DEVICE_VBIOS_VERSION_BUFFER_SIZE 32

/* printf formats of the two bus-id strings in nvmlPciInfo_t (domain, bus, device). */
#define NVML_DEVICE_PCI_BUS_ID_LEGACY_FMT "%04X:%02X:%02X.0"
#define NVML_DEVICE_PCI_BUS_ID_FMT "%08X:%02X:%02X.0"

/* A field some structs use for "not available". */
#define NVML_VALUE_NOT_AVAILABLE (-1)

/* nvmlInit_v2's flags. */
#define NVML_INIT_FLAG_NO_GPUS 1
#define NVML_INIT_FLAG_NO_ATTACH 2

/* A versioned struct's first member holds its size with the version number in bits 24..31. */
#define NVML_STRUCT_VERSION(data, ver) (unsigned int)(sizeof(nvml##data##_v##ver##_t) | ((ver) << 24U))

/* ---- PCI (nvmlDeviceGetPciInfo_v3) ------------------------------------------------------------------ */

typedef struct nvmlPciInfo_st {
  char busIdLegacy[NVML_DEVICE_PCI_BUS_ID_BUFFER_V2_SIZE]; /* NVML_DEVICE_PCI_BUS_ID_LEGACY_FMT */
  unsigned int domain;
  unsigned int bus;
  unsigned int device;
  unsigned int pciDeviceId;    /* device ID << 16 | vendor ID */
  unsigned int pciSubSystemId; /* subsystem ID << 16 | subsystem vendor ID */
  char busId[NVML_DEVICE_PCI_BUS_ID_BUFFER_SIZE]; /* NVML_DEVICE_PCI_BUS_ID_FMT */
} nvmlPciInfo_t;

/* ---- memory ---------------------------------------------------------------------------------------- */

/* nvmlDeviceGetMemoryInfo (v1): bytes. */
typedef struct nvmlMemory_st {
  unsigned long long total;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_t;
typedef nvmlMemory_t nvmlMemory_v1_t;

/* nvmlDeviceGetMemoryInfo_v2: the caller sets version = nvmlMemory_v2; reserved is memory the driver
 * and firmware hold, so total = reserved + free + used. */
typedef struct nvmlMemory_v2_st {
  unsigned int version;
  unsigned long long total;
  unsigned long long reserved;
  unsigned long long free;
  unsigned long long used;
} nvmlMemory_v2_t;
#define nvmlMemory_v2 NVML_STRUCT_VERSION(Memory, 2) /* = 40 | 2 << 24 = 0x02000028 */

typedef struct nvmlBAR1Memory_st {
  unsigned long long bar1Total;
  unsigned long long bar1Free;
  unsigned long long bar1Used;
} nvmlBAR1Memory_t;

/* nvmlDeviceGetUtilizationRates: percent over the last sample period. */
typedef struct nvmlUtilization_st {
  unsigned int gpu;
  unsigned int memory;
} nvmlUtilization_t;

/* ---- processes ------------------------------------------------------------------------------------- */

/* nvmlDeviceGet{Compute,Graphics,MPSCompute}RunningProcesses (unsuffixed, the v1 entry points). */
typedef struct nvmlProcessInfo_v1_st {
  unsigned int pid;
  unsigned long long usedGpuMemory; /* bytes, or NVML_VALUE_NOT_AVAILABLE */
} nvmlProcessInfo_v1_t;

/* The _v2 and _v3 entry points (the ones nvml.h 11.x+ maps the plain names to). */
typedef struct nvmlProcessInfo_v2_st {
  unsigned int pid;
  unsigned long long usedGpuMemory;
  unsigned int gpuInstanceId;     /* 0xFFFFFFFF outside MIG */
  unsigned int computeInstanceId; /* 0xFFFFFFFF outside MIG */
} nvmlProcessInfo_v2_t;
typedef nvmlProcessInfo_v2_t nvmlProcessInfo_t;

/* ---- enums ------------------------------------------------------------------------------------------ */

/* NVML 13.0 raised NVML_BRAND_COUNT from 17 to 18 without naming a new brand. */
typedef enum nvmlBrandType_enum {
  NVML_BRAND_UNKNOWN = 0,
  NVML_BRAND_QUADRO = 1,
  NVML_BRAND_TESLA = 2,
  NVML_BRAND_NVS = 3,
  NVML_BRAND_GRID = 4,
  NVML_BRAND_GEFORCE = 5,
  NVML_BRAND_TITAN = 6,
  NVML_BRAND_NVIDIA_VAPPS = 7,
  NVML_BRAND_NVIDIA_VPC = 8,
  NVML_BRAND_NVIDIA_VCS = 9,
  NVML_BRAND_NVIDIA_VWS = 10,
  NVML_BRAND_NVIDIA_CLOUD_GAMING = 11,
  NVML_BRAND_NVIDIA_VGAMING = 11,
  NVML_BRAND_QUADRO_RTX = 12,
  NVML_BRAND_NVIDIA_RTX = 13,
  NVML_BRAND_NVIDIA = 14,
  NVML_BRAND_GEFORCE_RTX = 15,
  NVML_BRAND_TITAN_RTX = 16,
  NVML_BRAND_COUNT = 18,
} nvmlBrandType_t;

typedef enum nvmlComputeMode_enum {
  NVML_COMPUTEMODE_DEFAULT = 0,
  NVML_COMPUTEMODE_EXCLUSIVE_THREAD = 1,
  NVML_COMPUTEMODE_PROHIBITED = 2,
  NVML_COMPUTEMODE_EXCLUSIVE_PROCESS = 3,
  NVML_COMPUTEMODE_COUNT = 4,
} nvmlComputeMode_t;

typedef enum nvmlEnableState_enum {
  NVML_FEATURE_DISABLED = 0,
  NVML_FEATURE_ENABLED = 1,
} nvmlEnableState_t;

typedef enum nvmlPStates_enum {
  NVML_PSTATE_0 = 0,
  NVML_PSTATE_1 = 1,
  NVML_PSTATE_2 = 2,
  NVML_PSTATE_3 = 3,
  NVML_PSTATE_4 = 4,
  NVML_PSTATE_5 = 5,
  NVML_PSTATE_6 = 6,
  NVML_PSTATE_7 = 7,
  NVML_PSTATE_8 = 8,
  NVML_PSTATE_9 = 9,
  NVML_PSTATE_10 = 10,
  NVML_PSTATE_11 = 11,
  NVML_PSTATE_12 = 12,
  NVML_PSTATE_13 = 13,
  NVML_PSTATE_14 = 14,
  NVML_PSTATE_15 = 15,
  NVML_PSTATE_UNKNOWN = 32,
} nvmlPstates_t;

typedef enum nvmlClockType_enum {
  NVML_CLOCK_GRAPHICS = 0,
  NVML_CLOCK_SM = 1,
  NVML_CLOCK_MEM = 2,
  NVML_CLOCK_VIDEO = 3,
  NVML_CLOCK_COUNT = 4,
} nvmlClockType_t;

typedef enum nvmlTemperatureSensors_enum {
  NVML_TEMPERATURE_GPU = 0,
  NVML_TEMPERATURE_COUNT = 1,
} nvmlTemperatureSensors_t;

/* NVML_TEMPERATURE_THRESHOLD_GPS_CURR (7) is new in NVML 12.5 (NVML 12.4's COUNT is 7). */
typedef enum nvmlTemperatureThresholds_enum {
  NVML_TEMPERATURE_THRESHOLD_SHUTDOWN = 0,
  NVML_TEMPERATURE_THRESHOLD_SLOWDOWN = 1,
  NVML_TEMPERATURE_THRESHOLD_MEM_MAX = 2,
  NVML_TEMPERATURE_THRESHOLD_GPU_MAX = 3,
  NVML_TEMPERATURE_THRESHOLD_ACOUSTIC_MIN = 4,
  NVML_TEMPERATURE_THRESHOLD_ACOUSTIC_CURR = 5,
  NVML_TEMPERATURE_THRESHOLD_ACOUSTIC_MAX = 6,
  NVML_TEMPERATURE_THRESHOLD_GPS_CURR = 7,
  NVML_TEMPERATURE_THRESHOLD_COUNT = 8,
} nvmlTemperatureThresholds_t;

typedef enum nvmlGpuVirtualizationMode {
  NVML_GPU_VIRTUALIZATION_MODE_NONE = 0,
  NVML_GPU_VIRTUALIZATION_MODE_PASSTHROUGH = 1,
  NVML_GPU_VIRTUALIZATION_MODE_VGPU = 2,
  NVML_GPU_VIRTUALIZATION_MODE_HOST_VGPU = 3,
  NVML_GPU_VIRTUALIZATION_MODE_HOST_VSGA = 4,
} nvmlGpuVirtualizationMode_t;

/* nvmlDeviceGetArchitecture: plain integers, not an enum, in nvml.h. */
typedef unsigned int nvmlDeviceArchitecture_t;
#define NVML_DEVICE_ARCH_KEPLER 2
#define NVML_DEVICE_ARCH_MAXWELL 3
#define NVML_DEVICE_ARCH_PASCAL 4
#define NVML_DEVICE_ARCH_VOLTA 5
#define NVML_DEVICE_ARCH_TURING 6
#define NVML_DEVICE_ARCH_AMPERE 7
#define NVML_DEVICE_ARCH_ADA 8
#define NVML_DEVICE_ARCH_HOPPER 9
#define NVML_DEVICE_ARCH_BLACKWELL 10 /* NVML 12.6+ */
#define NVML_DEVICE_ARCH_T23X 11      /* NVML 12.6..12.9 (Orin); gone from 13.0 */
#define NVML_DEVICE_ARCH_RUBIN 13     /* NVML 13.3+ */
#define NVML_DEVICE_ARCH_UNKNOWN 0xffffffff

/* ---- layout checks (LP64) --------------------------------------------------------------------------- */

#if defined(__LP64__) || defined(_LP64)
VGPU_ABI_STATIC_ASSERT(sizeof(nvmlPciInfo_t) == 68, "nvmlPciInfo_t (v3)");
VGPU_ABI_STATIC_ASSERT(offsetof(nvmlPciInfo_t, domain) == 16, "nvmlPciInfo_t.domain");
VGPU_ABI_STATIC_ASSERT(offsetof(nvmlPciInfo_t, busId) == 36, "nvmlPciInfo_t.busId");
VGPU_ABI_STATIC_ASSERT(sizeof(nvmlMemory_t) == 24, "nvmlMemory_t");
VGPU_ABI_STATIC_ASSERT(sizeof(nvmlMemory_v2_t) == 40, "nvmlMemory_v2_t");
VGPU_ABI_STATIC_ASSERT(offsetof(nvmlMemory_v2_t, total) == 8, "nvmlMemory_v2_t.total");
VGPU_ABI_STATIC_ASSERT(sizeof(nvmlBAR1Memory_t) == 24, "nvmlBAR1Memory_t");
VGPU_ABI_STATIC_ASSERT(sizeof(nvmlUtilization_t) == 8, "nvmlUtilization_t");
VGPU_ABI_STATIC_ASSERT(sizeof(nvmlProcessInfo_v1_t) == 16, "nvmlProcessInfo_v1_t");
VGPU_ABI_STATIC_ASSERT(sizeof(nvmlProcessInfo_v2_t) == 24, "nvmlProcessInfo_v2_t");
VGPU_ABI_STATIC_ASSERT(nvmlMemory_v2 == 0x02000028u, "nvmlMemory_v2");
#endif

#ifdef __cplusplus
}
#endif

#endif /* VGPU_ABI_NVML_TYPES_H */
