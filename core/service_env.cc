#include "service_env.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace vgpu {
namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool valid_name(const std::string& n) {
  if (n.empty() || std::isdigit(static_cast<unsigned char>(n[0]))) return false;
  return std::all_of(n.begin(), n.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

Result<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read " + path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

const EnvVar* ServiceEnv::find(const std::string& name) const {
  for (const EnvVar& v : vars)
    if (v.name == name) return &v;
  return nullptr;
}

void ServiceEnv::set(const std::string& name, const std::string& value, const std::string& origin) {
  for (EnvVar& v : vars)
    if (v.name == name) {
      v.value = value;
      v.origin = origin;
      return;
    }
  vars.push_back({name, value, origin});
}

bool split_environment_value(const std::string& value, std::vector<std::string>& out) {
  // systemd: extract_first_word(EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_RELAX) over the value,
  // after specifier expansion (%% -> %).
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    if (c == '%' && i + 1 < value.size() && value[i + 1] == '%') {
      word += '%', ++i, in_word = true;
      continue;
    }
    if (quote) {
      if (c == quote) quote = 0;
      else if (c == '\\' && i + 1 < value.size()) {
        char n = value[++i];
        word += n == 'n' ? '\n' : n == 't' ? '\t' : n;
      } else word += c;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c, in_word = true;
    } else if (c == ' ' || c == '\t') {
      if (in_word) out.push_back(word), word.clear(), in_word = false;
    } else if (c == '\\' && i + 1 < value.size()) {
      word += value[++i], in_word = true;
    } else {
      word += c, in_word = true;
    }
  }
  if (quote) return false;
  if (in_word) out.push_back(word);
  return true;
}

void parse_unit_environment(const std::string& text, const std::string& origin, ServiceEnv& env) {
  std::istringstream in(text);
  std::string line, section;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    // A line ending in a backslash continues on the next (systemd.syntax(7)).
    while (!line.empty() && line.back() == '\\') {
      std::string next;
      if (!std::getline(in, next)) break;
      ++n;
      line.pop_back();
      line += " " + next;
    }
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = t.substr(1, t.size() - 2);
      continue;
    }
    if (section != "Service") continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(t.substr(0, eq)), value = trim(t.substr(eq + 1));
    std::string where = origin + ":" + std::to_string(n);
    if (key == "Environment") {
      if (value.empty()) {  // an empty assignment resets the list (systemd.exec(5))
        env.vars.erase(std::remove_if(env.vars.begin(), env.vars.end(),
                                      [&](const EnvVar& v) { return v.origin.rfind("Environment= in ", 0) == 0; }),
                       env.vars.end());
        continue;
      }
      std::vector<std::string> words;
      if (!split_environment_value(value, words)) {
        env.problems.push_back(where + ": unbalanced quotes in Environment=; systemd ignores the line");
        continue;
      }
      for (const std::string& w : words) {
        size_t e = w.find('=');
        if (e == std::string::npos || !valid_name(w.substr(0, e))) {
          env.problems.push_back(where + ": '" + w + "' is not NAME=VALUE; systemd ignores it");
          continue;
        }
        env.set(w.substr(0, e), w.substr(e + 1), "Environment= in " + where);
      }
    } else if (key == "EnvironmentFile") {
      if (value.empty()) env.env_files.clear();
      else env.env_files.push_back(value);
    }
  }
}

void parse_env_file(const std::string& text, const std::string& origin, ServiceEnv& env) {
  std::istringstream in(text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.rfind("export ", 0) == 0) t = trim(t.substr(7));
    size_t eq = t.find('=');
    std::string where = origin + ":" + std::to_string(n);
    if (eq == std::string::npos || !valid_name(trim(t.substr(0, eq)))) {
      env.problems.push_back(where + ": not NAME=VALUE");
      continue;
    }
    std::string value = trim(t.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') && value.back() == value.front()) {
      char q = value.front();
      std::string raw = value.substr(1, value.size() - 2), v;
      for (size_t i = 0; i < raw.size(); ++i) v += (q == '"' && raw[i] == '\\' && i + 1 < raw.size()) ? raw[++i] : raw[i];
      value = v;
    }
    env.set(trim(t.substr(0, eq)), value, "EnvironmentFile " + where);
  }
}

Result<ServiceEnv> read_env_source(const std::string& path) {
  auto text = slurp(path);
  if (!text) return text.error();
  ServiceEnv env;
  bool unit = false;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    std::string t = trim(line);
    if (!t.empty() && t.front() == '[' && t.back() == ']') unit = true;
  }
  if (unit) parse_unit_environment(*text, path, env);
  else parse_env_file(*text, path, env);
  return env;
}

Result<ServiceEnv> read_service_env(const std::string& unit_file, const std::string& dropin_dir) {
  namespace fs = std::filesystem;
  ServiceEnv env;
  std::vector<std::string> files;
  if (!unit_file.empty() && fs::exists(unit_file)) files.push_back(unit_file);
  std::error_code ec;
  std::vector<std::string> dropins;
  for (const auto& e : fs::directory_iterator(dropin_dir, ec))
    if (e.path().extension() == ".conf") dropins.push_back(e.path().string());
  std::sort(dropins.begin(), dropins.end());  // systemd applies drop-ins in lexicographic order
  files.insert(files.end(), dropins.begin(), dropins.end());
  for (const std::string& f : files) {
    auto text = slurp(f);
    if (!text) {
      env.problems.push_back(text.error().message);
      continue;
    }
    parse_unit_environment(*text, f, env);
  }
  for (const std::string& spec : env.env_files) {
    bool optional = !spec.empty() && spec[0] == '-';
    std::string path = optional ? spec.substr(1) : spec;
    auto text = slurp(path);
    if (!text) {
      if (!optional) env.problems.push_back("EnvironmentFile=" + spec + ": cannot read " + path + "; systemd refuses to start the service");
      continue;
    }
    parse_env_file(*text, path, env);
  }
  return env;
}

Result<ServiceEnv> read_process_env(int pid, const std::string& proc_root) {
  std::string path = proc_root + "/" + std::to_string(pid) + "/environ";
  auto text = slurp(path);
  if (!text) return Error{text.error().message + " (is the process running, and readable by this user?)"};
  ServiceEnv env;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\0', start);
    if (end == std::string::npos) end = text->size();
    std::string kv = text->substr(start, end - start);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) env.set(kv.substr(0, eq), kv.substr(eq + 1), path);
    start = end + 1;
  }
  return env;
}

}  // namespace vgpu
