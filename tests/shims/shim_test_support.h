// Loading the built shims into a test process the way a program gets them: by path here, after which
// every dlopen of the NVIDIA name (libcuda.so.1 from vgpu's runtime, say) finds the loaded object by
// its SONAME. Paths come from the environment CTest sets (VGPU_TEST_SHIM_DIR).
#pragma once

#include <dlfcn.h>

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace vgpu::test {

inline void* load_shim(const char* file) {
  const char* dir = std::getenv("VGPU_TEST_SHIM_DIR");
  if (!dir) throw std::runtime_error("VGPU_TEST_SHIM_DIR is not set");
  std::string path = std::string(dir) + "/" + file;
  void* h = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
  if (!h) throw std::runtime_error(std::string("dlopen ") + path + ": " + dlerror());
  return h;
}

template <class F>
F fn(void* lib, const char* name) {
  void* p = dlsym(lib, name);
  if (!p) throw std::runtime_error(std::string("missing symbol ") + name);
  return reinterpret_cast<F>(p);
}

}  // namespace vgpu::test
