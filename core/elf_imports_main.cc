// vgpu-elf-imports: the per-symbol version check of core/elf_file.h as a command, for tests and for
// checking a shim against a real consumer by hand.
#include <cstdio>

#include "elf_file.h"

int main(int argc, char** argv) {
  if (argc < 4 || argc > 5) {
    std::fprintf(stderr,
                 "usage: vgpu-elf-imports CONSUMER NEEDED-NAME PROVIDER [UNVERSIONED-PREFIX]\n"
                 "  Lists the imports of CONSUMER that PROVIDER, loaded as NEEDED-NAME (e.g. libcudart.so.12),\n"
                 "  does not satisfy: versioned imports of that file, and unversioned imports starting with\n"
                 "  UNVERSIONED-PREFIX (e.g. cu for libcuda.so.1).\n"
                 "exit: 0 all satisfied, 1 some missing, 2 usage, 3 unreadable file\n");
    return 2;
  }
  auto consumer = vgpu::read_elf(argv[1]);
  if (!consumer) {
    std::fprintf(stderr, "vgpu-elf-imports: %s\n", consumer.error().message.c_str());
    return 3;
  }
  auto provider = vgpu::read_elf(argv[3]);
  if (!provider) {
    std::fprintf(stderr, "vgpu-elf-imports: %s\n", provider.error().message.c_str());
    return 3;
  }
  auto missing = vgpu::missing_imports(*consumer, argv[2], *provider, argc == 5 ? argv[4] : "");
  for (const auto& m : missing)
    std::printf("%s%s%s: %s\n", m.symbol.c_str(), m.version.empty() ? "" : "@", m.version.c_str(), m.reason.c_str());
  return missing.empty() ? 0 : 1;
}
