#include "stub_support.h"

#include <mutex>
#include <set>

#include "log.h"

namespace vgpu {

int unsupported_entry_point(const char* name, int code) {
  static std::mutex mutex;
  static std::set<const char*>* seen = new std::set<const char*>;  // keyed by the stub's literal
  {
    std::lock_guard<std::mutex> lock(mutex);
    if (!seen->insert(name).second) return code;
  }
  log(LogLevel::warn, "%s is not implemented by vgpu in this stage; returning error %d", name, code);
  return code;
}

}  // namespace vgpu
