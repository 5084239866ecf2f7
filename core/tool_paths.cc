#include "tool_paths.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

namespace vgpu {
namespace fs = std::filesystem;

std::string executable_dir(const char* argv0) {
  std::error_code ec;
  fs::path p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) p = fs::absolute(argv0, ec);
  return p.parent_path().string();
}

std::string find_on_path(const std::string& name, const std::string& unset_path) {
  if (name.empty() || name.find('/') != std::string::npos) return "";
  const char* env = std::getenv("PATH");
  std::string path = env ? env : unset_path;
  for (size_t at = 0; at <= path.size();) {
    size_t end = path.find(':', at);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(at, end - at);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat sb {};
    if (::stat(candidate.c_str(), &sb) == 0 && S_ISREG(sb.st_mode) && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    at = end + 1;
  }
  return "";
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

// Written over the old report in place, then cut to the new length, rather than opened with O_TRUNC:
// truncating a file first frees its blocks and allocates them again (a journal transaction on ext4,
// 0.4 ms for a 10 KB report, paid by every run that reuses its -o FILE). A write that fails part way
// cuts the file to what was written, so no tail of the old report is left behind a partial new one.
bool write_report(const std::string& text, const std::string& path, std::FILE* fallback) {
  if (path.empty()) return std::fwrite(text.data(), 1, text.size(), fallback) == text.size();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  struct stat sb {};
  bool ok = fstat(fd, &sb) == 0;
  bool regular = ok && S_ISREG(sb.st_mode);  // a FIFO or a terminal has no length to cut
  size_t done = 0;
  while (ok && done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  if (regular && ::ftruncate(fd, static_cast<off_t>(done)) != 0) ok = false;
  return ::close(fd) == 0 && ok;
}

}  // namespace vgpu
