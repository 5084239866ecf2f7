// libFuzzer target: core/elf_file's parser on arbitrary bytes. Any input must give a value or an Error.
#include <cstddef>
#include <cstdint>

#include "elf_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = vgpu::parse_elf({data, size});
  if (r.ok()) {
    // Touch what callers use, so a bogus table shows up under ASan here rather than in the doctor.
    size_t n = r->soname.size() + r->runpath.size() + r->rpath.size();
    for (const auto& s : r->symbols) n += s.name.size() + s.version.size();
    for (const auto& v : r->version_needs) n += v.file.size() + v.names.size();
    (void)vgpu::missing_imports(*r, "libcudart.so.12", *r, "cu");
    (void)n;
  }
  return 0;
}
