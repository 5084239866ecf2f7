#include "config.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kv.h"

namespace vgpu {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_pci_id(const std::string& text, unsigned& out) {
  // PCI ids are hexadecimal by convention: "0x2331" and "2331" both mean 0x2331.
  std::string s = text;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
  if (s.empty() || s.size() > 4) return false;
  unsigned v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0) return false;
    v = v * 16 + static_cast<unsigned>(d);
  }
  out = v;
  return true;
}

bool valid_bus_id(const std::string& s) {
  // dddd:bb:dd.f
  if (s.size() != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.') return false;
  for (size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u, 11u})
    if (hex_digit(s[i]) < 0) return false;
  return true;
}

std::string lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Applies one setting from either source; `origin` names it in problem texts.
void apply(Config& cfg, const std::string& key, const std::string& value, const std::string& origin) {
  auto bad = [&](const char* what) { cfg.problems.push_back(origin + ": " + what + " (\"" + value + "\")"); };
  if (key == "profile") {
    if (value.empty()) return bad("empty profile");
    cfg.profile = value;
  } else if (key == "vram") {
    auto v = parse_size(value);
    if (!v || *v == 0) return bad("not a memory size such as 81559MiB or 80GiB");
    cfg.vram_bytes = v;
  } else if (key == "uuid") {
    uint8_t u[16];
    if (!parse_uuid(value, u)) return bad("not a GPU UUID such as GPU-3f2504e0-4f89-11d3-9a0c-0305e82c3301");
    cfg.uuid = format_uuid(u);
  } else if (key == "pci_bus_id") {
    std::string v = lower(value);
    if (!valid_bus_id(v)) return bad("not a PCI address such as 0000:00:05.0");
    cfg.pci_bus_id = v;
  } else if (key == "device_id") {
    unsigned id;
    if (!parse_pci_id(value, id)) return bad("not a PCI device id such as 0x2331");
    cfg.device_id = id;
  } else if (key == "sysfs_root") {
    if (value.empty()) return bad("empty path");
    cfg.sysfs_root = value;
  } else if (key == "state_dir") {
    if (value.empty()) return bad("empty path");
    cfg.state_dir = value;
  } else if (key == "backend") {
    if (value != "host") return bad("unknown backend; this build has: host");
    cfg.backend = value;
  } else if (key == "log" || key == "log_file") {
    // Read by log.cc straight from VGPU_LOG / VGPU_LOG_FILE; accepted here so the file may carry them
    // for documentation, but the environment is what takes effect (logging starts before config).
  } else {
    cfg.problems.push_back(origin + ": unknown key '" + key + "'");
  }
}

struct EnvKey {
  const char* env;
  const char* key;
};
constexpr EnvKey kEnvKeys[] = {
    {"VGPU_PROFILE", "profile"},     {"VGPU_VRAM", "vram"},         {"VGPU_UUID", "uuid"},
    {"VGPU_PCI_BUS_ID", "pci_bus_id"}, {"VGPU_DEVICE_ID", "device_id"}, {"VGPU_SYSFS_ROOT", "sysfs_root"},
    {"VGPU_STATE_DIR", "state_dir"}, {"VGPU_BACKEND", "backend"},
};

}  // namespace

std::optional<uint64_t> parse_size(const std::string& text) {
  size_t i = 0;
  uint64_t v = 0;
  bool any = false;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
    uint64_t next = v * 10 + static_cast<uint64_t>(text[i] - '0');
    if (next / 10 != v) return std::nullopt;
    v = next;
    any = true;
    ++i;
  }
  if (!any) return std::nullopt;
  while (i < text.size() && text[i] == ' ') ++i;
  std::string unit = lower(text.substr(i));
  struct { const char* name; uint64_t mult; } const units[] = {
      {"", 1},           {"b", 1},           {"kib", 1ull << 10}, {"mib", 1ull << 20}, {"gib", 1ull << 30},
      {"tib", 1ull << 40}, {"kb", 1000ull},  {"mb", 1000000ull},  {"gb", 1000000000ull}, {"tb", 1000000000000ull}};
  for (const auto& u : units)
    if (unit == u.name) {
      if (v > UINT64_MAX / u.mult) return std::nullopt;
      return v * u.mult;
    }
  return std::nullopt;
}

bool parse_uuid(const std::string& text, uint8_t out[16]) {
  std::string s = text;
  if (s.size() > 4 && (s.compare(0, 4, "GPU-") == 0 || s.compare(0, 4, "gpu-") == 0)) s = s.substr(4);
  // 8-4-4-4-12
  static constexpr size_t dashes[] = {8, 13, 18, 23};
  if (s.size() != 36) return false;
  for (size_t d : dashes)
    if (s[d] != '-') return false;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-') continue;
    int hi = hex_digit(s[i]), lo = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
    if (hi < 0 || lo < 0) return false;
    out[n++] = static_cast<uint8_t>(hi * 16 + lo);
    ++i;
  }
  return n == 16;
}

std::string format_uuid(const uint8_t u[16]) {
  char buf[48];
  std::snprintf(buf, sizeof buf,
                "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
                u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
  return buf;
}

Config load_config() {
  Config cfg;
  const char* env_path = std::getenv("VGPU_CONFIG");
  std::string path = env_path && *env_path ? env_path : kDefaultConfigPath;
  kv::Document doc;
  std::string error;
  if (kv::parse_file(path.c_str(), doc, error)) {
    cfg.config_path = path;
    for (const std::string& key : doc.order) {
      const kv::Value& v = doc.entries.find(key)->second;
      std::string origin = path + ":" + std::to_string(v.line);
      if (key.find('.') != std::string::npos) {
        cfg.problems.push_back(origin + ": sections are not used in the config file ('" + key + "')");
        continue;
      }
      std::string value = v.kind == kv::Value::Kind::string ? v.string : std::to_string(v.integer);
      if (v.kind == kv::Value::Kind::array) {
        cfg.problems.push_back(origin + ": '" + key + "' takes a single value");
        continue;
      }
      // An integer device_id written as 0x2331 arrives here as decimal 8993: re-render it as hex.
      if (key == "device_id" && v.kind == kv::Value::Kind::integer) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "%llx", v.integer);
        value = hex;
      }
      apply(cfg, key, value, origin);
    }
  } else if (env_path && *env_path) {
    cfg.problems.push_back("VGPU_CONFIG: " + error);  // asked for explicitly: a missing file matters
  } else if (error.find("No such file") == std::string::npos) {
    cfg.problems.push_back(error);  // present but unreadable or malformed
  }
  for (const EnvKey& e : kEnvKeys) {
    const char* v = std::getenv(e.env);
    if (v && *v) apply(cfg, e.key, v, e.env);
  }
  return cfg;
}

}  // namespace vgpu
