// Device profiles: what a real GPU answered, captured by shims/profiles/capture/vgpu-profile-capture.c
// and kept as data (shims/profiles/<id>.toml, the kv.h format). Every model fact the shims report comes
// from here: CUDA device attributes, the NVML answers, the driver versions. The profiles in
// shims/profiles are compiled in; a profile file elsewhere can be named by path.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "kv.h"

namespace vgpu {

class Profile {
 public:
  // `spec` is a built-in profile id ("h100-sxm5-80gb") or a path to a profile file (contains '/').
  // Returns nullptr and sets `error` when it cannot be found, parsed or lacks a required key.
  // Loaded profiles live for the rest of the process.
  static const Profile* load(const std::string& spec, std::string& error);

  // Ids of the compiled-in profiles, comma separated (for messages).
  static std::string builtin_ids();

  const std::string& id() const { return id_; }
  const std::string& origin() const { return origin_; }
  const kv::Document& doc() const { return doc_; }

  // cuDeviceGetAttribute(attr) as captured; nullopt when the captured driver did not answer it.
  std::optional<long long> attribute(int attr) const;
  // The CUresult the captured driver returned for an attribute it did not answer, if recorded.
  std::optional<long long> attribute_error(int attr) const;

  long long integer(const char* section, const char* key, long long fallback) const;
  std::string string(const char* section, const char* key, const char* fallback = "") const;

 private:
  void index_attributes();

  std::string id_, origin_;
  kv::Document doc_;
  // [attributes] and [attributes_unsupported] by attribute number, so a hot cuDeviceGetAttribute is an
  // array index rather than a string-keyed lookup.
  struct Slot {
    enum class Kind : unsigned char { absent, value, error } kind = Kind::absent;
    long long value = 0;
  };
  std::vector<Slot> attributes_;
};

}  // namespace vgpu
