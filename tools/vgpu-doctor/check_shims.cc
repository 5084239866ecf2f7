// The shims at run time: in a child process with a runner's environment, vgpu-smi loads libcuda.so.1 and
// libnvidia-ml.so.1 as Ollama does and checks that CUDA and NVML agree on count, name, UUID, PCI bus id
// and memory (tools/vgpu-smi). Its verdict and its lines become the finding's evidence.
#include <sys/wait.h>

#include <sstream>

#include "checks.h"
#include "child.h"

namespace vgpu::doctor {

ShimsCheck ShimsCheck::start(const Install& in, const std::string& smi) {
  ShimsCheck c;
  if (smi.empty() || in.backend_dirs.empty()) return c;
  c.smi_ = smi;
  c.dir_ = in.backend_dirs.front();
  auto env = runner_environment(in, in.backend_dirs.front());
  env["VGPU_SYSFS_ROOT"] = in.sysfs_root;
  ChildOptions co;
  co.inherit_env = false;
  for (const auto& [k, v] : env) co.env.push_back(k + "=" + v);
  co.cwd = "/";
  co.merge_stderr = true;
  auto child = Child::start({smi}, co);
  if (child) c.child_.emplace(std::move(child.value()));
  else c.start_error_ = child.error().message;
  return c;
}

void ShimsCheck::finish(Report& r) {
  if (smi_.empty()) return;
  const std::string& smi = smi_;
  auto run = child_ ? child_->finish() : Result<ChildResult>(Error{start_error_});
  child_.reset();
  if (!run) {  // vgpu-smi itself did not start: a fault of this tool's installation, not of Ollama's
    r.facts["shims at run time"]["vgpu-smi"] = run.error().message;
    return;
  }
  int status = run->status;
  const std::string& out = run->output;
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  std::vector<std::string> lines;
  std::istringstream ls(out);
  for (std::string l; std::getline(ls, l);) lines.push_back(l);
  r.facts["shims at run time"]["vgpu-smi"] = "exit " + std::to_string(code) + " [runner environment of " + dir_ + "]";
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
