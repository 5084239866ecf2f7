// VRAM accounting for one virtual device, shared by every process on the machine, so that
// cudaMemGetInfo in one process and NVML in another (nvidia-smi, Ollama's server) agree on what is used.
//
// State is a small file in the state directory (/dev/shm by default), mapped shared:
//   header {magic, version, total, used} + kSlots x {pid, bytes}
// `used` is the sum of the live slots; reserve() is a compare-and-swap loop on it, so two processes can
// never together exceed `total`. A process's slot is reclaimed when that pid no longer exists (a process
// that died without freeing leaks nothing). When the file cannot be created (read-only /dev/shm), the
// ledger falls back to counting this process alone and says so once in the log.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace vgpu {

class VramLedger {
 public:
  VramLedger(const std::string& state_dir, const std::string& uuid_text, uint64_t total);
  ~VramLedger();
  VramLedger(const VramLedger&) = delete;
  VramLedger& operator=(const VramLedger&) = delete;

  uint64_t total() const { return total_; }
  // Takes `bytes` of the device's memory for this process; false when that would exceed the total.
  bool reserve(uint64_t bytes);
  void release(uint64_t bytes);
  uint64_t used();         // all live processes
  uint64_t used_by_self(); // this process
  bool shared() const { return region_ != nullptr; }

  struct Usage {
    int32_t pid;
    uint64_t bytes;
  };
  // Live processes holding memory, at most `max` of them; returns how many were written.
  size_t processes(Usage* out, size_t max);
  const std::string& path() const { return path_; }

  static constexpr int kSlots = 1024;

  struct Slot {
    std::atomic<int32_t> pid;
    uint32_t pad;
    std::atomic<uint64_t> bytes;
  };
  struct Region {
    uint64_t magic;
    uint32_t version;
    uint32_t pad;
    std::atomic<uint64_t> total;
    std::atomic<uint64_t> used;
    Slot slots[kSlots];
  };

 private:
  Slot* own_slot();
  void reap_dead();

  uint64_t total_;
  std::string path_;
  Region* region_ = nullptr;
  std::atomic<uint64_t> local_used_{0};  // used when there is no shared region
  std::atomic<int64_t> last_reap_ms_{-1000000};
  int32_t slot_pid_ = 0;
  Slot* slot_ = nullptr;
};

}  // namespace vgpu
