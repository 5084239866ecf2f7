// Entry points that are vgpu's own, not NVIDIA's: how vgpu's cuBLAS reaches the execution backend
// that lives in this library. Exported under names no NVIDIA library uses.
#include "driver.h"

using namespace vgpu::drv;

extern "C" {

// One cuBLAS call that needs the device to compute. `stream` is the handle's stream (a CUstream).
VGPU_EXPORT CUresult vgpu_backend_blas(const char* entry_point, CUstream stream) {
  if (CUresult r = check_init()) return r;
  Stream* s;
  if (CUresult r = resolve_stream(stream, &s)) return r;
  return backend().blas(BlasCall{entry_point, stream_id(s)});
}

}  // extern "C"
