// The shims at run time: for each backend dir, in a child process with that dir's runner environment,
// vgpu-smi loads libcuda.so.1, libnvidia-ml.so.1 and the CUDA runtime the dir's ggml backend needs, as
// Ollama's runner does, and checks that driver, runtime and NVML agree on count, name, UUID, PCI bus id
// and memory (tools/vgpu-smi). Its verdict and lines become the evidence; the versions it reports are
// judged against rules/drivers.toml ([[driver_floor]]).
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "checks.h"
#include "child.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;
namespace {

// The runtime the dir's ggml backend links against (its DT_NEEDED libcudart.so.N), if any.
std::string needed_cudart(const Install& in, const std::string& dir) {
  std::error_code ec;
  for (const auto& f : fs::directory_iterator(in.lib_ollama + "/" + dir, ec)) {
    std::string name = f.path().filename().string();
    if (name.rfind("libggml-", 0) != 0) continue;
    if (auto elf = shared_elf_cache()->read(f.path().string()))
      for (const std::string& n : elf.value()->needed)
        if (n.rfind("libcudart.so", 0) == 0) return n;
  }
  return "";
}

// "12.8.90" from a bundled libcudart.so.12.8.90 (Ollama's cuda_compat.go reads the same file name).
std::string bundled_cudart_version(const Install& in, const std::string& dir) {
  std::error_code ec;
  std::string best;
  for (const auto& f : fs::directory_iterator(in.lib_ollama + "/" + dir, ec)) {
    std::string name = f.path().filename().string();
    if (name.rfind("libcudart.so.", 0) != 0) continue;
    std::string v = name.substr(13);
    if (std::count(v.begin(), v.end(), '.') >= 1 && v.find_first_not_of("0123456789.") == std::string::npos &&
        v.size() > best.size())
      best = v;
  }
  return best;
}

std::map<std::string, std::string> versions_line(const std::string& out) {
  std::map<std::string, std::string> v;
  size_t at = out.rfind("versions: ");
  if (at == std::string::npos) return v;
  std::istringstream words(out.substr(at + 10, out.find('\n', at) - at - 10));
  for (std::string w; words >> w;)
    if (size_t eq = w.find('='); eq != std::string::npos) v[w.substr(0, eq)] = w.substr(eq + 1);
  return v;
}

long number(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  if (it == m.end()) return -1;
  auto v = parse_version(it->second);
  return v ? (*v)[0] : -1;
}

bool cc_below(const std::string& ccs, const std::string& limit) {
  auto lim = parse_version(limit);
  std::istringstream in(ccs);
  for (std::string cc; std::getline(in, cc, ',');)
    if (auto v = parse_version(cc); v && lim && *v < *lim) return true;
  return false;
}

}  // namespace

ShimsCheck ShimsCheck::start(const Install& in, const std::string& smi) {
  ShimsCheck c;
  c.smi_ = smi;
  if (smi.empty()) return c;
  for (const std::string& dir : in.backend_dirs) {
    Run run;
    run.dir = dir;
    run.cudart = needed_cudart(in, dir);
    run.cudart_version = bundled_cudart_version(in, dir);
    auto env = runner_environment(in, dir, RunnerEnv::Phase::model);
    env["VGPU_SYSFS_ROOT"] = in.sysfs_root;
    ChildOptions co;
    co.inherit_env = false;
    co.env = env_list(env);
    co.cwd = "/";
    co.merge_stderr = true;
    co.timeout_ms = 30000;  // Ollama gives a discovery runner 30 s
    std::vector<std::string> argv{smi};
    if (!run.cudart.empty()) argv.insert(argv.end(), {"--cudart", run.cudart});
    auto child = Child::start(argv, co);
    if (child) run.child.emplace(std::move(child.value()));
    else run.start_error = child.error().message;
    c.runs_.push_back(std::move(run));
  }
  return c;
}

void ShimsCheck::finish(const Install& in, Report& r) {
  for (Run& run : runs_) {
    auto result = run.child ? run.child->finish() : Result<ChildResult>(Error{run.start_error});
    run.child.reset();
    std::string fact = "vgpu-smi" + (run.cudart.empty() ? "" : " --cudart " + run.cudart) + " [runner environment of " + run.dir + "]";
    if (!result) {  // vgpu-smi itself did not run: a fault of this tool's installation, not of Ollama's
      r.facts["shims at run time"][run.dir] = fact + ": " + result.error().message;
      continue;
    }
    const std::string& out = result->output;
    int code = WIFEXITED(result->status) ? WEXITSTATUS(result->status) : 128;
    std::vector<std::string> lines;
    std::istringstream ls(out);
    for (std::string l; std::getline(ls, l);)
      if (l.rfind("versions: ", 0) != 0) lines.push_back(l);
    r.facts["shims at run time"][run.dir] = fact + ": exit " + std::to_string(code);
    std::string libs = "libcuda.so.1, libnvidia-ml.so.1" + (run.cudart.empty() ? "" : ", " + run.cudart);
    if (code != 0) {
      bool no_device = out.find("no CUDA device") != std::string::npos;
      bool runtime_error = out.find("runtime error: ") != std::string::npos;
      r.findings.push_back(
          {code == 3 ? "shims.not_loadable" : no_device ? "shims.no_device" : runtime_error ? "shims.runtime_error" : "shims.disagree",
           code == 3 || !no_device ? Severity::error : Severity::warning, libs,
           code == 3        ? "the " + run.dir + " runner's environment cannot load " + libs
           : no_device      ? "in the " + run.dir + " runner's environment the driver reports no CUDA device"
           : runtime_error  ? "in the " + run.dir + " runner's environment the CUDA runtime fails where ggml-cuda calls it"
                            : "driver, runtime and NVML disagree in the " + run.dir + " runner's environment",
           lines, code == 3 ? "vgpu-doctor fix" : "VGPU_LOG=info " + smi_ + (run.cudart.empty() ? "" : " --cudart " + run.cudart) +
                                                      "  # says what the shims looked for"});
    }
    // The versions against rules/drivers.toml.
    auto v = versions_line(out);
    if (v.empty()) continue;
    long api = number(v, "driver_api");
    long nvml = number(v, "nvml_driver");
    bool nvidia_runtime = v["runtime_vgpu"] == "0" && v["runtime"] != "0";
    for (const DriverFloor& f : in.rules.driver_floors) {
      if (!in.era.empty() && !applies_to(f.eras, in.era)) continue;
      if (std::find(f.backend_dirs.begin(), f.backend_dirs.end(), run.dir) == f.backend_dirs.end()) continue;
      if (f.only_nvidia_runtime && !nvidia_runtime) continue;
      if (f.cudart_minor_at_least >= 0) {
        auto cv = parse_version(run.cudart_version);
        if (!cv || (*cv)[1] < f.cudart_minor_at_least) continue;
      }
      if (!f.cc_below.empty() && !cc_below(v["cc"], f.cc_below)) continue;
      if (!f.min_ollama_version.empty() && !in.ollama_version.empty()) {
        auto have = parse_version(in.ollama_version), from = parse_version(f.min_ollama_version);
        if (have && from && *have < *from) continue;
      }
      long have = f.min_cuda_driver_api ? api : nvml;
      long need = f.min_cuda_driver_api ? f.min_cuda_driver_api : f.min_nvml_driver;
      if (have < 0 || have >= need) continue;  // unknown (Ollama then keeps the devices) or enough
      std::map<std::string, std::string> vars = eval_context(in).facts;
      vars["backend_dir"] = run.dir;
      vars["cuda_driver_api"] = v["driver_api"];
      vars["nvml_driver"] = v["nvml_driver"];
      vars["runtime"] = run.cudart.empty() ? "(none)" : run.cudart + " " + v["runtime"];
      vars["cudart_version"] = run.cudart_version.empty() ? "(unknown)" : run.cudart_version;
      vars["required"] = std::to_string(need);
      vars["cc"] = v["cc"];
      r.findings.push_back({f.id, f.severity, run.dir, expand(f.message, vars), {expand(f.evidence, vars)}, expand(f.fix, vars)});
    }
  }
}

}  // namespace vgpu::doctor
