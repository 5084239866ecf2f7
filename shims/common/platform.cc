#include "platform.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>

#include "log.h"

namespace vgpu {
namespace {

uint64_t fnv1a(const std::string& s, uint64_t h) {
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string machine_id() {
  int fd = ::open("/etc/machine-id", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[64];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// A stable UUID for a device nobody configured one for: the same machine and PCI address always give
// the same UUID (Ollama and NVML key devices by it), different machines give different ones.
void derive_uuid(const PciFunction& pci, unsigned device_id, uint8_t out[16]) {
  std::string seed = machine_id() + "|" + pci.bus_id + "|" + std::to_string(device_id);
  uint64_t a = fnv1a(seed, 0xcbf29ce484222325ull), b = fnv1a(seed + "#", 0x84222325cbf29ce4ull);
  for (int i = 0; i < 8; ++i) {
    out[i] = static_cast<uint8_t>(a >> (8 * i));
    out[8 + i] = static_cast<uint8_t>(b >> (8 * i));
  }
  out[6] = static_cast<uint8_t>((out[6] & 0x0f) | 0x40);  // RFC 4122 version 4 layout, as NVIDIA's are
  out[8] = static_cast<uint8_t>((out[8] & 0x3f) | 0x80);
}

bool uuid_has_prefix(const std::string& uuid_text, const std::string& token) {
  // CUDA accepts "GPU-" plus any unique prefix of the UUID, dashes included, case-insensitively.
  if (token.size() > uuid_text.size()) return false;
  for (size_t i = 0; i < token.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(token[i])) != std::tolower(static_cast<unsigned char>(uuid_text[i])))
      return false;
  return true;
}

}  // namespace

std::vector<int> parse_cuda_visible_devices(const char* text, const std::vector<VirtualDevice>& devices) {
  std::vector<int> out;
  if (!text) {
    for (const VirtualDevice& d : devices) out.push_back(d.index);
    return out;
  }
  std::string s = text;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    std::string tok = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    while (!tok.empty() && tok.front() == ' ') tok.erase(0, 1);
    while (!tok.empty() && tok.back() == ' ') tok.pop_back();
    int found = -1;
    if (!tok.empty() && std::all_of(tok.begin(), tok.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      long idx = tok.size() < 10 ? std::strtol(tok.c_str(), nullptr, 10) : -1;
      if (idx >= 0 && idx < static_cast<long>(devices.size())) found = static_cast<int>(idx);
    } else if (tok.size() > 4 && (tok.compare(0, 4, "GPU-") == 0 || tok.compare(0, 4, "gpu-") == 0)) {
      for (const VirtualDevice& d : devices)
        if (uuid_has_prefix(d.uuid_text, tok)) {
          if (found >= 0) {  // ambiguous prefix: CUDA treats it as invalid
            found = -1;
            break;
          }
          found = d.index;
        }
    }
    if (found < 0 || std::find(out.begin(), out.end(), found) != out.end()) break;
    out.push_back(found);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

Platform::Platform(Config config, const char* cuda_visible_devices) : config_(std::move(config)) {
  for (const std::string& p : config_.problems) log(LogLevel::warn, "config: %s", p.c_str());
  std::string error;
  profile_ = Profile::load(config_.profile, error);
  if (!profile_) {
    log(LogLevel::error, "device profile: %s; reporting no devices", error.c_str());
    return;
  }
  scan_ = scan_pci_stubs(config_.sysfs_root, config_.device_id, config_.pci_bus_id.value_or(""));
  if (!scan_.error.empty()) {
    log(LogLevel::warn, "no virtual GPU: cannot read %s: %s", scan_.directory.c_str(), scan_.error.c_str());
    return;
  }
  if (scan_.stubs.empty()) {
    log(LogLevel::warn,
        "no virtual GPU: no PCI function with vendor 0x10de, device 0x%04x, class 0x0302xx or 0x0300xx%s%s under %s "
        "(set VGPU_DEVICE_ID or VGPU_SYSFS_ROOT if the stub is elsewhere)",
        config_.device_id, config_.pci_bus_id ? " at " : "", config_.pci_bus_id.value_or("").c_str(),
        scan_.directory.c_str());
    return;
  }
  long long profile_pci = profile_->integer("nvml", "pci_device_id", 0);
  for (const PciFunction& fn : scan_.stubs) {
    VirtualDevice d;
    d.index = static_cast<int>(devices_.size());
    d.pci = fn;
    d.profile = profile_;
    if (d.index == 0 && config_.uuid) parse_uuid(*config_.uuid, d.uuid);
    else derive_uuid(fn, fn.device_id, d.uuid);
    d.uuid_text = format_uuid(d.uuid);
    d.name = profile_->string("driver", "name");
    d.total_mem = config_.vram_bytes.value_or(static_cast<uint64_t>(profile_->integer("driver", "total_mem", 0)));
    d.vram = std::make_unique<VramLedger>(config_.state_dir, d.uuid_text, d.total_mem);
    if (profile_pci && static_cast<unsigned>(profile_pci >> 16) != fn.device_id)
      log(LogLevel::info, "stub %s has PCI device id 0x%04x; profile %s was captured from 0x%04x and reports that",
          fn.bus_id.c_str(), fn.device_id, profile_->id().c_str(), static_cast<unsigned>(profile_pci >> 16));
    log(LogLevel::info, "device %d: %s %s at %s, %llu MiB, profile %s", d.index, d.name.c_str(), d.uuid_text.c_str(),
        fn.bus_id.c_str(), static_cast<unsigned long long>(d.total_mem >> 20), profile_->origin().c_str());
    devices_.push_back(std::move(d));
  }
  cuda_visible_ = parse_cuda_visible_devices(cuda_visible_devices, devices_);
}

Platform& Platform::get() {
  static Platform* p = new Platform(load_config(), std::getenv("CUDA_VISIBLE_DEVICES"));  // never destroyed:
  return *p;  // atexit-ordered teardown would race with late driver calls from other libraries' destructors
}

VirtualDevice* Platform::cuda_device(int ordinal) {
  if (ordinal < 0 || ordinal >= cuda_device_count()) return nullptr;
  return &devices_[static_cast<size_t>(cuda_visible_[static_cast<size_t>(ordinal)])];
}

}  // namespace vgpu
