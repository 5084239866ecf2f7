// Kernel registration and launch: what nvcc's host stubs call.
//   module constructor: __cudaRegisterFatBinary, __cudaRegisterFunction, __cudaRegisterVar,
//                       __cudaRegisterFatBinaryEnd; __cudaUnregisterFatBinary at exit;
//   call site:          __cudaPushCallConfiguration, then in the stub __cudaPopCallConfiguration and
//                       cudaLaunchKernel (CUDA 12) or __cudaGetKernel + __cudaLaunchKernel (CUDA 13).
// A registered fatbin becomes a driver module on first launch; its kernels are looked up by their
// device names. Execution itself is the driver's backend's business.
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "log.h"
#include "runtime.h"

using namespace vgpu;
using namespace vgpu::rt;

namespace {

constexpr unsigned kFatbinWrapperMagic = 0x466243b1;  // __fatBinC_Wrapper_t.magic, nvcc's fatbinary wrapper

struct FatbinWrapper {
  int magic;
  int version;
  const void* data;
  void* filename_or_fatbins;
};

struct Registration {
  const void* image = nullptr;  // the fatbin the wrapper points to
  CUmodule module = nullptr;    // loaded on first use
  bool load_failed = false;
  std::vector<const void*> functions;  // the host stubs registered with it: unregistered with it
};

struct Kernel {
  Registration* reg;
  std::string device_name;
  CUfunction function = nullptr;
};

struct LaunchConfig {
  vgpu_dim3 grid, block;
  size_t shared_mem;
  cudaStream_t stream;
};

std::mutex g_mutex;
std::unordered_map<const void*, Kernel>& kernels() {  // host stub address -> kernel
  static auto* m = new std::unordered_map<const void*, Kernel>;
  return *m;
}
thread_local std::vector<LaunchConfig>* t_configs = nullptr;

// The CUfunction for a host stub, loading its module if needed. Caller must not hold g_mutex.
cudaError_t function_for(const void* host_fun, CUfunction* out) {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return e;
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = kernels().find(host_fun);
  if (it == kernels().end()) return cudaErrorInvalidDeviceFunction;
  Kernel& k = it->second;
  if (k.function) {
    *out = k.function;
    return cudaSuccess;
  }
  Registration* reg = k.reg;
  if (!reg->module && !reg->load_failed) {
    CUresult r = api->cuModuleLoadFatBinary(&reg->module, reg->image);
    if (r != CUDA_SUCCESS) {
      reg->load_failed = true;
      log(LogLevel::warn, "loading the fatbin of %s failed: error %d", k.device_name.c_str(), static_cast<int>(r));
    }
  }
  if (!reg->module) return cudaErrorNoKernelImageForDevice;
  CUresult r = api->cuModuleGetFunction(&k.function, reg->module, k.device_name.c_str());
  if (r != CUDA_SUCCESS) return cudaErrorInvalidDeviceFunction;
  *out = k.function;
  return cudaSuccess;
}

cudaError_t launch(CUfunction f, vgpu_dim3 grid, vgpu_dim3 block, void** args, size_t smem, cudaStream_t s, bool cooperative) {
  const DriverApi* api;
  if (cudaError_t e = ensure_context(&api)) return e;
  CUresult r = cooperative ? api->cuLaunchCooperativeKernel(f, grid.x, grid.y, grid.z, block.x, block.y, block.z,
                                                            static_cast<unsigned>(smem), reinterpret_cast<CUstream>(s), args)
                           : api->cuLaunchKernel(f, grid.x, grid.y, grid.z, block.x, block.y, block.z,
                                                 static_cast<unsigned>(smem), reinterpret_cast<CUstream>(s), args, nullptr);
  if (r == CUDA_ERROR_INVALID_VALUE) return cudaErrorInvalidConfiguration;
  return to_runtime_error(r);
}

cudaError_t launch_host_fun(const void* func, vgpu_dim3 grid, vgpu_dim3 block, void** args, size_t smem, cudaStream_t s,
                            bool cooperative) {
  CUfunction f;
  if (cudaError_t e = function_for(func, &f)) return e;
  return launch(f, grid, block, args, smem, s, cooperative);
}

}  // namespace

extern "C" {

VGPU_EXPORT void** __cudaRegisterFatBinary(void* fatCubin) {
  auto* reg = new Registration;  // owned until __cudaUnregisterFatBinary
  auto* w = static_cast<FatbinWrapper*>(fatCubin);
  if (w && static_cast<unsigned>(w->magic) == kFatbinWrapperMagic) reg->image = w->data;
  else reg->image = fatCubin;  // a bare fatbin or cubin
  return reinterpret_cast<void**>(reg);
}

VGPU_EXPORT void __cudaRegisterFatBinaryEnd(void** fatCubinHandle) { (void)fatCubinHandle; }

VGPU_EXPORT void __cudaUnregisterFatBinary(void** fatCubinHandle) {
  auto* reg = reinterpret_cast<Registration*>(fatCubinHandle);
  if (!reg) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  // Its own stubs only (not a scan of every kernel: ggml-cuda unregisters hundreds of fatbins at exit,
  // each with its thousands of kernels in the table); one registered again since names another fatbin.
  for (const void* f : reg->functions)
    if (auto it = kernels().find(f); it != kernels().end() && it->second.reg == reg) kernels().erase(it);
  reg->functions.clear();
  reg->functions.shrink_to_fit();
  // The module is left to the driver: at process exit the driver may already be gone, and unloading
  // it then would call into freed state. Registration objects are small and exit is imminent.
}

VGPU_EXPORT void __cudaRegisterFunction(void** fatCubinHandle, const char* hostFun, char* deviceFun,
                                        const char* deviceName, int thread_limit, void* tid, void* bid, void* bDim,
                                        void* gDim, int* wSize) {
  (void)deviceFun, (void)thread_limit, (void)tid, (void)bid, (void)bDim, (void)gDim, (void)wSize;
  if (!fatCubinHandle || !hostFun || !deviceName) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  auto* reg = reinterpret_cast<Registration*>(fatCubinHandle);
  kernels()[hostFun] = Kernel{reg, deviceName, nullptr};
  reg->functions.push_back(hostFun);
}

// Device variables: recorded by the driver module in a real runtime; symbol copies (cudaMemcpyToSymbol)
// are not provided in this stage, so nothing needs the address.
VGPU_EXPORT void __cudaRegisterVar(void** fatCubinHandle, char* hostVar, char* deviceAddress, const char* deviceName,
                                   int ext, size_t size, int constant, int global) {
  (void)fatCubinHandle, (void)hostVar, (void)deviceAddress, (void)deviceName, (void)ext, (void)size, (void)constant,
      (void)global;
}

VGPU_EXPORT void __cudaRegisterManagedVar(void** fatCubinHandle, void** hostVarPtrAddress, char* deviceAddress,
                                          const char* deviceName, int ext, size_t size, int constant, int global) {
  (void)fatCubinHandle, (void)hostVarPtrAddress, (void)deviceAddress, (void)deviceName, (void)ext, (void)size,
      (void)constant, (void)global;
}

VGPU_EXPORT char __cudaInitModule(void** fatCubinHandle) { return fatCubinHandle ? 1 : 0; }

VGPU_EXPORT unsigned __cudaPushCallConfiguration(vgpu_dim3 gridDim, vgpu_dim3 blockDim, size_t sharedMem, void* stream) {
  if (!t_configs) t_configs = new std::vector<LaunchConfig>;
  t_configs->push_back(LaunchConfig{gridDim, blockDim, sharedMem, static_cast<cudaStream_t>(stream)});
  return 0;
}

VGPU_EXPORT cudaError_t __cudaPopCallConfiguration(vgpu_dim3* gridDim, vgpu_dim3* blockDim, size_t* sharedMem, void* stream) {
  if (!t_configs || t_configs->empty()) return set_error(cudaErrorMissingConfiguration);
  LaunchConfig c = t_configs->back();
  t_configs->pop_back();
  if (gridDim) *gridDim = c.grid;
  if (blockDim) *blockDim = c.block;
  if (sharedMem) *sharedMem = c.shared_mem;
  if (stream) *static_cast<cudaStream_t*>(stream) = c.stream;
  return cudaSuccess;
}

VGPU_EXPORT cudaError_t cudaLaunchKernel(const void* func, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void** args,
                                         size_t sharedMem, cudaStream_t stream) {
  return set_error(launch_host_fun(func, gridDim, blockDim, args, sharedMem, stream, false));
}
VGPU_EXPORT cudaError_t cudaLaunchKernel_ptsz(const void* func, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void** args,
                                              size_t sharedMem, cudaStream_t stream) {
  return set_error(launch_host_fun(func, gridDim, blockDim, args, sharedMem, stream ? stream : cudaStreamPerThread, false));
}
VGPU_EXPORT cudaError_t cudaLaunchCooperativeKernel(const void* func, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void** args,
                                                    size_t sharedMem, cudaStream_t stream) {
  return set_error(launch_host_fun(func, gridDim, blockDim, args, sharedMem, stream, true));
}
VGPU_EXPORT cudaError_t cudaLaunchKernelExC(const cudaLaunchConfig_t* config, const void* func, void** args) {
  if (!config) return set_error(cudaErrorInvalidValue);
  return set_error(launch_host_fun(func, config->gridDim, config->blockDim, args, config->dynamicSmemBytes,
                                   config->stream, false));
}

// CUDA 13 launch path: the stub asks once for a kernel handle, then launches through it.
VGPU_EXPORT cudaError_t __cudaGetKernel(cudaKernel_t* kernel, const void* hostFun) {
  if (!kernel) return set_error(cudaErrorInvalidValue);
  CUfunction f;
  if (cudaError_t e = function_for(hostFun, &f)) return set_error(e);
  *kernel = reinterpret_cast<cudaKernel_t>(f);
  return cudaSuccess;
}
VGPU_EXPORT cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void** args,
                                           size_t sharedMem, cudaStream_t stream) {
  return set_error(launch(reinterpret_cast<CUfunction>(kernel), gridDim, blockDim, args, sharedMem, stream, false));
}
VGPU_EXPORT cudaError_t __cudaLaunchKernel_ptsz(cudaKernel_t kernel, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void** args,
                                                size_t sharedMem, cudaStream_t stream) {
  return set_error(launch(reinterpret_cast<CUfunction>(kernel), gridDim, blockDim, args, sharedMem,
                          stream ? stream : cudaStreamPerThread, false));
}

VGPU_EXPORT cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
  CUfunction f;
  if (cudaError_t e = function_for(func, &f)) return set_error(e);
  const DriverApi* api;
  driver_api(&api);
  return set_error(to_runtime_error(api->cuFuncSetAttribute(f, static_cast<CUfunction_attribute>(attr), value)));
}

VGPU_EXPORT cudaError_t cudaFuncSetCacheConfig(const void* func, int config) {
  CUfunction f;
  if (cudaError_t e = function_for(func, &f)) return set_error(e);
  return config >= 0 && config <= 3 ? cudaSuccess : set_error(cudaErrorInvalidValue);
}

// Per-kernel facts (registers, PTX version, static shared memory) are in the compiled image, which only
// an execution backend can read: not supported in this stage, and said so.
VGPU_EXPORT cudaError_t cudaFuncGetAttributes(cudaFuncAttributes* attr, const void* func) {
  if (!attr) return set_error(cudaErrorInvalidValue);
  CUfunction f;
  if (cudaError_t e = function_for(func, &f)) return set_error(e);
  VGPU_LOG_ONCE(LogLevel::warn, "cudaFuncGetAttributes: kernel attributes need an execution backend; not supported");
  return set_error(cudaErrorNotSupported);
}

}  // extern "C"
