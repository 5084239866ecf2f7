// vgpu-smi: what the installed CUDA driver and NVML report, side by side, and whether they agree on
// what Ollama needs them to agree on: device count, name, UUID, PCI bus id, total memory.
//
// It loads libcuda.so.1 and libnvidia-ml.so.1 by those names, the way Ollama and ggml do, so it sees
// whatever the dynamic linker gives this process (LD_LIBRARY_PATH, ld.so.cache). Works against
// NVIDIA's libraries too. Exit: 0 agree, 1 disagree or no device, 2 usage, 3 a library did not load.
#include <dlfcn.h>
#include <link.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "vgpu/abi/cuda_driver_types.h"
#include "vgpu/abi/nvml_types.h"

namespace {

struct Device {
  std::string name, uuid, pci;
  unsigned long long total = 0, free = 0;
  int major = 0, minor = 0;
};

std::string loaded_path(void* handle) {
  link_map* map = nullptr;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) != 0 || !map) return "?";
  return map->l_name;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// "00000000:00:05.0" (NVML) and "0000:00:05.0" (CUDA) name the same function.
std::string normalize_bus_id(const std::string& s) {
  std::string l = lower(s);
  size_t colon = l.find(':');
  if (colon != std::string::npos && colon > 4) l = l.substr(colon - 4);
  return l;
}

template <class F>
F sym(void* lib, const char* name) {
  return reinterpret_cast<F>(dlsym(lib, name));
}

bool cuda_devices(void* lib, std::vector<Device>& out, int& driver_version, std::string& error) {
  auto init = sym<CUresult (*)(unsigned)>(lib, "cuInit");
  auto version = sym<CUresult (*)(int*)>(lib, "cuDriverGetVersion");
  auto count = sym<CUresult (*)(int*)>(lib, "cuDeviceGetCount");
  auto get = sym<CUresult (*)(CUdevice*, int)>(lib, "cuDeviceGet");
  auto name = sym<CUresult (*)(char*, int, CUdevice)>(lib, "cuDeviceGetName");
  auto uuid = sym<CUresult (*)(CUuuid*, CUdevice)>(lib, "cuDeviceGetUuid");
  auto mem = sym<CUresult (*)(size_t*, CUdevice)>(lib, "cuDeviceTotalMem_v2");
  auto bus = sym<CUresult (*)(char*, int, CUdevice)>(lib, "cuDeviceGetPCIBusId");
  auto attr = sym<CUresult (*)(int*, CUdevice_attribute, CUdevice)>(lib, "cuDeviceGetAttribute");
  if (!init || !version || !count || !get || !name || !uuid || !mem || !bus || !attr) {
    error = "a required driver entry point is missing";
    return false;
  }
  version(&driver_version);
  CUresult r = init(0);
  if (r == CUDA_ERROR_NO_DEVICE) return true;
  if (r != CUDA_SUCCESS) {
    error = "cuInit failed with error " + std::to_string(static_cast<int>(r));
    return false;
  }
  int n = 0;
  count(&n);
  for (int i = 0; i < n; ++i) {
    CUdevice d;
    get(&d, i);
    Device dev;
    char buf[256] = {};
    name(buf, sizeof buf, d);
    dev.name = buf;
    CUuuid u{};
    uuid(&u, d);
    const auto* b = reinterpret_cast<const unsigned char*>(u.bytes);
    std::snprintf(buf, sizeof buf, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                  b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    dev.uuid = buf;
    size_t total = 0;
    mem(&total, d);
    dev.total = total;
    bus(buf, sizeof buf, d);
    dev.pci = buf;
    attr(&dev.major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
    attr(&dev.minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
    out.push_back(dev);
  }
  return true;
}

bool nvml_devices(void* lib, std::vector<Device>& out, std::string& driver, std::string& error) {
  auto init = sym<nvmlReturn_t (*)()>(lib, "nvmlInit_v2");
  auto shutdown = sym<nvmlReturn_t (*)()>(lib, "nvmlShutdown");
  auto version = sym<nvmlReturn_t (*)(char*, unsigned)>(lib, "nvmlSystemGetDriverVersion");
  auto count = sym<nvmlReturn_t (*)(unsigned*)>(lib, "nvmlDeviceGetCount_v2");
  auto get = sym<nvmlReturn_t (*)(unsigned, nvmlDevice_t*)>(lib, "nvmlDeviceGetHandleByIndex_v2");
  auto name = sym<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(lib, "nvmlDeviceGetName");
  auto uuid = sym<nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned)>(lib, "nvmlDeviceGetUUID");
  auto pci = sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlPciInfo_t*)>(lib, "nvmlDeviceGetPciInfo_v3");
  auto mem = sym<nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*)>(lib, "nvmlDeviceGetMemoryInfo");
  if (!init || !shutdown || !version || !count || !get || !name || !uuid || !pci || !mem) {
    error = "a required NVML entry point is missing";
    return false;
  }
  if (nvmlReturn_t r = init()) {
    error = "nvmlInit_v2 failed with error " + std::to_string(static_cast<int>(r));
    return false;
  }
  char buf[256] = {};
  version(buf, sizeof buf);
  driver = buf;
  unsigned n = 0;
  count(&n);
  for (unsigned i = 0; i < n; ++i) {
    nvmlDevice_t d;
    if (get(i, &d)) continue;
    Device dev;
    name(d, buf, sizeof buf);
    dev.name = buf;
    uuid(d, buf, sizeof buf);
    dev.uuid = buf;
    nvmlPciInfo_t p{};
    pci(d, &p);
    dev.pci = p.busId;
    nvmlMemory_t m{};
    mem(d, &m);
    dev.total = m.total;
    dev.free = m.free;
    out.push_back(dev);
  }
  shutdown();
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    bool help = std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0;
    std::fprintf(help ? stdout : stderr,
                 "usage: vgpu-smi\n"
                 "  Loads libcuda.so.1 and libnvidia-ml.so.1 as Ollama does, lists the devices each reports,\n"
                 "  and checks that they agree on count, name, UUID, PCI bus id and total memory.\n"
                 "  Set VGPU_LOG=info to see how vgpu's shims found (or did not find) the virtual GPU.\n"
                 "exit: 0 agree, 1 disagree or no device, 2 usage, 3 a library did not load\n");
    return help ? 0 : 2;
  }
  void* cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!cuda) {
    std::fprintf(stderr, "vgpu-smi: cannot load libcuda.so.1: %s\n", dlerror());
    return 3;
  }
  void* nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!nvml) {
    std::fprintf(stderr, "vgpu-smi: cannot load libnvidia-ml.so.1: %s\n", dlerror());
    return 3;
  }
  std::vector<Device> cu, nv;
  int driver_api = 0;
  std::string driver, error;
  bool vgpu = dlsym(cuda, "vgpu_backend_blas") != nullptr;
  if (!cuda_devices(cuda, cu, driver_api, error)) {
    std::fprintf(stderr, "vgpu-smi: CUDA: %s\n", error.c_str());
    return 3;
  }
  std::printf("CUDA driver  libcuda.so.1 -> %s (%s), driver API %d\n", loaded_path(cuda).c_str(),
              vgpu ? "vgpu" : "not vgpu", driver_api);
  for (size_t i = 0; i < cu.size(); ++i)
    std::printf("  %zu: %s  %s  %s  %llu MiB  cc %d.%d\n", i, cu[i].name.c_str(), cu[i].uuid.c_str(), cu[i].pci.c_str(),
                cu[i].total >> 20, cu[i].major, cu[i].minor);
  if (!nvml_devices(nvml, nv, driver, error)) {
    std::fprintf(stderr, "vgpu-smi: NVML: %s\n", error.c_str());
    return 3;
  }
  std::printf("NVML         libnvidia-ml.so.1 -> %s, driver %s\n", loaded_path(nvml).c_str(), driver.c_str());
  for (size_t i = 0; i < nv.size(); ++i)
    std::printf("  %zu: %s  %s  %s  %llu MiB, %llu MiB free\n", i, nv[i].name.c_str(), nv[i].uuid.c_str(),
                nv[i].pci.c_str(), nv[i].total >> 20, nv[i].free >> 20);
  int problems = 0;
  if (cu.empty()) {
    std::printf("no CUDA device (VGPU_LOG=info says where vgpu looked)\n");
    ++problems;
  }
  if (cu.size() != nv.size()) {
    std::printf("disagree: CUDA reports %zu device(s), NVML %zu\n", cu.size(), nv.size());
    ++problems;
  }
  // NVML finds devices by the UUID CUDA reports (Ollama's lookup), so compare by UUID, not by index.
  for (const Device& c : cu) {
    const Device* n = nullptr;
    for (const Device& x : nv)
      if (x.uuid == c.uuid) n = &x;
    if (!n) {
      std::printf("disagree: NVML has no device with CUDA's UUID %s\n", c.uuid.c_str());
      ++problems;
      continue;
    }
    if (n->name != c.name) std::printf("disagree: %s name: CUDA \"%s\", NVML \"%s\"\n", c.uuid.c_str(), c.name.c_str(), n->name.c_str()), ++problems;
    if (normalize_bus_id(n->pci) != normalize_bus_id(c.pci))
      std::printf("disagree: %s PCI bus id: CUDA %s, NVML %s\n", c.uuid.c_str(), c.pci.c_str(), n->pci.c_str()), ++problems;
    if (n->total != c.total)
      std::printf("disagree: %s total memory: CUDA %llu, NVML %llu bytes\n", c.uuid.c_str(), c.total, n->total), ++problems;
  }
  if (!problems) std::printf("agree: %zu device(s), same name, UUID, PCI bus id and total memory\n", cu.size());
  return problems ? 1 : 0;
}
