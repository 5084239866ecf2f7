// The profiles compiled into every shim; the definitions are generated from shims/profiles/*.toml by
// shims/common/CMakeLists.txt (embed_profiles.cmake).
#pragma once

#include <cstddef>

namespace vgpu {

struct BuiltinProfile {
  const char* id;    // file name without .toml
  const char* text;  // the file's bytes
};

extern const BuiltinProfile kBuiltinProfiles[];
extern const size_t kBuiltinProfileCount;

}  // namespace vgpu
