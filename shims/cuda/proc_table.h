// The table behind cuGetProcAddress, generated from entry_points.tsv (see shims/gen/gen_shim.py).
#pragma once

#include <cstddef>

namespace vgpu::drv {

enum class ProcVariant { plain, ptds, ptsz };

struct ProcEntry {
  const char* name;     // the API name asked for ("cuMemAlloc")
  int version;          // the CUDA version that introduced this variant (3020 for cuMemAlloc_v2)
  ProcVariant variant;  // per-thread default stream variants are separate entries
  void* fn;
};

extern const ProcEntry kProcTable[];  // sorted by name, then version
extern const size_t kProcTableSize;

}  // namespace vgpu::drv
