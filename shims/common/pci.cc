#include "pci.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace vgpu {
namespace {

// Reads a sysfs attribute such as "0x10de\n".
bool read_hex_attr(const std::string& dir, const char* name, unsigned& out) {
  std::string path = dir + "/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[32];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n <= 0) return false;
  buf[n] = '\0';
  char* end = nullptr;
  errno = 0;
  unsigned long v = std::strtoul(buf, &end, 16);
  if (errno != 0 || end == buf) return false;
  out = static_cast<unsigned>(v);
  return true;
}

}  // namespace

bool parse_bus_id(const std::string& text, PciFunction& out) {
  unsigned d, b, s, f;
  char tail;
  if (std::sscanf(text.c_str(), "%4x:%2x:%2x.%1x%c", &d, &b, &s, &f, &tail) != 4) return false;
  out.domain = d;
  out.bus = b;
  out.device = s;
  out.function = f;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04x:%02x:%02x.%x", d, b, s, f);
  out.bus_id = buf;
  return true;
}

PciScan scan_pci_stubs(const std::string& sysfs_root, unsigned device_id, const std::string& only_bus_id) {
  PciScan scan;
  scan.directory = sysfs_root + "/bus/pci/devices";
  DIR* dir = ::opendir(scan.directory.c_str());
  if (!dir) {
    scan.error = std::strerror(errno);
    return scan;
  }
  while (dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    PciFunction fn;
    if (!parse_bus_id(e->d_name, fn)) continue;
    if (!only_bus_id.empty() && fn.bus_id != only_bus_id) continue;
    std::string path = scan.directory + "/" + e->d_name;
    if (!read_hex_attr(path, "vendor", fn.vendor_id) || !read_hex_attr(path, "device", fn.device_id) ||
        !read_hex_attr(path, "class", fn.class_code))
      continue;
    unsigned cls = fn.class_code >> 8;
    if (fn.vendor_id != kNvidiaVendorId || fn.device_id != device_id || (cls != 0x0302 && cls != 0x0300)) continue;
    read_hex_attr(path, "subsystem_vendor", fn.subsystem_vendor);
    read_hex_attr(path, "subsystem_device", fn.subsystem_device);
    scan.stubs.push_back(fn);
  }
  ::closedir(dir);
  std::sort(scan.stubs.begin(), scan.stubs.end(),
            [](const PciFunction& a, const PciFunction& b) { return a.bus_id < b.bus_id; });
  return scan;
}

}  // namespace vgpu
