#include "cmd_probe.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include "child.h"
#include "elf_file.h"
#include "tool_paths.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;
namespace {

std::string runner_path(const char* argv0) {
  std::error_code ec;
  fs::path dir = executable_dir(argv0);
  for (const fs::path& p : {dir / "../libexec/vgpu/ggml-runner", dir / "ggml-runner"})
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
  c->add_option("--rules-dir", o.rules_dir, "rules to use (default: the installed share/vgpu/rules)")->check(CLI::ExistingDirectory);
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
    auto env = runner_environment(*in, dir, RunnerEnv::Phase::model);
    ChildOptions co;
    co.inherit_env = false;
    co.env = env_list(env);
    co.cwd = "/";
    co.merge_stderr = true;
    auto run = run_child({runner, in->lib_ollama, in->lib_ollama + "/" + dir}, co);
    if (!run) {
      std::fprintf(stderr, "vgpu-doctor: %s\n", run.error().message.c_str());
      return 3;
    }
    const ChildResult& r = *run;
    std::istringstream lines(r.output);
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
    if (crashed) std::printf("  the runner %s\n", describe_status(r.status).c_str());
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
              for (const MissingImport& m : missing_imports(*obj->elf, d.name, *d.object->elf, d.name == "libcuda.so.1" ? "cu" : ""))
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
