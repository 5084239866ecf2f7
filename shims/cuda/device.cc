// Initialisation, versions, devices and their attributes, contexts, error texts.
// Device facts come from the profile (Platform); identity (UUID, PCI address, memory size) from the
// configuration and the stub.
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>

#include "driver.h"
#include "log.h"

using namespace vgpu;
using namespace vgpu::drv;

namespace vgpu::drv {

namespace {

// Default per-context limits of a CUDA context (cuCtxGetLimit before any cuCtxSetLimit), as the CUDA
// driver API reference documents them; index = CUlimit.
constexpr size_t kDefaultLimits[] = {1024, 1048576, 8388608, 2, 2048, 64, 0};
constexpr int kLimitCount = sizeof kDefaultLimits / sizeof kDefaultLimits[0];

thread_local std::vector<Context*>* t_stack = nullptr;

}  // namespace

Driver& driver() {
  static Driver* d = new Driver;  // never destroyed: see Platform::get()
  return *d;
}

uint64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::vector<Context*>& context_stack() {
  if (!t_stack) t_stack = new std::vector<Context*>;  // per thread; a thread's stack is tiny
  return *t_stack;
}

Context* current_context() {
  auto& s = context_stack();
  return s.empty() ? nullptr : s.back();
}

void set_current_context(Context* ctx) {
  auto& s = context_stack();
  if (s.empty()) s.push_back(ctx);
  else s.back() = ctx;
  if (!ctx) s.pop_back();
}

CUresult check_init() {
  Driver& d = driver();
  if (!d.initialized.load(std::memory_order_acquire)) return CUDA_ERROR_NOT_INITIALIZED;
  return d.init_result;
}

VirtualDevice* device_of(CUdevice ordinal) { return Platform::get().cuda_device(ordinal); }

CUresult require_context(Context** out) {
  Context* ctx = current_context();
  if (!ctx) return CUDA_ERROR_INVALID_CONTEXT;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!driver().contexts.count(ctx)) return CUDA_ERROR_CONTEXT_IS_DESTROYED;
  *out = ctx;
  return CUDA_SUCCESS;
}

}  // namespace vgpu::drv

namespace {

// Names this copy of the shared code in log lines, before any entry point can log.
[[gnu::constructor]] void name_log_component() { log_set_component("cuda"); }

CUresult attribute_value(VirtualDevice& dev, int attr, int* out) {
  // Identity attributes describe this machine's stub, not the captured card.
  switch (attr) {
    case CU_DEVICE_ATTRIBUTE_PCI_BUS_ID: *out = static_cast<int>(dev.pci.bus); return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID: *out = static_cast<int>(dev.pci.device); return CUDA_SUCCESS;
    case CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID: *out = static_cast<int>(dev.pci.domain); return CUDA_SUCCESS;
    default: break;
  }
  if (auto v = dev.profile->attribute(attr)) {
    *out = static_cast<int>(*v);
    return CUDA_SUCCESS;
  }
  if (auto e = dev.profile->attribute_error(attr)) return static_cast<CUresult>(*e);
  return CUDA_ERROR_INVALID_VALUE;
}

Context* new_context(int ordinal, unsigned flags, bool primary) {
  auto* c = new Context;
  c->ordinal = ordinal;
  c->device = Platform::get().cuda_visible()[static_cast<size_t>(ordinal)];
  c->flags = flags;
  c->primary = primary;
  driver().contexts.insert(c);
  return c;
}

// Frees what a context owns (cuCtxDestroy, cuDevicePrimaryCtxReset). Caller holds the driver mutex.
void release_context_resources(Context* ctx) {
  Driver& d = driver();
  for (auto it = d.allocations.begin(); it != d.allocations.end();) {
    const Allocation& a = it->second;
    if (a.context == reinterpret_cast<CUcontext>(ctx) && a.kind == MemKind::device) {
      backend().mem_free(a.device, a.base, a.size);
      Platform::get().devices()[static_cast<size_t>(a.device)].vram->release(a.size);
      it = d.allocations.erase(it);
    } else {
      ++it;
    }
  }
  for (auto it = d.streams.begin(); it != d.streams.end();)
    if ((*it)->ctx == ctx) {
      delete *it;
      it = d.streams.erase(it);
    } else {
      ++it;
    }
  for (auto it = d.events.begin(); it != d.events.end();)
    if ((*it)->ctx == ctx) {
      delete *it;
      it = d.events.erase(it);
    } else {
      ++it;
    }
}

CUresult create_context(CUcontext* pctx, unsigned flags, CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  if (!device_of(dev)) return CUDA_ERROR_INVALID_DEVICE;
  Context* c;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    c = new_context(dev, flags, false);
  }
  context_stack().push_back(c);
  *pctx = reinterpret_cast<CUcontext>(c);
  return CUDA_SUCCESS;
}

bool live_context(CUcontext ctx) { return driver().contexts.count(reinterpret_cast<Context*>(ctx)) != 0; }

}  // namespace

extern "C" {

VGPU_EXPORT CUresult cuInit(unsigned int flags) {
  if (flags != 0) return CUDA_ERROR_INVALID_VALUE;
  Driver& d = driver();
  // A function-local static runs once, thread-safely (std::call_once would pull libstdc++'s
  // thread-local state, and with it a dependency on ld-linux.so, into the shim).
  static const bool once = [&] {
    Platform& p = Platform::get();
    d.primary.assign(static_cast<size_t>(p.cuda_device_count()), nullptr);
    d.init_result = p.cuda_device_count() > 0 ? CUDA_SUCCESS : CUDA_ERROR_NO_DEVICE;
    log(LogLevel::info, "cuInit: %d device(s) visible, backend %s", p.cuda_device_count(), backend().name());
    d.initialized.store(true, std::memory_order_release);
    return true;
  }();
  (void)once;
  return d.init_result;
}

VGPU_EXPORT CUresult cuDriverGetVersion(int* version) {
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  const Profile* p = Platform::get().profile();
  // Without a usable profile there is no driver to report; 0 is what a missing libcuda would mean.
  *version = p ? static_cast<int>(p->integer("driver", "driver_version", 0)) : 0;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetCount(int* count) {
  if (CUresult r = check_init(); r != CUDA_SUCCESS && r != CUDA_ERROR_NO_DEVICE) return r;
  if (!count) return CUDA_ERROR_INVALID_VALUE;
  *count = Platform::get().cuda_device_count();
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGet(CUdevice* device, int ordinal) {
  if (CUresult r = check_init()) return r;
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  if (!device_of(ordinal)) return CUDA_ERROR_INVALID_DEVICE;
  *device = ordinal;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetName(char* name, int len, CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!name || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  VirtualDevice* d = device_of(dev);
  if (!d) return CUDA_ERROR_INVALID_DEVICE;
  std::snprintf(name, static_cast<size_t>(len), "%s", d->name.c_str());
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetUuid(CUuuid* uuid, CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!uuid) return CUDA_ERROR_INVALID_VALUE;
  VirtualDevice* d = device_of(dev);
  if (!d) return CUDA_ERROR_INVALID_DEVICE;
  std::memcpy(uuid->bytes, d->uuid, 16);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetUuid_v2(CUuuid* uuid, CUdevice dev) { return cuDeviceGetUuid(uuid, dev); }

VGPU_EXPORT CUresult cuDeviceTotalMem_v2(size_t* bytes, CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  VirtualDevice* d = device_of(dev);
  if (!d) return CUDA_ERROR_INVALID_DEVICE;
  *bytes = d->total_mem;
  return CUDA_SUCCESS;
}

// The CUDA 2.0 entry point with a 32-bit size: the value saturates, as it must for any GPU over 4 GiB.
VGPU_EXPORT CUresult cuDeviceTotalMem(unsigned int* bytes, CUdevice dev) {
  if (!bytes) return CUDA_ERROR_INVALID_VALUE;
  size_t total = 0;
  if (CUresult r = cuDeviceTotalMem_v2(&total, dev)) return r;
  *bytes = total > 0xffffffffu ? 0xffffffffu : static_cast<unsigned>(total);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetAttribute(int* value, CUdevice_attribute attrib, CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  VirtualDevice* d = device_of(dev);
  if (!d) return CUDA_ERROR_INVALID_DEVICE;
  return attribute_value(*d, static_cast<int>(attrib), value);
}

VGPU_EXPORT CUresult cuDeviceComputeCapability(int* major, int* minor, CUdevice dev) {
  if (!major || !minor) return CUDA_ERROR_INVALID_VALUE;
  if (CUresult r = cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev)) return r;
  return cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev);
}

VGPU_EXPORT CUresult cuDeviceGetProperties(CUdevprop* prop, CUdevice dev) {
  if (!prop) return CUDA_ERROR_INVALID_VALUE;
  struct { int* field; CUdevice_attribute attr; } const map[] = {
      {&prop->maxThreadsPerBlock, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK},
      {&prop->maxThreadsDim[0], CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X},
      {&prop->maxThreadsDim[1], CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y},
      {&prop->maxThreadsDim[2], CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z},
      {&prop->maxGridSize[0], CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X},
      {&prop->maxGridSize[1], CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y},
      {&prop->maxGridSize[2], CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z},
      {&prop->sharedMemPerBlock, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK},
      {&prop->totalConstantMemory, CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY},
      {&prop->SIMDWidth, CU_DEVICE_ATTRIBUTE_WARP_SIZE},
      {&prop->memPitch, CU_DEVICE_ATTRIBUTE_MAX_PITCH},
      {&prop->regsPerBlock, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK},
      {&prop->clockRate, CU_DEVICE_ATTRIBUTE_CLOCK_RATE},
      {&prop->textureAlign, CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT},
  };
  for (const auto& m : map)
    if (CUresult r = cuDeviceGetAttribute(m.field, m.attr, dev)) return r;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetPCIBusId(char* pciBusId, int len, CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!pciBusId || len <= 0) return CUDA_ERROR_INVALID_VALUE;
  VirtualDevice* d = device_of(dev);
  if (!d) return CUDA_ERROR_INVALID_DEVICE;
  // The driver writes domain:bus:device.function with upper-case hex digits (e.g. "0000:1B:00.0").
  std::snprintf(pciBusId, static_cast<size_t>(len), "%04X:%02X:%02X.%X", d->pci.domain, d->pci.bus, d->pci.device,
                d->pci.function);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetByPCIBusId(CUdevice* dev, const char* pciBusId) {
  if (CUresult r = check_init()) return r;
  if (!dev || !pciBusId) return CUDA_ERROR_INVALID_VALUE;
  // Accepts "bus:device.function" or "domain:bus:device.function", any case.
  unsigned dom = 0, bus, slot, fn = 0;
  if (std::sscanf(pciBusId, "%x:%x:%x.%x", &dom, &bus, &slot, &fn) < 3 &&
      (dom = 0, std::sscanf(pciBusId, "%x:%x.%x", &bus, &slot, &fn) < 2))
    return CUDA_ERROR_INVALID_VALUE;
  Platform& p = Platform::get();
  for (int i = 0; i < p.cuda_device_count(); ++i) {
    const PciFunction& f = p.cuda_device(i)->pci;
    if (f.domain == dom && f.bus == bus && f.device == slot && f.function == fn) {
      *dev = i;
      return CUDA_SUCCESS;
    }
  }
  return CUDA_ERROR_INVALID_DEVICE;
}

VGPU_EXPORT CUresult cuDeviceCanAccessPeer(int* canAccessPeer, CUdevice dev, CUdevice peerDev) {
  if (CUresult r = check_init()) return r;
  if (!canAccessPeer) return CUDA_ERROR_INVALID_VALUE;
  if (!device_of(dev) || !device_of(peerDev)) return CUDA_ERROR_INVALID_DEVICE;
  *canAccessPeer = 0;  // virtual devices share no fabric
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDeviceGetP2PAttribute(int* value, int attrib, CUdevice src, CUdevice dst) {
  (void)attrib;
  if (CUresult r = check_init()) return r;
  if (!value) return CUDA_ERROR_INVALID_VALUE;
  if (!device_of(src) || !device_of(dst) || src == dst) return CUDA_ERROR_INVALID_DEVICE;
  *value = 0;
  return CUDA_SUCCESS;
}

// ---- primary contexts ----

VGPU_EXPORT CUresult cuDevicePrimaryCtxRetain(CUcontext* pctx, CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  if (!device_of(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  Context*& c = driver().primary[static_cast<size_t>(dev)];
  if (!c) c = new_context(dev, 0, true);
  ++c->primary_refs;
  c->active = true;
  *pctx = reinterpret_cast<CUcontext>(c);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!device_of(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  Context* c = driver().primary[static_cast<size_t>(dev)];
  if (!c || c->primary_refs == 0) return CUDA_ERROR_INVALID_CONTEXT;
  if (--c->primary_refs == 0) {
    release_context_resources(c);
    c->active = false;
  }
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice dev) { return cuDevicePrimaryCtxRelease_v2(dev); }

VGPU_EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev) {
  if (CUresult r = check_init()) return r;
  if (!device_of(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (Context* c = driver().primary[static_cast<size_t>(dev)]) {
    release_context_resources(c);
    c->active = false;
    c->flags = 0;
  }
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDevicePrimaryCtxReset(CUdevice dev) { return cuDevicePrimaryCtxReset_v2(dev); }

VGPU_EXPORT CUresult cuDevicePrimaryCtxGetState(CUdevice dev, unsigned int* flags, int* active) {
  if (CUresult r = check_init()) return r;
  if (!flags || !active) return CUDA_ERROR_INVALID_VALUE;
  if (!device_of(dev)) return CUDA_ERROR_INVALID_DEVICE;
  std::lock_guard<std::mutex> lock(driver().mutex);
  Context* c = driver().primary[static_cast<size_t>(dev)];
  *flags = c ? c->flags : 0;
  *active = c && c->active ? 1 : 0;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDevicePrimaryCtxSetFlags_v2(CUdevice dev, unsigned int flags) {
  if (CUresult r = check_init()) return r;
  if (!device_of(dev)) return CUDA_ERROR_INVALID_DEVICE;
  if (flags & ~0x1fu) return CUDA_ERROR_INVALID_VALUE;  // scheduling (0x7), blocking sync, map host, lmem resize
  std::lock_guard<std::mutex> lock(driver().mutex);
  Context*& c = driver().primary[static_cast<size_t>(dev)];
  if (!c) c = new_context(dev, 0, true);
  c->flags = flags;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuDevicePrimaryCtxSetFlags(CUdevice dev, unsigned int flags) {
  return cuDevicePrimaryCtxSetFlags_v2(dev, flags);
}

// ---- created contexts and the context stack ----

VGPU_EXPORT CUresult cuCtxCreate_v2(CUcontext* pctx, unsigned int flags, CUdevice dev) {
  return create_context(pctx, flags, dev);
}
VGPU_EXPORT CUresult cuCtxCreate(CUcontext* pctx, unsigned int flags, CUdevice dev) {
  return create_context(pctx, flags, dev);
}
// CUDA 11.4: execution-affinity parameters. Only "no parameters" can be honoured by a virtual device.
VGPU_EXPORT CUresult cuCtxCreate_v3(CUcontext* pctx, void* paramsArray, int numParams, unsigned int flags,
                                    CUdevice dev) {
  if (numParams < 0 || (numParams > 0 && !paramsArray)) return CUDA_ERROR_INVALID_VALUE;
  if (numParams > 0) return CUDA_ERROR_NOT_SUPPORTED;
  return create_context(pctx, flags, dev);
}
// CUDA 12.5: CUctxCreateParams (execution affinity, CIG). Same rule.
VGPU_EXPORT CUresult cuCtxCreate_v4(CUcontext* pctx, void* ctxCreateParams, unsigned int flags, CUdevice dev) {
  if (ctxCreateParams) return CUDA_ERROR_NOT_SUPPORTED;
  return create_context(pctx, flags, dev);
}

VGPU_EXPORT CUresult cuCtxDestroy_v2(CUcontext ctx) {
  if (CUresult r = check_init()) return r;
  auto* c = reinterpret_cast<Context*>(ctx);
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    if (!c || !live_context(ctx) || c->primary) return CUDA_ERROR_INVALID_CONTEXT;
    release_context_resources(c);
    driver().contexts.erase(c);
  }
  auto& s = context_stack();
  s.erase(std::remove(s.begin(), s.end(), c), s.end());
  delete c;
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuCtxDestroy(CUcontext ctx) { return cuCtxDestroy_v2(ctx); }

VGPU_EXPORT CUresult cuCtxGetCurrent(CUcontext* pctx) {
  if (CUresult r = check_init()) return r;
  if (!pctx) return CUDA_ERROR_INVALID_VALUE;
  *pctx = reinterpret_cast<CUcontext>(current_context());
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxSetCurrent(CUcontext ctx) {
  if (CUresult r = check_init()) return r;
  if (ctx) {
    std::lock_guard<std::mutex> lock(driver().mutex);
    if (!live_context(ctx)) return CUDA_ERROR_INVALID_CONTEXT;
    auto* c = reinterpret_cast<Context*>(ctx);
    if (c->primary) c->active = true;
  }
  set_current_context(reinterpret_cast<Context*>(ctx));
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxPushCurrent_v2(CUcontext ctx) {
  if (CUresult r = check_init()) return r;
  {
    std::lock_guard<std::mutex> lock(driver().mutex);
    if (!ctx || !live_context(ctx)) return CUDA_ERROR_INVALID_CONTEXT;
  }
  context_stack().push_back(reinterpret_cast<Context*>(ctx));
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuCtxPushCurrent(CUcontext ctx) { return cuCtxPushCurrent_v2(ctx); }

VGPU_EXPORT CUresult cuCtxPopCurrent_v2(CUcontext* pctx) {
  if (CUresult r = check_init()) return r;
  auto& s = context_stack();
  if (s.empty()) return CUDA_ERROR_INVALID_CONTEXT;
  if (pctx) *pctx = reinterpret_cast<CUcontext>(s.back());
  s.pop_back();
  return CUDA_SUCCESS;
}
VGPU_EXPORT CUresult cuCtxPopCurrent(CUcontext* pctx) { return cuCtxPopCurrent_v2(pctx); }

VGPU_EXPORT CUresult cuCtxGetDevice(CUdevice* device) {
  if (CUresult r = check_init()) return r;
  if (!device) return CUDA_ERROR_INVALID_VALUE;
  Context* c;
  if (CUresult r = require_context(&c)) return r;
  *device = c->ordinal;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxSynchronize() {
  if (CUresult r = check_init()) return r;
  Context* c;
  if (CUresult r = require_context(&c)) return r;
  return backend().synchronize(0);
}

VGPU_EXPORT CUresult cuCtxGetApiVersion(CUcontext ctx, unsigned int* version) {
  if (CUresult r = check_init()) return r;
  if (!version) return CUDA_ERROR_INVALID_VALUE;
  if (ctx) {
    std::lock_guard<std::mutex> lock(driver().mutex);
    if (!live_context(ctx)) return CUDA_ERROR_INVALID_CONTEXT;
  } else if (!current_context()) {
    return CUDA_ERROR_INVALID_CONTEXT;
  }
  *version = 3020;  // every context created through the v2 API reports 3020, the API version of cuCtxCreate_v2
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxGetFlags(unsigned int* flags) {
  if (CUresult r = check_init()) return r;
  if (!flags) return CUDA_ERROR_INVALID_VALUE;
  Context* c;
  if (CUresult r = require_context(&c)) return r;
  *flags = c->flags;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxSetFlags(unsigned int flags) {
  if (CUresult r = check_init()) return r;
  Context* c;
  if (CUresult r = require_context(&c)) return r;
  c->flags = flags;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxGetId(CUcontext ctx, unsigned long long* id) {
  if (CUresult r = check_init()) return r;
  if (!id) return CUDA_ERROR_INVALID_VALUE;
  Context* c = ctx ? reinterpret_cast<Context*>(ctx) : current_context();
  std::lock_guard<std::mutex> lock(driver().mutex);
  if (!c || !driver().contexts.count(c)) return CUDA_ERROR_INVALID_CONTEXT;
  *id = reinterpret_cast<uintptr_t>(c);
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxGetLimit(size_t* value, int limit) {
  if (CUresult r = check_init()) return r;
  if (!value || limit < 0 || limit >= kLimitCount) return CUDA_ERROR_INVALID_VALUE;
  *value = kDefaultLimits[limit];
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxSetLimit(int limit, size_t value) {
  (void)value;
  if (CUresult r = check_init()) return r;
  if (limit < 0 || limit >= kLimitCount) return CUDA_ERROR_INVALID_VALUE;
  Context* c;
  return require_context(&c);  // accepted; no device code runs that could observe the limit
}

VGPU_EXPORT CUresult cuCtxGetStreamPriorityRange(int* leastPriority, int* greatestPriority) {
  if (CUresult r = check_init()) return r;
  // Hopper (and every GPU since Volta) exposes priorities 0 (least) .. -5 (greatest).
  if (leastPriority) *leastPriority = 0;
  if (greatestPriority) *greatestPriority = -5;
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxGetCacheConfig(int* config) {
  if (CUresult r = check_init()) return r;
  if (!config) return CUDA_ERROR_INVALID_VALUE;
  *config = 0;  // CU_FUNC_CACHE_PREFER_NONE
  return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuCtxSetCacheConfig(int config) {
  if (CUresult r = check_init()) return r;
  return config >= 0 && config <= 3 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

// ---- errors ----

VGPU_EXPORT CUresult cuGetErrorString(CUresult error, const char** pStr) {
  if (!pStr) return CUDA_ERROR_INVALID_VALUE;
  const ErrorEntry* e = find_error(static_cast<int>(error));
  *pStr = e ? e->text : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

VGPU_EXPORT CUresult cuGetErrorName(CUresult error, const char** pStr) {
  if (!pStr) return CUDA_ERROR_INVALID_VALUE;
  const ErrorEntry* e = find_error(static_cast<int>(error));
  *pStr = e ? e->name : nullptr;
  return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
}

}  // extern "C"
