// The real loader's answer, for checking the model against it (loader.h): runs the loader in trace
// mode on OBJECT (LD_TRACE_LOADED_OBJECTS=1 ld.so OBJECT, as ldd does) in a child process with a given environment and current directory, and reads which file each
// dependency resolved to. Any difference from the model is reported by the doctor as a finding rather
// than hidden.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "child.h"
#include "result.h"

namespace vgpu {

struct RealResolution {
  std::map<std::string, std::string> paths;  // DT_NEEDED name -> path ld.so opened, or "not found"
  std::string output;                        // what ld.so printed, for evidence
  int exit_status = 0;
};

// `env` is the child's whole environment ("NAME=value"); `cwd` its working directory.
Result<RealResolution> ld_so_list(const std::string& ld_so, const std::string& object,
                                  const std::vector<std::string>& env, const std::string& cwd);

// The same, started now and read later, so that the real loader runs while the model does.
class PendingLdSoList {
 public:
  static Result<PendingLdSoList> start(const std::string& ld_so, const std::string& object,
                                       const std::vector<std::string>& env, const std::string& cwd);
  Result<RealResolution> result();

 private:
  PendingLdSoList(Child child, std::string cwd) : child_(std::move(child)), cwd_(std::move(cwd)) {}
  Child child_;
  std::string cwd_;
};

// Parses ld.so's trace output ("name => path (0x...)", "name => not found", "name (0x...)" for an object
// opened under the very name asked for, which is relative to `cwd`).
std::map<std::string, std::string> parse_ld_so_list(const std::string& output, const std::string& cwd);

}  // namespace vgpu
