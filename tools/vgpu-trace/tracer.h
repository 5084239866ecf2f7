// The tracing engine of vgpu-trace: runs a command under ptrace with a seccomp-BPF filter installed in
// it before exec, so that every thread and child process is followed (fork, vfork, clone, exec events)
// but a tracee stops only on the system calls that say what it loads: the exec family, the open family,
// getdents64, close, mmap with PROT_EXEC, munmap, and writes to stdout/stderr. Everything else runs
// without a stop (the kernel still passes each call through the filter: see bench/trace.sh). The filter
// names x86-64 calls: a call of another ABI (a 32-bit program, int $0x80) passes unstopped, never killed.
//
// Per process it records argv, the environment that matters to loading and discovery, cwd, the
// directories it opened, every shared-object path it tried with the outcome, the lines it wrote, and
// how it ended. Signals reach the tracees unchanged; group-stops are honoured (PTRACE_LISTEN).
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

namespace vgpu::trace {

// One shared object a process asked for, by the path it named.
struct Library {
  std::string path;      // as the process named it (open/openat argument, made absolute)
  std::string resolved;  // the file it is (symlinks followed), when it exists
  // "not found" (the open failed), "opened, not mapped", "mapped, then unmapped" (a dlopen that failed
  // after mapping), "loaded" (mapped executable and still mapped at exit or exec), "open did not return
  // (the thread ended in it)" (killed while the open blocked).
  std::string outcome;
  int error = 0;             // errno of a failed open
  double first_ms = 0;       // since the trace started
  std::vector<std::string> stack;  // --stacks: the call stack at the open, innermost first ("dlopen+0x4a")
};

// What the dynamic linker itself says: its link map after each change (r_debug, read at the
// breakpoint on _dl_debug_state that debuggers use).
struct LinkEvent {
  std::string path;
  bool added = true;  // false: removed (dlclose)
  double at_ms = 0;
};

// A directory the process listed (getdents64): what a backend scan saw.
struct DirListing {
  std::string path;
  std::vector<std::string> entries;  // the names of its first full read, "." and ".." left out (the first kMaxEntries)
  size_t count = 0;                  // how many names that read gave
  size_t passes = 0;                 // read-throughs begun, on any descriptor (ggml lists its dir per backend)
  double at_ms = 0;                  // its first read
  static constexpr size_t kMaxEntries = 256;
};

// An exec that failed: the file the process tried to run and why (the image it had goes on).
struct ExecFailure {
  std::string path;
  int error = 0;
  double at_ms = 0;
};

struct Process {
  pid_t pid = 0, ppid = 0;
  std::vector<std::string> argv;
  std::vector<std::vector<std::string>> images;    // argv of every image it ran, in order
  std::vector<double> image_ms;                    // ... and when each began
  std::string exe, cwd;
  std::map<std::string, std::string> env;          // the variables that matter (see env_matters)
  std::map<std::string, std::string> env_changed;  // ... that differ from the parent's ("" = removed)
  std::vector<std::string> dirs_opened;            // directories opened (a backend scan reads them)
  std::vector<DirListing> dirs_listed;             // directories read, with the names seen
  std::vector<ExecFailure> exec_failures;
  std::map<int, std::string> fds;                  // shared objects and directories open when it ended
  std::map<int, size_t> signals;                   // signals delivered to it, by number (Go's SIGURG)
  // Times one of its threads stopped for the tracer (the filter's stops, events, signals; under -p every
  // system call's entry and exit too): what tracing cost it, in pauses.
  size_t stops = 0;
  std::vector<Library> libraries;
  bool loader_view = false;                        // the r_debug breakpoint was set (a dynamic program)
  // A 32-bit image (i386, or x32; by its ELF class): its own system calls are not followed (they pass
  // the filter without a stop; under -p its threads are resumed without syscall stops) and its link map
  // is not read, so that image's libraries, output and open files are not seen; fork, exec and exit
  // still are. `elf32` is the current image, `ran_elf32` any.
  bool elf32 = false, ran_elf32 = false;
  std::vector<LinkEvent> link_events;              // objects ld.so added to and removed from its link map
  std::vector<std::string> link_map;               // its link map at the end (or at exec)
  // The link map its image began with: its parent's (a fork), what it had when the tracer attached (-p);
  // empty after an exec (ld.so starts afresh, and every object it adds is a link event).
  std::vector<std::string> link_map_at_start;
  // What it wrote to stdout/stderr, by line: its first lines (lines_first of them), then its last; the
  // lines_dropped lines between the two were not kept (TraceOptions::output_lines bounds each part).
  std::vector<std::string> lines;
  size_t lines_first = 0, lines_dropped = 0;
  int execs = 0;                                   // how many images it ran (argv etc. are the last's)
  double start_ms = 0, end_ms = -1;
  bool exited = false;
  int exit_code = -1, exit_signal = 0;
};

struct TraceOptions {
  size_t output_lines = 200;  // per process, its first N and its last N lines kept
  // GODEBUG=asyncpreemptoff=1 for the command: Go's SIGURG preemption then no longer stops every
  // thread of a traced Go program (Ollama) every 10 ms. It changes the program's scheduling: opt-in.
  bool go_no_preempt = false;
  bool stacks = false;  // unwind each process at every open of a shared object (libunwind-ptrace)
  // Signals the tool handles or ignores for itself, each with whether the command must start with it
  // ignored (else with the default action): as the tool found them, so as the command would untraced.
  std::vector<std::pair<int, bool>> command_signals;
  // Launch mode: called once the command is traced and let go, before the first of its stops is awaited.
  // Work the tool does beside the trace starts here, when the scheduler has already placed the command.
  std::function<void()> on_started;
  // Called when a library that had loaded is unmapped (the report will want the loader model for it),
  // with the process as recorded so far: the tool starts working out the model's verdict on a thread,
  // while the trace goes on. Both references are valid for the call only.
  std::function<void(const Process& process, const Library& library)> on_unmap;
};

// Forwards a signal sent to the tool to the command (async-signal-safe, for a handler). One that comes
// before the command exists is kept and sent to it as it starts.
void forward_to_command(int sig);

struct TraceResult {
  std::vector<std::string> command;
  int exit_status = 0;             // the command's: its code, or 128 + signal
  std::vector<Process> processes;  // in order of appearance
  std::string error;               // set when tracing itself failed
};

// The environment variable prefixes that matter to loading and discovery.
bool env_matters(const std::string& name);

// Attaches to a running process (every thread, and the children it starts from then on) without a
// filter: every system call stops twice, so it costs what `strace -f` costs. Traces until the process
// ends or *stop becomes non-zero (Ctrl-C), then detaches, leaving it running.
TraceResult attach_traced(pid_t pid, const TraceOptions& options, const volatile sig_atomic_t* stop);

// Runs `argv` under the tracer. stdin, stdout and stderr are the tracer's own.
TraceResult run_traced(const std::vector<std::string>& argv, const TraceOptions& options);

}  // namespace vgpu::trace
