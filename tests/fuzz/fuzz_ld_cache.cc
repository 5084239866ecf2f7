// libFuzzer target: core/ld_cache's parser and lookup on arbitrary bytes.
#include <cstddef>
#include <cstdint>

#include "ld_cache.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = vgpu::parse_ld_cache({data, size});
  if (r.ok()) {
    for (const char* name : {"libc.so.6", "libcuda.so.1", "libcudart.so.12", ""})
      (void)vgpu::ld_cache_lookup(*r, name);
  }
  return 0;
}
