// The shims reproduce the H100 profile captured from a real GPU (shims/profiles/h100-sxm5-80gb.toml),
// field by field: every cuDeviceGetAttribute and cudaDeviceGetAttribute value, every cudaDeviceProp field
// (CUDA 13 layout, and the CUDA 12 layouts of libcudart.so.12), and the NVML answers. Identity is the
// exception, by design (docs/configuration.md): PCI location and UUID come from the stub and the
// configuration. Runs with a stub at 0000:00:05.0 and no VGPU_VRAM/VGPU_UUID.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <cstring>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kv.h"
#include "shim_test_support.h"
#include "vgpu/abi/cuda_driver_types.h"
#include "vgpu/abi/cudart_types.h"
#include "vgpu/abi/nvml_types.h"

using namespace vgpu;
using namespace vgpu::test;

namespace {

const kv::Document& captured() {
  static kv::Document d = [] {
    kv::Document doc;
    std::string err;
    if (!kv::parse_file(VGPU_PROFILE_FILE, doc, err)) FAIL(err);
    return doc;
  }();
  return d;
}

std::map<std::string, const kv::Value*> section(const std::string& name) {
  std::map<std::string, const kv::Value*> out;
  for (const auto& [key, v] : captured().entries)
    if (key.rfind(name + ".", 0) == 0) out[key.substr(name.size() + 1)] = &v;
  return out;
}

void* cuda() { static void* h = load_shim("libvgpu-cuda.so"); return h; }
void* cudart(int abi) {
  static void* h12 = load_shim("libvgpu-cudart.so.12");
  static void* h13 = load_shim("libvgpu-cudart.so.13");
  return abi == 12 ? h12 : h13;
}
void* nvml() { static void* h = load_shim("libvgpu-nvml.so"); return h; }

// Attributes that describe where this machine's stub sits, not the captured card.
const std::set<int> kIdentityAttributes = {CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID,
                                           CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID};

// Every cudaDeviceProp field, read as integers, by its header name.
template <class P>
using Getter = std::function<std::vector<long long>(const P&)>;
#define SCALAR(f) {#f, [](const auto& p) { return std::vector<long long>{static_cast<long long>(p.f)}; }}
#define ARRAY(f) {#f, [](const auto& p) { return std::vector<long long>(std::begin(p.f), std::end(p.f)); }}
#define COMMON_FIELDS                                                                                           \
  SCALAR(luidDeviceNodeMask), SCALAR(totalGlobalMem), SCALAR(sharedMemPerBlock), SCALAR(regsPerBlock),          \
      SCALAR(warpSize), SCALAR(memPitch), SCALAR(maxThreadsPerBlock), ARRAY(maxThreadsDim), ARRAY(maxGridSize), \
      SCALAR(totalConstMem), SCALAR(major), SCALAR(minor), SCALAR(textureAlignment),                           \
      SCALAR(texturePitchAlignment), SCALAR(multiProcessorCount), SCALAR(integrated), SCALAR(canMapHostMemory), \
      SCALAR(maxTexture1D), SCALAR(maxTexture1DMipmap), ARRAY(maxTexture2D), ARRAY(maxTexture2DMipmap),         \
      ARRAY(maxTexture2DLinear), ARRAY(maxTexture2DGather), ARRAY(maxTexture3D), ARRAY(maxTexture3DAlt),        \
      SCALAR(maxTextureCubemap), ARRAY(maxTexture1DLayered), ARRAY(maxTexture2DLayered),                        \
      ARRAY(maxTextureCubemapLayered), SCALAR(maxSurface1D), ARRAY(maxSurface2D), ARRAY(maxSurface3D),          \
      ARRAY(maxSurface1DLayered), ARRAY(maxSurface2DLayered), SCALAR(maxSurfaceCubemap),                        \
      ARRAY(maxSurfaceCubemapLayered), SCALAR(surfaceAlignment), SCALAR(concurrentKernels), SCALAR(ECCEnabled), \
      SCALAR(pciBusID), SCALAR(pciDeviceID), SCALAR(pciDomainID), SCALAR(tccDriver), SCALAR(asyncEngineCount),  \
      SCALAR(unifiedAddressing), SCALAR(memoryBusWidth), SCALAR(l2CacheSize), SCALAR(persistingL2CacheMaxSize), \
      SCALAR(maxThreadsPerMultiProcessor), SCALAR(streamPrioritiesSupported), SCALAR(globalL1CacheSupported),   \
      SCALAR(localL1CacheSupported), SCALAR(sharedMemPerMultiprocessor), SCALAR(regsPerMultiprocessor),         \
      SCALAR(managedMemory), SCALAR(isMultiGpuBoard), SCALAR(multiGpuBoardGroupID),                             \
      SCALAR(hostNativeAtomicSupported), SCALAR(pageableMemoryAccess), SCALAR(concurrentManagedAccess),         \
      SCALAR(computePreemptionSupported), SCALAR(canUseHostPointerForRegisteredMem), SCALAR(cooperativeLaunch),  \
      SCALAR(sharedMemPerBlockOptin), SCALAR(pageableMemoryAccessUsesHostPageTables),                           \
      SCALAR(directManagedMemAccessFromHost), SCALAR(maxBlocksPerMultiProcessor),                               \
      SCALAR(accessPolicyMaxWindowSize), SCALAR(reservedSharedMemPerBlock)
#define V12_FIELDS                                                                                            \
  SCALAR(hostRegisterSupported), SCALAR(sparseCudaArraySupported), SCALAR(hostRegisterReadOnlySupported),     \
      SCALAR(timelineSemaphoreInteropSupported), SCALAR(memoryPoolsSupported), SCALAR(gpuDirectRDMASupported), \
      SCALAR(gpuDirectRDMAFlushWritesOptions), SCALAR(gpuDirectRDMAWritesOrdering),                           \
      SCALAR(memoryPoolSupportedHandleTypes), SCALAR(deferredMappingCudaArraySupported),                     \
      SCALAR(ipcEventSupported), SCALAR(clusterLaunch), SCALAR(unifiedFunctionPointers)

const std::map<std::string, Getter<vgpu_cudaDeviceProp_v13>> kFields13 = {
    COMMON_FIELDS, V12_FIELDS, SCALAR(deviceNumaConfig), SCALAR(deviceNumaId), SCALAR(mpsEnabled), SCALAR(hostNumaId),
    SCALAR(gpuPciDeviceID), SCALAR(gpuPciSubsystemID), SCALAR(hostNumaMultinodeIpcSupported)};
const std::map<std::string, Getter<vgpu_cudaDeviceProp_v12>> kFields12 = {COMMON_FIELDS, V12_FIELDS};
const std::map<std::string, Getter<vgpu_cudaDeviceProp_v11>> kFields11 = {COMMON_FIELDS};

// Fields that are identity (from the stub), not model facts.
const std::set<std::string> kIdentityFields = {"uuid", "luid", "pciBusID", "pciDeviceID", "pciDomainID"};

template <class P>
void compare_props(const P& p, const std::map<std::string, Getter<P>>& fields, size_t expect_compared) {
  size_t compared = 0;
  for (const auto& [field, v] : section("prop")) {
    if (kIdentityFields.count(field)) continue;
    if (field == "name") {
      CHECK(std::string(p.name) == v->string);
      ++compared;
      continue;
    }
    auto it = fields.find(field);
    if (it == fields.end()) continue;  // not in this layout
    std::vector<long long> want = v->kind == kv::Value::Kind::array ? v->array : std::vector<long long>{v->integer};
    INFO("cudaDeviceProp." << field);
    CHECK(it->second(p) == want);
    ++compared;
  }
  CHECK(compared == expect_compared);
}

}  // namespace

TEST_CASE("every captured cuDeviceGetAttribute value") {
  auto init = fn<CUresult (*)(unsigned)>(cuda(), "cuInit");
  auto attr = fn<CUresult (*)(int*, CUdevice_attribute, CUdevice)>(cuda(), "cuDeviceGetAttribute");
  REQUIRE(init(0) == CUDA_SUCCESS);
  auto attrs = section("attributes");
  REQUIRE(attrs.size() >= 140);
  for (const auto& [key, v] : attrs) {
    int n = std::stoi(key), got = -1;
    INFO("attribute " << n);
    REQUIRE(attr(&got, static_cast<CUdevice_attribute>(n), 0) == CUDA_SUCCESS);
    if (kIdentityAttributes.count(n)) continue;
    CHECK(got == v->integer);
  }
  int bus = -1;
  REQUIRE(attr(&bus, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, 0) == CUDA_SUCCESS);
  CHECK(bus == 5);  // the stub's 0000:00:05.0, not the captured card's slot
}

TEST_CASE("driver identity answers: name, memory, versions, VMM granularity") {
  auto name = fn<CUresult (*)(char*, int, CUdevice)>(cuda(), "cuDeviceGetName");
  auto total = fn<CUresult (*)(size_t*, CUdevice)>(cuda(), "cuDeviceTotalMem_v2");
  auto version = fn<CUresult (*)(int*)>(cuda(), "cuDriverGetVersion");
  auto gran = fn<CUresult (*)(size_t*, const CUmemAllocationProp*, CUmemAllocationGranularity_flags)>(
      cuda(), "cuMemGetAllocationGranularity");
  fn<CUresult (*)(unsigned)>(cuda(), "cuInit")(0);
  char buf[256];
  REQUIRE(name(buf, sizeof buf, 0) == CUDA_SUCCESS);
  std::string want;
  captured().get_string("driver", "name", want);
  CHECK(buf == want);
  size_t bytes = 0;
  long long want_total = 0, want_version = 0, want_min = 0, want_rec = 0;
  captured().get_int("driver", "total_mem", want_total);
  captured().get_int("driver", "driver_version", want_version);
  captured().get_int("driver", "vmm_granularity_minimum", want_min);
  captured().get_int("driver", "vmm_granularity_recommended", want_rec);
  REQUIRE(total(&bytes, 0) == CUDA_SUCCESS);
  CHECK(static_cast<long long>(bytes) == want_total);
  int v = 0;
  REQUIRE(version(&v) == CUDA_SUCCESS);
  CHECK(v == want_version);
  CUmemAllocationProp prop{};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  size_t g = 0;
  REQUIRE(gran(&g, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM) == CUDA_SUCCESS);
  CHECK(static_cast<long long>(g) == want_min);
  REQUIRE(gran(&g, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED) == CUDA_SUCCESS);
  CHECK(static_cast<long long>(g) == want_rec);
}

TEST_CASE("every captured cudaDeviceGetAttribute value, and the runtime's versions") {
  for (int abi : {12, 13}) {
    auto attr = fn<cudaError_t (*)(int*, int, int)>(cudart(abi), "cudaDeviceGetAttribute");
    for (const auto& [key, v] : section("runtime_attributes")) {
      int n = std::stoi(key), got = -1;
      INFO("ABI " << abi << " runtime attribute " << n);
      REQUIRE(attr(&got, n, 0) == cudaSuccess);
      if (!kIdentityAttributes.count(n)) CHECK(got == v->integer);
    }
  }
  auto rt = fn<cudaError_t (*)(int*)>(cudart(13), "cudaRuntimeGetVersion");
  auto drv = fn<cudaError_t (*)(int*)>(cudart(13), "cudaDriverGetVersion");
  long long want_rt = 0, want_drv = 0;
  captured().get_int("runtime", "runtime_version", want_rt);
  captured().get_int("runtime", "driver_version", want_drv);
  int v = 0;
  REQUIRE(rt(&v) == cudaSuccess);
  CHECK(v == want_rt);  // the profile was captured through a CUDA 13.0 runtime
  REQUIRE(drv(&v) == cudaSuccess);
  CHECK(v == want_drv);
}

TEST_CASE("cudaGetDeviceProperties: the CUDA 13 layout, field by field") {
  auto get = fn<cudaError_t (*)(vgpu_cudaDeviceProp_v13*, int)>(cudart(13), "cudaGetDeviceProperties");
  vgpu_cudaDeviceProp_v13 p;
  std::memset(&p, 0xa5, sizeof p);
  REQUIRE(get(&p, 0) == cudaSuccess);
  compare_props(p, kFields13, section("prop").size() - kIdentityFields.size());
  CHECK(p.pciDeviceID == 5);
  CHECK(get(&p, 1) == cudaErrorInvalidDevice);
  CHECK(get(nullptr, 0) == cudaErrorInvalidValue);
}

TEST_CASE("libcudart.so.12: cudaGetDeviceProperties_v2 (CUDA 12 layout) and the CUDA 11 compat symbol") {
  auto attr = fn<CUresult (*)(int*, CUdevice_attribute, CUdevice)>(cuda(), "cuDeviceGetAttribute");
  auto v2 = fn<cudaError_t (*)(vgpu_cudaDeviceProp_v12*, int)>(cudart(12), "cudaGetDeviceProperties_v2");
  vgpu_cudaDeviceProp_v12 p12;
  std::memset(&p12, 0xa5, sizeof p12);
  REQUIRE(v2(&p12, 0) == cudaSuccess);
  compare_props(p12, kFields12, kFields12.size() + 1 - 3);  // + name, - the three pci identity fields
  // Fields CUDA 13 dropped from the struct still hold their attribute values.
  int clock = 0;
  attr(&clock, CU_DEVICE_ATTRIBUTE_CLOCK_RATE, 0);
  CHECK(p12.clockRate == clock);
  CHECK(p12.clockRate > 0);
  for (int r : p12.reserved) CHECK(r == 0);

  // The CUDA 11 layout is shorter: the bytes after it must stay untouched.
  auto v1 = fn<cudaError_t (*)(void*, int)>(cudart(12), "cudaGetDeviceProperties");
  unsigned char buf[sizeof(vgpu_cudaDeviceProp_v11) + 64];
  std::memset(buf, 0xa5, sizeof buf);
  REQUIRE(v1(buf, 0) == cudaSuccess);
  vgpu_cudaDeviceProp_v11 p11;
  std::memcpy(&p11, buf, sizeof p11);
  compare_props(p11, kFields11, kFields11.size() + 1 - 3);
  for (size_t i = sizeof p11; i < sizeof buf; ++i) CHECK(buf[i] == 0xa5);
}

TEST_CASE("NVML: the captured answers, and agreement with CUDA") {
  REQUIRE(fn<nvmlReturn_t (*)()>(nvml(), "nvmlInit_v2")() == NVML_SUCCESS);
  nvmlDevice_t h;
  REQUIRE(fn<nvmlReturn_t (*)(unsigned, nvmlDevice_t*)>(nvml(), "nvmlDeviceGetHandleByIndex_v2")(0, &h) == NVML_SUCCESS);
  auto nv = section("nvml");
  auto str = [&](const char* f, const char* key) {
    char buf[128] = {};
    auto call = fn<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(nvml(), f);
    INFO(f);
    REQUIRE(call(h, buf, sizeof buf) == NVML_SUCCESS);
    CHECK(std::string(buf) == nv.at(key)->string);
  };
  str("nvmlDeviceGetName", "name");
  str("nvmlDeviceGetBoardPartNumber", "board_part_number");
  str("nvmlDeviceGetVbiosVersion", "vbios_version");
  str("nvmlDeviceGetInforomImageVersion", "inforom_image_version");
  char buf[128];
  REQUIRE(fn<nvmlReturn_t (*)(char*, unsigned)>(nvml(), "nvmlSystemGetDriverVersion")(buf, sizeof buf) == NVML_SUCCESS);
  CHECK(std::string(buf) == nv.at("driver_version")->string);
  REQUIRE(fn<nvmlReturn_t (*)(char*, unsigned)>(nvml(), "nvmlSystemGetNVMLVersion")(buf, sizeof buf) == NVML_SUCCESS);
  CHECK(std::string(buf) == nv.at("nvml_version")->string);
  int cuda_version = 0;
  REQUIRE(fn<nvmlReturn_t (*)(int*)>(nvml(), "nvmlSystemGetCudaDriverVersion_v2")(&cuda_version) == NVML_SUCCESS);
  CHECK(cuda_version == nv.at("cuda_driver_version")->integer);

  struct { const char* fn; const char* key; } const uints[] = {
      {"nvmlDeviceGetNumGpuCores", "num_gpu_cores"}, {"nvmlDeviceGetMemoryBusWidth", "memory_bus_width"},
      {"nvmlDeviceGetMaxPcieLinkGeneration", "max_pcie_link_generation"},
      {"nvmlDeviceGetMaxPcieLinkWidth", "max_pcie_link_width"},
      {"nvmlDeviceGetPowerManagementLimit", "power_management_limit"},
      {"nvmlDeviceGetPowerManagementDefaultLimit", "power_management_default_limit"},
      {"nvmlDeviceGetEnforcedPowerLimit", "enforced_power_limit"}, {"nvmlDeviceGetBrand", "brand"},
      {"nvmlDeviceGetArchitecture", "architecture"}, {"nvmlDeviceGetComputeMode", "compute_mode"},
      {"nvmlDeviceGetPersistenceMode", "persistence_mode"}, {"nvmlDeviceGetMultiGpuBoard", "multi_gpu_board"}};
  for (const auto& u : uints) {
    unsigned v = 0;
    INFO(u.fn);
    REQUIRE(fn<nvmlReturn_t (*)(nvmlDevice_t, unsigned*)>(nvml(), u.fn)(h, &v) == NVML_SUCCESS);
    CHECK(v == nv.at(u.key)->integer);
  }
  const char* clocks[] = {"max_clock_graphics", "max_clock_sm", "max_clock_mem", "max_clock_video"};
  for (int t = 0; t < 4; ++t) {
    unsigned mhz = 0;
    REQUIRE(fn<nvmlReturn_t (*)(nvmlDevice_t, int, unsigned*)>(nvml(), "nvmlDeviceGetMaxClockInfo")(h, t, &mhz) == NVML_SUCCESS);
    CHECK(mhz == nv.at(clocks[t])->integer);
  }
  int major = 0, minor = 0;
  REQUIRE(fn<nvmlReturn_t (*)(nvmlDevice_t, int*, int*)>(nvml(), "nvmlDeviceGetCudaComputeCapability")(h, &major, &minor) ==
          NVML_SUCCESS);
  CHECK(std::vector<long long>{major, minor} == nv.at("cuda_compute_capability")->array);

  nvmlPciInfo_t pci;
  REQUIRE(fn<nvmlReturn_t (*)(nvmlDevice_t, nvmlPciInfo_t*)>(nvml(), "nvmlDeviceGetPciInfo_v3")(h, &pci) == NVML_SUCCESS);
  CHECK(pci.pciDeviceId == nv.at("pci_device_id")->integer);
  CHECK(pci.pciSubSystemId == nv.at("pci_subsystem_id")->integer);
  CHECK(std::string(pci.busId) == "00000000:00:05.0");  // NVML's format, the stub's address
  CHECK(std::string(pci.busIdLegacy) == "0000:00:05.0");

  // Agreement with CUDA (what Ollama relies on): UUID, PCI bus id, total memory.
  auto cu_uuid = fn<CUresult (*)(CUuuid*, CUdevice)>(cuda(), "cuDeviceGetUuid");
  auto cu_bus = fn<CUresult (*)(char*, int, CUdevice)>(cuda(), "cuDeviceGetPCIBusId");
  auto cu_total = fn<CUresult (*)(size_t*, CUdevice)>(cuda(), "cuDeviceTotalMem_v2");
  fn<CUresult (*)(unsigned)>(cuda(), "cuInit")(0);
  CUuuid u;
  REQUIRE(cu_uuid(&u, 0) == CUDA_SUCCESS);
  char text[64];
  const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
  std::snprintf(text, sizeof text, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  nvmlDevice_t by_uuid;
  REQUIRE(fn<nvmlReturn_t (*)(const char*, nvmlDevice_t*)>(nvml(), "nvmlDeviceGetHandleByUUID")(text, &by_uuid) ==
          NVML_SUCCESS);
  CHECK(by_uuid == h);
  REQUIRE(cu_bus(text, sizeof text, 0) == CUDA_SUCCESS);
  CHECK(std::string(text) == pci.busIdLegacy);
  size_t total = 0;
  REQUIRE(cu_total(&total, 0) == CUDA_SUCCESS);
  nvmlMemory_t m;
  REQUIRE(fn<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>(nvml(), "nvmlDeviceGetMemoryInfo")(h, &m) == NVML_SUCCESS);
  // NVIDIA's NVML counts the driver's reserve in its total (the capture shows 81559 vs 81079 MiB); vgpu
  // reports CUDA's total in both, because Ollama compares and mixes the two sources.
  CHECK(m.total == total);
}
