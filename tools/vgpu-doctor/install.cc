#include "install.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>

#include "child.h"
#include "host_loader.h"
#include "ld_cache.h"
#include "ld_diagnostics.h"
#include "rule_eval.h"
#include "tool_paths.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;
namespace {

}  // namespace

Result<std::string> query_ollama_version(const std::string& exe) {
  // `ollama -v` asks the server at OLLAMA_HOST for its version and prints the client's own when they
  // differ or no server answers ("Warning: client version is X"); point it at a closed port so that
  // the answer is always the binary's own, and never wait on a server.
  ChildOptions co;
  co.inherit_env = false;
  co.env = {"OLLAMA_HOST=127.0.0.1:1", "HOME=/nonexistent", "PATH=/usr/bin:/bin"};
  co.merge_stderr = true;
  co.timeout_ms = 5000;
  auto run = run_child({exe, "-v"}, co);
  if (!run) return Error{"`" + exe + " -v`: " + run.error().message};
  for (const char* marker : {"client version is ", "ollama version is "}) {
    size_t at = run->output.find(marker);
    if (at == std::string::npos) continue;
    at += std::strlen(marker);
    std::string v = run->output.substr(at, run->output.find_first_of(" \n", at) - at);
    if (parse_version(v)) return v;
  }
  return Error{"`" + exe + " -v` printed no version: " + run->output.substr(0, 200)};
}

Result<Install> discover_install(const CheckOptions& o, const char* argv0) {
  Install in;
  std::error_code ec;
  std::string here = executable_dir(argv0);

  // Rules: --rules-dir, else the installed copy beside the tool, else the source tree it was built from.
  auto rules_dir = find_rules_dir(o.rules_dir, here, VGPU_SOURCE_RULES_DIR);
  if (!rules_dir) return rules_dir.error();
  in.rules_dir = rules_dir.value();
  if (in.rules_dir.empty()) return Error{"no rules directory (looked for --rules-dir, " + here + "/../share/vgpu/rules)"};
  // The doctor never matches log lines: their regexes are not compiled (every key is still checked).
  auto rules = load_rules(in.rules_dir, RuleLoadOptions{.compile_log_patterns = false});
  if (!rules) return Error{"rules: " + rules.error().message};
  in.rules = std::move(rules.value());

  // Ollama: --ollama-dir, else LibOllamaPath of the ollama on PATH (dir(realpath)/../lib/ollama), else
  // the install script's and the distributions' locations.
  in.ollama_exe = find_on_path("ollama", "/usr/local/bin:/usr/bin:/bin");
  std::vector<std::pair<std::string, std::string>> candidates;
  if (!o.ollama_dir.empty()) candidates.push_back({o.ollama_dir, "--ollama-dir"});
  else {
    if (!in.ollama_exe.empty()) {
      fs::path real = fs::weakly_canonical(in.ollama_exe, ec);
      candidates.push_back({(real.parent_path() / "../lib/ollama").lexically_normal().string(),
                            "the ollama binary on PATH (" + real.string() + ")"});
    }
    candidates.push_back({"/usr/local/lib/ollama", "default location"});
    candidates.push_back({"/usr/lib/ollama", "default location"});
  }
  for (const auto& [dir, why] : candidates)
    if (fs::is_directory(dir, ec)) {
      in.lib_ollama = fs::weakly_canonical(dir, ec).string();
      in.lib_ollama_origin = why;
      break;
    }
  if (in.lib_ollama.empty())
    return Error{o.ollama_dir.empty() ? "no Ollama installation found (no ollama on PATH, no /usr/local/lib/ollama or "
                                        "/usr/lib/ollama); point at one with --ollama-dir"
                                      : o.ollama_dir + " is not a directory"};
  for (const auto& e : fs::directory_iterator(in.lib_ollama, ec)) {
    if (!e.is_directory()) continue;
    for (const auto& f : fs::directory_iterator(e.path(), ec))
      if (f.path().filename().string().rfind("libggml-", 0) == 0) {
        in.backend_dirs.push_back(e.path().filename().string());
        break;
      }
  }
  std::sort(in.backend_dirs.begin(), in.backend_dirs.end());

  // Shims: --shim-dir, else /usr/lib64, else beside the tool.
  for (const auto& [dir, why] : std::vector<std::pair<std::string, std::string>>{
           {o.shim_dir, "--shim-dir"}, {"/usr/lib64", "default location"}, {here + "/../lib64", "beside vgpu-doctor"}}) {
    if (!dir.empty() && fs::exists(fs::path(dir) / "libvgpu-cuda.so", ec)) {
      in.shim_dir = fs::weakly_canonical(dir, ec).string();
      in.shim_dir_origin = why;
      break;
    }
  }
  if (in.shim_dir.empty()) {
    in.shim_dir = o.shim_dir.empty() ? "/usr/lib64" : o.shim_dir;
    in.shim_dir_origin = "not found (no libvgpu-cuda.so there)";
  }

  // The service's environment.
  if (!o.env_file.empty()) {
    auto env = read_env_source(o.env_file);
    if (!env) return Error{"--env-file: " + env.error().message};
    in.env = std::move(env.value());
    in.env_origin = "--env-file " + o.env_file;
  } else if (o.pid) {
    auto env = read_process_env(o.pid);
    if (!env) return Error{"--pid: " + env.error().message};
    in.env = std::move(env.value());
    in.env_origin = "/proc/" + std::to_string(o.pid) + "/environ";
  } else {
    auto env = read_service_env("/etc/systemd/system/ollama.service", "/etc/systemd/system/ollama.service.d");
    if (env) in.env = std::move(env.value());
    in.env_origin = "systemd: /etc/systemd/system/ollama.service and ollama.service.d/*.conf";
  }
  const EnvVar* sysfs = in.env.find("VGPU_SYSFS_ROOT");
  in.sysfs_root = !o.sysfs_root.empty() ? o.sysfs_root : sysfs ? sysfs->value : "/sys";

  // The binary of this install: <prefix>/bin/ollama beside <prefix>/lib/ollama (the tarball's layout),
  // else the one on PATH when lib_ollama is its own. Then its version (the surest sign of the era).
  {
    fs::path beside = fs::path(in.lib_ollama).parent_path().parent_path() / "bin/ollama";
    std::string path_lib;
    if (!in.ollama_exe.empty())
      path_lib = fs::weakly_canonical(fs::weakly_canonical(in.ollama_exe, ec).parent_path() / "../lib/ollama", ec).string();
    if (::access(beside.c_str(), X_OK) == 0) in.ollama_exe = beside.string();
    else if (path_lib != in.lib_ollama) in.ollama_exe.clear();
  }
  if (!in.ollama_exe.empty()) {
    auto v = query_ollama_version(in.ollama_exe);
    if (v) in.ollama_version = v.value(), in.ollama_version_note = "`" + in.ollama_exe + " -v`";
    else in.ollama_version_note = v.error().message;
  }

  // The era: the first era_detect whose conditions hold (rules/eras.toml).
  EvalContext ctx = eval_context(in);
  std::vector<std::string> disk_eras;  // what the files allow
  for (const EraDetect& d : in.rules.era_detects) {
    auto matches = evaluate(d.when, ctx);
    if (matches.empty() && !d.when.empty()) continue;
    std::map<std::string, std::string> vars = ctx.facts;
    if (!matches.empty()) vars.insert(matches.front().begin(), matches.front().end());
    if (d.eras.size() == 1) in.era = d.eras[0];
    in.era_evidence = d.id + ": " + expand(d.evidence, vars) + " (eras " + [&] {
      std::string s;
      for (const auto& e : d.eras) s += (s.empty() ? "" : ", ") + e;
      return s;
    }() + ")";
    if (in.era.empty() && !d.eras.empty()) in.era = d.eras.back();  // the newest the evidence allows
    disk_eras = d.eras;
    break;
  }
  // The version decides between the eras the files allow (A and B ship the same layout); a version
  // whose era the files do not allow means a binary and a lib/ollama from different releases.
  if (const Era* by_version = in.rules.era_for_version(in.ollama_version)) {
    std::string why = in.ollama_exe + " -v: " + in.ollama_version + " (era " + by_version->id +
                      (by_version->first_version.empty() ? "" : ", from " + by_version->first_version) + ")";
    bool allowed = disk_eras.empty() || std::find(disk_eras.begin(), disk_eras.end(), by_version->id) != disk_eras.end();
    if (!allowed) in.era_on_disk = in.era;
    in.era_evidence = why + (in.era_evidence.empty() ? "" : "; files: " + in.era_evidence);
    in.era = by_version->id;
  }
  return in;
}

EvalContext eval_context(const Install& in) {
  EvalContext ctx;
  ctx.env = &in.env;
  ctx.facts = {{"lib_ollama", in.lib_ollama}, {"ollama_exe", in.ollama_exe}, {"ollama_version", in.ollama_version},
               {"era", in.era}, {"shim_dir", in.shim_dir}, {"service", "ollama"}};
  ctx.list_facts["backend_dirs"] = in.backend_dirs;
  ctx.shims = shim_names(in.rules);  // what counts as a shim for file_is_shim and provider = "shim"
  ctx.sysfs_root = in.sysfs_root;
  return ctx;
}

}  // namespace vgpu::doctor

namespace vgpu::doctor {

std::vector<std::string> env_list(const std::map<std::string, std::string>& env) {
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

std::map<std::string, std::string> runner_environment(const Install& in, const std::string& backend_dir,
                                                      RunnerEnv::Phase phase) {
  std::map<std::string, std::string> env;
  for (const EnvVar& v : in.env.vars) env[v.name] = v.value;
  const Era* era = in.rules.find_era(in.era);
  if (!era) return env;
  std::map<std::string, std::string> vars = eval_context(in).facts;
  vars["backend_dir"] = in.lib_ollama + "/" + backend_dir;
  for (const RunnerEnv& step : era->runner_env) {
    if (step.phase != RunnerEnv::Phase::all && step.phase != phase) continue;
    std::string joined;
    for (const std::string& e : step.entries) joined += (joined.empty() ? "" : ":") + expand(e, vars);
    std::string& cur = env[step.var];
    switch (step.action) {
      case RunnerEnv::Action::prepend: cur = cur.empty() ? joined : joined + ":" + cur; break;
      case RunnerEnv::Action::append: cur = cur.empty() ? joined : cur + ":" + joined; break;
      case RunnerEnv::Action::replace:
      case RunnerEnv::Action::set: cur = joined; break;
      case RunnerEnv::Action::inherit: break;
    }
    if (cur.empty()) env.erase(step.var);
  }
  return env;
}

}  // namespace vgpu::doctor

namespace vgpu::doctor {

const std::shared_ptr<ElfCache>& shared_elf_cache() { return host_elf_cache(); }
void prefetch_loader_facts() { prefetch_host_loader_facts(); }
Result<LoaderModel> make_loader(const std::string& ld_library_path, const std::string& cwd) {
  return host_loader(ld_library_path, cwd);
}

}  // namespace vgpu::doctor
