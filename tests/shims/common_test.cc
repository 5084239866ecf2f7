// Unit tests of the code every shim shares: the kv format, configuration, the stub scan,
// CUDA_VISIBLE_DEVICES and the machine-wide VRAM ledger.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "config.h"
#include "kv.h"
#include "pci.h"
#include "platform.h"
#include "profile.h"
#include "vram.h"

using namespace vgpu;
namespace fs = std::filesystem;

namespace {

fs::path scratch(const char* name) {
  fs::path p = fs::path(VGPU_TEST_TMP) / "common" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

void stub(const fs::path& root, const std::string& bus, const std::string& vendor, const std::string& device,
          const std::string& cls) {
  fs::path d = root / "bus/pci/devices" / bus;
  write(d / "vendor", vendor + "\n");
  write(d / "device", device + "\n");
  write(d / "class", cls + "\n");
}

}  // namespace

TEST_CASE("kv: sections, integers, strings, arrays, comments") {
  kv::Document d;
  std::string err;
  REQUIRE(kv::parse("top = 1\n[a]\nx = 0x10 # hex\ny = \"s # not a comment\"\nz = [1, -2, 3]\n12 = 34\n", "t", d, err));
  long long v;
  CHECK(d.get_int("", "top", v));
  CHECK(v == 1);
  CHECK(d.get_int("a", "x", v));
  CHECK(v == 16);
  std::string s;
  CHECK(d.get_string("a", "y", s));
  CHECK(s == "s # not a comment");
  REQUIRE(d.find("a", "z"));
  CHECK(d.find("a", "z")->array == std::vector<long long>{1, -2, 3});
  CHECK(d.get_int("a", "12", v));
  CHECK(v == 34);
}

TEST_CASE("kv: errors name the origin and line") {
  kv::Document d;
  std::string err;
  CHECK_FALSE(kv::parse("a = 1\nb = what\n", "f.toml", d, err));
  CHECK(err == "f.toml:2: value is not an integer, a \"string\" or an [array]");
  kv::Document d2;
  CHECK_FALSE(kv::parse("a = 1\na = 2\n", "f.toml", d2, err));
  CHECK(err == "f.toml:2: duplicate key");
  kv::Document d3;
  CHECK_FALSE(kv::parse("[open\n", "f.toml", d3, err));
  CHECK(err.find("f.toml:1:") == 0);
  kv::Document d4;
  CHECK_FALSE(kv::parse("x = 99999999999999999999\n", "f.toml", d4, err));
}

TEST_CASE("sizes and UUIDs") {
  CHECK(parse_size("81559MiB") == 81559ull << 20);
  CHECK(parse_size("80 GiB") == 80ull << 30);
  CHECK(parse_size("80GB") == 80000000000ull);
  CHECK(parse_size("1024") == 1024u);
  CHECK_FALSE(parse_size("lots"));
  CHECK_FALSE(parse_size("12 parsecs"));
  uint8_t u[16];
  REQUIRE(parse_uuid("GPU-3f2504e0-4f89-11d3-9a0c-0305e82c3301", u));
  CHECK(format_uuid(u) == "GPU-3f2504e0-4f89-11d3-9a0c-0305e82c3301");
  CHECK_FALSE(parse_uuid("GPU-3f2504e0", u));
  CHECK_FALSE(parse_uuid("GPU-3f2504e0-4f89-11d3-9a0c-0305e82c330z", u));
}

TEST_CASE("config: file, then environment; problems are collected, not fatal") {
  fs::path dir = scratch("config");
  write(dir / "vgpu.conf", "profile = \"h100-sxm5-80gb\"\nvram = \"40GiB\"\ndevice_id = 0x2330\nbogus = 1\n");
  setenv("VGPU_CONFIG", (dir / "vgpu.conf").c_str(), 1);
  setenv("VGPU_VRAM", "81559MiB", 1);
  setenv("VGPU_PCI_BUS_ID", "0000:00:05.0", 1);
  setenv("VGPU_UUID", "not-a-uuid", 1);
  Config c = load_config();
  unsetenv("VGPU_CONFIG");
  unsetenv("VGPU_VRAM");
  unsetenv("VGPU_PCI_BUS_ID");
  unsetenv("VGPU_UUID");
  CHECK(c.config_path == (dir / "vgpu.conf").string());
  CHECK(c.device_id == 0x2330);
  CHECK(c.vram_bytes == 81559ull << 20);  // the environment wins
  CHECK(c.pci_bus_id == "0000:00:05.0");
  CHECK_FALSE(c.uuid);
  REQUIRE(c.problems.size() == 2);
  CHECK(c.problems[0].find("vgpu.conf:4: unknown key 'bogus'") != std::string::npos);
  CHECK(c.problems[1].find("VGPU_UUID") == 0);
}

TEST_CASE("pci: only NVIDIA display/3D functions with the configured id are stubs") {
  fs::path root = scratch("sysfs");
  stub(root, "0000:00:05.0", "0x10de", "0x2331", "0x030200");
  stub(root, "0000:00:06.0", "0x10de", "0x2331", "0x030000");  // VGA class also counts
  stub(root, "0000:00:07.0", "0x10de", "0x2330", "0x030200");  // other device id
  stub(root, "0000:00:08.0", "0x8086", "0x2331", "0x030200");  // other vendor
  stub(root, "0000:00:09.0", "0x10de", "0x2331", "0x040300");  // audio function of a GPU
  PciScan s = scan_pci_stubs(root.string(), 0x2331, "");
  REQUIRE(s.error.empty());
  REQUIRE(s.stubs.size() == 2);
  CHECK(s.stubs[0].bus_id == "0000:00:05.0");
  CHECK(s.stubs[0].device == 5);
  CHECK(s.stubs[1].bus_id == "0000:00:06.0");
  CHECK(scan_pci_stubs(root.string(), 0x2331, "0000:00:06.0").stubs.size() == 1);
  PciScan missing = scan_pci_stubs((root / "nowhere").string(), 0x2331, "");
  CHECK_FALSE(missing.error.empty());
}

TEST_CASE("CUDA_VISIBLE_DEVICES: indexes, UUID prefixes, and the first bad token ends the list") {
  std::vector<VirtualDevice> devs(3);
  const char* uuids[] = {"GPU-aaaa1111-0000-0000-0000-000000000000", "GPU-bbbb2222-0000-0000-0000-000000000000",
                         "GPU-bbbb3333-0000-0000-0000-000000000000"};
  for (int i = 0; i < 3; ++i) {
    devs[static_cast<size_t>(i)].index = i;
    devs[static_cast<size_t>(i)].uuid_text = uuids[i];
  }
  CHECK(parse_cuda_visible_devices(nullptr, devs) == std::vector<int>{0, 1, 2});
  CHECK(parse_cuda_visible_devices("", devs).empty());
  CHECK(parse_cuda_visible_devices("2,0", devs) == std::vector<int>{2, 0});
  CHECK(parse_cuda_visible_devices("1,7,0", devs) == std::vector<int>{1});  // 7 does not exist
  CHECK(parse_cuda_visible_devices("GPU-aaaa", devs) == std::vector<int>{0});
  CHECK(parse_cuda_visible_devices("GPU-BBBB3", devs) == std::vector<int>{2});
  CHECK(parse_cuda_visible_devices("GPU-bbbb", devs).empty());  // ambiguous
  CHECK(parse_cuda_visible_devices("0,0", devs) == std::vector<int>{0});
  CHECK(parse_cuda_visible_devices("-1", devs).empty());
}

TEST_CASE("VRAM ledger: shared by processes, bounded by the total, freed when a process dies") {
  fs::path dir = scratch("ledger");
  const std::string uuid = "GPU-00000000-0000-0000-0000-00000000ledg";
  VramLedger a(dir.string(), uuid, 1000);
  REQUIRE(a.shared());
  CHECK(a.reserve(600));
  CHECK_FALSE(a.reserve(500));  // would exceed the total
  CHECK(a.used() == 600);
  // A child process takes 300 and exits without releasing it.
  pid_t pid = fork();
  if (pid == 0) {
    VramLedger b(dir.string(), uuid, 1000);
    _exit(b.reserve(300) && b.used() == 900 && !b.reserve(200) ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  // The dead child's 300 are reclaimed at the next look after the 250 ms reap interval...
  usleep(300 * 1000);
  CHECK(a.used() == 600);
  // ...and at once when an allocation would otherwise not fit.
  pid = fork();
  if (pid == 0) {
    VramLedger b(dir.string(), uuid, 1000);
    _exit(b.reserve(400) ? 0 : 1);
  }
  waitpid(pid, &status, 0);
  CHECK(a.reserve(400));
  a.release(1000);
  usleep(300 * 1000);
  CHECK(a.used() == 0);
  CHECK(a.used_by_self() == 0);
}

TEST_CASE("VRAM ledger without a usable state directory counts this process alone") {
  VramLedger a("/nonexistent/vgpu-state", "GPU-x", 100);
  CHECK_FALSE(a.shared());
  CHECK(a.reserve(60));
  CHECK_FALSE(a.reserve(60));
  a.release(60);
  CHECK(a.used() == 0);
}

TEST_CASE("profiles: built-in ids, files, and what a broken one says") {
  std::string err;
  const Profile* p = Profile::load("no-such-profile", err);
  CHECK_FALSE(p);
  CHECK(err.find("no built-in profile 'no-such-profile'") != std::string::npos);
  fs::path dir = scratch("profile");
  write(dir / "p.toml", "[profile]\nid = \"x\"\n[driver]\nname = \"X\"\n");
  CHECK_FALSE(Profile::load((dir / "p.toml").string(), err));
  CHECK(err.find("missing required key [driver] total_mem") != std::string::npos);
  for (const char* id : {"h100-sxm5-80gb"}) {
    const Profile* b = Profile::load(id, err);
    REQUIRE(b);
    CHECK(b->id() == id);
    CHECK(b->attribute(75));  // compute capability major is answered
  }
}
