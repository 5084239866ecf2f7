#include "fd.h"
#include "loader_check.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <sstream>

namespace vgpu {
namespace {


}  // namespace

std::map<std::string, std::string> parse_ld_so_list(const std::string& output, const std::string& cwd) {
  std::map<std::string, std::string> m;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(" \t"));
    auto arrow = line.find(" => ");
    if (arrow == std::string::npos) {
      // elf/rtld.c prints "name (0x...)" when the object's path is the name itself: opened relative
      // to the current directory (an empty or relative search-path entry), or an absolute name.
      std::string name = line.substr(0, line.find(" ("));
      if (name.empty() || line.find(" (0x") == std::string::npos) continue;
      m[name] = name[0] == '/' ? name : cwd + "/" + name;
      continue;
    }
    std::string name = line.substr(0, arrow), rest = line.substr(arrow + 4);
    m[name] = rest.rfind("not found", 0) == 0 ? "not found" : rest.substr(0, rest.find(" ("));
  }
  return m;
}

Result<RealResolution> ld_so_list(const std::string& ld_so, const std::string& object,
                                  const std::vector<std::string>& env, const std::string& cwd) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
  Fd rd{pipefd[0]}, wr{pipefd[1]};
  // Trace mode as ldd runs it: unlike `ld.so --list`, it goes on past a missing dependency and lists it
  // as "not found" (elf/rtld.c, LD_TRACE_LOADED_OBJECTS).
  static const std::string trace = "LD_TRACE_LOADED_OBJECTS=1";
  std::vector<char*> envp;
  for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(const_cast<char*>(trace.c_str()));
  envp.push_back(nullptr);
  const char* argv[] = {ld_so.c_str(), object.c_str(), nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    // Child: only async-signal-safe calls until exec; a failed exec ends the child, never returns.
    if (::chdir(cwd.c_str()) != 0 || ::dup2(wr.fd, 1) < 0 || ::dup2(wr.fd, 2) < 0) ::_exit(126);
    ::execve(ld_so.c_str(), const_cast<char* const*>(argv), envp.data());
    ::_exit(127);
  }
  ::close(wr.fd);
  wr.fd = -1;
  RealResolution r;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(rd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.output.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  // 127 with no output is the child's own exit after a failed exec.
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127 && r.output.empty()) return Error{"cannot run " + ld_so};
  r.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.paths = parse_ld_so_list(r.output, cwd);
  return r;
}

}  // namespace vgpu
