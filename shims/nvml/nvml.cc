// vgpu's NVML (libvgpu-nvml.so, installed as libnvidia-ml.so.1). It reports the same devices as the
// CUDA driver shim, from the same configuration, stub scan and profile, so CUDA and NVML agree on name,
// UUID, PCI bus id and memory; NVML ignores CUDA_VISIBLE_DEVICES, as NVIDIA's does. Memory use is the
// machine-wide VRAM ledger, so one process's allocations show in another's nvmlDeviceGetMemoryInfo.
// Sensors a virtual device does not have (temperature now, power draw, utilization, clocks now, fans)
// answer NVML_ERROR_NOT_SUPPORTED, the code NVIDIA's NVML uses for a sensor a board lacks.
#include <cstdio>
#include <cstring>
#include <mutex>

#include "log.h"
#include "platform.h"
#include "stub_support.h"
#include "vgpu/abi/nvml_types.h"

using namespace vgpu;

namespace {

// Names this copy of the shared code in log lines, before any entry point can log.
[[gnu::constructor]] void name_log_component() { log_set_component("nvml"); }

std::mutex g_mutex;
int g_init_count = 0;  // nvmlInit/nvmlShutdown nest

// Device handles are pointers into this table, one per platform device.
struct DeviceHandle {
  int index;
};
DeviceHandle g_handles[64];

bool initialized() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_init_count > 0;
}

VirtualDevice* device_of(nvmlDevice_t h) {
  auto* p = reinterpret_cast<DeviceHandle*>(h);
  if (p < g_handles || p >= g_handles + 64) return nullptr;
  auto& devs = Platform::get().devices();
  if (p->index < 0 || p->index >= static_cast<int>(devs.size())) return nullptr;
  return const_cast<VirtualDevice*>(&devs[static_cast<size_t>(p->index)]);
}

nvmlDevice_t handle_of(int index) {
  g_handles[index].index = index;
  return reinterpret_cast<nvmlDevice_t>(&g_handles[index]);
}

// Common prologue: library initialised, handle valid.
#define VGPU_NVML_DEVICE(handle, dev)                                 \
  if (!initialized()) return NVML_ERROR_UNINITIALIZED;               \
  VirtualDevice* dev = device_of(handle);                             \
  if (!dev) return NVML_ERROR_INVALID_ARGUMENT

nvmlReturn_t copy_string(char* out, unsigned length, const std::string& s) {
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  if (s.size() + 1 > length) return NVML_ERROR_INSUFFICIENT_SIZE;
  std::memcpy(out, s.c_str(), s.size() + 1);
  return NVML_SUCCESS;
}

// An integer the profile captured from NVIDIA's NVML for this model; not captured = not supported.
nvmlReturn_t profile_uint(const VirtualDevice* dev, const char* key, unsigned* out) {
  if (!out) return NVML_ERROR_INVALID_ARGUMENT;
  const kv::Value* v = dev->profile->doc().find("nvml", key);
  if (!v || v->kind != kv::Value::Kind::integer) return NVML_ERROR_NOT_SUPPORTED;
  *out = static_cast<unsigned>(v->integer);
  return NVML_SUCCESS;
}

nvmlReturn_t profile_string(const VirtualDevice* dev, const char* key, char* out, unsigned length) {
  const kv::Value* v = dev->profile->doc().find("nvml", key);
  if (!v || v->kind != kv::Value::Kind::string) return NVML_ERROR_NOT_SUPPORTED;
  return copy_string(out, length, v->string);
}

void fill_pci(const VirtualDevice* dev, nvmlPciInfo_t* pci) {
  std::memset(pci, 0, sizeof *pci);
  const PciFunction& f = dev->pci;
  // NVML's v3 busId has an eight-digit domain; busIdLegacy the four-digit one CUDA uses.
  std::snprintf(pci->busId, sizeof pci->busId, "%08X:%02X:%02X.%X", f.domain, f.bus, f.device, f.function);
  std::snprintf(pci->busIdLegacy, sizeof pci->busIdLegacy, "%04X:%02X:%02X.%X", f.domain, f.bus, f.device, f.function);
  pci->domain = f.domain;
  pci->bus = f.bus;
  pci->device = f.device;
  // Model identity (device and subsystem ids) comes from the profile, like every model fact.
  pci->pciDeviceId = static_cast<unsigned>(dev->profile->integer("nvml", "pci_device_id", (f.device_id << 16) | f.vendor_id));
  pci->pciSubSystemId = static_cast<unsigned>(
      dev->profile->integer("nvml", "pci_subsystem_id", (f.subsystem_device << 16) | f.subsystem_vendor));
}

}  // namespace

extern "C" {

VGPU_EXPORT nvmlReturn_t nvmlInitWithFlags(unsigned int flags) {
  (void)flags;  // NVML_INIT_FLAG_NO_GPUS / NO_ATTACH: nothing to attach to either way
  Platform::get();
  std::lock_guard<std::mutex> lock(g_mutex);
  ++g_init_count;
  return NVML_SUCCESS;
}
VGPU_EXPORT nvmlReturn_t nvmlInit_v2() { return nvmlInitWithFlags(0); }
VGPU_EXPORT nvmlReturn_t nvmlInit() { return nvmlInitWithFlags(0); }

VGPU_EXPORT nvmlReturn_t nvmlShutdown() {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_init_count == 0) return NVML_ERROR_UNINITIALIZED;
  --g_init_count;
  return NVML_SUCCESS;
}

VGPU_EXPORT const char* nvmlErrorString(nvmlReturn_t result) {
  const ErrorEntry* e = find_error(static_cast<int>(result));
  return e ? e->text : "Unknown Error";
}

VGPU_EXPORT nvmlReturn_t nvmlSystemGetDriverVersion(char* version, unsigned int length) {
  if (!initialized()) return NVML_ERROR_UNINITIALIZED;
  const Profile* p = Platform::get().profile();
  if (!p) return NVML_ERROR_UNKNOWN;
  return copy_string(version, length, p->string("nvml", "driver_version"));
}

VGPU_EXPORT nvmlReturn_t nvmlSystemGetNVMLVersion(char* version, unsigned int length) {
  const Profile* p = Platform::get().profile();  // answered before nvmlInit too, as NVIDIA's is
  if (!p) return NVML_ERROR_UNKNOWN;
  return copy_string(version, length, p->string("nvml", "nvml_version"));
}

VGPU_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion_v2(int* version) {
  if (!version) return NVML_ERROR_INVALID_ARGUMENT;
  const Profile* p = Platform::get().profile();
  if (!p) return NVML_ERROR_UNKNOWN;
  *version = static_cast<int>(p->integer("nvml", "cuda_driver_version", p->integer("driver", "driver_version", 0)));
  return NVML_SUCCESS;
}
VGPU_EXPORT nvmlReturn_t nvmlSystemGetCudaDriverVersion(int* version) { return nvmlSystemGetCudaDriverVersion_v2(version); }

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetCount_v2(unsigned int* count) {
  if (!initialized()) return NVML_ERROR_UNINITIALIZED;
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  *count = static_cast<unsigned>(Platform::get().devices().size());
  return NVML_SUCCESS;
}
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetCount(unsigned int* count) { return nvmlDeviceGetCount_v2(count); }

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned int index, nvmlDevice_t* device) {
  if (!initialized()) return NVML_ERROR_UNINITIALIZED;
  if (!device || index >= Platform::get().devices().size() || index >= 64) return NVML_ERROR_INVALID_ARGUMENT;
  *device = handle_of(static_cast<int>(index));
  return NVML_SUCCESS;
}
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetHandleByIndex(unsigned int index, nvmlDevice_t* device) {
  return nvmlDeviceGetHandleByIndex_v2(index, device);
}

// Ollama's lookup: the UUID string CUDA reported ("GPU-..."), compared exactly as NVML does.
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetHandleByUUID(const char* uuid, nvmlDevice_t* device) {
  if (!initialized()) return NVML_ERROR_UNINITIALIZED;
  if (!uuid || !device) return NVML_ERROR_INVALID_ARGUMENT;
  for (const VirtualDevice& d : Platform::get().devices())
    if (d.uuid_text == uuid) {
      *device = handle_of(d.index);
      return NVML_SUCCESS;
    }
  return NVML_ERROR_NOT_FOUND;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId_v2(const char* pciBusId, nvmlDevice_t* device) {
  if (!initialized()) return NVML_ERROR_UNINITIALIZED;
  if (!pciBusId || !device) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned dom = 0, bus = 0, slot = 0, fn = 0;
  if (std::sscanf(pciBusId, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) < 3) return NVML_ERROR_INVALID_ARGUMENT;
  for (const VirtualDevice& d : Platform::get().devices())
    if (d.pci.domain == dom && d.pci.bus == bus && d.pci.device == slot && d.pci.function == fn) {
      *device = handle_of(d.index);
      return NVML_SUCCESS;
    }
  return NVML_ERROR_NOT_FOUND;
}
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetHandleByPciBusId(const char* pciBusId, nvmlDevice_t* device) {
  return nvmlDeviceGetHandleByPciBusId_v2(pciBusId, device);
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t device, char* name, unsigned int length) {
  VGPU_NVML_DEVICE(device, dev);
  return copy_string(name, length, dev->name);
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t device, char* uuid, unsigned int length) {
  VGPU_NVML_DEVICE(device, dev);
  return copy_string(uuid, length, dev->uuid_text);
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetIndex(nvmlDevice_t device, unsigned int* index) {
  VGPU_NVML_DEVICE(device, dev);
  if (!index) return NVML_ERROR_INVALID_ARGUMENT;
  *index = static_cast<unsigned>(dev->index);
  return NVML_SUCCESS;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetMinorNumber(nvmlDevice_t device, unsigned int* minor) {
  VGPU_NVML_DEVICE(device, dev);
  if (!minor) return NVML_ERROR_INVALID_ARGUMENT;
  *minor = static_cast<unsigned>(dev->index);  // /dev/nvidiaN numbering of this machine, not the captured one
  return NVML_SUCCESS;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  VGPU_NVML_DEVICE(device, dev);
  if (!pci) return NVML_ERROR_INVALID_ARGUMENT;
  fill_pci(dev, pci);
  return NVML_SUCCESS;
}
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo_v2(nvmlDevice_t device, nvmlPciInfo_t* pci) {
  return nvmlDeviceGetPciInfo_v3(device, pci);
}
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetPciInfo(nvmlDevice_t device, nvmlPciInfo_t* pci) { return nvmlDeviceGetPciInfo_v3(device, pci); }

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t device, nvmlMemory_t* memory) {
  VGPU_NVML_DEVICE(device, dev);
  if (!memory) return NVML_ERROR_INVALID_ARGUMENT;
  unsigned long long used = dev->vram->used();
  memory->total = dev->total_mem;
  memory->used = used > dev->total_mem ? dev->total_mem : used;
  memory->free = dev->total_mem - memory->used;
  return NVML_SUCCESS;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetMemoryInfo_v2(nvmlDevice_t device, nvmlMemory_v2_t* memory) {
  VGPU_NVML_DEVICE(device, dev);
  if (!memory) return NVML_ERROR_INVALID_ARGUMENT;
  if (memory->version != nvmlMemory_v2) return NVML_ERROR_ARGUMENT_VERSION_MISMATCH;
  unsigned long long used = dev->vram->used();
  memory->total = dev->total_mem;
  memory->reserved = 0;  // no driver-reserved memory on a virtual device
  memory->used = used > dev->total_mem ? dev->total_mem : used;
  memory->free = dev->total_mem - memory->used;
  return NVML_SUCCESS;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetBAR1MemoryInfo(nvmlDevice_t device, nvmlBAR1Memory_t* bar1) {
  VGPU_NVML_DEVICE(device, dev);
  if (!bar1) return NVML_ERROR_INVALID_ARGUMENT;
  long long total = dev->profile->integer("nvml", "bar1_total", -1);
  if (total < 0) return NVML_ERROR_NOT_SUPPORTED;
  bar1->bar1Total = static_cast<unsigned long long>(total);
  bar1->bar1Used = 0;
  bar1->bar1Free = bar1->bar1Total;
  return NVML_SUCCESS;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetCudaComputeCapability(nvmlDevice_t device, int* major, int* minor) {
  VGPU_NVML_DEVICE(device, dev);
  if (!major || !minor) return NVML_ERROR_INVALID_ARGUMENT;
  const kv::Value* v = dev->profile->doc().find("nvml", "cuda_compute_capability");
  if (!v || v->kind != kv::Value::Kind::array || v->array.size() != 2) return NVML_ERROR_NOT_SUPPORTED;
  *major = static_cast<int>(v->array[0]);
  *minor = static_cast<int>(v->array[1]);
  return NVML_SUCCESS;
}

// Integer facts of the model, straight from the profile.
#define VGPU_EXPORT_NVML_PROFILE_UINT(fn, key)                                   \
  VGPU_EXPORT nvmlReturn_t fn(nvmlDevice_t device, unsigned int* value) { \
    VGPU_NVML_DEVICE(device, dev);                                        \
    return profile_uint(dev, key, value);                                 \
  }
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetNumGpuCores, "num_gpu_cores")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetMemoryBusWidth, "memory_bus_width")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetMaxPcieLinkGeneration, "max_pcie_link_generation")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetMaxPcieLinkWidth, "max_pcie_link_width")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetCurrPcieLinkGeneration, "curr_pcie_link_generation")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetCurrPcieLinkWidth, "curr_pcie_link_width")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetPowerManagementLimit, "power_management_limit")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetPowerManagementDefaultLimit, "power_management_default_limit")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetEnforcedPowerLimit, "enforced_power_limit")
VGPU_EXPORT_NVML_PROFILE_UINT(nvmlDeviceGetMultiGpuBoard, "multi_gpu_board")
#undef VGPU_EXPORT_NVML_PROFILE_UINT

// Enumerations of the model (brand, architecture, modes), likewise.
#define VGPU_EXPORT_NVML_PROFILE_ENUM(fn, type, key)                      \
  VGPU_EXPORT nvmlReturn_t fn(nvmlDevice_t device, type* value) {  \
    VGPU_NVML_DEVICE(device, dev);                                 \
    unsigned v = 0;                                                \
    nvmlReturn_t r = profile_uint(dev, key, &v);                   \
    if (r == NVML_SUCCESS) *value = static_cast<type>(v);          \
    return r;                                                      \
  }
VGPU_EXPORT_NVML_PROFILE_ENUM(nvmlDeviceGetBrand, nvmlBrandType_t, "brand")
VGPU_EXPORT_NVML_PROFILE_ENUM(nvmlDeviceGetArchitecture, nvmlDeviceArchitecture_t, "architecture")
VGPU_EXPORT_NVML_PROFILE_ENUM(nvmlDeviceGetComputeMode, nvmlComputeMode_t, "compute_mode")
VGPU_EXPORT_NVML_PROFILE_ENUM(nvmlDeviceGetPersistenceMode, nvmlEnableState_t, "persistence_mode")
VGPU_EXPORT_NVML_PROFILE_ENUM(nvmlDeviceGetDisplayMode, nvmlEnableState_t, "display_mode")
VGPU_EXPORT_NVML_PROFILE_ENUM(nvmlDeviceGetDisplayActive, nvmlEnableState_t, "display_active")
VGPU_EXPORT_NVML_PROFILE_ENUM(nvmlDeviceGetVirtualizationMode, nvmlGpuVirtualizationMode_t, "virtualization_mode")
#undef VGPU_EXPORT_NVML_PROFILE_ENUM

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t device, unsigned int* minLimit,
                                                                       unsigned int* maxLimit) {
  VGPU_NVML_DEVICE(device, dev);
  if (nvmlReturn_t r = profile_uint(dev, "power_limit_min", minLimit)) return r;
  return profile_uint(dev, "power_limit_max", maxLimit);
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t device, nvmlEnableState_t* current, nvmlEnableState_t* pending) {
  VGPU_NVML_DEVICE(device, dev);
  unsigned c = 0, p = 0;
  if (!current || !pending) return NVML_ERROR_INVALID_ARGUMENT;
  if (nvmlReturn_t r = profile_uint(dev, "ecc_mode_current", &c)) return r;
  if (nvmlReturn_t r = profile_uint(dev, "ecc_mode_pending", &p)) return r;
  *current = static_cast<nvmlEnableState_t>(c);
  *pending = static_cast<nvmlEnableState_t>(p);
  return NVML_SUCCESS;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t device, unsigned int* current, unsigned int* pending) {
  VGPU_NVML_DEVICE(device, dev);
  if (nvmlReturn_t r = profile_uint(dev, "mig_mode_current", current)) return r;
  return profile_uint(dev, "mig_mode_pending", pending);
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t device, nvmlClockType_t type, unsigned int* clock) {
  VGPU_NVML_DEVICE(device, dev);
  static const char* const keys[] = {"max_clock_graphics", "max_clock_sm", "max_clock_mem", "max_clock_video"};
  if (static_cast<unsigned>(type) >= 4) return NVML_ERROR_INVALID_ARGUMENT;
  return profile_uint(dev, keys[type], clock);
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetDefaultApplicationsClock(nvmlDevice_t device, nvmlClockType_t type, unsigned int* clock) {
  VGPU_NVML_DEVICE(device, dev);
  if (type == NVML_CLOCK_GRAPHICS) return profile_uint(dev, "default_app_clock_graphics", clock);
  if (type == NVML_CLOCK_MEM) return profile_uint(dev, "default_app_clock_mem", clock);
  return NVML_ERROR_NOT_SUPPORTED;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetTemperatureThreshold(nvmlDevice_t device, nvmlTemperatureThresholds_t type,
                                                           unsigned int* temp) {
  VGPU_NVML_DEVICE(device, dev);
  if (type == NVML_TEMPERATURE_THRESHOLD_SHUTDOWN) return profile_uint(dev, "temperature_threshold_shutdown", temp);
  if (type == NVML_TEMPERATURE_THRESHOLD_SLOWDOWN) return profile_uint(dev, "temperature_threshold_slowdown", temp);
  return NVML_ERROR_NOT_SUPPORTED;
}

VGPU_EXPORT nvmlReturn_t nvmlDeviceGetBoardPartNumber(nvmlDevice_t device, char* s, unsigned int length) {
  VGPU_NVML_DEVICE(device, dev);
  return profile_string(dev, "board_part_number", s, length);
}
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t device, char* s, unsigned int length) {
  VGPU_NVML_DEVICE(device, dev);
  return profile_string(dev, "vbios_version", s, length);
}
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetInforomImageVersion(nvmlDevice_t device, char* s, unsigned int length) {
  VGPU_NVML_DEVICE(device, dev);
  return profile_string(dev, "inforom_image_version", s, length);
}
// The serial number identifies one physical board; a virtual device has none of its own.
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t device, char* s, unsigned int length) {
  VGPU_NVML_DEVICE(device, dev);
  (void)s, (void)length;
  return NVML_ERROR_NOT_SUPPORTED;
}

// Processes using the device, from the machine-wide VRAM ledger (pid and bytes of every live process).
VGPU_EXPORT nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t device, unsigned int* count,
                                                                 nvmlProcessInfo_t* infos) {
  VGPU_NVML_DEVICE(device, dev);
  if (!count) return NVML_ERROR_INVALID_ARGUMENT;
  VramLedger::Usage usage[VramLedger::kSlots];
  unsigned n = static_cast<unsigned>(dev->vram->processes(usage, VramLedger::kSlots));
  if (!infos || *count < n) {
    *count = n;
    return n == 0 ? NVML_SUCCESS : NVML_ERROR_INSUFFICIENT_SIZE;
  }
  for (unsigned i = 0; i < n; ++i) {
    std::memset(&infos[i], 0, sizeof infos[i]);
    infos[i].pid = static_cast<unsigned>(usage[i].pid);
    infos[i].usedGpuMemory = usage[i].bytes;
    infos[i].gpuInstanceId = 0xffffffffu;  // no MIG
    infos[i].computeInstanceId = 0xffffffffu;
  }
  *count = n;
  return NVML_SUCCESS;
}

}  // extern "C"
