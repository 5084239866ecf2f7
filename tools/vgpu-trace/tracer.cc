#include "tracer.h"

#include "elf_file.h"
#include "host_loader.h"
#include "result.h"
#include "tool_paths.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <libunwind-ptrace.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cxxabi.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <memory>
#include <optional>
#include <sstream>
#include <utility>

namespace vgpu::trace {
namespace {

double now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

std::string readlink_str(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// The tracee's call stack, symbolized from the objects it has mapped (libunwind-ptrace), innermost
// first, at most 32 frames.
std::vector<std::string> unwind(pid_t tid) {
  std::vector<std::string> frames;
  static unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
  if (!as) return frames;
  void* ctx = _UPT_create(tid);
  if (!ctx) return frames;
  unw_cursor_t cursor;
  if (unw_init_remote(&cursor, as, ctx) == 0) {
    for (int i = 0; i < 32; ++i) {
      unw_word_t ip = 0, off = 0;
      unw_get_reg(&cursor, UNW_REG_IP, &ip);
      char name[256];
      char buf[320];
      if (unw_get_proc_name(&cursor, name, sizeof name, &off) == 0) {
        int status = -1;
        std::unique_ptr<char, void (*)(void*)> plain(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
        std::string n = status == 0 && plain ? std::string(plain.get()) : std::string(name);
        n = n.substr(0, n.find('('));  // ggml_backend_registry::load_backend, without the parameter list
        std::snprintf(buf, sizeof buf, "%s+0x%lx", n.c_str(), static_cast<unsigned long>(off));
      } else {
        std::snprintf(buf, sizeof buf, "0x%lx", static_cast<unsigned long>(ip));
      }
      frames.push_back(buf);
      if (unw_step(&cursor) <= 0) break;
    }
  }
  _UPT_destroy(ctx);
  unw_flush_cache(as, 0, 0);  // mappings change between stops (dlopen): never trust a stale cache
  return frames;
}

// A task's thread group and parent, from one read of /proc/<tid>/status; 0 where absent.
struct TaskIds {
  pid_t tgid = 0, ppid = 0;
};
TaskIds task_ids(pid_t tid) {
  TaskIds ids;
  std::istringstream status(read_file("/proc/" + std::to_string(tid) + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Tgid:", 0) == 0) ids.tgid = static_cast<pid_t>(std::atoi(line.c_str() + 5));
    if (line.rfind("PPid:", 0) == 0) ids.ppid = static_cast<pid_t>(std::atoi(line.c_str() + 5));
  }
  return ids;
}

// -p: how each thread of the process is seized (no seccomp filter: every call stops; no EXITKILL: the
// process lives on after the trace).
constexpr long kAttachOptions =
    PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC;

// One field of /proc/<tid>/status, the text after its tab; none for a task that is gone.
std::optional<std::string> status_field(pid_t tid, const std::string& name) {
  std::string text = "\n" + read_file("/proc/" + std::to_string(tid) + "/status");
  size_t at = text.find("\n" + name + ":\t");
  if (at == std::string::npos) return std::nullopt;
  at += name.size() + 3;
  return text.substr(at, text.find('\n', at) - at);
}

// Whether a task has ended: a zombie (a leader stays one until its other threads end), or dead.
bool ended(pid_t tid) {
  auto state = status_field(tid, "State");
  return state && !state->empty() && ((*state)[0] == 'Z' || (*state)[0] == 'X');
}

// The process tracing a task (TracerPid in /proc/<tid>/status); 0 for none, -1 for a task that is gone.
pid_t tracer_of(pid_t tid) {
  auto tracer = status_field(tid, "TracerPid");
  return tracer ? static_cast<pid_t>(std::atoi(tracer->c_str())) : -1;
}

// The variables of /proc/<pid>/environ that matter to loading and discovery.
std::map<std::string, std::string> environ_that_matters(pid_t pid) {
  std::map<std::string, std::string> env;
  for (const std::string& kv : split_nul(read_file("/proc/" + std::to_string(pid) + "/environ"))) {
    size_t eq = kv.find('=');
    if (eq != std::string::npos && env_matters(kv.substr(0, eq))) env[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  return env;
}

// The image a process runs now: argv, program, current directory.
void read_image(pid_t pid, Process& p) {
  std::string base = "/proc/" + std::to_string(pid);
  p.argv = split_nul(read_file(base + "/cmdline"));
  p.exe = readlink_str(base + "/exe");
  p.cwd = readlink_str(base + "/cwd");
}

// A NUL-terminated string from the tracee's memory (at most PATH_MAX bytes).
std::string read_string(pid_t pid, unsigned long addr) {
  std::string out;
  char buf[256];
  while (out.size() < PATH_MAX) {
    iovec local{buf, sizeof buf}, remote{reinterpret_cast<void*>(addr + out.size()), sizeof buf};
    ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
    if (n <= 0) {
      // The string may end less than 256 bytes before an unmapped page: read what is left byte by byte.
      for (; out.size() < PATH_MAX; ) {
        errno = 0;
        long word = ptrace(PTRACE_PEEKDATA, pid, addr + out.size(), nullptr);
        if (errno) return out;
        const char* c = reinterpret_cast<const char*>(&word);
        for (size_t i = 0; i < sizeof word; ++i) {
          if (!c[i]) return out;
          out += c[i];
        }
      }
      return out;
    }
    const void* nul = std::memchr(buf, 0, static_cast<size_t>(n));
    if (nul) return out.append(buf, static_cast<size_t>(static_cast<const char*>(nul) - buf));
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

std::string read_bytes(pid_t pid, unsigned long addr, size_t len) {
  std::string out(len, '\0');
  iovec local{out.data(), len}, remote{reinterpret_cast<void*>(addr), len};
  ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  out.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return out;
}

bool looks_like_library(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  // name.so, or name.so.N[.N...] (ld.so.cache and name.so.conf are not libraries)
  size_t so = base.find(".so");
  if (so == std::string::npos || so == 0) return false;
  std::string rest = base.substr(so + 3);
  if (rest.empty()) return true;
  if (rest[0] != '.') return false;
  return rest.find_first_not_of("0123456789.") == std::string::npos && rest.size() > 1;
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (name.empty() || name[0] == '/' || dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// A system call seen at its seccomp stop, finished at its exit stop.
struct Pending {
  std::vector<std::string> stack;  // --stacks, for a library open
  long nr = -1;
  unsigned long args[6] = {};
  std::string path;  // the open family, the exec family: the absolute path; getdents64: the directory
  bool directory = false;
  bool creates = false;  // an open with O_CREAT or O_TMPFILE
  bool wants_exit = false;  // run to the syscall-exit stop: the result says what happened
};

struct Thread {
  pid_t tgid = 0;
  bool in_syscall = false;  // between a seccomp stop and its syscall-exit stop
  Pending pending;
};

struct Mapping {
  unsigned long addr = 0, len = 0;
  size_t lib = 0;  // index in Process::libraries
};

struct ProcState {
  size_t index = 0;                     // in TraceResult::processes
  unsigned long brk = 0, r_debug = 0;   // the breakpoint (a `ret` in _dl_debug_state) and &_r_debug; 0: none
  std::set<std::string> mapped;         // the link map as last read
  // The link map's nodes as last read, and each node's name by the l_name it had: a node that is
  // still there with the same l_name is not read again (nodes that leave the map are forgotten).
  std::vector<unsigned long> nodes;
  std::map<unsigned long, std::pair<unsigned long, std::string>> node_names;
  std::map<int, std::string> fds;       // fd -> absolute path, for every successful open
  // fd -> the read-through in progress on it: its index in dirs_listed, and whether it is the directory's
  // first (whose names are kept)
  std::map<int, std::pair<size_t, bool>> listing_fds;
  std::map<std::string, size_t> listing_index;  // directory -> index in dirs_listed
  std::vector<Mapping> maps;            // executable mappings of opened files
  int same_files = -1;                  // whether its paths name the files ours do (sees_our_files); -1: not asked
  std::string partial[3];               // an unfinished output line per fd
  std::deque<std::string> tail;         // its last output lines, beyond the first (Process::lines)
};

class Tracer {
 public:
  Tracer(const TraceOptions& o, TraceResult& r) : o_(o), r_(r), t0_(now_ms()) {}

  void run(pid_t root);
  void run_attached();  // the event loop, over whatever is attached
  // Attach mode: no filter, so every system call stops (entry and exit); `stop` ends the trace and
  // detaches every tracee, leaving them running.
  void attach_mode(const volatile sig_atomic_t* stop) { resume_ = PTRACE_SYSCALL, stop_ = stop, breakpoint_on_attach_ = true; }
  void add_attached(pid_t tgid, const std::vector<pid_t>& tids);
  pid_t root = 0;

 private:
  Process& proc(pid_t tgid) { return r_.processes[procs_.at(tgid).index]; }
  void add_process(pid_t tgid, pid_t ppid);
  void on_exec(pid_t tid);
  void ensure_task(pid_t tid);
  void on_entry(pid_t tid);
  void on_seccomp(pid_t tid);
  void on_syscall_exit(pid_t tid);
  void record_exec_mapping(pid_t tgid, unsigned long addr, unsigned long len, int fd);
  void record_listing(pid_t tid, pid_t tgid, const std::string& dir, unsigned long buf, size_t len, double at);
  void on_exit(pid_t tid, int status);
  bool sees_our_files(pid_t tgid);
  // `tid`: a stopped thread of the process, through which its memory is written (0: the leader).
  void set_loader_breakpoint(pid_t tgid, pid_t tid = 0);
  ProcState* past_breakpoint(pid_t tid, user_regs_struct& regs);
  bool on_breakpoint(pid_t tid);  // true if the SIGTRAP was ours
  bool trap_queued_at_breakpoint(pid_t tid);
  std::set<std::string> read_link_map(pid_t tid, ProcState& st);
  void record_line(pid_t tgid, int fd, const std::string& data);
  void add_line(ProcState& st, Process& p, std::string line);
  void end_process(pid_t tgid, double at);

  TraceOptions o_;
  TraceResult& r_;
  double t0_;
  std::map<pid_t, Thread> threads_;
  std::map<pid_t, ProcState> procs_;
  __ptrace_request resume_ = PTRACE_CONT;                 // how a tracee is resumed: PTRACE_SYSCALL in attach mode
  // ... and this thread: PTRACE_CONT in a 32-bit image even under -p, since its calls are not decoded
  // (its fork, exec and exit still stop, as events).
  __ptrace_request resume_for(pid_t tid);
  const volatile sig_atomic_t* stop_ = nullptr;
  // -p: the loader breakpoint is still to be set, once each thread seized has stopped once, for whatever
  // reason (first_stop_due_ empty), and no thread of the process is left untraced (seize_untraced).
  bool breakpoint_on_attach_ = false;
  std::set<pid_t> first_stop_due_;
  bool seize_untraced();
  void start_loader_view(pid_t tid);
  // -p: stops that came after Ctrl-C, left for detach_all (a tracee in a stop cannot be interrupted
  // into another one, so detach_all must not wait for them).
  std::vector<std::pair<pid_t, int>> held_;
  void detach_all();
};

void Tracer::add_process(pid_t tgid, pid_t ppid) {
  ProcState st;
  st.index = r_.processes.size();
  Process p;
  p.pid = tgid;
  p.ppid = ppid;
  p.start_ms = now_ms() - t0_;
  // A fork starts as a copy of its parent: the same image, environment and descriptors.
  if (auto it = procs_.find(ppid); it != procs_.end()) {
    const Process& parent = r_.processes[it->second.index];
    p.argv = parent.argv, p.exe = parent.exe, p.env = parent.env, p.cwd = parent.cwd;
    p.elf32 = parent.elf32, p.ran_elf32 = parent.elf32;
    st.fds = it->second.fds;
    // Its memory is a copy, breakpoint included.
    st.brk = it->second.brk, st.r_debug = it->second.r_debug, st.mapped = it->second.mapped;
    st.nodes = it->second.nodes, st.node_names = it->second.node_names;
    p.loader_view = parent.loader_view;
    p.link_map = parent.link_map;
    p.link_map_at_start = parent.link_map;
  }
  r_.processes.push_back(std::move(p));
  procs_[tgid] = std::move(st);
}

// Whether a process runs a 32-bit program (i386, or x32): the ELF class of its image (the interpreter's,
// for a script). No stop needed, so it is asked at exec and at attach alike.
bool runs_elf32(pid_t tgid) {
  int fd = ::open(("/proc/" + std::to_string(tgid) + "/exe").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  unsigned char ident[EI_NIDENT] = {};
  bool elf32 = pread(fd, ident, sizeof ident, 0) == static_cast<ssize_t>(sizeof ident) &&
               std::memcmp(ident, ELFMAG, SELFMAG) == 0 && ident[EI_CLASS] == ELFCLASS32;
  ::close(fd);
  return elf32;
}

// The shared objects and directories a process has open, from /proc: at attach, and after an image
// whose opens and closes were not followed (a 32-bit one).
std::map<int, std::string> open_files(pid_t tgid) {
  std::map<int, std::string> fds;
  std::error_code ec;
  for (const auto& fd : std::filesystem::directory_iterator("/proc/" + std::to_string(tgid) + "/fd", std::filesystem::directory_options::skip_permission_denied, ec)) {
    int n = std::atoi(fd.path().filename().c_str());
    std::string target = readlink_str(fd.path().string());
    if (!target.empty() && target[0] == '/' && (looks_like_library(target) || std::filesystem::is_directory(target, ec)))
      fds[n] = target;
  }
  return fds;
}

void Tracer::on_exec(pid_t tid) {
  // After an exec by a non-leader thread, the kernel reports it under the leader's id: every other
  // thread of the group, the one that called exec included, is gone.
  pid_t tgid = tid;
  for (auto it = threads_.begin(); it != threads_.end();)
    if (it->second.tgid == tgid && it->first != tid) it = threads_.erase(it);
    else ++it;
  threads_[tid].tgid = tgid;
  threads_[tid].in_syscall = false;
  if (tgid == root) {
    // -p: the process is now this one thread, traced, and the breakpoint is set below, in the new image.
    breakpoint_on_attach_ = false;
    first_stop_due_.clear();
  }
  ProcState& st = procs_[tgid];
  Process& p = proc(tgid);
  // The old image's libraries are gone with it: what was mapped stays "loaded" (it was, until exec).
  st.maps.clear();
  std::string base = "/proc/" + std::to_string(tgid);
  read_image(tgid, p);
  p.images.push_back(p.argv);
  p.image_ms.push_back(now_ms() - t0_);
  std::map<std::string, std::string> env = environ_that_matters(tgid);
  // What changed from the parent's environment (for the first image) or from the previous image.
  std::map<std::string, std::string> before;
  if (p.execs == 0) {
    if (auto it = procs_.find(p.ppid); it != procs_.end()) before = r_.processes[it->second.index].env;
    else before = env;  // the root: nothing to compare with
  } else {
    before = p.env;
  }
  p.env_changed.clear();
  for (const auto& [k, v] : env)
    if (!before.count(k) || before[k] != v) p.env_changed[k] = v;
  for (const auto& [k, v] : before)
    if (!env.count(k)) p.env_changed[k] = "";
  p.env = std::move(env);
  ++p.execs;
  // The loader's own view of this image: a breakpoint where ld.so reports every link-map change.
  st.mapped.clear();
  p.link_map_at_start.clear();
  st.nodes.clear();
  st.node_names.clear();
  bool was_elf32 = p.elf32;
  p.elf32 = runs_elf32(tgid);
  if (p.elf32) p.ran_elf32 = true;
  set_loader_breakpoint(tgid);
  // Descriptors with O_CLOEXEC are gone; the rest survive. Re-read the table from /proc. After a 32-bit
  // image, whose opens and closes were not seen, all of it.
  if (was_elf32) {
    st.fds = open_files(tgid);
    return;
  }
  std::map<int, std::string> fds;
  for (const auto& [fd, path] : st.fds)
    if (!readlink_str(base + "/fd/" + std::to_string(fd)).empty()) fds[fd] = path;
  st.fds = std::move(fds);
}

__ptrace_request Tracer::resume_for(pid_t tid) {
  if (resume_ == PTRACE_CONT) return resume_;
  auto t = threads_.find(tid);
  auto ps = t == threads_.end() ? procs_.end() : procs_.find(t->second.tgid);
  return ps != procs_.end() && r_.processes[ps->second.index].elf32 ? PTRACE_CONT : resume_;
}

// A task seen for the first time, by its fork/clone event or by a stop of its own (which can come
// first): thread or process, and whose child, the kernel says in /proc/<tid>/status (Tgid, PPid).
void Tracer::ensure_task(pid_t tid) {
  if (threads_.count(tid) && threads_[tid].tgid) return;
  TaskIds ids = task_ids(tid);
  pid_t tgid = ids.tgid ? ids.tgid : tid;
  threads_[tid].tgid = tgid;
  if (!procs_.count(tgid)) add_process(tgid, ids.ppid);
}

// The open of a library `p` was, recorded with how it went.
Library& add_attempt(Process& pr, const Pending& p, double at, std::string outcome) {
  Library lib;
  lib.path = p.path;
  lib.first_ms = at;
  lib.stack = p.stack;
  lib.outcome = std::move(outcome);
  pr.libraries.push_back(std::move(lib));
  return pr.libraries.back();
}

// Whether open flags make a file (O_TMPFILE includes O_DIRECTORY's bit: all of it is compared).
bool creates(uint64_t flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

// Whether a path means the same file to the tracer as to the process: the same root and mount namespace
// (not a container's, nor a chroot). Asked once per process.
bool Tracer::sees_our_files(pid_t tgid) {
  int& same = procs_[tgid].same_files;
  if (same < 0) {
    auto same_inode = [&](const std::string& what) {
      struct stat ours {}, theirs {};
      return ::stat(("/proc/self/" + what).c_str(), &ours) == 0 &&
             ::stat(("/proc/" + std::to_string(tgid) + "/" + what).c_str(), &theirs) == 0 &&
             ours.st_dev == theirs.st_dev && ours.st_ino == theirs.st_ino;
    };
    same = same_inode("root") && same_inode("ns/mnt");
  }
  return same == 1;
}

void Tracer::on_entry(pid_t tid) {
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
  ensure_task(tid);
  Thread& th = threads_[tid];
  Pending p;
  p.nr = static_cast<long>(regs.orig_rax);
  unsigned long a[6] = {regs.rdi, regs.rsi, regs.rdx, regs.r10, regs.r8, regs.r9};
  std::memcpy(p.args, a, sizeof a);
  pid_t tgid = th.tgid;
  std::string task = "/proc/" + std::to_string(tid);
  // A path argument made absolute: relative to the cwd, or to the directory `dirfd` names.
  auto absolute = [&](const std::string& name, int dirfd) {
    if (!name.empty() && name[0] == '/') return name;  // ld.so and ggml open absolute paths: no lookup
    return join_path(readlink_str(task + (dirfd == AT_FDCWD ? "/cwd" : "/fd/" + std::to_string(dirfd))), name);
  };
  ProcState& st = procs_[tgid];
  bool listing_later = false;  // a getdents64 whose result the report does not need
  switch (p.nr) {
    case SYS_open:
      p.path = absolute(read_string(tid, a[0]), AT_FDCWD);
      p.directory = (a[1] & O_DIRECTORY) != 0;
      p.creates = creates(a[1]);
      break;
    case SYS_openat:
      p.path = absolute(read_string(tid, a[1]), static_cast<int>(a[0]));
      p.directory = (a[2] & O_DIRECTORY) != 0;
      p.creates = creates(a[2]);
      break;
    case SYS_openat2: {
      p.path = absolute(read_string(tid, a[1]), static_cast<int>(a[0]));
      uint64_t flags = O_CREAT;  // struct open_how begins with its flags (unread: taken as creating)
      iovec local{&flags, sizeof flags}, remote{reinterpret_cast<void*>(a[2]), sizeof flags};
      if (process_vm_readv(tid, &local, 1, &remote, 1, 0) == sizeof flags) p.directory = (flags & O_DIRECTORY) != 0;
      p.creates = creates(flags);
      break;
    }
    case SYS_execve: p.path = absolute(read_string(tid, a[0]), AT_FDCWD); break;
    case SYS_execveat: p.path = absolute(read_string(tid, a[1]), static_cast<int>(a[0])); break;
    case SYS_getdents64: {
      // The directory it reads: from the table, or (a directory opened without O_DIRECTORY, as Go's
      // os.ReadDir does) from /proc.
      int fd = static_cast<int>(a[0]);
      auto reading = st.listing_fds.find(fd);
      if (reading != st.listing_fds.end() && !reading->second.second) {
        listing_later = true;  // a descriptor already counted, not the first read-through: nothing to keep
        break;
      }
      auto f = st.fds.find(fd);
      if (f != st.fds.end()) {
        p.path = f->second;
      } else {  // (kept: the descriptor's file is the kernel's word, and its close is seen)
        p.path = readlink_str(task + "/fd/" + std::to_string(fd));
        if (!p.path.empty() && p.path[0] == '/') st.fds[fd] = p.path;
      }
      // A directory listed before, on a new descriptor: one more pass, counted now.
      if (auto known = st.listing_index.find(p.path); reading == st.listing_fds.end() && known != st.listing_index.end()) {
        ++proc(tgid).dirs_listed[known->second].passes;
        st.listing_fds.emplace(fd, std::make_pair(known->second, false));
        listing_later = true;
      }
      break;
    }
    case SYS_close:
      st.fds.erase(static_cast<int>(a[0]));
      st.listing_fds.erase(static_cast<int>(a[0]));
      break;
    case SYS_close_range:  // [first, last]; CLOSE_RANGE_CLOEXEC only marks them
      if (!(a[2] & 4 /* CLOSE_RANGE_CLOEXEC */)) {
        auto drop = [&](auto& by_fd) {
          by_fd.erase(by_fd.lower_bound(static_cast<int>(a[0])), a[1] >= INT_MAX ? by_fd.end() : by_fd.upper_bound(static_cast<int>(a[1])));
        };
        drop(st.fds);
        drop(st.listing_fds);
      }
      break;
    case SYS_dup2:
    case SYS_dup3: {  // the new descriptor names what the old one does (or nothing we track)
      int from = static_cast<int>(a[0]), to = static_cast<int>(a[1]);
      if (from == to) break;
      st.listing_fds.erase(to);
      if (auto f = st.fds.find(from); f != st.fds.end()) st.fds[to] = f->second;
      else st.fds.erase(to);
      break;
    }
    case SYS_write: {
      int fd = static_cast<int>(a[0]);
      constexpr unsigned long kWriteRead = 65536;  // of each write, what is read
      if (fd == 1 || fd == 2) {
        record_line(tgid, fd, read_bytes(tid, a[1], std::min(a[2], kWriteRead)));
        if (a[2] > kWriteRead) st.partial[fd].clear();  // the line cut there is not kept
      }
      break;
    }
    case SYS_munmap: {
      // A failed dlopen unmaps the whole reservation its first mmap made, executable segment included.
      unsigned long lo = a[0], hi = a[0] + a[1];
      for (auto it = st.maps.begin(); it != st.maps.end();)
        if (it->addr < hi && lo < it->addr + it->len) {
          Library& lib = proc(tgid).libraries[it->lib];
          if (lib.outcome == "loaded") {
            lib.outcome = "mapped, then unmapped";
            if (o_.on_unmap) o_.on_unmap(proc(tgid), lib);
          }
          it = st.maps.erase(it);
        } else {
          ++it;
        }
      break;
    }
    default: break;
  }
  bool open = p.nr == SYS_open || p.nr == SYS_openat || p.nr == SYS_openat2;
  if (o_.stacks && open && looks_like_library(p.path)) p.stack = unwind(tid);
  // What needs the result: a library or directory open (its descriptor, or why it failed), an exec
  // (which fails or never returns), a listing (the names), an executable mapping (it can fail: EPERM
  // on a noexec mount is ld.so's "failed to map segment").
  p.wants_exit = (open && (p.directory || looks_like_library(p.path))) || p.nr == SYS_execve ||
                 p.nr == SYS_execveat || (p.nr == SYS_getdents64 && !listing_later) ||
                 (p.nr == SYS_mmap && (a[2] & PROT_EXEC));
  // Most opens of libraries are ld.so's search probing where there is nothing (every hwcaps subdirectory
  // of every directory on the path). A path that does not exist fails the open: recorded now, with the
  // errno it will get, and no stop at its exit. (Launch mode: attach mode stops at every exit anyway.)
  // So is an exec of a path that does not exist (a PATH search tries one in each directory).
  bool exec = (p.nr == SYS_execve || p.nr == SYS_execveat) && !p.path.empty();
  if (((open && !p.creates) || exec) && p.wants_exit && resume_ == PTRACE_CONT && sees_our_files(tgid)) {
    struct stat sb {};
    if (::stat(p.path.c_str(), &sb) != 0 && (errno == ENOENT || errno == ENOTDIR)) {
      int err = errno;
      p.wants_exit = false;
      if (exec) {
        proc(tgid).exec_failures.push_back({p.path, err, now_ms() - t0_});
      } else if (looks_like_library(p.path)) {
        Library& lib = add_attempt(proc(tgid), p, now_ms() - t0_, "not found");
        lib.error = err;
        if (err != ENOENT) lib.outcome = std::string("open failed: ") + std::strerror(err);
      }
    }
  }
  // A directory it opened before, opened again (ggml lists its dir once per backend kind): nothing new
  // at the exit; the descriptor is named when it is read (getdents64, from /proc).
  if (open && p.wants_exit && p.directory && !p.creates && resume_ == PTRACE_CONT) {
    const std::vector<std::string>& seen = proc(tgid).dirs_opened;
    if (std::find(seen.begin(), seen.end(), p.path) != seen.end()) p.wants_exit = false;
  }
  th.pending = std::move(p);
  th.in_syscall = true;
}

void Tracer::on_seccomp(pid_t tid) {
  on_entry(tid);
  // Run to the syscall-exit stop only where the result matters; then on without stops: the seccomp
  // filter stops the tracee again on the next call that matters.
  Thread& th = threads_[tid];
  if (th.in_syscall && th.pending.wants_exit) {
    ptrace(PTRACE_SYSCALL, tid, nullptr, nullptr);
  } else {
    th.in_syscall = false;
    ptrace(PTRACE_CONT, tid, nullptr, nullptr);
  }
}


// An executable mapping of `fd`: the library opened on it is loaded (until an munmap covers it).
void Tracer::record_exec_mapping(pid_t tgid, unsigned long addr, unsigned long len, int fd) {
  ProcState& st = procs_[tgid];
  Process& pr = proc(tgid);
  auto f = st.fds.find(fd);
  if (f == st.fds.end()) return;
  for (size_t i = pr.libraries.size(); i-- > 0;)
    if (pr.libraries[i].path == f->second) {
      pr.libraries[i].outcome = "loaded";
      st.maps.push_back({addr, len, i});
      return;
    }
}

void Tracer::on_syscall_exit(pid_t tid) {
  Thread& th = threads_[tid];
  th.in_syscall = false;
  user_regs_struct regs{};
  if (ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0) return;
  long ret = static_cast<long>(regs.rax);
  const Pending& p = th.pending;
  pid_t tgid = th.tgid;
  if (!procs_.count(tgid)) return;
  ProcState& st = procs_[tgid];
  Process& pr = proc(tgid);
  double at = now_ms() - t0_;
  switch (p.nr) {
    case SYS_open:
    case SYS_openat:
    case SYS_openat2:
      if (ret >= 0) st.fds[static_cast<int>(ret)] = p.path, st.listing_fds.erase(static_cast<int>(ret));
      if (p.directory && ret >= 0) {
        if (std::find(pr.dirs_opened.begin(), pr.dirs_opened.end(), p.path) == pr.dirs_opened.end())
          pr.dirs_opened.push_back(p.path);
      } else if (looks_like_library(p.path)) {
        // `resolved` is filled once per path when the trace ends (resolve_paths), not at every stop.
        Library& lib = add_attempt(pr, p, at, ret >= 0 ? "opened, not mapped" : "not found");
        if (ret < 0) {
          lib.error = static_cast<int>(-ret);
          if (lib.error != ENOENT) lib.outcome = std::string("open failed: ") + std::strerror(lib.error);
        }
      }
      break;
    case SYS_mmap:
      if (ret >= 0 && (p.args[2] & PROT_EXEC)) record_exec_mapping(tgid, static_cast<unsigned long>(ret), p.args[1], static_cast<int>(p.args[4]));
      break;
    case SYS_execve:
    case SYS_execveat:
      // A successful exec was handled at its event (and this stop then never comes as a failure).
      if (ret < 0 && ret > -4096) pr.exec_failures.push_back({p.path, static_cast<int>(-ret), at});
      break;
    case SYS_getdents64:
      if (ret >= 0 && !p.path.empty()) record_listing(tid, tgid, p.path, p.args[1], static_cast<size_t>(ret), at);
      break;
    default: break;
  }
}

// The names a getdents64 returned (struct linux_dirent64 records), added to that directory's listing;
// an empty return ends a read-through.
void Tracer::record_listing(pid_t tid, pid_t tgid, const std::string& dir, unsigned long buf, size_t len, double at) {
  Process& pr = proc(tgid);
  ProcState& st = procs_[tgid];
  int fd = static_cast<int>(threads_[tid].pending.args[0]);
  // A pass is a descriptor the directory is read through: it begins at the first getdents64 on it.
  // Names are kept from a directory's first read-through only (until an empty return, or the close).
  auto progress = st.listing_fds.find(fd);
  if (progress == st.listing_fds.end()) {
    auto [known, fresh] = st.listing_index.try_emplace(dir, pr.dirs_listed.size());
    if (fresh) pr.dirs_listed.push_back({dir, {}, 0, 0, at});
    ++pr.dirs_listed[known->second].passes;
    progress = st.listing_fds.emplace(fd, std::make_pair(known->second, fresh)).first;
  }
  auto [index, first] = progress->second;
  DirListing& l = pr.dirs_listed[index];
  if (len == 0) {  // the end of the first read-through: the descriptor stays counted (a rewind is no new pass)
    progress->second.second = false;
    return;
  }
  if (!first) return;
  std::string data = read_bytes(tid, buf, len);
  // d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name (NUL-terminated)
  for (size_t off = 0; off + 19 < data.size();) {
    uint16_t reclen;
    std::memcpy(&reclen, data.data() + off + 16, 2);
    if (reclen < 20 || off + reclen > data.size()) break;
    const char* name = data.data() + off + 19;
    std::string n(name, strnlen(name, reclen - 19));
    off += reclen;
    if (n == "." || n == "..") continue;
    ++l.count;
    if (l.entries.size() < DirListing::kMaxEntries) l.entries.push_back(std::move(n));
  }
}

// ld.so calls _dl_debug_state (an empty function: `ret`, after endbr64 with CET) whenever its link map
// changes, and r_debug.r_state says whether it is consistent. An int3 on that `ret` stops the tracee
// there; the tracer reads the link map and emulates the `ret` (no single-step, so no window in which
// another thread could pass the restored instruction).
void Tracer::set_loader_breakpoint(pid_t tgid, pid_t tid) {
  if (!tid) tid = tgid;
  ProcState& st = procs_[tgid];
  st.brk = st.r_debug = 0;
  Process& p = proc(tgid);
  p.loader_view = false;
  if (p.elf32) return;  // its auxv, r_debug and link map are 32-bit structures: not read
  std::string auxv = read_file("/proc/" + std::to_string(tid) + "/auxv");  // (the leader may have ended)
  unsigned long base = 0;
  for (size_t i = 0; i + 16 <= auxv.size(); i += 16) {
    uint64_t type, val;
    std::memcpy(&type, auxv.data() + i, 8);
    std::memcpy(&val, auxv.data() + i + 8, 8);
    if (type == 7 /* AT_BASE */) base = val;
  }
  if (!base) return;  // a static program: no dynamic linker
  std::string ldso;
  std::istringstream maps(read_file("/proc/" + std::to_string(tid) + "/maps"));
  for (std::string line; std::getline(maps, line);)
    if (std::strtoul(line.c_str(), nullptr, 16) == base && line.find('/') != std::string::npos) ldso = line.substr(line.find('/'));
  if (ldso.empty()) return;
  auto elf = host_elf_cache()->read(ldso);  // the run's one parse of ld.so, shared with the loader model
  if (!elf) return;
  unsigned long debug_state = 0, r_debug = 0;
  for (const ElfSymbol& s : elf.value()->symbols) {
    if (!s.defined) continue;
    if (s.name == "_dl_debug_state") debug_state = base + s.value;
    if (s.name == "_r_debug") r_debug = base + s.value;
  }
  if (!debug_state || !r_debug) return;
  errno = 0;
  unsigned long word = static_cast<unsigned long>(ptrace(PTRACE_PEEKTEXT, tid, debug_state, nullptr));
  if (errno) return;
  unsigned long at = debug_state;
  if ((word & 0xffffffffUL) == 0xfa1e0ff3UL) at += 4;  // endbr64
  errno = 0;
  word = static_cast<unsigned long>(ptrace(PTRACE_PEEKTEXT, tid, at, nullptr));
  if (errno || (word & 0xff) != 0xc3) return;  // not the one-instruction function expected: no view
  if (ptrace(PTRACE_POKETEXT, tid, at, reinterpret_cast<void*>((word & ~0xffUL) | 0xcc)) != 0) return;
  st.brk = at, st.r_debug = r_debug;
  p.loader_view = true;
}

std::set<std::string> Tracer::read_link_map(pid_t tid, ProcState& st) {
  std::set<std::string> names;
  // struct r_debug { int r_version; struct link_map* r_map; ... };
  // struct link_map { l_addr, l_name, l_ld, l_next, ... }
  unsigned long lm = 0;
  iovec local{&lm, sizeof lm}, remote{reinterpret_cast<void*>(st.r_debug + 8), sizeof lm};
  if (process_vm_readv(tid, &local, 1, &remote, 1, 0) != sizeof lm) return names;
  // The nodes known from the last read, in one call (a dlopen adds at the end, a dlclose removes a few).
  using Node = std::array<unsigned long, 4>;
  size_t known = std::min<size_t>(st.nodes.size(), IOV_MAX);
  std::vector<Node> batch(known);
  std::vector<iovec> lv(known), rv(known);
  for (size_t i = 0; i < known; ++i) {
    lv[i] = {batch[i].data(), sizeof(Node)};
    rv[i] = {reinterpret_cast<void*>(st.nodes[i]), sizeof(Node)};
  }
  ssize_t got = known ? process_vm_readv(tid, lv.data(), known, rv.data(), known, 0) : 0;
  size_t valid = got > 0 ? static_cast<size_t>(got) / sizeof(Node) : 0;  // it stops at the first unreadable node
  std::vector<unsigned long> nodes;
  std::map<unsigned long, std::pair<unsigned long, std::string>> node_names;
  for (size_t i = 0; lm && i < 4096; ++i) {
    Node node{};
    auto at = std::find(st.nodes.begin(), st.nodes.begin() + static_cast<long>(valid), lm);
    if (at != st.nodes.begin() + static_cast<long>(valid)) {
      node = batch[static_cast<size_t>(at - st.nodes.begin())];
    } else {
      iovec l{node.data(), sizeof node}, r{reinterpret_cast<void*>(lm), sizeof node};
      if (process_vm_readv(tid, &l, 1, &r, 1, 0) != sizeof node) break;
    }
    std::string name;
    if (auto c = st.node_names.find(lm); c != st.node_names.end() && c->second.first == node[1]) name = c->second.second;
    else if (node[1]) name = read_string(tid, node[1]);
    nodes.push_back(lm);
    node_names[lm] = {node[1], name};
    if (!name.empty()) names.insert(std::move(name));
    lm = node[3];
  }
  st.nodes = std::move(nodes);
  st.node_names = std::move(node_names);
  return names;
}

// The process of a stopped thread whose rip is just past our int3 (its registers in `regs`); null if not.
ProcState* Tracer::past_breakpoint(pid_t tid, user_regs_struct& regs) {
  pid_t tgid = threads_.count(tid) ? threads_[tid].tgid : tid;
  auto it = procs_.find(tgid);
  if (it == procs_.end() || !it->second.brk || ptrace(PTRACE_GETREGS, tid, nullptr, &regs) != 0 ||
      regs.rip != it->second.brk + 1)
    return nullptr;
  return &it->second;
}

bool Tracer::on_breakpoint(pid_t tid) {
  user_regs_struct regs{};
  ProcState* found = past_breakpoint(tid, regs);
  if (!found) return false;
  ProcState& st = *found;
  // r_state: RT_CONSISTENT (0) after a change is complete; RT_ADD/RT_DELETE (1/2) announce one.
  unsigned long state = 0;
  iovec local{&state, 4}, remote{reinterpret_cast<void*>(st.r_debug + 24), 4};
  if (process_vm_readv(tid, &local, 1, &remote, 1, 0) == 4 && (state & 0xffffffff) == 0) {
    std::set<std::string> now = read_link_map(tid, st);
    Process& p = r_.processes[st.index];
    double at = now_ms() - t0_;
    for (const std::string& n : now)
      if (!st.mapped.count(n)) p.link_events.push_back({n, true, at});
    for (const std::string& n : st.mapped)
      if (!now.count(n)) p.link_events.push_back({n, false, at});
    st.mapped = std::move(now);
    p.link_map.assign(st.mapped.begin(), st.mapped.end());
  }
  // Emulate the `ret`: pop the return address.
  unsigned long ret = 0;
  iovec l2{&ret, sizeof ret}, r2{reinterpret_cast<void*>(regs.rsp), sizeof ret};
  if (process_vm_readv(tid, &l2, 1, &r2, 1, 0) != sizeof ret) return false;
  regs.rip = ret;
  regs.rsp += 8;
  ptrace(PTRACE_SETREGS, tid, nullptr, &regs);
  return true;
}

// Whether a thread has run our int3 and not yet taken its SIGTRAP: the kernel reports an interrupt
// (PTRACE_INTERRUPT) before a signal already queued, so such a thread stops with its rip just past the
// int3 and the SIGTRAP still in its own queue.
bool Tracer::trap_queued_at_breakpoint(pid_t tid) {
  user_regs_struct regs{};
  if (!past_breakpoint(tid, regs)) return false;
  // SigPnd: the signals pending for the thread itself (the int3's SIGTRAP is sent to the thread).
  auto pending = status_field(tid, "SigPnd");
  return pending && (std::strtoull(pending->c_str(), nullptr, 16) >> (SIGTRAP - 1)) & 1;
}

// What a process wrote, by line: its first `output_lines` lines in Process::lines, its last ones in a
// queue, the ones between counted. A server's discovery is at the start of what it writes, a failure
// at the end. Each call is one write(2) of up to 64 KiB; a line is cut at 4096 bytes.
void Tracer::record_line(pid_t tgid, int fd, const std::string& data) {
  ProcState& st = procs_[tgid];
  Process& p = proc(tgid);
  std::string& part = st.partial[fd];
  size_t at = 0;
  if (p.lines.size() >= o_.output_lines) {
    // Only its last lines are kept now: of the lines this write ends, those that would pass through
    // the queue and out of it again are counted, not copied (a program that writes a lot, fast).
    size_t ends = static_cast<size_t>(std::count(data.begin(), data.end(), '\n'));
    if (ends > o_.output_lines) {
      size_t skip = ends - o_.output_lines;
      for (size_t n = 0; n < skip; ++n) at = data.find('\n', at) + 1;
      p.lines_dropped += st.tail.size() + skip;
      st.tail.clear();
      part.clear();
    }
  }
  while (at < data.size()) {
    size_t nl = data.find('\n', at);
    size_t end = nl == std::string::npos ? data.size() : nl;
    if (part.size() < 4096) part.append(data, at, std::min(end - at, 4096 - part.size()));
    if (nl == std::string::npos) break;
    add_line(st, p, std::move(part));
    part.clear();
    at = nl + 1;
  }
}

void Tracer::add_line(ProcState& st, Process& p, std::string line) {
  if (p.lines.size() < o_.output_lines) {
    p.lines.push_back(std::move(line));
    return;
  }
  st.tail.push_back(std::move(line));
  if (st.tail.size() > o_.output_lines) st.tail.pop_front(), ++p.lines_dropped;
}

void Tracer::end_process(pid_t tgid, double at) {
  ProcState& st = procs_[tgid];
  Process& p = proc(tgid);
  for (int fd : {1, 2})
    if (!st.partial[fd].empty()) add_line(st, p, std::move(st.partial[fd])), st.partial[fd].clear();
  p.lines_first = p.lines.size();
  std::move(st.tail.begin(), st.tail.end(), std::back_inserter(p.lines));
  st.tail.clear();
  if (!p.elf32) p.fds = st.fds;  // a 32-bit image's opens and closes were not seen
  p.end_ms = at;
}

void Tracer::on_exit(pid_t tid, int status) {
  auto it = threads_.find(tid);
  pid_t tgid = it != threads_.end() ? it->second.tgid : tid;
  if (it != threads_.end()) {
    // A thread that died inside the open of a library (killed while it blocked): the attempt is kept.
    const Pending& p = it->second.pending;
    bool open = p.nr == SYS_open || p.nr == SYS_openat || p.nr == SYS_openat2;
    if (it->second.in_syscall && open && looks_like_library(p.path) && procs_.count(tgid))
      add_attempt(proc(tgid), p, now_ms() - t0_, "open did not return (the thread ended in it)");
    threads_.erase(it);
  }
  first_stop_due_.erase(tid);
  if (!procs_.count(tgid)) return;  // a process we never saw
  // A thread: not the end of its process, unless (-p) the leader had ended before the attach (so it was
  // never held: a held leader's end comes after every other thread's) and this was the last thread
  // held, whose status is then the process's.
  if (tgid != tid && !(tgid == root && !threads_.count(root) &&
                       std::none_of(threads_.begin(), threads_.end(), [&](const auto& t) { return t.second.tgid == tgid; })))
    return;
  Process& p = proc(tgid);
  p.exited = true;
  if (WIFEXITED(status)) p.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) p.exit_signal = WTERMSIG(status);
  end_process(tgid, now_ms() - t0_);
  if (tgid == root) r_.exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void Tracer::run(pid_t root_pid) {
  root = root_pid;
  threads_[root].tgid = root;
  add_process(root, getpid());
  run_attached();
}

void Tracer::run_attached() {
  while (true) {
    int status = 0;
    if (stop_ && *stop_) {
      detach_all();
      break;
    }
    // __WNOTHREAD: only this thread's tracees, not a child another thread of the tracer runs (the
    // loader-facts thread runs ld.so and waits for it itself).
    pid_t tid = waitpid(-1, &status, __WALL | __WNOTHREAD);
    if (tid < 0) {
      if (errno == EINTR) continue;
      break;  // ECHILD: every tracee is gone
    }
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      on_exit(tid, status);
      continue;
    }
    if (!WIFSTOPPED(status)) continue;
    if (stop_ && *stop_) {  // Ctrl-C came while we waited: this stop is detach_all's to handle
      held_.emplace_back(tid, status);
      continue;
    }
    int sig = WSTOPSIG(status);
    int event = status >> 16;
    ensure_task(tid);  // a new task may report before its parent's fork/clone event
    ++proc(threads_[tid].tgid).stops;
    // (At an exec, on_exec sets the breakpoint in the new image itself.)
    if (breakpoint_on_attach_ && event != PTRACE_EVENT_EXEC) {
      // Any stop will do: it comes after the clone the thread may have been in, and a stop of another
      // kind (an event, a signal) takes the place of the interrupt's, which then never comes. A thread
      // that ends reports it (on_exit), but a leader that has ended does not until the others have: a
      // zombie, it will not stop either.
      first_stop_due_.erase(tid);
      if (first_stop_due_.count(root) && ended(root)) first_stop_due_.erase(root);
      if (first_stop_due_.empty() && threads_[tid].tgid == root) start_loader_view(tid);
    }
    unsigned long msg = 0;
    switch (event) {
      case PTRACE_EVENT_SECCOMP:
        on_seccomp(tid);
        continue;  // resumed with PTRACE_SYSCALL there
      case PTRACE_EVENT_CLONE: {
        // Mostly a new thread (a process made by clone without SIGCHLD is rare): the parent, held at
        // this stop, goes on at once, and the kernel then says whether the new task is in its thread
        // group (tgkill with no signal). The task cannot be gone yet: only the tracer reaps it.
        ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
        ptrace(resume_for(tid), tid, nullptr, nullptr);
        pid_t child = static_cast<pid_t>(msg), group = threads_[tid].tgid;
        if (!threads_[child].tgid) {
          if (syscall(SYS_tgkill, group, child, 0) == 0) threads_[child].tgid = group;  // a thread: no /proc
          else ensure_task(child);
        }
        continue;
      }
      case PTRACE_EVENT_FORK:
      case PTRACE_EVENT_VFORK:
        ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg);
        ensure_task(static_cast<pid_t>(msg));
        break;
      case PTRACE_EVENT_EXEC:
        on_exec(tid);
        break;
      case PTRACE_EVENT_STOP:
        // A group-stop (SIGSTOP, SIGTSTP, ...): stay stopped as untraced, until SIGCONT.
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
          ptrace(PTRACE_LISTEN, tid, nullptr, nullptr);
          continue;
        }
        break;  // the initial stop of an auto-attached task, or of one seized
      default:
        if (sig == (SIGTRAP | 0x80)) {  // a syscall stop (PTRACE_O_TRACESYSGOOD)
          if (resume_ == PTRACE_SYSCALL) {  // attach mode: entry or exit, the kernel says which
            __ptrace_syscall_info info{};
            if (ptrace(PTRACE_GET_SYSCALL_INFO, tid, sizeof info, &info) > 0 && info.op == PTRACE_SYSCALL_INFO_ENTRY) {
              // Only x86-64 calls are decoded (the filter's rule in launch mode): an i386 or x32 number
              // means another call (i386's 11 is execve, x86-64's munmap).
              if (info.arch == AUDIT_ARCH_X86_64 && !(info.entry.nr & __X32_SYSCALL_BIT)) on_entry(tid);
            } else if (threads_[tid].in_syscall) {
              on_syscall_exit(tid);
            }
          } else if (threads_[tid].in_syscall) {
            on_syscall_exit(tid);
          }
          ptrace(resume_for(tid), tid, nullptr, nullptr);
          continue;
        }
        // Our breakpoint in ld.so: handled, the SIGTRAP suppressed.
        if (sig == SIGTRAP && on_breakpoint(tid)) {
          ptrace(resume_for(tid), tid, nullptr, nullptr);
          continue;
        }
        // A signal for the tracee: deliver it unchanged (its process is known: ensure_task, above).
        ++proc(threads_[tid].tgid).signals[sig];
        ptrace(resume_for(tid), tid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
        continue;
    }
    ptrace(resume_for(tid), tid, nullptr, nullptr);
  }
  double end = now_ms() - t0_;
  for (auto& [tgid, st] : procs_)
    if (r_.processes[st.index].end_ms < 0) end_process(tgid, end);
}

void Tracer::add_attached(pid_t tgid, const std::vector<pid_t>& tids) {
  add_process(tgid, task_ids(tgid).ppid);
  Process& p = proc(tgid);
  // Read through a thread that was seized: the leader may have ended (main returned through
  // pthread_exit), and an ended leader's /proc entry has no image, environment or descriptors.
  pid_t via = tids.front();
  read_image(via, p);
  p.images.push_back(p.argv);
  p.image_ms.push_back(now_ms() - t0_);
  p.env = environ_that_matters(via);
  p.elf32 = p.ran_elf32 = runs_elf32(via);
  // What it has open now, so that a later mmap of an already-open library is recognised.
  procs_[tgid].fds = open_files(via);
  for (pid_t t : tids) threads_[t].tgid = tgid;
  first_stop_due_.insert(tids.begin(), tids.end());
}

// -p: a thread seized in the middle of a clone makes its new thread untraced (the kernel decided that
// before the seize), and that thread may be in no listing the attach made. Once every thread seized has
// stopped once, each such clone has finished: its thread is in /proc, seized here. True if the listing
// found any thread not yet ours (seized now, or ended before it: what it made is listed at the next
// call), so the breakpoint must wait.
bool Tracer::seize_untraced() {
  bool found = false;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(root) + "/task", ec)) {
    pid_t tid = static_cast<pid_t>(std::atoi(t.path().filename().c_str()));
    if (threads_.count(tid) || tracer_of(tid) == getpid()) continue;  // ours (auto-attached, not yet reported)
    if (ptrace(PTRACE_SEIZE, tid, nullptr, reinterpret_cast<void*>(kAttachOptions)) == 0) {
      threads_[tid].tgid = root;
      first_stop_due_.insert(tid);
      ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
      found = true;
    } else if (errno == ESRCH) {
      found = true;
    }
  }
  return found;
}

// -p: the loader's view starts when every thread of the process is traced: the breakpoint, and the link
// map it has now (not events: it was loaded before the trace). `tid`: a thread of it, stopped.
void Tracer::start_loader_view(pid_t tid) {
  if (seize_untraced()) return;
  breakpoint_on_attach_ = false;
  set_loader_breakpoint(root, tid);
  ProcState& st = procs_[root];
  if (st.brk) {
    st.mapped = read_link_map(tid, st);
    Process& p = proc(root);
    p.link_map.assign(st.mapped.begin(), st.mapped.end());
    p.link_map_at_start = p.link_map;
  }
}

// Ctrl-C in attach mode: stop every tracee (PTRACE_INTERRUPT), then detach it, passing on a signal it
// was about to receive, so that each goes on running as if never traced. A task that a fork or clone
// makes meanwhile is auto-attached: it is waited for and detached too, after the breakpoint is taken out
// of its memory (a fork's copy of it included).
void Tracer::detach_all() {
  std::set<pid_t> left, done, restored;
  for (const auto& [tid, th] : threads_) left.insert(tid);
  for (const auto& [tid, status] : held_) left.erase(tid);  // already stopped: nothing to interrupt
  for (pid_t tid : left) ptrace(PTRACE_INTERRUPT, tid, nullptr, nullptr);
  auto handle = [&](pid_t tid, int status) {
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
      on_exit(tid, status);
      left.erase(tid), done.insert(tid);
      return;
    }
    if (!WIFSTOPPED(status)) return;
    ensure_task(tid);  // a task made during the detach may report before its parent's event
    int sig = WSTOPSIG(status), event = status >> 16;
    if (event == PTRACE_EVENT_FORK || event == PTRACE_EVENT_VFORK || event == PTRACE_EVENT_CLONE) {
      unsigned long msg = 0;
      if (ptrace(PTRACE_GETEVENTMSG, tid, nullptr, &msg) == 0 && msg && !done.count(static_cast<pid_t>(msg))) {
        ensure_task(static_cast<pid_t>(msg));
        left.insert(static_cast<pid_t>(msg));
      }
    }
    bool signal_delivery = event == 0 && sig != (SIGTRAP | 0x80);
    if (signal_delivery && sig == SIGTRAP && on_breakpoint(tid)) signal_delivery = false;  // ours, handled
    // Interrupted just after it ran our int3, before it took the SIGTRAP that queued: detached now, it
    // would die of it. It takes it first (its next stop, handled above), then is detached.
    if (event == PTRACE_EVENT_STOP && trap_queued_at_breakpoint(tid)) {
      ptrace(PTRACE_CONT, tid, nullptr, nullptr);
      left.insert(tid);  // (a held stop was not in it)
      return;
    }
    // Take our breakpoint out of its memory (once per process) before letting it go. The address stays
    // known: another thread may already be stopped on the int3, and its SIGTRAP is still ours to
    // emulate (on_breakpoint) after the byte is restored.
    pid_t tgid = threads_[tid].tgid;
    if (event == PTRACE_EVENT_EXEC) restored.insert(tgid);  // a new image: no breakpoint in it
    if (auto it = procs_.find(tgid); it != procs_.end() && it->second.brk && restored.insert(tgid).second) {
      errno = 0;
      unsigned long word = static_cast<unsigned long>(ptrace(PTRACE_PEEKTEXT, tid, it->second.brk, nullptr));
      if (!errno) ptrace(PTRACE_POKETEXT, tid, it->second.brk, reinterpret_cast<void*>((word & ~0xffUL) | 0xc3));
    }
    ptrace(PTRACE_DETACH, tid, nullptr, reinterpret_cast<void*>(static_cast<long>(signal_delivery ? sig : 0)));
    left.erase(tid), done.insert(tid);
  };
  // A thread that has ended does not stop: its end is taken if it can be. A leader that has ended is a
  // zombie whose end is not reported before the other threads': not waited for (the kernel detaches it
  // when the tracer exits). Asked again while the others are waited for: it may be ending just now.
  auto drop_ended = [&] {
    std::vector<pid_t> gone;
    for (pid_t tid : left)
      if (ended(tid)) gone.push_back(tid);
    // Leaders last: one whose threads have all ended can be taken once they have been.
    std::stable_partition(gone.begin(), gone.end(), [&](pid_t t) { return threads_[t].tgid != t; });
    for (pid_t tid : gone) {
      int status = 0;
      if (waitpid(tid, &status, WNOHANG | __WALL) == tid) handle(tid, status);
      else left.erase(tid);
    }
  };
  for (const auto& [tid, status] : held_) handle(tid, status);
  held_.clear();
  drop_ended();
  while (!left.empty()) {
    int status = 0;
    pid_t tid = waitpid(-1, &status, __WALL | __WNOTHREAD | WNOHANG);
    if (tid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (tid == 0) {  // none stopped yet
      drop_ended();
      timespec ms{0, 1000000};
      nanosleep(&ms, nullptr);
      continue;
    }
    handle(tid, status);
  }
  double end = now_ms() - t0_;
  for (auto& [tgid, st] : procs_)
    if (r_.processes[st.index].end_ms < 0) end_process(tgid, end);
}

// The file each opened library path is (symlinks followed), once per path, after the trace: realpath
// makes a system call per path component, too many to make while the tracee waits. A backend directory
// holds dozens of libraries, so its own real path is asked once: a name in it that is no symbolic link
// (one lstat) is the directory's real path and that name; a link is read and its target resolved so.
void resolve_paths(TraceResult& r) {
  std::map<std::string, std::string> seen, dirs;
  auto real = [](const std::string& path) {
    char buf[PATH_MAX];
    return ::realpath(path.c_str(), buf) ? std::optional<std::string>(buf) : std::nullopt;
  };
  // Links followed by hand, each target against its link's directory; where realpath would fail (a loop,
  // a dangling link, a missing directory), the path as named, as realpath's failure gave before.
  auto resolve = [&](const std::string& named) -> std::string {
    std::string path = named;
    for (int links = 0; links <= 40; ++links) {  // SYMLOOP_MAX, then ELOOP
      size_t slash = path.rfind('/');
      std::string name = slash == std::string::npos ? "" : path.substr(slash + 1);
      struct stat sb {};
      if (slash == std::string::npos || name.empty() || name == "." || name == ".." || lstat(path.c_str(), &sb) != 0)
        return real(path).value_or(named);
      std::string dir = slash ? path.substr(0, slash) : "/";
      if (S_ISLNK(sb.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(path.c_str(), target, sizeof target - 1);
        if (n <= 0) return real(path).value_or(named);
        target[n] = 0;
        path = target[0] == '/' ? std::string(target) : dir + "/" + target;
        continue;
      }
      auto it = dirs.find(dir);
      if (it == dirs.end()) it = dirs.emplace(dir, real(dir).value_or("")).first;
      if (it->second.empty()) return real(path).value_or(named);
      return (it->second == "/" ? "" : it->second) + "/" + name;
    }
    return named;
  };
  for (Process& p : r.processes)
    for (Library& l : p.libraries) {
      if (l.outcome == "not found" || l.outcome.rfind("open failed", 0) == 0) continue;
      auto it = seen.find(l.path);
      if (it == seen.end()) it = seen.emplace(l.path, resolve(l.path)).first;
      l.resolved = it->second;
    }
}

// seccomp-BPF: trace (stop) on the calls that matter, allow the rest. Built by libseccomp in the
// tracer and exported as a BPF program, so that the forked child, which may not allocate (the tracer
// can have other threads), only makes system calls before its exec.
Result<std::vector<sock_filter>> build_filter() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) return Error{"seccomp_init failed"};
  // A binary tree over syscall numbers instead of a linear list (libseccomp >= 2.5); the kernel's own
  // cache then lets every call the filter always allows through without running it (Linux >= 5.11).
  int rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  if (rc == -EOPNOTSUPP || rc == -EINVAL) rc = 0;
  // A call of another ABI (a 32-bit i386 program, int $0x80 from a 64-bit one, x32) passes without a stop:
  // libseccomp's default for a foreign architecture is to kill the process, which would change what
  // the program does. Such calls are not followed (the rules below name x86-64 numbers only); the
  // process is still followed through fork, clone, exec and exit, which ptrace reports for any ABI.
  if (rc == 0) rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW);
  auto trace = [&](int nr) { if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), nr, 0); };
  for (int nr : {SCMP_SYS(execve), SCMP_SYS(execveat), SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2),
                 SCMP_SYS(getdents64), SCMP_SYS(close), SCMP_SYS(close_range), SCMP_SYS(dup2), SCMP_SYS(dup3),
                 SCMP_SYS(munmap)})
    trace(nr);
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, 1));
  if (rc == 0) rc = seccomp_rule_add(ctx, SCMP_ACT_TRACE(0), SCMP_SYS(write), 1, SCMP_A0(SCMP_CMP_EQ, 2));
  std::vector<sock_filter> prog;
  if (rc == 0) {
    int fd = memfd_create("vgpu-trace-filter", MFD_CLOEXEC);
    if (fd < 0) rc = -errno;
    if (rc == 0) rc = seccomp_export_bpf(ctx, fd);
    struct stat sb {};
    if (rc == 0 && fstat(fd, &sb) != 0) rc = -errno;
    if (rc == 0) {
      prog.resize(static_cast<size_t>(sb.st_size) / sizeof(sock_filter));
      if (pread(fd, prog.data(), prog.size() * sizeof(sock_filter), 0) != static_cast<ssize_t>(prog.size() * sizeof(sock_filter))) rc = -EIO;
    }
    if (fd >= 0) ::close(fd);
  }
  seccomp_release(ctx);
  if (rc != 0 || prog.empty()) return Error{std::string("the seccomp filter: ") + std::strerror(rc ? -rc : EINVAL)};
  return prog;
}

}  // namespace

std::atomic<pid_t> g_root{0};
std::atomic<int> g_forward_pending{0};  // a signal to forward that came before the command existed

void forward_to_command(int sig) {
  if (pid_t root = g_root.load()) kill(root, sig);
  else g_forward_pending.store(sig);
}

bool env_matters(const std::string& name) {
  for (const char* p : {"LD_", "OLLAMA_", "CUDA_", "GGML_", "VGPU_", "GODEBUG", "NVIDIA_"})
    if (name.rfind(p, 0) == 0) return true;
  return name == "PATH";
}

TraceResult attach_traced(pid_t pid, const TraceOptions& options, const volatile sig_atomic_t* stop) {
  TraceResult r;
  r.command = {"-p", std::to_string(pid)};
  std::vector<pid_t> tids;
  std::error_code ec;
  for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
    tids.push_back(static_cast<pid_t>(std::atoi(t.path().filename().c_str())));
  if (ec || tids.empty()) {
    r.error = "no process " + std::to_string(pid);
    return r;
  }
  // A thread not yet seized can make another between the listing and its seize; one already seized
  // hands us its new threads itself (PTRACE_O_TRACECLONE). So list again until a pass seizes nothing.
  // A thread can still be missed (made by one that ended before its seize, or by one seized in the
  // middle of its clone): Tracer::seize_untraced finds it before the loader breakpoint is set.
  std::vector<pid_t> attached;
  std::set<pid_t> seen;
  for (bool seized = true; seized;) {
    seized = false;
    if (!seen.empty()) {
      tids.clear();
      for (const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task", ec))
        tids.push_back(static_cast<pid_t>(std::atoi(t.path().filename().c_str())));
    }
    for (pid_t t : tids) {
      if (!seen.insert(t).second) continue;
      if (ptrace(PTRACE_SEIZE, t, nullptr, reinterpret_cast<void*>(kAttachOptions)) == 0) {
        attached.push_back(t);
        seized = true;
        continue;
      }
      int err = errno;
      if (err == ESRCH) continue;  // a thread that ended meanwhile
      if (err == EPERM) {
        pid_t tracer = tracer_of(t);
        // Gone, or ended and not yet reaped (a zombie cannot be seized: so is the leader once main has
        // returned through pthread_exit, while the other threads run on). Or a thread one we hold has
        // made: already ours (auto-attached).
        if (tracer < 0 || ended(t) || (tracer == getpid() && !attached.empty())) continue;
      }
      errno = err;
      r.error = "cannot attach to " + std::to_string(t) + ": " + std::strerror(errno) +
                (errno == EPERM ? " (kernel.yama.ptrace_scope, or not your process: run as root)" : "");
      for (pid_t a : attached) ptrace(PTRACE_DETACH, a, nullptr, nullptr);
      return r;
    }
  }
  if (attached.empty()) {
    r.error = "process " + std::to_string(pid) + " has ended (a zombie, not yet reaped by its parent)";
    return r;
  }
  Tracer tr(options, r);
  tr.attach_mode(stop);
  tr.root = pid;
  tr.add_attached(pid, attached);
  // Stop each thread once so that it resumes in syscall-tracing mode.
  for (pid_t t : attached) ptrace(PTRACE_INTERRUPT, t, nullptr, nullptr);
  tr.run_attached();
  resolve_paths(r);
  r.exit_status = r.processes.empty() || !r.processes.front().exited ? 0 : r.exit_status;
  return r;
}

TraceResult run_traced(const std::vector<std::string>& argv, const TraceOptions& options) {
  TraceResult r;
  r.command = argv;
  if (argv.empty()) {
    r.error = "no command";
    return r;
  }
  auto filter = build_filter();
  if (!filter) {
    r.error = filter.error().message;
    return r;
  }
  sock_fprog prog{static_cast<unsigned short>(filter->size()), filter->data()};
  // The command's environment, prepared here: after fork the child only makes system calls.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    if (!options.go_no_preempt || std::strncmp(*e, "GODEBUG=", 8) != 0) env_strings.emplace_back(*e);
  if (options.go_no_preempt) {
    const char* old = getenv("GODEBUG");
    env_strings.push_back(std::string("GODEBUG=") + (old && *old ? std::string(old) + "," : "") + "asyncpreemptoff=1");
  }
  std::vector<char*> envp;
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  // The program found on PATH here, as strace does: execvp in the child would try each directory before
  // it, and each try is an exec the filter stops. The child runs what was found with execvpe (a path, so
  // no search, but its /bin/sh fallback for a script without #!); where nothing executable was found, or
  // that fails, execvpe does the search itself (its errors).
  std::string program = find_on_path(argv[0]);
  // Two pipes: `go` holds the child until it is traced (it reads one byte; no stop, no signal), and
  // `report` brings back the errno of a filter or exec that failed (closed on a good exec).
  int report[2] = {-1, -1}, go[2] = {-1, -1};
  auto close_pipes = [&report, &go] {
    for (int fd : {report[0], report[1], go[0], go[1]})
      if (fd >= 0) ::close(fd);
  };
  if (pipe2(report, O_CLOEXEC) != 0 || pipe2(go, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    close_pipes();
    return r;
  }
  // The signals the tool handles for itself, and SIGPIPE, are held (blocked) from before the fork until
  // the command is traced: one that comes meanwhile is not lost (a Ctrl-C or SIGTERM while it starts),
  // nor taken by the tool's own disposition in the child before the command's is set; it acts once the
  // command is traced. SIGPIPE: the child gone before the `go` byte reaches it is reported, not fatal.
  sigset_t held, mask;
  sigemptyset(&held);
  sigaddset(&held, SIGPIPE);
  for (const auto& [sig, ignored] : options.command_signals) sigaddset(&held, sig);
  pthread_sigmask(SIG_BLOCK, &held, &mask);
  pid_t child = fork();
  if (child < 0) {
    r.error = std::string("fork: ") + std::strerror(errno);
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    close_pipes();
    return r;
  }
  if (child == 0) {
    ::close(report[0]);
    ::close(go[1]);
    for (const auto& [sig, ignored] : options.command_signals) {
      struct sigaction as {};
      as.sa_handler = ignored ? SIG_IGN : SIG_DFL;
      sigaction(sig, &as, nullptr);
    }
    // Wait for the tracer to attach, then filter, then exec: a filtered call with no tracer attached
    // would fail with ENOSYS, so the order matters, and PTRACE_O_EXITKILL ends us if the tracer dies.
    // End of file instead of the byte: the tracer could not attach (and will say why).
    char byte = 0;
    ssize_t got;
    while ((got = read(go[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (got != 1) _exit(127);
    sigprocmask(SIG_SETMASK, &mask, nullptr);  // what came meanwhile is delivered now, traced
    int err = 0;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) err = errno;
    if (!err && syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) err = errno;
    if (!err && !program.empty()) execvpe(program.c_str(), args.data(), envp.data());  // a path: no search
    if (!err) execvpe(args[0], args.data(), envp.data());
    if (!err) err = errno;
    ssize_t ignored = write(report[1], &err, sizeof err);
    (void)ignored;
    _exit(127);
  }
  ::close(report[1]);
  ::close(go[0]);
  // Seized while it waits in read(2), the child is not stopped: its first stop is the filter's, at exec.
  long opts = PTRACE_O_TRACESYSGOOD | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE |
              PTRACE_O_TRACEEXEC | PTRACE_O_TRACESECCOMP | PTRACE_O_EXITKILL;
  if (ptrace(PTRACE_SEIZE, child, nullptr, reinterpret_cast<void*>(opts)) != 0) {
    r.error = std::string("ptrace: ") + std::strerror(errno) +
              " (in a container, ptrace may need CAP_SYS_PTRACE or kernel.yama.ptrace_scope=0)";
    ::close(go[1]);  // end of file: the child exits without running anything
    waitpid(child, nullptr, 0);
    ::close(report[0]);
    pthread_sigmask(SIG_SETMASK, &mask, nullptr);
    return r;
  }
  g_root = child;
  if (int sig = g_forward_pending.exchange(0)) kill(child, sig);  // sent to the tool before the fork
  char byte = 1;
  if (write(go[1], &byte, 1) != 1) {  // EPIPE: the child is gone (killed); the trace reports how it ended
    timespec none{};
    sigset_t pipe_only;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    sigtimedwait(&pipe_only, nullptr, &none);  // the SIGPIPE of that write, not the tool's to die of
  }
  ::close(go[1]);
  pthread_sigmask(SIG_SETMASK, &mask, nullptr);  // a SIGTERM held meanwhile is forwarded now
  if (options.on_started) options.on_started();
  Tracer t(options, r);
  t.run(child);
  g_root = 0;
  resolve_paths(r);
  int err = 0;
  if (read(report[0], &err, sizeof err) == sizeof err && err)
    r.error = "cannot run " + argv[0] + ": " + std::strerror(err);
  ::close(report[0]);
  return r;
}

}  // namespace vgpu::trace
