// Support for generated entry-point stubs (shims/gen/gen_shim.py) and the export macro of every shim.
#pragma once

// Shims are compiled with -fvisibility=hidden; an entry point must say it is exported, and the version
// script then places it in its version node.
#define VGPU_EXPORT __attribute__((visibility("default")))

namespace vgpu {

// Logs "<name> is not implemented by vgpu" once per entry point, then returns `code`.
int unsupported_entry_point(const char* name, int code);

}  // namespace vgpu

#include <cstddef>

namespace vgpu {

// A library's error codes with their names and texts (generated from shims/<lib>/errors.tsv).
struct ErrorEntry {
  int value;
  const char* name;
  const char* text;
};
extern const ErrorEntry kErrorTable[];
extern const size_t kErrorTableSize;
const ErrorEntry* find_error(int value);

}  // namespace vgpu
