// Loading the driver, per-thread runtime state, errors and versions.
#include "runtime.h"

#include <dlfcn.h>

#include <mutex>

#include "log.h"

namespace vgpu::rt {

thread_local cudaError_t t_last_error = cudaSuccess;

namespace {

struct Loaded {
  DriverApi api;
  cudaError_t status = cudaErrorInsufficientDriver;
};

thread_local int t_device = 0;

// Names this copy of the shared code in log lines, before any entry point can log.
[[gnu::constructor]] void name_log_component() { log_set_component(VGPU_CUDART_ABI == 12 ? "cudart12" : "cudart13"); }

const Loaded& loaded() {
  static Loaded* l = [] {
    auto* r = new Loaded;  // never freed: used until the process ends
    // RTLD_NOW | RTLD_GLOBAL as NVIDIA's runtime does; the program usually has libcuda.so.1 loaded already.
    void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
      log(LogLevel::warn, "cannot load libcuda.so.1: %s", ::dlerror());
      return r;
    }
    auto gpa = reinterpret_cast<CUresult (*)(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*)>(
        ::dlsym(lib, "cuGetProcAddress_v2"));
    if (!gpa) {
      log(LogLevel::warn, "libcuda.so.1 has no cuGetProcAddress_v2: a driver older than CUDA 12");
      return r;
    }
    bool complete = true;
#define VGPU_DRIVER_FN(name, version, ...)                                                             \
  {                                                                                                    \
    void* fn = nullptr;                                                                                \
    CUdriverProcAddressQueryResult st{};                                                               \
    if (gpa(#name, &fn, version, 0, &st) != CUDA_SUCCESS || !fn) {                                     \
      log(LogLevel::warn, "libcuda.so.1 does not provide %s (version %d)", #name, version);           \
      complete = false;                                                                                \
    }                                                                                                  \
    r->api.name = reinterpret_cast<decltype(r->api.name)>(fn);                                         \
  }
#include "driver_functions.def"
#undef VGPU_DRIVER_FN
    if (!complete) return r;
    int driver_version = 0;
    r->api.cuDriverGetVersion(&driver_version);
    if (driver_version < kRuntimeVersion / 1000 * 1000) {
      // The driver must support at least this runtime's major version (minor-version compatibility).
      log(LogLevel::warn, "driver API version %d is older than this runtime's %d", driver_version, kRuntimeVersion);
      return r;
    }
    CUresult init = r->api.cuInit(0);
    r->status = init == CUDA_SUCCESS ? cudaSuccess : to_runtime_error(init);
    return r;
  }();
  return *l;
}

}  // namespace

cudaError_t driver_api(const DriverApi** out) {
  const Loaded& l = loaded();
  *out = &l.api;
  return l.status;
}

cudaError_t to_runtime_error(CUresult r) {
  switch (r) {
    case CUDA_SUCCESS: return cudaSuccess;
    case CUDA_ERROR_INVALID_CONTEXT: return cudaErrorDeviceUninitialized;
    case CUDA_ERROR_NOT_FOUND: return cudaErrorSymbolNotFound;
    case CUDA_ERROR_INVALID_HANDLE: return cudaErrorInvalidResourceHandle;
    case CUDA_ERROR_OUT_OF_MEMORY: return cudaErrorMemoryAllocation;
    case CUDA_ERROR_NOT_INITIALIZED: return cudaErrorInitializationError;
    default: return static_cast<cudaError_t>(static_cast<int>(r));
  }
}

cudaError_t set_error(cudaError_t e) {
  if (e != cudaSuccess) t_last_error = e;
  return e;
}

int current_device() { return t_device; }
void set_current_device(int device) { t_device = device; }

cudaError_t ensure_context(const DriverApi** out) {
  const DriverApi* api;
  if (cudaError_t e = driver_api(&api)) return e;
  if (out) *out = api;
  CUcontext cur = nullptr;
  api->cuCtxGetCurrent(&cur);
  CUcontext primary = nullptr;
  // Retained once per thread and device; the driver counts, so repeated retains are harmless but the
  // runtime keeps its own: one retain per device for the life of the process, as NVIDIA's does.
  static std::mutex mutex;
  static CUcontext retained[64] = {};
  int dev = t_device;
  if (dev < 0 || dev >= 64) return cudaErrorInvalidDevice;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!retained[dev]) {
      CUresult r = api->cuDevicePrimaryCtxRetain(&retained[dev], dev);
      if (r != CUDA_SUCCESS) return r == CUDA_ERROR_INVALID_DEVICE ? cudaErrorInvalidDevice : to_runtime_error(r);
    }
    primary = retained[dev];
  }
  if (cur != primary) api->cuCtxSetCurrent(primary);
  return cudaSuccess;
}

}  // namespace vgpu::rt

using namespace vgpu;
using namespace vgpu::rt;

extern "C" {

VGPU_EXPORT cudaError_t cudaGetLastError() {
  cudaError_t e = t_last_error;
  t_last_error = cudaSuccess;
  return e;
}

VGPU_EXPORT cudaError_t cudaPeekAtLastError() { return t_last_error; }

VGPU_EXPORT const char* cudaGetErrorString(cudaError_t error) {
  const ErrorEntry* e = find_error(static_cast<int>(error));
  return e ? e->text : "unrecognized error code";
}

VGPU_EXPORT const char* cudaGetErrorName(cudaError_t error) {
  const ErrorEntry* e = find_error(static_cast<int>(error));
  return e ? e->name : "cudaErrorUnknown";
}

VGPU_EXPORT cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return set_error(cudaErrorInvalidValue);
  *version = kRuntimeVersion;
  return cudaSuccess;
}

VGPU_EXPORT cudaError_t cudaDriverGetVersion(int* version) {
  if (!version) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  driver_api(&api);
  // No driver: version 0 and success, as the runtime documents.
  *version = 0;
  if (api->cuDriverGetVersion) api->cuDriverGetVersion(version);
  return cudaSuccess;
}

}  // extern "C"

extern "C" {

// Driver entry points for the program, through the driver's own cuGetProcAddress, at this runtime's
// version (CUDA 12+: the status out-parameter; ByVersion: the caller's version).
VGPU_EXPORT cudaError_t cudaGetDriverEntryPointByVersion(const char* symbol, void** funcPtr, unsigned int cudaVersion,
                                                         unsigned long long flags,
                                                         CUdriverProcAddressQueryResult* driverStatus) {
  if (!symbol || !funcPtr) return set_error(cudaErrorInvalidValue);
  const DriverApi* api;
  if (cudaError_t e = driver_api(&api)) return set_error(e);
  CUdriverProcAddressQueryResult st{};
  CUresult r = api->cuGetProcAddress(symbol, funcPtr, static_cast<int>(cudaVersion), flags, &st);
  if (driverStatus) *driverStatus = st;
  // A symbol the driver lacks is reported through the status with success, as the runtime documents.
  return r == CUDA_SUCCESS || r == CUDA_ERROR_NOT_FOUND ? cudaSuccess : set_error(to_runtime_error(r));
}

VGPU_EXPORT cudaError_t cudaGetDriverEntryPoint(const char* symbol, void** funcPtr, unsigned long long flags,
                                                CUdriverProcAddressQueryResult* driverStatus) {
  return cudaGetDriverEntryPointByVersion(symbol, funcPtr, kRuntimeVersion, flags, driverStatus);
}

// The _ptsz forms are what programs built for the per-thread default stream call: their default
// (cudaEnableDefault, 0) means the per-thread variants.
VGPU_EXPORT cudaError_t cudaGetDriverEntryPointByVersion_ptsz(const char* symbol, void** funcPtr, unsigned int cudaVersion,
                                                              unsigned long long flags,
                                                              CUdriverProcAddressQueryResult* driverStatus) {
  return cudaGetDriverEntryPointByVersion(symbol, funcPtr, cudaVersion, flags ? flags : static_cast<unsigned long long>(CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM),
                                          driverStatus);
}

VGPU_EXPORT cudaError_t cudaGetDriverEntryPoint_ptsz(const char* symbol, void** funcPtr, unsigned long long flags,
                                                     CUdriverProcAddressQueryResult* driverStatus) {
  return cudaGetDriverEntryPointByVersion_ptsz(symbol, funcPtr, kRuntimeVersion, flags, driverStatus);
}

}  // extern "C"
