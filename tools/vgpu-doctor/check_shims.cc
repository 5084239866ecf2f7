// The shims at run time: in a child process with a runner's environment, vgpu-smi loads libcuda.so.1 and
// libnvidia-ml.so.1 as Ollama does and checks that CUDA and NVML agree on count, name, UUID, PCI bus id
// and memory (tools/vgpu-smi). Its verdict and its lines become the finding's evidence.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <sstream>

#include "checks.h"
#include "fd.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;

void check_shims(const Install& in, Report& r, const std::string& smi) {
  if (smi.empty() || in.backend_dirs.empty()) return;
  auto env = runner_environment(in, in.backend_dirs.front());
  env["VGPU_SYSFS_ROOT"] = in.sysfs_root;
  std::vector<std::string> envs;
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> e;
  for (auto& s : envs) e.push_back(s.data());
  e.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return;
  Fd rd(fds[0]), wr(fds[1]);
  std::string path = smi;
  char* argv[] = {path.data(), nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::dup2(wr.fd, 1) < 0 || ::dup2(wr.fd, 2) < 0 || ::chdir("/") != 0) ::_exit(126);
    ::execve(argv[0], argv, e.data());
    ::_exit(127);
  }
  ::close(wr.fd);
  wr.fd = -1;
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(rd.fd, buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  int status = 0;
  while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  std::vector<std::string> lines;
  std::istringstream ls(out);
  for (std::string l; std::getline(ls, l);) lines.push_back(l);
  r.facts["shims at run time"]["vgpu-smi"] = "exit " + std::to_string(code) + " [runner environment of " +
                                             in.backend_dirs.front() + "]";
  if (code == 0) return;
  bool no_device = out.find("no CUDA device") != std::string::npos;
  r.findings.push_back({code == 3 ? "shims.not_loadable" : no_device ? "shims.no_device" : "shims.disagree",
                        code == 3 || !no_device ? Severity::error : Severity::warning, "libcuda.so.1, libnvidia-ml.so.1",
                        code == 3 ? "the runner's environment cannot load libcuda.so.1 and libnvidia-ml.so.1"
                        : no_device ? "in the runner's environment the shims report no CUDA device"
                                    : "CUDA and NVML disagree in the runner's environment",
                        lines, code == 3 ? "vgpu-doctor fix" : "VGPU_LOG=info " + smi + "  # says what the shims looked for"});
}

}  // namespace vgpu::doctor
