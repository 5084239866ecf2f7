// The installation vgpu-doctor checks: where Ollama's libraries are, where vgpu's shims are, which
// environment the Ollama service gets, which rules apply. Each fact records where it came from.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "loader.h"
#include "result.h"
#include "rule_eval.h"
#include "rules.h"
#include "service_env.h"

namespace vgpu::doctor {

struct CheckOptions {
  std::string ollama_dir, shim_dir, env_file, rules_dir, output, format = "text";
  int pid = 0;
  bool verbose = false;
  std::string sysfs_root;  // default: VGPU_SYSFS_ROOT of the service environment, else /sys
};

struct Install {
  std::string lib_ollama;   // Ollama's LibOllamaPath
  std::string lib_ollama_origin;
  std::string ollama_exe;   // the ollama binary, if found
  std::string shim_dir;
  std::string shim_dir_origin;
  std::vector<std::string> backend_dirs;  // basenames under lib_ollama holding a libggml-* file
  ServiceEnv env;           // the service's environment
  std::string env_origin;   // "systemd unit and drop-ins", "--env-file F", "/proc/PID/environ"
  std::string ollama_version;  // from `ollama -v`, "" when unknown
  std::string ollama_version_note;  // how it was found, or why not
  std::string era;          // "A", "B", "C" or "" when unknown
  std::string era_evidence;
  std::string era_on_disk;  // the era the files of lib_ollama show, when the version says another one
  RuleSet rules;
  std::string rules_dir;
  std::string sysfs_root;
};

// The version `exe -v` reports for itself (never a server's), e.g. "0.24.0".
Result<std::string> query_ollama_version(const std::string& exe);

// Finds everything the check needs; an Error means the doctor itself cannot go on (exit 3).
Result<Install> discover_install(const CheckOptions& o, const char* argv0);

// The facts rules are evaluated against (rules/FORMAT.md "Facts").
EvalContext eval_context(const Install& in);

// The environment the era's runner for `backend_dir` starts with: the service's, with the era's
// [[era.runner_env]] steps for discovery applied in order (rules/eras.toml).
// `phase`: discovery (who loads libcuda.so.1 and NVML to find devices: era A's server itself) or model
// (who loads the ggml backends: era A's model runners, B's and C's discovery runners too, whose model
// and discovery steps are the same).
// "NAME=value" strings, as a child's environment is given (ChildOptions::env).
std::vector<std::string> env_list(const std::map<std::string, std::string>& env);

std::map<std::string, std::string> runner_environment(const Install& in, const std::string& backend_dir,
                                                      RunnerEnv::Phase phase = RunnerEnv::Phase::discovery);

// A loader model of this machine's ld.so (its --list-diagnostics and /etc/ld.so.cache) for a process
// with `ld_library_path` running in `cwd` (Ollama's runners inherit the server's, "/" under systemd).
// Starts gathering what every loader model needs (ld.so --list-diagnostics, /etc/ld.so.cache) on a
// thread, so that it overlaps the work before the first make_loader. Optional.
void prefetch_loader_facts();
// The parsed ELF files every loader model of this run shares.
const std::shared_ptr<ElfCache>& shared_elf_cache();
Result<LoaderModel> make_loader(const std::string& ld_library_path, const std::string& cwd = "/");

}  // namespace vgpu::doctor
