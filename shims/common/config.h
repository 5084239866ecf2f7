// vgpu's run-time configuration, shared by every shim. Sources, later ones winning:
//   1. built-in defaults (below);
//   2. the config file: $VGPU_CONFIG, else /etc/vgpu/vgpu.conf (a missing default file is not an error);
//   3. VGPU_* environment variables.
// docs/configuration.md lists every key; the file is the TOML subset of kv.h, keys at top level.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace vgpu {

inline constexpr const char* kDefaultConfigPath = "/etc/vgpu/vgpu.conf";
inline constexpr const char* kDefaultProfile = "h100-sxm5-80gb";
inline constexpr unsigned kDefaultStubDeviceId = 0x2331;  // GH100 [H100 PCIe] in pci.ids

struct Config {
  std::string profile = kDefaultProfile;        // built-in profile id, or a path to a profile file
  std::optional<uint64_t> vram_bytes;           // total memory; default: the profile's
  std::optional<std::string> uuid;              // "GPU-xxxxxxxx-...": the first device's UUID
  std::optional<std::string> pci_bus_id;        // use only the stub at this address ("0000:00:05.0")
  unsigned device_id = kDefaultStubDeviceId;    // PCI device id of the stub to look for
  std::string sysfs_root = "/sys";              // where to scan for the stub (tests point it elsewhere)
  std::string state_dir = "/dev/shm";           // shared VRAM accounting between processes
  std::string backend = "host";                 // execution backend ("host": no kernel execution)

  std::string config_path;                      // the file that was read, if any
  std::vector<std::string> problems;            // "file:line: ..." / "VGPU_X: ..." texts, logged once
};

// Reads file and environment (see above). Never fails: problems are collected in Config::problems and
// the offending setting keeps its default.
Config load_config();

// "81559MiB", "80GiB", "85899345920", "80 GB" -> bytes. Units: B, KiB, MiB, GiB, TiB, KB, MB, GB, TB.
std::optional<uint64_t> parse_size(const std::string& text);

// "GPU-3f2504e0-4f89-11d3-9a0c-0305e82c3301" (case-insensitive, "GPU-" optional) -> 16 bytes.
bool parse_uuid(const std::string& text, uint8_t out[16]);
std::string format_uuid(const uint8_t uuid[16]);  // "GPU-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"

}  // namespace vgpu
