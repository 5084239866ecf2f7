// The environment a service process gets, read the way systemd builds it, so that every variable the
// doctor reasons about says where it came from ("[Environment= in /etc/systemd/system/ollama.service.d/
// vgpu.conf:3]"). Sources:
//   - unit files and drop-ins: [Service] Environment= (systemd.exec(5): assignments separated by
//     spaces, double or single quotes group, backslash escapes, %% is a literal %, an empty
//     Environment= clears what came before) and EnvironmentFile= (a leading '-' means "ignore if
//     missing");
//   - environment files: KEY=VALUE lines, '#' and ';' comments, quoted values (systemd's
//     load_env_file, also what `--env-file` accepts);
//   - a running process: /proc/PID/environ.
// Later assignments win, as in systemd: files in order, then lines in order, EnvironmentFile= after
// Environment= (systemd.exec(5)).
#pragma once

#include <string>
#include <vector>

#include "result.h"

namespace vgpu {

struct EnvVar {
  std::string name, value;
  std::string origin;  // "Environment= in FILE:LINE", "EnvironmentFile FILE:LINE", "/proc/PID/environ"
};

struct ServiceEnv {
  std::vector<EnvVar> vars;                   // final values, one per name, in first-set order
  std::vector<std::string> env_files;         // EnvironmentFile= paths seen (leading '-' kept)
  std::vector<std::string> problems;          // "FILE:LINE: ..." for lines systemd would reject
  const EnvVar* find(const std::string& name) const;
  void set(const std::string& name, const std::string& value, const std::string& origin);
};

// Parses one unit file or drop-in into `env` (Environment= only; EnvironmentFile= paths are recorded).
void parse_unit_environment(const std::string& text, const std::string& origin, ServiceEnv& env);
// Parses a KEY=VALUE environment file into `env`.
void parse_env_file(const std::string& text, const std::string& origin, ServiceEnv& env);
// Reads a drop-in or an environment file, whichever `path` holds (a drop-in has a [Section] line).
Result<ServiceEnv> read_env_source(const std::string& path);
// The drop-ins of `unit_dropin_dir` (*.conf, sorted by name), with their EnvironmentFile= files.
Result<ServiceEnv> read_service_env(const std::string& unit_file, const std::string& unit_dropin_dir);
// /proc/PID/environ of a running process.
Result<ServiceEnv> read_process_env(int pid, const std::string& proc_root = "/proc");

// Splits an Environment= value into assignments, as systemd does; false on unbalanced quotes.
bool split_environment_value(const std::string& value, std::vector<std::string>& out);

}  // namespace vgpu
