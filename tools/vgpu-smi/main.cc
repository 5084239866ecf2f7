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
#include <cstdlib>
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

// "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", as CUDA and NVML print a device's 16-byte UUID.
std::string uuid_string(const unsigned char* b) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2],
                b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
  return buf;
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
    dev.uuid = uuid_string(reinterpret_cast<const unsigned char*>(u.bytes));
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

// The runtime a backend dir bundles (libcudart.so.N), as ggml-cuda uses it. cudaDeviceProp's layout
// changes between releases, but name (char[256]) and uuid (16 bytes) lead it in every one since 10.0.
struct Runtime {
  int version = 0, driver_api = 0;
  std::vector<Device> devices;
  std::string error;  // set when it answered with an error
};

bool runtime_devices(void* lib, Runtime& rt) {
  auto rt_version = sym<int (*)(int*)>(lib, "cudaRuntimeGetVersion");
  auto drv_version = sym<int (*)(int*)>(lib, "cudaDriverGetVersion");
  auto count = sym<int (*)(int*)>(lib, "cudaGetDeviceCount");
  auto set = sym<int (*)(int)>(lib, "cudaSetDevice");
  auto props = sym<int (*)(void*, int)>(lib, "cudaGetDeviceProperties_v2");
  if (!props) props = sym<int (*)(void*, int)>(lib, "cudaGetDeviceProperties");
  auto attr = sym<int (*)(int*, int, int)>(lib, "cudaDeviceGetAttribute");
  auto bus = sym<int (*)(char*, int, int)>(lib, "cudaDeviceGetPCIBusId");
  auto mem = sym<int (*)(size_t*, size_t*)>(lib, "cudaMemGetInfo");
  auto err = sym<const char* (*)(int)>(lib, "cudaGetErrorString");
  if (!rt_version || !drv_version || !count || !set || !props || !attr || !bus || !mem) {
    rt.error = "a required runtime entry point is missing";
    return false;
  }
  rt_version(&rt.version);
  drv_version(&rt.driver_api);
  int n = 0;
  if (int e = count(&n)) {
    rt.error = "cudaGetDeviceCount: error " + std::to_string(e) + (err ? std::string(" (") + err(e) + ")" : "");
    return true;
  }
  for (int i = 0; i < n; ++i) {
    alignas(16) static unsigned char prop[8192];
    std::memset(prop, 0, sizeof prop);
    Device dev;
    if (int e = props(prop, i)) {
      rt.error = "cudaGetDeviceProperties(" + std::to_string(i) + "): error " + std::to_string(e);
      return true;
    }
    dev.name = std::string(reinterpret_cast<const char*>(prop), strnlen(reinterpret_cast<const char*>(prop), 256));
    dev.uuid = uuid_string(prop + 256);
    char buf[256] = {};
    bus(buf, sizeof buf, i);
    dev.pci = buf;
    attr(&dev.major, 75, i);  // cudaDevAttrComputeCapabilityMajor
    attr(&dev.minor, 76, i);  // cudaDevAttrComputeCapabilityMinor
    size_t free = 0, total = 0;
    if (set(i) == 0 && mem(&free, &total) == 0) dev.total = total, dev.free = free;
    rt.devices.push_back(dev);
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* cudart = nullptr;
  for (int i = 1; i < argc; ++i) {
    bool help = std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0;
    if (std::strcmp(argv[i], "--cudart") == 0 && i + 1 < argc) {
      cudart = argv[++i];
      continue;
    }
    std::fprintf(help ? stdout : stderr,
                 "usage: vgpu-smi [--cudart NAME]\n"
                 "  Loads libcuda.so.1 and libnvidia-ml.so.1 as Ollama does, lists the devices each reports,\n"
                 "  and checks that they agree on count, name, UUID, PCI bus id and total memory.\n"
                 "  --cudart NAME   also load the CUDA runtime NAME (libcudart.so.12, or a path) as ggml-cuda\n"
                 "                  does, and check that it agrees with the driver too\n"
                 "  The last line, `versions: ...`, gives the driver API, NVML driver and runtime versions.\n"
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
  Runtime rt;
  std::string rt_path;
  bool rt_vgpu = false;
  if (cudart) {
    void* lib = dlopen(cudart, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      std::fprintf(stderr, "vgpu-smi: cannot load %s: %s\n", cudart, dlerror());
      return 3;
    }
    rt_path = loaded_path(lib);
    // vgpu's runtime is the file libvgpu-cudart.so.N, whatever name links to it.
    if (char* real = realpath(rt_path.c_str(), nullptr)) {
      std::string base = std::strrchr(real, '/') ? std::strrchr(real, '/') + 1 : real;
      rt_vgpu = base.rfind("libvgpu-cudart", 0) == 0;
      std::free(real);
    }
    if (!runtime_devices(lib, rt)) {
      std::fprintf(stderr, "vgpu-smi: runtime: %s\n", rt.error.c_str());
      return 3;
    }
    std::printf("CUDA runtime %s -> %s (%s), runtime %d, driver API %d\n", cudart, rt_path.c_str(),
                rt_vgpu ? "vgpu" : "not vgpu", rt.version, rt.driver_api);
    for (size_t i = 0; i < rt.devices.size(); ++i)
      std::printf("  %zu: %s  %s  %s  %llu MiB  cc %d.%d\n", i, rt.devices[i].name.c_str(), rt.devices[i].uuid.c_str(),
                  rt.devices[i].pci.c_str(), rt.devices[i].total >> 20, rt.devices[i].major, rt.devices[i].minor);
    if (!rt.error.empty()) {
      std::printf("runtime error: %s\n", rt.error.c_str());
      ++problems;
    } else {
      if (rt.devices.size() != cu.size()) {
        std::printf("disagree: the runtime reports %zu device(s), the driver %zu\n", rt.devices.size(), cu.size());
        ++problems;
      }
      for (size_t i = 0; i < rt.devices.size() && i < cu.size(); ++i) {
        const Device &r = rt.devices[i], &c = cu[i];
        if (r.name != c.name) std::printf("disagree: device %zu name: runtime \"%s\", driver \"%s\"\n", i, r.name.c_str(), c.name.c_str()), ++problems;
        if (r.uuid != c.uuid) std::printf("disagree: device %zu UUID: runtime %s, driver %s\n", i, r.uuid.c_str(), c.uuid.c_str()), ++problems;
        if (normalize_bus_id(r.pci) != normalize_bus_id(c.pci))
          std::printf("disagree: device %zu PCI bus id: runtime %s, driver %s\n", i, r.pci.c_str(), c.pci.c_str()), ++problems;
        if (r.total != c.total)
          std::printf("disagree: device %zu total memory: runtime %llu, driver %llu bytes\n", i, r.total, c.total), ++problems;
      }
    }
  }
  if (!problems)
    std::printf("agree: %zu device(s), same name, UUID, PCI bus id and total memory%s\n", cu.size(),
                cudart ? " in driver, runtime and NVML" : "");
  // One line for programs (vgpu-doctor check): what each layer reports, and the devices' compute capability.
  std::string ccs;
  for (const Device& d : cu) ccs += (ccs.empty() ? "" : ",") + std::to_string(d.major) + "." + std::to_string(d.minor);
  std::printf("versions: driver_api=%d nvml_driver=%s runtime=%d runtime_vgpu=%d driver_vgpu=%d cc=%s\n", driver_api,
              driver.empty() ? "unknown" : driver.c_str(), rt.version, rt_vgpu ? 1 : 0, vgpu ? 1 : 0, ccs.empty() ? "-" : ccs.c_str());
  return problems ? 1 : 0;
}
