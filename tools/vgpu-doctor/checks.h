// The checks of `vgpu-doctor check`, one file each. Every check reads the Install and adds findings
// (and facts) to the report; none aborts the others.
//   check_links.cc      NVIDIA names in each backend dir and on the system search path reach the shim
//                       or NVIDIA's file as rules/links.toml expects; dangling links and loops.
//   check_libraries.cc  each backend dir's libggml-cuda.so resolved as the era's runner resolves it
//                       (loader model), every versioned import checked against its provider symbol by
//                       symbol, ELF sanity, and the model cross-checked against the real loader.
//   check_env.cc        rules/environment.toml and rules/install.toml against the service environment.
//   check_stub.cc       the stub PCI device under the sysfs root the shims use.
//   check_shims.cc      in a child with the runner's environment, CUDA and NVML agree (vgpu-smi).
#pragma once

#include <optional>

#include "child.h"
#include "install.h"
#include "report.h"

namespace vgpu::doctor {

void check_links(const Install& in, Report& r);
void check_libraries(const Install& in, Report& r);
void check_env(const Install& in, Report& r);
void check_stub(const Install& in, Report& r);
// Started before the other checks and finished after them: one vgpu-smi per backend dir runs in its
// child meanwhile.
class ShimsCheck {
 public:
  static ShimsCheck start(const Install& in, const std::string& vgpu_smi);
  void finish(const Install& in, Report& r);

 private:
  struct Run {
    std::string dir, cudart, cudart_version, start_error;
    std::optional<Child> child;
  };
  std::string smi_;
  std::vector<Run> runs_;
};

}  // namespace vgpu::doctor
