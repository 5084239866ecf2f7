// The virtual GPUs of this process: one per stub PCI function found in sysfs, each described by the
// configured device profile. Built once, on first use, from config + sysfs + profile; immutable after.
// NVML sees every device; CUDA sees the ones CUDA_VISIBLE_DEVICES selects, in the order it gives.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "config.h"
#include "pci.h"
#include "profile.h"
#include "vram.h"

namespace vgpu {

struct VirtualDevice {
  int index = 0;            // position among all stubs (NVML's index)
  PciFunction pci;
  uint8_t uuid[16] = {};
  std::string uuid_text;    // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
  std::string name;         // from the profile
  uint64_t total_mem = 0;   // configured VRAM, else the profile's
  const Profile* profile = nullptr;
  std::unique_ptr<VramLedger> vram;
};

class Platform {
 public:
  static Platform& get();

  const Config& config() const { return config_; }
  const std::vector<VirtualDevice>& devices() const { return devices_; }
  // CUDA ordinal -> index into devices(), after CUDA_VISIBLE_DEVICES.
  const std::vector<int>& cuda_visible() const { return cuda_visible_; }
  int cuda_device_count() const { return static_cast<int>(cuda_visible_.size()); }
  VirtualDevice* cuda_device(int ordinal);
  const Profile* profile() const { return profile_; }  // nullptr when the profile could not be loaded
  const PciScan& scan() const { return scan_; }

  // Builds a platform from explicit inputs (tests); get() uses load_config() and the environment.
  Platform(Config config, const char* cuda_visible_devices);

 private:
  Config config_;
  PciScan scan_;
  const Profile* profile_ = nullptr;
  std::vector<VirtualDevice> devices_;
  std::vector<int> cuda_visible_;
};

// CUDA_VISIBLE_DEVICES as the CUDA driver reads it: comma-separated device indexes or "GPU-<uuid>"
// prefixes (unique prefix of the UUID); the list ends at the first token that names no device or repeats
// one. nullptr (unset) selects every device; "" selects none.
std::vector<int> parse_cuda_visible_devices(const char* text, const std::vector<VirtualDevice>& devices);

}  // namespace vgpu
