// Running another program and reading what it prints, for everything vgpu's tools ask of a child
// process: the loader's diagnostics and trace (core/ld_diagnostics, core/loader_check), ggml-runner
// (vgpu-doctor probe) and vgpu-smi (vgpu-doctor check). No shell. Prepared before fork, so the child
// only makes async-signal-safe calls; a failed exec is reported with its errno, never mistaken for the
// program's own exit status; the child is always reaped.
#pragma once

#include <string>
#include <vector>

#include "result.h"

namespace vgpu {

struct ChildOptions {
  bool inherit_env = true;           // false: exactly `env`
  std::vector<std::string> env;      // "NAME=value", used when inherit_env is false
  std::string cwd;                   // empty: the caller's
  bool merge_stderr = false;         // stderr into the same pipe as stdout
};

struct ChildResult {
  int status = 0;       // waitpid status
  std::string output;   // stdout (and stderr when merged)
};

// Runs argv[0] (a path) with `argv`; an Error if it could not be started at all.
Result<ChildResult> run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

// "exited with status N", "was killed by signal S".
std::string describe_status(int status);

}  // namespace vgpu
