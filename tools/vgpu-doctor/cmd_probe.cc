#include "cmd_probe.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "elf_file.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;
namespace {

struct ChildResult {
  int status = -1;
  std::string out;
};

// Runs `argv` with environment `env`, stdout and stderr together through a pipe; no shell.
ChildResult run_child(const std::vector<std::string>& argv, const std::map<std::string, std::string>& env) {
  ChildResult r;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return r;
  std::vector<std::string> envs;
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> a, e;
  for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
  a.push_back(nullptr);
  for (const auto& s : envs) e.push_back(const_cast<char*>(s.c_str()));
  e.push_back(nullptr);
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::dup2(fds[1], 1) < 0 || ::dup2(fds[1], 2) < 0 || ::chdir("/") != 0) ::_exit(126);
    ::execve(a[0], a.data(), e.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    r.out.append(buf, static_cast<size_t>(n));
  }
  ::close(fds[0]);
  if (pid > 0)
    while (::waitpid(pid, &r.status, 0) < 0 && errno == EINTR) {
    }
  return r;
}

std::string runner_path(const char* argv0) {
  std::error_code ec;
  fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) self = fs::absolute(argv0, ec);
  for (const fs::path& p : {self.parent_path() / "../libexec/vgpu/ggml-runner", self.parent_path() / "ggml-runner"})
    if (fs::exists(p, ec)) return fs::weakly_canonical(p, ec).string();
  return "";
}

}  // namespace

void setup_probe(CLI::App& app, CheckOptions& o) {
  CLI::App* c = app.add_subcommand("probe", "Load the install's own ggml registry as Ollama's runner does, for each "
                                            "backend directory, and print the devices each yields");
  c->add_option("--ollama-dir", o.ollama_dir, "Ollama's library directory (default: as for check)");
  c->add_option("--shim-dir", o.shim_dir, "where vgpu's shims are (default: as for check)");
  c->add_option("--env-file", o.env_file, "the service environment: a systemd drop-in or KEY=VALUE lines");
  c->add_option("--pid", o.pid, "take the environment of this running process");
  c->add_option("--rules-dir", o.rules_dir, "rules to use (default: the installed share/vgpu/rules)");
}

int run_probe(const CheckOptions& o, const char* argv0) {
  auto in = discover_install(o, argv0);
  if (!in) {
    std::fprintf(stderr, "vgpu-doctor: %s\n", in.error().message.c_str());
    return 3;
  }
  std::string runner = runner_path(argv0);
  if (runner.empty()) {
    std::fprintf(stderr, "vgpu-doctor: ggml-runner is not installed beside vgpu-doctor (libexec/vgpu/ggml-runner)\n");
    return 3;
  }
  if (in->backend_dirs.empty()) {
    std::printf("%s: no backend directories (nothing with a libggml-* file)\n", in->lib_ollama.c_str());
    return 1;
  }
  std::printf("era %s, %s\n", in->era.empty() ? "?" : in->era.c_str(), in->lib_ollama.c_str());
  int gpus_total = 0;
  for (const std::string& dir : in->backend_dirs) {
    auto env = runner_environment(*in, dir);
    ChildResult r = run_child({runner, in->lib_ollama, in->lib_ollama + "/" + dir}, env);
    std::istringstream lines(r.out);
    int gpus = 0;
    std::vector<std::string> devices, reasons;
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("device ", 0) == 0) {
        devices.push_back(line);
        gpus += line.find("| type gpu |") != std::string::npos;
        continue;
      }
      // The child's own words first (rules/log_lines.toml); lines that only report progress are not reasons.
      for (const LogLine* l : in->rules.match_log_line(line, in->era)) {
        if (l->severity == Severity::info) continue;
        std::map<std::string, std::string> vars = eval_context(*in).facts;
        l->matches(line, &vars);
        reasons.push_back(line + "\n      " + expand(l->meaning, vars) +
                          (l->fix.empty() ? "" : "\n      fix: " + expand(l->fix, vars)));
        break;  // the first, most specific explanation of a line is enough
      }
    }
    gpus_total += gpus;
    std::printf("\n%s: %d GPU(s)\n", dir.c_str(), gpus);
    for (const std::string& d : devices) std::printf("  %s\n", d.c_str());
    bool crashed = !WIFEXITED(r.status) || WEXITSTATUS(r.status) != 0;
    if (crashed)
      std::printf("  the runner %s\n", WIFSIGNALED(r.status) ? ("was killed by signal " + std::to_string(WTERMSIG(r.status))).c_str()
                                                             : ("exited with status " + std::to_string(WEXITSTATUS(r.status))).c_str());
    if (gpus == 0 && reasons.empty()) {
      // ggml does not report a backend that fails to load (Ollama's era B is silent about it): ask the
      // loader model why the directory's backend library cannot load in this runner's environment.
      auto loader = make_loader(env.count("LD_LIBRARY_PATH") ? env["LD_LIBRARY_PATH"] : "", "/");
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(in->lib_ollama + "/" + dir, ec)) {
        std::string f = e.path().filename().string();
        if (!loader || f.rfind("libggml-", 0) != 0 || f.find("base") != std::string::npos || f.find("cpu") != std::string::npos)
          continue;
        Resolution top = loader->load(e.path().string(), nullptr);
        for (const auto& obj : loader->objects())
          for (const Resolution& d : obj->deps)
            if (!d.found) {
              reasons.push_back(f + " cannot load: " + d.name + ", needed by " + obj->path + ", is not found "
                                "on the runner's path (vgpu-doctor check lists where it looked)");
            } else if (d.object) {
              for (const MissingImport& m : missing_imports(obj->elf, d.name, d.object->elf, d.name == "libcuda.so.1" ? "cu" : ""))
                reasons.push_back(f + " cannot load: " + m.symbol + (m.version.empty() ? "" : "@" + m.version) +
                                  ", imported by " + obj->path + ", is not provided by " + d.path + ": " + m.reason);
            }
        (void)top;
      }
    }
    if (gpus == 0) {
      if (reasons.empty()) std::printf("  no reason in its output; run `vgpu-doctor check` for links, libraries and the stub\n");
      for (const std::string& why : reasons) std::printf("  why: %s\n", why.c_str());
    }
  }
  return gpus_total ? 0 : 1;
}

}  // namespace vgpu::doctor
