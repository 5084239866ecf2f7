#include "log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vgpu {
namespace {

const char* g_component = "vgpu";

struct Sink {
  LogLevel level = LogLevel::off;
  int fd = 2;
};

Sink& sink() {
  // Read the environment once, on first use: the shims may be loaded long before any call.
  static Sink s = [] {
    Sink r;
    const char* lvl = std::getenv("VGPU_LOG");
    if (lvl && *lvl && !parse_log_level(lvl, r.level)) r.level = LogLevel::warn;
    const char* file = std::getenv("VGPU_LOG_FILE");
    if (r.level != LogLevel::off && file && *file) {
      int fd = ::open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd >= 0) r.fd = fd;
    }
    return r;
  }();
  return s;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::error: return "error";
    case LogLevel::warn: return "warn";
    case LogLevel::info: return "info";
    case LogLevel::debug: return "debug";
    case LogLevel::off: break;
  }
  return "";
}

}  // namespace

void log_set_component(const char* component) { g_component = component; }

bool parse_log_level(const char* text, LogLevel& out) {
  struct { const char* name; LogLevel level; } const table[] = {
      {"error", LogLevel::error}, {"warn", LogLevel::warn}, {"warning", LogLevel::warn},
      {"info", LogLevel::info},   {"debug", LogLevel::debug}, {"off", LogLevel::off},
      {"none", LogLevel::off},    {"0", LogLevel::off}};
  for (const auto& e : table)
    if (std::strcmp(text, e.name) == 0) {
      out = e.level;
      return true;
    }
  return false;
}

LogLevel log_level() { return sink().level; }

bool log_enabled(LogLevel level) {
  return level != LogLevel::off && static_cast<int>(level) <= static_cast<int>(sink().level);
}

void vlog(LogLevel level, const char* fmt, va_list ap) {
  if (!log_enabled(level)) return;
  char line[1024];
  int n = std::snprintf(line, sizeof line, "vgpu[%s %d] %s: ", g_component, static_cast<int>(::getpid()),
                        level_name(level));
  if (n < 0) return;
  size_t used = static_cast<size_t>(n) < sizeof line ? static_cast<size_t>(n) : sizeof line - 1;
  int m = std::vsnprintf(line + used, sizeof line - used, fmt, ap);
  if (m > 0) used += static_cast<size_t>(m) < sizeof line - used ? static_cast<size_t>(m) : sizeof line - used - 1;
  if (used >= sizeof line - 1) used = sizeof line - 2;
  line[used++] = '\n';
  ssize_t ignored = ::write(sink().fd, line, used);
  (void)ignored;
}

void log(LogLevel level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vlog(level, fmt, ap);
  va_end(ap);
}

}  // namespace vgpu
