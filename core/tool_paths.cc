#include "tool_paths.h"

#include <filesystem>
#include <fstream>

namespace vgpu {
namespace fs = std::filesystem;

std::string executable_dir(const char* argv0) {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) p = fs::absolute(argv0, ec);
  return p.parent_path().string();
}

Result<std::string> find_rules_dir(const std::string& requested, const std::string& tool_dir, const std::string& source_dir) {
  std::error_code ec;
  if (!requested.empty()) {
    if (fs::is_directory(requested, ec)) return fs::weakly_canonical(requested, ec).string();
    return Error{"--rules-dir " + requested + ": " + (fs::exists(requested, ec) ? "not a directory" : "no such directory")};
  }
  for (const std::string& d : {tool_dir + "/../share/vgpu/rules", source_dir})
    if (!d.empty() && fs::is_directory(d, ec)) return fs::weakly_canonical(d, ec).string();
  return std::string();
}

bool write_report(const std::string& text, const std::string& path, std::FILE* fallback) {
  if (path.empty()) return std::fwrite(text.data(), 1, text.size(), fallback) == text.size();
  std::ofstream out(path);
  out << text;
  return static_cast<bool>(out);
}

}  // namespace vgpu
