// vgpu's cuBLAS, built as libvgpu-cublas.so.12 and .13 (VGPU_CUBLAS_ABI). Handles, streams, workspaces
// and modes are kept here; every call that computes goes to the execution backend in libvgpu-cuda
// (vgpu_backend_blas), which in this stage answers "not supported" and says so once. The compute
// entry points are generated from entry_points.tsv (status "compute"): all of them take the handle
// first, which is all the seam needs to find the stream.
#include <dlfcn.h>

#include <cstring>
#include <mutex>
#include <unordered_set>

#include "blas.h"
#include "log.h"
#include "stub_support.h"

using namespace vgpu;

namespace vgpu::blas {
namespace {

constexpr int kVersion = VGPU_CUBLAS_ABI == 12 ? 120803 : 130100;  // 12.8.3 / 13.1.0, as MAJOR*10000+MINOR*100+PATCH

struct Handle {
  CUstream stream = nullptr;
  void* workspace = nullptr;
  size_t workspace_size = 0;
  int math_mode = 0;     // CUBLAS_DEFAULT_MATH
  int pointer_mode = 0;  // CUBLAS_POINTER_MODE_HOST
  int atomics_mode = 0;  // CUBLAS_ATOMICS_NOT_ALLOWED
};

// Names this copy of the shared code in log lines, before any entry point can log.
[[gnu::constructor]] void name_log_component() { log_set_component(VGPU_CUBLAS_ABI == 12 ? "cublas12" : "cublas13"); }

std::mutex g_mutex;
std::unordered_set<Handle*>& handles() {
  static auto* s = new std::unordered_set<Handle*>;
  return *s;
}

struct Driver {
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*device_count)(int*) = nullptr;
  CUresult (*blas)(const char*, CUstream) = nullptr;
};

const Driver& driver() {
  static Driver* d = [] {
    auto* r = new Driver;
    void* lib = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL);
    if (!lib) {
      log(LogLevel::warn, "cannot load libcuda.so.1: %s", ::dlerror());
      return r;
    }
    r->init = reinterpret_cast<decltype(r->init)>(::dlsym(lib, "cuInit"));
    r->device_count = reinterpret_cast<decltype(r->device_count)>(::dlsym(lib, "cuDeviceGetCount"));
    r->blas = reinterpret_cast<decltype(r->blas)>(::dlsym(lib, "vgpu_backend_blas"));
    if (!r->blas) log(LogLevel::warn, "libcuda.so.1 is not vgpu's (no vgpu_backend_blas): cuBLAS cannot compute");
    return r;
  }();
  return *d;
}

Handle* live(cublasHandle_t h) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto* p = reinterpret_cast<Handle*>(h);
  return handles().count(p) ? p : nullptr;
}

}  // namespace

cublasStatus_t compute(const char* entry_point, cublasHandle_t handle) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  const Driver& d = driver();
  if (!d.blas) return CUBLAS_STATUS_NOT_SUPPORTED;
  CUresult r = d.blas(entry_point, h->stream);
  if (r == CUDA_SUCCESS) return CUBLAS_STATUS_SUCCESS;
  if (r == CUDA_ERROR_NOT_SUPPORTED) return CUBLAS_STATUS_NOT_SUPPORTED;
  return CUBLAS_STATUS_EXECUTION_FAILED;
}

}  // namespace vgpu::blas

using namespace vgpu::blas;

extern "C" {

VGPU_EXPORT cublasStatus_t cublasCreate_v2(cublasHandle_t* handle) {
  if (!handle) return CUBLAS_STATUS_INVALID_VALUE;
  const Driver& d = driver();
  int count = 0;
  if (!d.init || !d.device_count || d.init(0) != CUDA_SUCCESS || d.device_count(&count) != CUDA_SUCCESS || count == 0)
    return CUBLAS_STATUS_NOT_INITIALIZED;  // what cuBLAS answers without a usable device
  auto* h = new Handle;
  std::lock_guard<std::mutex> lock(g_mutex);
  handles().insert(h);
  *handle = reinterpret_cast<cublasHandle_t>(h);
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasDestroy_v2(cublasHandle_t handle) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto* h = reinterpret_cast<Handle*>(handle);
  if (!handles().erase(h)) return CUBLAS_STATUS_NOT_INITIALIZED;
  delete h;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasSetStream_v2(cublasHandle_t handle, CUstream stream) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  h->stream = stream;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasGetStream_v2(cublasHandle_t handle, CUstream* stream) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!stream) return CUBLAS_STATUS_INVALID_VALUE;
  *stream = h->stream;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasSetWorkspace_v2(cublasHandle_t handle, void* workspace, size_t size) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (size && !workspace) return CUBLAS_STATUS_INVALID_VALUE;
  h->workspace = workspace;
  h->workspace_size = size;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasSetMathMode(cublasHandle_t handle, int mode) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  // Modes: DEFAULT 0, TENSOR_OP 1, PEDANTIC 2, TF32_TENSOR_OP 3, plus the flag DISALLOW_REDUCED_PRECISION 16.
  if ((mode & ~16) > 3) return CUBLAS_STATUS_INVALID_VALUE;
  h->math_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasGetMathMode(cublasHandle_t handle, int* mode) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = h->math_mode;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasSetPointerMode_v2(cublasHandle_t handle, int mode) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode != 0 && mode != 1) return CUBLAS_STATUS_INVALID_VALUE;
  h->pointer_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasGetPointerMode_v2(cublasHandle_t handle, int* mode) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = h->pointer_mode;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasSetAtomicsMode(cublasHandle_t handle, int mode) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (mode != 0 && mode != 1) return CUBLAS_STATUS_INVALID_VALUE;
  h->atomics_mode = mode;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasGetAtomicsMode(cublasHandle_t handle, int* mode) {
  Handle* h = live(handle);
  if (!h) return CUBLAS_STATUS_NOT_INITIALIZED;
  if (!mode) return CUBLAS_STATUS_INVALID_VALUE;
  *mode = h->atomics_mode;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasGetVersion_v2(cublasHandle_t handle, int* version) {
  (void)handle;  // answered with or without a handle, as cuBLAS does
  if (!version) return CUBLAS_STATUS_INVALID_VALUE;
  *version = kVersion;
  return CUBLAS_STATUS_SUCCESS;
}

VGPU_EXPORT cublasStatus_t cublasGetProperty(int type, int* value) {
  if (!value) return CUBLAS_STATUS_INVALID_VALUE;
  switch (type) {  // libraryPropertyType: MAJOR_VERSION 0, MINOR_VERSION 1, PATCH_LEVEL 2
    case 0: *value = kVersion / 10000; return CUBLAS_STATUS_SUCCESS;
    case 1: *value = kVersion / 100 % 100; return CUBLAS_STATUS_SUCCESS;
    case 2: *value = kVersion % 100; return CUBLAS_STATUS_SUCCESS;
    default: return CUBLAS_STATUS_INVALID_VALUE;
  }
}

VGPU_EXPORT size_t cublasGetCudartVersion() { return VGPU_CUBLAS_ABI == 12 ? 12080 : 13000; }

VGPU_EXPORT const char* cublasGetStatusName(cublasStatus_t status) {
  const ErrorEntry* e = find_error(static_cast<int>(status));
  return e ? e->name : "CUBLAS_STATUS_UNKNOWN";
}

VGPU_EXPORT const char* cublasGetStatusString(cublasStatus_t status) {
  const ErrorEntry* e = find_error(static_cast<int>(status));
  return e ? e->text : "unknown status";
}

VGPU_EXPORT cublasStatus_t cublasLoggerConfigure(int logIsOn, int logToStdOut, int logToStdErr, const char* logFileName) {
  (void)logIsOn, (void)logToStdOut, (void)logToStdErr, (void)logFileName;
  return CUBLAS_STATUS_SUCCESS;  // vgpu's own log (VGPU_LOG) is where cuBLAS activity is reported
}

}  // extern "C"
