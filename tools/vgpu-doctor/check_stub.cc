// The stub PCI device, looked for exactly as the shims look for it (shims/common/pci.h), under the
// sysfs root the service's shims will use (VGPU_SYSFS_ROOT of its environment, else /sys).
#include <cstdlib>

#include "checks.h"
#include "pci.h"

namespace vgpu::doctor {

void check_stub(const Install& in, Report& r) {
  unsigned device_id = 0x2331;
  std::string origin = "the shims' default";
  if (const EnvVar* v = in.env.find("VGPU_DEVICE_ID")) {
    device_id = static_cast<unsigned>(std::strtoul(v->value.c_str(), nullptr, 16));
    origin = v->origin;
  }
  PciScan scan = scan_pci_stubs(in.sysfs_root, device_id, "");
  char id[16];
  std::snprintf(id, sizeof id, "0x%04x", device_id);
  if (!scan.error.empty()) {
    r.findings.push_back({"stub.unreadable", Severity::error, scan.directory,
                          "cannot read " + scan.directory + ": " + scan.error, {}, "check VGPU_SYSFS_ROOT"});
    return;
  }
  if (scan.stubs.empty()) {
    r.findings.push_back({"stub.missing", Severity::error, scan.directory,
                          std::string("no stub PCI device: nothing with vendor 0x10de, device ") + id +
                              ", class 0x0302xx or 0x0300xx under " + scan.directory + "; the shims will report no GPU",
                          {std::string("device id ") + id + " [" + origin + "]"},
                          "check that the VM exposes the device (lspci -nn -d 10de:), or set VGPU_DEVICE_ID for its id"});
    return;
  }
  for (const PciFunction& f : scan.stubs) r.facts["stub"][f.bus_id] = std::string("10de:") + id + " under " + scan.directory;
}

}  // namespace vgpu::doctor
