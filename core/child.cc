#include "child.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "fd.h"

namespace vgpu {
namespace {

// A forked child that is always reaped: killed and waited for if the caller gives up on it early.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  Result<int> wait() {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, 0);
    while (r < 0 && errno == EINTR);
    pid_ = -1;
    if (r < 0) return Error{std::string("waitpid: ") + std::strerror(errno)};
    return status;
  }

 private:
  pid_t pid_;
};

bool make_pipe(Fd& r, Fd& w) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return false;
  r.fd = fds[0];
  w.fd = fds[1];
  return true;
}

Result<std::string> read_all(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("read: ") + std::strerror(errno)};
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

// dup2 onto itself would keep O_CLOEXEC (the pipe got that number because it was closed): clear it.
bool redirect(int from, int to) { return from == to ? ::fcntl(to, F_SETFD, 0) == 0 : ::dup2(from, to) >= 0; }

}  // namespace

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

Result<ChildResult> run_child(const std::vector<std::string>& argv, const ChildOptions& o) {
  if (argv.empty()) return Error{"run_child: no program"};
  Fd out_r, out_w, err_r, err_w;  // output; the errno of a failed exec (closed by a successful one)
  if (!make_pipe(out_r, out_w) || !make_pipe(err_r, err_w)) return Error{std::string("pipe: ") + std::strerror(errno)};
  std::vector<char*> args, envp;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const std::string& e : o.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    bool ready = redirect(out_w.fd, STDOUT_FILENO) && (!o.merge_stderr || ::dup2(STDOUT_FILENO, STDERR_FILENO) >= 0) &&
                 (o.cwd.empty() || ::chdir(o.cwd.c_str()) == 0);
    if (ready) {
      if (o.inherit_env) ::execv(args[0], args.data());
      else ::execve(args[0], args.data(), envp.data());
    }
    int e = errno;
    ssize_t ignored = ::write(err_w.fd, &e, sizeof e);
    (void)ignored;
    ::_exit(127);  // never return into the caller (STYLE.md §3)
  }
  ChildProcess child(pid);
  ::close(out_w.fd), out_w.fd = -1;
  ::close(err_w.fd), err_w.fd = -1;
  auto text = read_all(out_r.fd);
  if (!text) return text.error();
  auto err = read_all(err_r.fd);
  if (!err) return err.error();
  auto status = child.wait();
  if (!status) return status.error();
  if (err->size() == sizeof(int)) {
    int e;
    std::memcpy(&e, err->data(), sizeof e);
    return Error{"cannot execute " + argv[0] + ": " + std::strerror(e)};
  }
  return ChildResult{*status, std::move(*text)};
}

}  // namespace vgpu
