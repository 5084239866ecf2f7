// Finding the virtual GPU's stub PCI function in sysfs (<root>/bus/pci/devices/<dddd:bb:dd.f>/...).
// A stub is vendor 0x10de (NVIDIA), class 0x0302xx (3D controller) or 0x0300xx (VGA), and the configured
// device id (default 0x2331). The scan reads only sysfs attribute files; it never touches config space.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace vgpu {

inline constexpr unsigned kNvidiaVendorId = 0x10de;

struct PciFunction {
  std::string bus_id;  // "0000:00:05.0", lower case, as sysfs names it
  unsigned domain = 0, bus = 0, device = 0, function = 0;
  unsigned vendor_id = 0, device_id = 0, class_code = 0;
  unsigned subsystem_vendor = 0, subsystem_device = 0;
};

struct PciScan {
  std::vector<PciFunction> stubs;  // sorted by bus id
  std::string directory;           // what was scanned
  std::string error;               // non-empty if the directory could not be read
};

// `only_bus_id`: empty for any address, else the one address to accept.
PciScan scan_pci_stubs(const std::string& sysfs_root, unsigned device_id, const std::string& only_bus_id);

// "0000:00:05.0" -> fields; false if malformed.
bool parse_bus_id(const std::string& text, PciFunction& out);

}  // namespace vgpu
