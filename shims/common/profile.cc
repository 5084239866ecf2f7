#include "profile.h"

#include <cstring>
#include <mutex>
#include <vector>

#include "profiles_builtin.h"

namespace vgpu {
namespace {

// Keys without which a profile cannot describe a device (the rest default to "not answered").
struct Required {
  const char* section;
  const char* key;
};
constexpr Required kRequired[] = {
    {"profile", "id"},          {"driver", "name"},          {"driver", "total_mem"},
    {"driver", "driver_version"}, {"nvml", "driver_version"}, {"nvml", "nvml_version"},
};

std::mutex g_mutex;
std::vector<Profile*>& loaded() {
  static std::vector<Profile*> v;  // never freed: handed-out pointers stay valid until exit
  return v;
}

}  // namespace

std::string Profile::builtin_ids() {
  std::string ids;
  for (size_t i = 0; i < kBuiltinProfileCount; ++i) {
    if (!ids.empty()) ids += ", ";
    ids += kBuiltinProfiles[i].id;
  }
  return ids;
}

const Profile* Profile::load(const std::string& spec, std::string& error) {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (Profile* p : loaded())
    if (p->origin_ == spec || p->id_ == spec) return p;
  auto* p = new Profile;
  bool ok = false;
  if (spec.find('/') != std::string::npos) {
    p->origin_ = spec;
    ok = kv::parse_file(spec.c_str(), p->doc_, error);
  } else {
    for (size_t i = 0; i < kBuiltinProfileCount; ++i)
      if (spec == kBuiltinProfiles[i].id) {
        p->origin_ = std::string("built-in:") + kBuiltinProfiles[i].id;
        ok = kv::parse(kBuiltinProfiles[i].text, p->origin_, p->doc_, error);
        break;
      }
    if (!ok && error.empty())
      error = "no built-in profile '" + spec + "' (built in: " + builtin_ids() + "; or give a file path)";
  }
  for (size_t i = 0; ok && i < sizeof kRequired / sizeof kRequired[0]; ++i)
    if (!p->doc_.find(kRequired[i].section, kRequired[i].key)) {
      error = p->origin_ + ": missing required key [" + kRequired[i].section + "] " + kRequired[i].key;
      ok = false;
    }
  if (!ok) {
    delete p;
    return nullptr;
  }
  p->doc_.get_string("profile", "id", p->id_);
  p->index_attributes();
  loaded().push_back(p);
  return p;
}

void Profile::index_attributes() {
  for (const auto& [key, v] : doc_.entries) {
    bool value = key.rfind("attributes.", 0) == 0, error = key.rfind("attributes_unsupported.", 0) == 0;
    if ((!value && !error) || v.kind != kv::Value::Kind::integer) continue;
    const std::string number = key.substr(key.find('.') + 1);
    if (number.empty() || number.size() > 6 || number.find_first_not_of("0123456789") != std::string::npos) continue;
    size_t n = std::stoul(number);
    if (attributes_.size() <= n) attributes_.resize(n + 1);
    attributes_[n] = Slot{value ? Slot::Kind::value : Slot::Kind::error, v.integer};
  }
}

std::optional<long long> Profile::attribute(int attr) const {
  if (attr < 0 || static_cast<size_t>(attr) >= attributes_.size()) return std::nullopt;
  const Slot& s = attributes_[static_cast<size_t>(attr)];
  return s.kind == Slot::Kind::value ? std::optional<long long>(s.value) : std::nullopt;
}

std::optional<long long> Profile::attribute_error(int attr) const {
  if (attr < 0 || static_cast<size_t>(attr) >= attributes_.size()) return std::nullopt;
  const Slot& s = attributes_[static_cast<size_t>(attr)];
  return s.kind == Slot::Kind::error ? std::optional<long long>(s.value) : std::nullopt;
}

long long Profile::integer(const char* section, const char* key, long long fallback) const {
  long long v;
  return doc_.get_int(section, key, v) ? v : fallback;
}

std::string Profile::string(const char* section, const char* key, const char* fallback) const {
  std::string v;
  return doc_.get_string(section, key, v) ? v : std::string(fallback);
}

}  // namespace vgpu
