// The driver, runtime, cuBLAS and NVML shims in one process with a stub PCI device in a scratch sysfs
// tree (CTest fixture "sysfs_stub"). Each TEST_CASE's tag names the environment CTest runs it under
// (tests/CMakeLists.txt): [stub] one stub; [nostub] none; [visible-*] CUDA_VISIBLE_DEVICES variants.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <atomic>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "shim_test_support.h"
#include "vgpu/abi/cublas_types.h"
#include "vgpu/abi/cuda_driver_types.h"
#include "vgpu/abi/cudart_types.h"
#include "vgpu/abi/nvml_types.h"

using namespace vgpu::test;

namespace {

struct Shims {
  void* cuda = load_shim("libvgpu-cuda.so");
  void* cudart = load_shim("libvgpu-cudart.so.13");
  void* cublas = load_shim("libvgpu-cublas.so.13");
  void* nvml = load_shim("libvgpu-nvml.so");
};

Shims& shims() {
  static Shims s;
  return s;
}

#define CU(name) fn<decltype(&name##_t)>(shims().cuda, #name)

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

// Function types, named after the entry points (so CU(cuInit) finds the right signature).
CUresult cuInit_t(unsigned);
CUresult cuDeviceGetCount_t(int*);
CUresult cuDeviceGet_t(CUdevice*, int);
CUresult cuDeviceGetName_t(char*, int, CUdevice);
CUresult cuDeviceGetUuid_t(CUuuid*, CUdevice);
CUresult cuDeviceTotalMem_v2_t(size_t*, CUdevice);
CUresult cuDeviceGetAttribute_t(int*, CUdevice_attribute, CUdevice);
CUresult cuDeviceGetPCIBusId_t(char*, int, CUdevice);
CUresult cuDevicePrimaryCtxRetain_t(CUcontext*, CUdevice);
CUresult cuCtxSetCurrent_t(CUcontext);
CUresult cuMemAlloc_v2_t(CUdeviceptr*, size_t);
CUresult cuMemFree_v2_t(CUdeviceptr);
CUresult cuMemGetInfo_v2_t(size_t*, size_t*);
CUresult cuMemcpyHtoD_v2_t(CUdeviceptr, const void*, size_t);
CUresult cuMemcpyDtoH_v2_t(void*, CUdeviceptr, size_t);
CUresult cuMemsetD32_v2_t(CUdeviceptr, unsigned, size_t);
CUresult cuGetProcAddress_v2_t(const char*, void**, int, cuuint64_t, CUdriverProcAddressQueryResult*);
CUresult cuGetExportTable_t(const void**, const CUuuid*);
CUresult cuGetErrorString_t(CUresult, const char**);
CUresult cuMemGetAllocationGranularity_t(size_t*, const CUmemAllocationProp*, CUmemAllocationGranularity_flags);
CUresult cuMemAddressReserve_t(CUdeviceptr*, size_t, size_t, CUdeviceptr, unsigned long long);
CUresult cuMemCreate_t(CUmemGenericAllocationHandle*, size_t, const CUmemAllocationProp*, unsigned long long);
CUresult cuMemMap_t(CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle, unsigned long long);
CUresult cuMemSetAccess_t(CUdeviceptr, size_t, const CUmemAccessDesc*, size_t);
CUresult cuMemUnmap_t(CUdeviceptr, size_t);
CUresult cuMemRelease_t(CUmemGenericAllocationHandle);
CUresult cuMemAddressFree_t(CUdeviceptr, size_t);
CUresult cuModuleLoadData_t(CUmodule*, const void*);
CUresult cuModuleGetFunction_t(CUfunction*, CUmodule, const char*);
CUresult cuLaunchKernel_t(CUfunction, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, CUstream,
                          void**, void**);

TEST_CASE("without a stub there is no device, and cuInit says so", "[nostub]") {
  REQUIRE(CU(cuInit)(0) == CUDA_ERROR_NO_DEVICE);
  int n = -1;
  REQUIRE(CU(cuDeviceGetCount)(&n) == CUDA_SUCCESS);
  REQUIRE(n == 0);
  auto count = fn<cudaError_t (*)(int*)>(shims().cudart, "cudaGetDeviceCount");
  REQUIRE(count(&n) == cudaErrorNoDevice);
  REQUIRE(n == 0);
  // One log line saying what was looked for where (VGPU_LOG=warn and VGPU_LOG_FILE set by CTest).
  std::string log = read_file(std::getenv("VGPU_LOG_FILE"));
  REQUIRE(log.find("no virtual GPU") != std::string::npos);
  REQUIRE(log.find("vendor 0x10de, device 0x2331") != std::string::npos);
  REQUIRE(log.find(std::string(std::getenv("VGPU_SYSFS_ROOT")) + "/bus/pci/devices") != std::string::npos);
}

TEST_CASE("the stub is one H100 with the configured identity", "[stub]") {
  REQUIRE(CU(cuInit)(0) == CUDA_SUCCESS);
  int n = 0;
  REQUIRE(CU(cuDeviceGetCount)(&n) == CUDA_SUCCESS);
  REQUIRE(n == 1);
  CUdevice d;
  REQUIRE(CU(cuDeviceGet)(&d, 0) == CUDA_SUCCESS);
  REQUIRE(CU(cuDeviceGet)(&d, 1) == CUDA_ERROR_INVALID_DEVICE);
  char name[256];
  REQUIRE(CU(cuDeviceGetName)(name, sizeof name, 0) == CUDA_SUCCESS);
  REQUIRE(std::string(name).find("H100") != std::string::npos);
  char bus[32];
  REQUIRE(CU(cuDeviceGetPCIBusId)(bus, sizeof bus, 0) == CUDA_SUCCESS);
  REQUIRE(std::string(bus) == "0000:00:05.0");
  CUuuid u;
  REQUIRE(CU(cuDeviceGetUuid)(&u, 0) == CUDA_SUCCESS);
  REQUIRE(static_cast<unsigned char>(u.bytes[0]) == 0x3f);  // VGPU_UUID=GPU-3f2504e0-...
  size_t total = 0;
  REQUIRE(CU(cuDeviceTotalMem_v2)(&total, 0) == CUDA_SUCCESS);
  REQUIRE(total == 81559ull << 20);  // VGPU_VRAM=81559MiB
  int v = 0;
  REQUIRE(CU(cuDeviceGetAttribute)(&v, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, 0) == CUDA_SUCCESS);
  REQUIRE(v == 5);
  REQUIRE(CU(cuDeviceGetAttribute)(&v, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, 0) == CUDA_SUCCESS);
  REQUIRE(v == 9);
  // Bad arguments get the API's own error code, not a crash.
  REQUIRE(CU(cuDeviceGetAttribute)(nullptr, CU_DEVICE_ATTRIBUTE_WARP_SIZE, 0) == CUDA_ERROR_INVALID_VALUE);
  REQUIRE(CU(cuDeviceGetAttribute)(&v, static_cast<CUdevice_attribute>(100000), 0) == CUDA_ERROR_INVALID_VALUE);
  REQUIRE(CU(cuDeviceGetName)(name, 0, 0) == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("memory is host-backed with VRAM accounting that CUDA and NVML both see", "[stub]") {
  REQUIRE(CU(cuInit)(0) == CUDA_SUCCESS);
  CUcontext ctx;
  REQUIRE(CU(cuDevicePrimaryCtxRetain)(&ctx, 0) == CUDA_SUCCESS);
  REQUIRE(CU(cuCtxSetCurrent)(ctx) == CUDA_SUCCESS);
  size_t free0, total;
  REQUIRE(CU(cuMemGetInfo_v2)(&free0, &total) == CUDA_SUCCESS);
  auto nvml_init = fn<nvmlReturn_t (*)()>(shims().nvml, "nvmlInit_v2");
  auto by_uuid = fn<nvmlReturn_t (*)(const char*, nvmlDevice_t*)>(shims().nvml, "nvmlDeviceGetHandleByUUID");
  auto meminfo = fn<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>(shims().nvml, "nvmlDeviceGetMemoryInfo");
  REQUIRE(nvml_init() == NVML_SUCCESS);
  nvmlDevice_t h;
  REQUIRE(by_uuid(std::getenv("VGPU_UUID"), &h) == NVML_SUCCESS);
  nvmlMemory_t m0;
  REQUIRE(meminfo(h, &m0) == NVML_SUCCESS);
  REQUIRE(m0.total == total);

  const size_t bytes = 64 << 20;
  CUdeviceptr p = 0;
  REQUIRE(CU(cuMemAlloc_v2)(&p, bytes) == CUDA_SUCCESS);
  size_t free1;
  REQUIRE(CU(cuMemGetInfo_v2)(&free1, &total) == CUDA_SUCCESS);
  REQUIRE(free0 - free1 == bytes);
  nvmlMemory_t m1;
  REQUIRE(meminfo(h, &m1) == NVML_SUCCESS);
  REQUIRE(m1.used - m0.used == bytes);

  std::vector<unsigned> in(1024), out(1024);
  for (unsigned i = 0; i < in.size(); ++i) in[i] = i * 7;
  REQUIRE(CU(cuMemcpyHtoD_v2)(p, in.data(), in.size() * 4) == CUDA_SUCCESS);
  REQUIRE(CU(cuMemcpyDtoH_v2)(out.data(), p, out.size() * 4) == CUDA_SUCCESS);
  REQUIRE(in == out);
  REQUIRE(CU(cuMemsetD32_v2)(p, 0xdeadbeef, 1024) == CUDA_SUCCESS);
  REQUIRE(CU(cuMemcpyDtoH_v2)(out.data(), p, 16) == CUDA_SUCCESS);
  REQUIRE(out[3] == 0xdeadbeef);
  // A copy past the end of the allocation is refused.
  REQUIRE(CU(cuMemcpyDtoH_v2)(out.data(), p + bytes - 8, 16) == CUDA_ERROR_INVALID_VALUE);

  // Asking for more than is free fails with out-of-memory and changes nothing.
  CUdeviceptr big = 0;
  REQUIRE(CU(cuMemAlloc_v2)(&big, total) == CUDA_ERROR_OUT_OF_MEMORY);

  REQUIRE(CU(cuMemFree_v2)(p) == CUDA_SUCCESS);
  REQUIRE(CU(cuMemFree_v2)(p) == CUDA_ERROR_INVALID_VALUE);  // double free is an error, not a crash
  size_t free2;
  REQUIRE(CU(cuMemGetInfo_v2)(&free2, &total) == CUDA_SUCCESS);
  REQUIRE(free2 == free0);
}

TEST_CASE("the runtime is thread-safe: concurrent allocations from many threads balance out", "[stub]") {
  auto set_device = fn<cudaError_t (*)(int)>(shims().cudart, "cudaSetDevice");
  auto malloc_ = fn<cudaError_t (*)(void**, size_t)>(shims().cudart, "cudaMalloc");
  auto free_ = fn<cudaError_t (*)(void*)>(shims().cudart, "cudaFree");
  auto meminfo = fn<cudaError_t (*)(size_t*, size_t*)>(shims().cudart, "cudaMemGetInfo");
  auto memcpy_ = fn<cudaError_t (*)(void*, const void*, size_t, int)>(shims().cudart, "cudaMemcpy");
  REQUIRE(set_device(0) == cudaSuccess);
  size_t free0, total;
  REQUIRE(meminfo(&free0, &total) == cudaSuccess);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      if (set_device(0) != cudaSuccess) ++failures;  // each thread makes the primary context current
      for (int i = 0; i < 500; ++i) {
        void* p = nullptr;
        size_t n = 4096u * static_cast<size_t>(1 + (i + t) % 7);
        if (malloc_(&p, n) != cudaSuccess) { ++failures; continue; }
        unsigned v = static_cast<unsigned>(t * 1000 + i), back = 0;
        if (memcpy_(p, &v, 4, 1) != cudaSuccess || memcpy_(&back, p, 4, 2) != cudaSuccess || back != v) ++failures;
        if (free_(p) != cudaSuccess) ++failures;
      }
    });
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  size_t free1;
  REQUIRE(meminfo(&free1, &total) == cudaSuccess);
  CHECK(free1 == free0);
}

TEST_CASE("ggml's VMM pool path: reserve, create, map, set access, use, unmap, release", "[stub]") {
  REQUIRE(CU(cuInit)(0) == CUDA_SUCCESS);
  CUcontext ctx;
  REQUIRE(CU(cuDevicePrimaryCtxRetain)(&ctx, 0) == CUDA_SUCCESS);
  REQUIRE(CU(cuCtxSetCurrent)(ctx) == CUDA_SUCCESS);
  int vmm = 0;
  REQUIRE(CU(cuDeviceGetAttribute)(&vmm, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, 0) == CUDA_SUCCESS);
  REQUIRE(vmm == 1);
  CUmemAllocationProp prop{};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = 0;
  size_t gran = 0;
  REQUIRE(CU(cuMemGetAllocationGranularity)(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED) == CUDA_SUCCESS);
  REQUIRE(gran > 0);
  size_t free0, total;
  REQUIRE(CU(cuMemGetInfo_v2)(&free0, &total) == CUDA_SUCCESS);
  CUdeviceptr va = 0;
  REQUIRE(CU(cuMemAddressReserve)(&va, 32ull << 30, 0, 0, 0) == CUDA_SUCCESS);  // ggml reserves 32 GiB
  CUmemGenericAllocationHandle mh;
  REQUIRE(CU(cuMemCreate)(&mh, 4 * gran, &prop, 0) == CUDA_SUCCESS);
  size_t free1;
  REQUIRE(CU(cuMemGetInfo_v2)(&free1, &total) == CUDA_SUCCESS);
  REQUIRE(free0 - free1 == 4 * gran);
  REQUIRE(CU(cuMemMap)(va, 4 * gran, 0, mh, 0) == CUDA_SUCCESS);
  CUmemAccessDesc access{};
  access.location = prop.location;
  access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  REQUIRE(CU(cuMemSetAccess)(va, 4 * gran, &access, 1) == CUDA_SUCCESS);
  unsigned x = 42, y = 0;
  REQUIRE(CU(cuMemcpyHtoD_v2)(va + gran, &x, 4) == CUDA_SUCCESS);
  REQUIRE(CU(cuMemcpyDtoH_v2)(&y, va + gran, 4) == CUDA_SUCCESS);
  REQUIRE(y == 42);
  REQUIRE(CU(cuMemUnmap)(va, 4 * gran) == CUDA_SUCCESS);
  REQUIRE(CU(cuMemRelease)(mh) == CUDA_SUCCESS);
  REQUIRE(CU(cuMemAddressFree)(va, 32ull << 30) == CUDA_SUCCESS);
  size_t free2;
  REQUIRE(CU(cuMemGetInfo_v2)(&free2, &total) == CUDA_SUCCESS);
  REQUIRE(free2 == free0);
}

TEST_CASE("cuGetProcAddress answers with its own entry points", "[stub]") {
  auto gpa = CU(cuGetProcAddress_v2);
  CUdriverProcAddressQueryResult st;
  void* p = reinterpret_cast<void*>(1);
  // The runtime's empty-name probe succeeds.
  REQUIRE(gpa("", &p, 0, 0, &st) == CUDA_SUCCESS);
  // The self-query returns this library's own function, at both versions the runtime asks for.
  REQUIRE(gpa("cuGetProcAddress", &p, 12000, 0, &st) == CUDA_SUCCESS);
  REQUIRE(p == dlsym(shims().cuda, "cuGetProcAddress_v2"));
  REQUIRE(gpa("cuGetProcAddress", &p, 11030, 0, &st) == CUDA_SUCCESS);
  REQUIRE(p == dlsym(shims().cuda, "cuGetProcAddress"));
  // Versions pick the variant: cuMemAlloc is cuMemAlloc_v2 from CUDA 3.2.
  REQUIRE(gpa("cuMemAlloc", &p, 12000, 0, &st) == CUDA_SUCCESS);
  REQUIRE(p == dlsym(shims().cuda, "cuMemAlloc_v2"));
  REQUIRE(gpa("cuMemAlloc", &p, 2000, 0, &st) == CUDA_SUCCESS);
  REQUIRE(p == dlsym(shims().cuda, "cuMemAlloc"));
  // The per-thread default stream flag selects the _ptsz variant.
  REQUIRE(gpa("cuMemcpyAsync", &p, 12000, CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM, &st) == CUDA_SUCCESS);
  REQUIRE(p == dlsym(shims().cuda, "cuMemcpyAsync_ptsz"));
  REQUIRE(gpa("cuMemcpyAsync", &p, 12000, CU_GET_PROC_ADDRESS_LEGACY_STREAM, &st) == CUDA_SUCCESS);
  REQUIRE(p == dlsym(shims().cuda, "cuMemcpyAsync"));
  // Too old a version, and a name that does not exist.
  REQUIRE(gpa("cuMemAllocAsync", &p, 10000, 0, &st) == CUDA_ERROR_NOT_FOUND);
  REQUIRE(st == CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT);
  REQUIRE(gpa("cuNoSuchFunction", &p, 13000, 0, &st) == CUDA_ERROR_NOT_FOUND);
  REQUIRE(st == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
  REQUIRE(p == nullptr);
  REQUIRE(gpa(nullptr, &p, 13000, 0, &st) == CUDA_ERROR_INVALID_VALUE);
  std::string log = read_file(std::getenv("VGPU_LOG_FILE"));
  REQUIRE(log.find("asked for cuNoSuchFunction") != std::string::npos);
}

TEST_CASE("cuGetExportTable answers an unknown table at once", "[stub]") {
  CUuuid id;
  const unsigned char bytes[16] = {0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e,
                                   0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9};
  std::memcpy(id.bytes, bytes, 16);
  const void* table = reinterpret_cast<void*>(1);
  REQUIRE(CU(cuGetExportTable)(&table, &id) == CUDA_ERROR_NOT_SUPPORTED);
  REQUIRE(table == nullptr);
  REQUIRE(CU(cuGetExportTable)(nullptr, &id) == CUDA_ERROR_INVALID_VALUE);
}

TEST_CASE("a kernel launch and a cuBLAS call are refused, not faked, and logged once", "[stub]") {
  REQUIRE(CU(cuInit)(0) == CUDA_SUCCESS);
  CUcontext ctx;
  REQUIRE(CU(cuDevicePrimaryCtxRetain)(&ctx, 0) == CUDA_SUCCESS);
  REQUIRE(CU(cuCtxSetCurrent)(ctx) == CUDA_SUCCESS);
  static const char image[] = "not a real cubin: the host backend keeps it by reference";
  CUmodule mod;
  REQUIRE(CU(cuModuleLoadData)(&mod, image) == CUDA_SUCCESS);
  CUfunction f;
  REQUIRE(CU(cuModuleGetFunction)(&f, mod, "k") == CUDA_SUCCESS);
  REQUIRE(CU(cuLaunchKernel)(f, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, nullptr) == CUDA_ERROR_NOT_SUPPORTED);
  REQUIRE(CU(cuLaunchKernel)(f, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, nullptr) == CUDA_ERROR_NOT_SUPPORTED);
  auto create = fn<cublasStatus_t (*)(cublasHandle_t*)>(shims().cublas, "cublasCreate_v2");
  auto gemm = fn<cublasStatus_t (*)(cublasHandle_t, int, int, int, int, int, const float*, const float*, int,
                                    const float*, int, const float*, float*, int)>(shims().cublas, "cublasSgemm_v2");
  cublasHandle_t h;
  REQUIRE(create(&h) == CUBLAS_STATUS_SUCCESS);
  float one = 1;
  REQUIRE(gemm(h, 0, 0, 4, 4, 4, &one, nullptr, 4, nullptr, 4, &one, nullptr, 4) == CUBLAS_STATUS_NOT_SUPPORTED);
  REQUIRE(gemm(nullptr, 0, 0, 4, 4, 4, &one, nullptr, 4, nullptr, 4, &one, nullptr, 4) == CUBLAS_STATUS_NOT_INITIALIZED);
  std::string log = read_file(std::getenv("VGPU_LOG_FILE"));
  size_t first = log.find("no execution backend is configured");
  REQUIRE(first != std::string::npos);
  REQUIRE(log.find("no execution backend is configured", first + 1) == std::string::npos);  // once
}

TEST_CASE("nvcc's registration and both launch paths reach the backend and are refused", "[stub]") {
  void* rt = shims().cudart;
  auto reg_fatbin = fn<void** (*)(void*)>(rt, "__cudaRegisterFatBinary");
  auto reg_end = fn<void (*)(void**)>(rt, "__cudaRegisterFatBinaryEnd");
  auto reg_func = fn<void (*)(void**, const char*, char*, const char*, int, void*, void*, void*, void*, int*)>(
      rt, "__cudaRegisterFunction");
  auto push = fn<unsigned (*)(vgpu_dim3, vgpu_dim3, size_t, void*)>(rt, "__cudaPushCallConfiguration");
  auto pop = fn<cudaError_t (*)(vgpu_dim3*, vgpu_dim3*, size_t*, void*)>(rt, "__cudaPopCallConfiguration");
  auto launch12 = fn<cudaError_t (*)(const void*, vgpu_dim3, vgpu_dim3, void**, size_t, cudaStream_t)>(rt, "cudaLaunchKernel");
  auto get_kernel = fn<cudaError_t (*)(cudaKernel_t*, const void*)>(rt, "__cudaGetKernel");
  auto launch13 = fn<cudaError_t (*)(cudaKernel_t, vgpu_dim3, vgpu_dim3, void**, size_t, cudaStream_t)>(rt, "__cudaLaunchKernel");
  auto last = fn<cudaError_t (*)()>(rt, "cudaGetLastError");
  auto unreg = fn<void (*)(void**)>(rt, "__cudaUnregisterFatBinary");

  // What nvcc's module constructor passes: a __fatBinC_Wrapper_t around the fatbin.
  static const unsigned char fatbin[64] = {0x50, 0xed, 0x55, 0xba};
  static struct { int magic, version; const void* data; void* unused; } wrapper = {0x466243b1, 1, fatbin, nullptr};
  static const char host_stub = 0;  // stands in for the kernel's host stub function
  void** handle = reg_fatbin(&wrapper);
  REQUIRE(handle);
  reg_func(handle, &host_stub, const_cast<char*>("_Z6kernelPf"), "_Z6kernelPf", -1, nullptr, nullptr, nullptr, nullptr,
           nullptr);
  reg_end(handle);

  vgpu_dim3 grid{4, 1, 1}, block{128, 1, 1}, g{}, b{};
  size_t smem = 1;
  cudaStream_t stream = reinterpret_cast<cudaStream_t>(0x7);
  REQUIRE(push(grid, block, 0, nullptr) == 0);
  REQUIRE(pop(&g, &b, &smem, &stream) == cudaSuccess);
  CHECK((g.x == 4 && b.x == 128 && smem == 0 && stream == nullptr));
  CHECK(pop(&g, &b, &smem, &stream) == cudaErrorMissingConfiguration);

  CHECK(launch12(&host_stub, grid, block, nullptr, 0, nullptr) == cudaErrorNotSupported);
  CHECK(last() == cudaErrorNotSupported);
  CHECK(last() == cudaSuccess);  // cudaGetLastError resets
  cudaKernel_t k = nullptr;
  REQUIRE(get_kernel(&k, &host_stub) == cudaSuccess);
  CHECK(launch13(k, grid, block, nullptr, 0, nullptr) == cudaErrorNotSupported);
  static const char unknown = 0;
  CHECK(launch12(&unknown, grid, block, nullptr, 0, nullptr) == cudaErrorInvalidDeviceFunction);
  // A second fatbin: its own kernel, and one stub registered again under it (names it from then on).
  // Unregistering the first takes only what is still the first's.
  static const char other_stub = 0, shared_stub = 0;
  reg_func(handle, &shared_stub, const_cast<char*>("_Z6sharedv"), "_Z6sharedv", -1, nullptr, nullptr, nullptr, nullptr, nullptr);
  void** handle2 = reg_fatbin(&wrapper);
  REQUIRE(handle2);
  reg_func(handle2, &other_stub, const_cast<char*>("_Z5otherv"), "_Z5otherv", -1, nullptr, nullptr, nullptr, nullptr, nullptr);
  reg_func(handle2, &shared_stub, const_cast<char*>("_Z6sharedv"), "_Z6sharedv", -1, nullptr, nullptr, nullptr, nullptr, nullptr);
  reg_end(handle2);
  unreg(handle);
  CHECK(launch12(&host_stub, grid, block, nullptr, 0, nullptr) == cudaErrorInvalidDeviceFunction);
  CHECK(launch12(&other_stub, grid, block, nullptr, 0, nullptr) == cudaErrorNotSupported);
  CHECK(launch12(&shared_stub, grid, block, nullptr, 0, nullptr) == cudaErrorNotSupported);
  unreg(handle2);
  CHECK(launch12(&other_stub, grid, block, nullptr, 0, nullptr) == cudaErrorInvalidDeviceFunction);
  CHECK(launch12(&shared_stub, grid, block, nullptr, 0, nullptr) == cudaErrorInvalidDeviceFunction);

  // The runtime hands out the driver's own entry points.
  auto entry = fn<cudaError_t (*)(const char*, void**, unsigned long long, CUdriverProcAddressQueryResult*)>(
      rt, "cudaGetDriverEntryPoint");
  void* p = nullptr;
  CUdriverProcAddressQueryResult st;
  REQUIRE(entry("cuMemAlloc", &p, 0, &st) == cudaSuccess);
  CHECK(p == dlsym(shims().cuda, "cuMemAlloc_v2"));
  REQUIRE(entry("cuNoSuchThing", &p, 0, &st) == cudaSuccess);
  CHECK(st == CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND);
}

TEST_CASE("CUDA_VISIBLE_DEVICES by UUID prefix selects the device", "[visible-uuid]") {
  REQUIRE(CU(cuInit)(0) == CUDA_SUCCESS);
  int n = 0;
  REQUIRE(CU(cuDeviceGetCount)(&n) == CUDA_SUCCESS);
  REQUIRE(n == 1);
}

TEST_CASE("CUDA_VISIBLE_DEVICES naming no device hides it from CUDA but not from NVML", "[visible-none]") {
  REQUIRE(CU(cuInit)(0) == CUDA_ERROR_NO_DEVICE);
  auto nvml_init = fn<nvmlReturn_t (*)()>(shims().nvml, "nvmlInit_v2");
  auto count = fn<nvmlReturn_t (*)(unsigned*)>(shims().nvml, "nvmlDeviceGetCount_v2");
  REQUIRE(nvml_init() == NVML_SUCCESS);
  unsigned n = 0;
  REQUIRE(count(&n) == NVML_SUCCESS);
  REQUIRE(n == 1);
}
