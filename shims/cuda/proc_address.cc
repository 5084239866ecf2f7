// cuGetProcAddress, the driver's own directory of entry points, and cuGetExportTable.
//
// NVIDIA's runtime makes a single dlsym, for cuGetProcAddress_v2, and then asks it for everything else,
// starting with an empty-name probe and with "cuGetProcAddress" itself (research: anchors-shims.md §1.9);
// so every answer must come from our own table, the self-query included. The table holds one row per
// (name, version, per-thread variant); a query at version V gets the newest row at or below V.
#include <algorithm>
#include <cstring>
#include <mutex>
#include <set>
#include <string>

#include "driver.h"
#include "log.h"
#include "proc_table.h"

using namespace vgpu;
using namespace vgpu::drv;

namespace {

// cuGetProcAddress flags (CUdriverProcAddress_flags).
constexpr unsigned long long kPerThreadDefaultStream = 2;

void log_missing(const char* symbol, int version) {
  static std::mutex mutex;
  static auto* seen = new std::set<std::string>;
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!seen->insert(symbol).second) return;
  }
  log(LogLevel::warn, "cuGetProcAddress: asked for %s (CUDA version %d), which vgpu does not provide", symbol, version);
}

CUresult lookup(const char* symbol, void** pfn, int cudaVersion, unsigned long long flags,
                CUdriverProcAddressQueryResult* status) {
  if (!symbol || !pfn) return CUDA_ERROR_INVALID_VALUE;
  *pfn = nullptr;
  if (symbol[0] == '\0') {
    // The runtime's first call is this empty probe; the driver answers it with success.
    if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
    return CUDA_SUCCESS;
  }
  const ProcEntry* begin = kProcTable;
  const ProcEntry* end = kProcTable + kProcTableSize;
  const ProcEntry* lo = std::lower_bound(begin, end, symbol, [](const ProcEntry& e, const char* s) {
    return std::strcmp(e.name, s) < 0;
  });
  const ProcEntry* best = nullptr;
  const ProcEntry* best_pt = nullptr;
  bool known = false;
  for (const ProcEntry* e = lo; e != end && std::strcmp(e->name, symbol) == 0; ++e) {
    known = true;
    if (e->version > cudaVersion) continue;
    if (e->variant == ProcVariant::plain) best = e;
    else best_pt = e;
  }
  // A per-thread variant is chosen only when asked for, and only if it is at least as new as the plain one
  // (a _ptsz of an old signature must not shadow a newer _v2).
  if ((flags & kPerThreadDefaultStream) && best_pt && (!best || best_pt->version >= best->version)) best = best_pt;
  if (!best) {
    if (status) *status = known ? CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT : CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
    if (!known) log_missing(symbol, cudaVersion);
    else log(LogLevel::debug, "cuGetProcAddress: %s needs a newer version than %d", symbol, cudaVersion);
    return CUDA_ERROR_NOT_FOUND;
  }
  *pfn = best->fn;
  if (status) *status = CU_GET_PROC_ADDRESS_SUCCESS;
  return CUDA_SUCCESS;
}

}  // namespace

extern "C" {

VGPU_EXPORT CUresult cuGetProcAddress_v2(const char* symbol, void** pfn, int cudaVersion, cuuint64_t flags,
                                         CUdriverProcAddressQueryResult* symbolStatus) {
  return lookup(symbol, pfn, cudaVersion, flags, symbolStatus);
}

VGPU_EXPORT CUresult cuGetProcAddress(const char* symbol, void** pfn, int cudaVersion, cuuint64_t flags) {
  return lookup(symbol, pfn, cudaVersion, flags, nullptr);
}

// NVIDIA's own libraries fetch private tables by UUID. vgpu's runtime and cuBLAS need none, and a
// table of the wrong shape would crash the caller later; so any request is answered "not supported",
// at once, naming the UUID.
VGPU_EXPORT CUresult cuGetExportTable(const void** ppExportTable, const CUuuid* pExportTableId) {
  if (!ppExportTable || !pExportTableId) return CUDA_ERROR_INVALID_VALUE;
  *ppExportTable = nullptr;
  const unsigned char* u = reinterpret_cast<const unsigned char*>(pExportTableId->bytes);
  log(LogLevel::warn,
      "cuGetExportTable: private table %02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x is not "
      "provided by vgpu (is NVIDIA's own runtime or cuBLAS loaded instead of vgpu's?)",
      u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return CUDA_ERROR_NOT_SUPPORTED;
}

}  // extern "C"
