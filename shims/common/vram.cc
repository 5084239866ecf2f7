#include "vram.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "log.h"

namespace vgpu {
namespace {

constexpr uint64_t kMagic = 0x7667707576726d31ull;  // "vgpuvrm1"
constexpr uint32_t kVersion = 1;

bool pid_alive(int32_t pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno != ESRCH); }

}  // namespace

VramLedger::VramLedger(const std::string& state_dir, const std::string& uuid_text, uint64_t total) : total_(total) {
  path_ = state_dir + "/vgpu-vram-" + uuid_text;
  int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) {
    log(LogLevel::warn, "VRAM accounting is per process: cannot open %s: %s", path_.c_str(), std::strerror(errno));
    return;
  }
  ::fchmod(fd, 0666);  // processes of other users (the ollama service user) share the same device
  // The first process to lock the file initialises it; the lock orders that against every other opener.
  ::flock(fd, LOCK_EX);
  struct stat st {};
  bool fresh = ::fstat(fd, &st) == 0 && st.st_size < static_cast<off_t>(sizeof(Region));
  if (fresh && ::ftruncate(fd, sizeof(Region)) != 0) {
    log(LogLevel::warn, "VRAM accounting is per process: cannot size %s: %s", path_.c_str(), std::strerror(errno));
    ::flock(fd, LOCK_UN);
    ::close(fd);
    return;
  }
  void* p = ::mmap(nullptr, sizeof(Region), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) {
    log(LogLevel::warn, "VRAM accounting is per process: cannot map %s: %s", path_.c_str(), std::strerror(errno));
    ::flock(fd, LOCK_UN);
    ::close(fd);
    return;
  }
  auto* r = static_cast<Region*>(p);
  if (r->magic != kMagic || r->version != kVersion) {
    std::memset(static_cast<void*>(r), 0, sizeof(Region));
    r->version = kVersion;
    r->magic = kMagic;
  }
  // The configured size may change between runs; the ledger follows the newest process's view.
  r->total.store(total, std::memory_order_relaxed);
  ::flock(fd, LOCK_UN);
  ::close(fd);
  region_ = r;
}

VramLedger::~VramLedger() {
  if (region_) ::munmap(region_, sizeof(Region));
}

void VramLedger::reap_dead() {
  for (Slot& s : region_->slots) {
    int32_t pid = s.pid.load(std::memory_order_acquire);
    if (pid == 0 || pid_alive(pid)) continue;
    // Claim the dead slot exclusively by swapping in a tombstone, then return its bytes.
    if (!s.pid.compare_exchange_strong(pid, -1)) continue;
    uint64_t b = s.bytes.exchange(0);
    region_->used.fetch_sub(b);
    s.pid.store(0, std::memory_order_release);
  }
}

VramLedger::Slot* VramLedger::own_slot() {
  int32_t self = static_cast<int32_t>(::getpid());
  if (slot_ && slot_pid_ == self) return slot_;  // a forked child must not reuse its parent's slot
  for (int pass = 0; pass < 2; ++pass) {
    for (Slot& s : region_->slots)
      if (s.pid.load(std::memory_order_acquire) == self) return slot_pid_ = self, slot_ = &s;
    for (Slot& s : region_->slots) {
      int32_t expected = 0;
      if (s.pid.compare_exchange_strong(expected, self)) {
        s.bytes.store(0);
        slot_pid_ = self;
        return slot_ = &s;
      }
    }
    reap_dead();
  }
  return nullptr;
}

bool VramLedger::reserve(uint64_t bytes) {
  if (!region_) {
    uint64_t cur = local_used_.load();
    do {
      if (bytes > total_ || cur > total_ - bytes) return false;
    } while (!local_used_.compare_exchange_weak(cur, cur + bytes));
    return true;
  }
  Slot* slot = own_slot();
  if (!slot) {
    log(LogLevel::error, "VRAM accounting: all %d process slots in %s are taken", kSlots, path_.c_str());
    return false;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    uint64_t cur = region_->used.load();
    bool fits = true;
    do {
      if (bytes > total_ || cur > total_ - bytes) {
        fits = false;
        break;
      }
    } while (!region_->used.compare_exchange_weak(cur, cur + bytes));
    if (fits) {
      slot->bytes.fetch_add(bytes);
      return true;
    }
    reap_dead();  // memory held by dead processes may be what is missing
  }
  return false;
}

void VramLedger::release(uint64_t bytes) {
  if (!region_) {
    local_used_.fetch_sub(bytes);
    return;
  }
  if (Slot* slot = own_slot()) slot->bytes.fetch_sub(bytes);
  region_->used.fetch_sub(bytes);
}

uint64_t VramLedger::used() {
  if (!region_) return local_used_.load();
  // Reaping probes every slot's pid with kill(2); a query loop (Ollama polls free memory) need not pay
  // that each time: at most every 250 ms. reserve() reaps at once when memory runs short.
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  int64_t now_ms = static_cast<int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
  int64_t last = last_reap_ms_.load(std::memory_order_relaxed);
  if (now_ms - last >= 250 && last_reap_ms_.compare_exchange_strong(last, now_ms)) reap_dead();
  return region_->used.load();
}

size_t VramLedger::processes(Usage* out, size_t max) {
  if (!region_) {
    if (max == 0 || local_used_.load() == 0) return 0;
    out[0] = Usage{static_cast<int32_t>(::getpid()), local_used_.load()};
    return 1;
  }
  reap_dead();
  size_t n = 0;
  for (Slot& s : region_->slots) {
    int32_t pid = s.pid.load(std::memory_order_acquire);
    uint64_t bytes = s.bytes.load();
    if (pid > 0 && bytes > 0 && n < max) out[n++] = Usage{pid, bytes};
  }
  return n;
}

uint64_t VramLedger::used_by_self() {
  if (!region_) return local_used_.load();
  Slot* slot = own_slot();
  return slot ? slot->bytes.load() : 0;
}

}  // namespace vgpu
