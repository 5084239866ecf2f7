// Running another program and reading what it prints, for everything vgpu's tools ask of a child
// process: the loader's diagnostics and trace (core/ld_diagnostics, core/loader_check), ggml-runner
// (vgpu-doctor probe) and vgpu-smi (vgpu-doctor check). No shell. Started with posix_spawn (a vfork:
// no copy of the caller's page tables); a failed exec is reported with its errno, never mistaken for
// the program's own exit status; the child is always reaped. A child can be started early and
// finished later, so that it runs while the caller works (vgpu-doctor check starts its cross-checks
// first and collects them last).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "fd.h"
#include "result.h"

namespace vgpu {

struct ChildOptions {
  bool inherit_env = true;           // false: exactly `env`
  std::vector<std::string> env;      // "NAME=value", used when inherit_env is false
  std::string cwd;                   // empty: the caller's
  bool merge_stderr = false;         // stderr into the same pipe as stdout
  int timeout_ms = 0;                // > 0: finish() kills the child (SIGKILL) after this long, an Error
};

struct ChildResult {
  int status = 0;       // waitpid status
  std::string output;   // stdout (and stderr when merged)
};

// A running child whose stdout (and stderr when merged) goes to a pipe. Destroyed unfinished, it is
// killed and reaped. Its output waits in the pipe until finish(); a child that fills the pipe waits too.
class Child {
 public:
  static Result<Child> start(const std::vector<std::string>& argv, const ChildOptions& options = {});
  Child(Child&& o) noexcept : pid_(o.pid_), out_(std::move(o.out_)), deadline_ms_(o.deadline_ms_) { o.pid_ = -1; }
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child();
  // Reads the output to its end, then reaps the child.
  Result<ChildResult> finish();

 private:
  Child(pid_t pid, Fd out, int timeout_ms);
  pid_t pid_ = -1;
  Fd out_;
  long long deadline_ms_ = 0;  // CLOCK_MONOTONIC; 0: none
};

// Runs argv[0] (a path) with `argv` to its end; an Error if it could not be started at all.
Result<ChildResult> run_child(const std::vector<std::string>& argv, const ChildOptions& options = {});

// "exited with status N", "was killed by signal S".
std::string describe_status(int status);

}  // namespace vgpu
