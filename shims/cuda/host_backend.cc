// The "host" backend: device memory is host memory; nothing executes device code.
// See backend.h for the contract and docs/design.md for why device pointers are host addresses.
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "backend.h"
#include "log.h"
#include "platform.h"

namespace vgpu::drv {
namespace {

constexpr size_t kSmallAllocation = 1 << 20;  // below this, the C heap; above, whole pages
constexpr size_t kAlignment = 512;            // cudaMalloc alignment guarantee is at least 256

CUresult no_execution(const char* what) {
  VGPU_LOG_ONCE(LogLevel::warn,
                "%s: no execution backend is configured (backend \"host\" keeps device memory in host memory "
                "and cannot run device code); returning CUDA_ERROR_NOT_SUPPORTED",
                what);
  return CUDA_ERROR_NOT_SUPPORTED;
}

class HostBackend final : public Backend {
 public:
  const char* name() const override { return "host"; }

  CUresult mem_alloc(int, size_t bytes, uintptr_t* out) override {
    void* p = nullptr;
    if (bytes < kSmallAllocation) {
      if (::posix_memalign(&p, kAlignment, bytes ? bytes : 1) != 0) return CUDA_ERROR_OUT_OF_MEMORY;
      std::memset(p, 0, bytes);
    } else {
      // MAP_NORESERVE: like VRAM, the bytes are promised by the ledger, not by the kernel's overcommit.
      p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *out = reinterpret_cast<uintptr_t>(p);
    return CUDA_SUCCESS;
  }

  CUresult mem_free(int, uintptr_t ptr, size_t bytes) override {
    if (bytes < kSmallAllocation) std::free(reinterpret_cast<void*>(ptr));
    else ::munmap(reinterpret_cast<void*>(ptr), bytes);
    return CUDA_SUCCESS;
  }

  CUresult copy(uintptr_t dst, uintptr_t src, size_t bytes, StreamId) override {
    if (bytes) std::memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes);
    return CUDA_SUCCESS;
  }

  CUresult copy_2d(uintptr_t dst, size_t dpitch, uintptr_t src, size_t spitch, size_t width, size_t height,
                   StreamId) override {
    for (size_t row = 0; row < height; ++row)
      std::memmove(reinterpret_cast<void*>(dst + row * dpitch), reinterpret_cast<const void*>(src + row * spitch),
                   width);
    return CUDA_SUCCESS;
  }

  CUresult memset(uintptr_t dst, unsigned value, unsigned element_size, size_t count, StreamId) override {
    switch (element_size) {
      case 1: std::memset(reinterpret_cast<void*>(dst), static_cast<int>(value & 0xff), count); break;
      case 2: {
        auto* p = reinterpret_cast<uint16_t*>(dst);
        for (size_t i = 0; i < count; ++i) p[i] = static_cast<uint16_t>(value);
        break;
      }
      case 4: {
        auto* p = reinterpret_cast<uint32_t*>(dst);
        for (size_t i = 0; i < count; ++i) p[i] = value;
        break;
      }
      default: return CUDA_ERROR_INVALID_VALUE;
    }
    return CUDA_SUCCESS;
  }

  CUresult va_reserve(size_t bytes, size_t alignment, uintptr_t hint, uintptr_t* out) override {
    if (alignment < static_cast<size_t>(::sysconf(_SC_PAGESIZE))) alignment = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
    // Over-reserve by the alignment, then trim, so the range starts on the requested boundary.
    size_t span = bytes + alignment;
    void* p = ::mmap(reinterpret_cast<void*>(hint), span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return CUDA_ERROR_OUT_OF_MEMORY;
    uintptr_t base = reinterpret_cast<uintptr_t>(p);
    uintptr_t aligned = (base + alignment - 1) & ~(alignment - 1);
    if (aligned > base) ::munmap(p, aligned - base);
    if (aligned + bytes < base + span) ::munmap(reinterpret_cast<void*>(aligned + bytes), base + span - aligned - bytes);
    *out = aligned;
    return CUDA_SUCCESS;
  }

  CUresult va_free(uintptr_t base, size_t bytes) override {
    return ::munmap(reinterpret_cast<void*>(base), bytes) == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
  }

  CUresult physical_create(int, size_t bytes, uint64_t* handle) override {
    // A memfd is a piece of memory that can be mapped at any address, any number of times: exactly
    // what cuMemCreate's allocation handle is.
    int fd = ::memfd_create("vgpu-vmm", MFD_CLOEXEC);
    if (fd < 0) return CUDA_ERROR_OUT_OF_MEMORY;
    if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
      ::close(fd);
      return CUDA_ERROR_OUT_OF_MEMORY;
    }
    *handle = static_cast<uint64_t>(fd);
    return CUDA_SUCCESS;
  }

  CUresult physical_release(uint64_t handle) override {
    // Mappings keep the memory alive after the descriptor is closed, as CUDA keeps it until unmapped.
    return ::close(static_cast<int>(handle)) == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
  }

  CUresult map(uintptr_t va, size_t bytes, uint64_t handle, size_t offset) override {
    // Mapped but inaccessible until cuMemSetAccess, as on a GPU.
    void* p = ::mmap(reinterpret_cast<void*>(va), bytes, PROT_NONE, MAP_SHARED | MAP_FIXED, static_cast<int>(handle),
                     static_cast<off_t>(offset));
    return p == MAP_FAILED ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
  }

  CUresult unmap(uintptr_t va, size_t bytes) override {
    // Back to a reserved, inaccessible range (the reservation outlives the mapping).
    void* p = ::mmap(reinterpret_cast<void*>(va), bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                     -1, 0);
    return p == MAP_FAILED ? CUDA_ERROR_INVALID_VALUE : CUDA_SUCCESS;
  }

  CUresult set_access(uintptr_t va, size_t bytes, bool read, bool write) override {
    int prot = (read ? PROT_READ : 0) | (write ? PROT_WRITE : 0);
    return ::mprotect(reinterpret_cast<void*>(va), bytes, prot) == 0 ? CUDA_SUCCESS : CUDA_ERROR_INVALID_VALUE;
  }

  CUresult module_load(int, const void* image, BackendModule* out) override {
    // The image is kept by reference (the application owns registered fatbins for its lifetime); a
    // remote backend would ship it to the daemon here.
    std::lock_guard<std::mutex> lock(mutex_);
    *out = ++next_handle_;
    modules_[*out] = image;
    return CUDA_SUCCESS;
  }

  CUresult module_unload(BackendModule module) override {
    std::lock_guard<std::mutex> lock(mutex_);
    return modules_.erase(module) ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
  }

  CUresult module_get_function(BackendModule module, const char* name, BackendFunction* out) override {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!modules_.count(module)) return CUDA_ERROR_INVALID_HANDLE;
    // Without a device there is no symbol table to consult; any name resolves, and launching it is
    // what fails.
    *out = ++next_handle_;
    functions_[*out] = name;
    return CUDA_SUCCESS;
  }

  CUresult launch(const LaunchParams& p) override {
    std::string what;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = functions_.find(p.function);
      what = "kernel launch (" + (it == functions_.end() ? std::string("?") : it->second) + ")";
    }
    return no_execution(what.c_str());
  }

  CUresult graph_launch(StreamId) override { return no_execution("graph launch"); }
  CUresult blas(const BlasCall& call) override { return no_execution(call.entry_point); }
  CUresult synchronize(StreamId) override { return CUDA_SUCCESS; }  // all work completed synchronously

 private:
  std::mutex mutex_;
  uint64_t next_handle_ = 0;
  std::unordered_map<uint64_t, const void*> modules_;
  std::unordered_map<uint64_t, std::string> functions_;
};

}  // namespace

Backend& backend() {
  // Config::backend is validated by load_config(); "host" is the only backend of this stage.
  static Backend* b = new HostBackend;  // never destroyed: calls may arrive from other libraries' destructors
  return *b;
}

}  // namespace vgpu::drv
