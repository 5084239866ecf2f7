// Logging for the shims: silent unless VGPU_LOG asks (error|warn|info|debug), to stderr or to the file
// named by VGPU_LOG_FILE (appended). One write(2) per line, so lines from threads and processes sharing
// the file do not interleave. Never allocates on the heap, so it is safe from any context the shims run in.
#pragma once

#include <atomic>
#include <cstdarg>

namespace vgpu {

enum class LogLevel : int { off = 0, error = 1, warn = 2, info = 3, debug = 4 };

// The component name that prefixes every line ("cuda", "cudart", "nvml", ...); set once per shim.
void log_set_component(const char* component);
LogLevel log_level();
bool log_enabled(LogLevel level);
[[gnu::format(printf, 2, 3)]] void log(LogLevel level, const char* fmt, ...);
void vlog(LogLevel level, const char* fmt, va_list ap);

// Parse "error", "warn", "info", "debug", "off"/"none"/"0"; returns false for anything else.
bool parse_log_level(const char* text, LogLevel& out);

}  // namespace vgpu

// Log at most once per call site (e.g. "cuLaunchKernel: no execution backend configured").
#define VGPU_LOG_ONCE(level, ...)                                   \
  do {                                                              \
    static std::atomic<bool> vgpu_logged_once_{false};              \
    if (!vgpu_logged_once_.exchange(true, std::memory_order_relaxed)) \
      ::vgpu::log(level, __VA_ARGS__);                              \
  } while (0)
