#include "child.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace vgpu {
namespace {

long long now_ms() {
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<long long>(t.tv_sec) * 1000 + t.tv_nsec / 1000000;
}

// To end of file, or until `deadline_ms` (0: none) passes.
Result<std::string> read_all(int fd, long long deadline_ms) {
  std::string out;
  char buf[8192];
  for (;;) {
    if (deadline_ms) {
      long long left = deadline_ms - now_ms();
      pollfd p{fd, POLLIN, 0};
      int r = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return Error{std::string("poll: ") + std::strerror(errno)};
      if (r == 0) return Error{"timed out"};
    }
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("read: ") + std::strerror(errno)};
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

Result<int> reap(pid_t pid) {
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  if (r < 0) return Error{std::string("waitpid: ") + std::strerror(errno)};
  return status;
}

// posix_spawn's attributes and file actions, released on every path out.
struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

}  // namespace

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

Result<Child> Child::start(const std::vector<std::string>& argv, const ChildOptions& o) {
  if (argv.empty()) return Error{"run_child: no program"};
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
  Fd out_r(fds[0]), out_w(fds[1]);
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  SpawnSetup s;
  // dup2 clears O_CLOEXEC on the target; glibc (>= 2.29) also clears it when the pipe already is fd 1.
  int rc = posix_spawn_file_actions_adddup2(&s.actions, out_w.fd, STDOUT_FILENO);
  if (rc == 0 && o.merge_stderr) rc = posix_spawn_file_actions_adddup2(&s.actions, STDOUT_FILENO, STDERR_FILENO);
  if (rc == 0 && !o.cwd.empty()) rc = posix_spawn_file_actions_addchdir_np(&s.actions, o.cwd.c_str());
  // The child starts with default signal handling and an empty mask, whatever the caller set.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  if (rc == 0) rc = posix_spawnattr_setsigmask(&s.attr, &none);
  if (rc == 0) rc = posix_spawnattr_setsigdefault(&s.attr, &all);
  if (rc == 0) rc = posix_spawnattr_setflags(&s.attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  if (rc != 0) return Error{std::string("posix_spawn setup: ") + std::strerror(rc)};
  pid_t pid = -1;
  rc = ::posix_spawn(&pid, args[0], &s.actions, &s.attr, args.data(), o.inherit_env ? environ : envp.data());
  // glibc's posix_spawn reports a failed exec (and a failed chdir or dup2) as its return value.
  if (rc != 0) return Error{"cannot execute " + argv[0] + ": " + std::strerror(rc)};
  return Child(pid, std::move(out_r), o.timeout_ms);
}

Child::Child(pid_t pid, Fd out, int timeout_ms)
    : pid_(pid), out_(std::move(out)), deadline_ms_(timeout_ms > 0 ? now_ms() + timeout_ms : 0) {}

Child::~Child() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    (void)reap(pid_);
  }
}

Result<ChildResult> Child::finish() {
  if (pid_ <= 0) return Error{"finish: the child was already finished"};
  auto text = read_all(out_.fd, deadline_ms_);
  out_ = Fd();
  pid_t pid = pid_;
  pid_ = -1;
  if (!text) ::kill(pid, SIGKILL);  // out of time, or blocked writing to a pipe nobody reads
  auto status = reap(pid);
  if (!text) return text.error();
  if (!status) return status.error();
  return ChildResult{*status, std::move(*text)};
}

Result<ChildResult> run_child(const std::vector<std::string>& argv, const ChildOptions& o) {
  auto child = Child::start(argv, o);
  if (!child) return child.error();
  return child->finish();
}

}  // namespace vgpu
