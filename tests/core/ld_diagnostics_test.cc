// core/ld_diagnostics: parsing `ld.so --list-diagnostics` (a captured Debian 12 excerpt, and malformed
// variants), then the live loader of this machine: its answer is checked against what the loader does
// and says elsewhere (`ld.so --help`, and a $LIB expansion it performs).
#include <catch2/catch.hpp>

#include "test_util.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "ld_diagnostics.h"

using namespace vgpu;
namespace fs = std::filesystem;

namespace {

// Captured from /lib64/ld-linux-x86-64.so.2 --list-diagnostics on Debian 12 (glibc 2.36-9+deb12u14),
// shortened; the env[0x3] line is made up to exercise the escapes (print_quoted_char).
const char* kSample = R"(dl_dst_lib="lib/x86_64-linux-gnu"
dl_hwcap=0x2
dl_hwcap_important=0x6
dl_hwcap2=0x2
dl_hwcaps_subdirs="x86-64-v4:x86-64-v3:x86-64-v2"
dl_hwcaps_subdirs_active=0x6
dl_pagesize=0x1000
dl_platform="haswell"
dl_profile_output="/var/tmp"
dl_string_platform=0x32
dso.ld="ld-linux-x86-64.so.2"
dso.libc="libc.so.6"
env[0x0]="LD_LIBRARY_PATH=/opt/ollama/lib"
env_filtered[0x1]="HOME"
env[0x2]="PATH=/usr/local/bin:/usr/bin:/bin"
env[0x3]="LC_X=a\"b\\c\001d"
path.prefix="/usr"
path.rtld="/lib64/ld-linux-x86-64.so.2"
path.sysconfdir="/etc"
path.system_dirs[0x0]="/lib/x86_64-linux-gnu/"
path.system_dirs[0x1]="/usr/lib/x86_64-linux-gnu/"
path.system_dirs[0x2]="/lib/"
path.system_dirs[0x3]="/usr/lib/"
version.release="stable"
version.version="2.36"
auxv[0x13].a_type=0xf
auxv[0x13].a_val="x86_64"
uname.machine="x86_64"
x86.cpu_features.isa_1=0x7
)";

std::string run(const std::string& cmd) { return vgpu::test::run_command(cmd); }

std::string without_line(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) != 0) out += line + "\n";
  return out;
}

}  // namespace

TEST_CASE("ld_diagnostics: a captured sample") {
  auto d = parse_ld_diagnostics(kSample);
  REQUIRE(d.ok());
  CHECK(d->platform == "haswell");
  CHECK(d->lib == "lib/x86_64-linux-gnu");
  // Active mask 0x6: bit 0 (x86-64-v4) clear, bits 1 and 2 set; the listed order is the priority order.
  CHECK(d->hwcaps_subdirs == std::vector<std::string>{"x86-64-v3", "x86-64-v2"});
  CHECK(d->system_dirs ==
        std::vector<std::string>{"/lib/x86_64-linux-gnu/", "/usr/lib/x86_64-linux-gnu/", "/lib/", "/usr/lib/"});
  CHECK(d->raw.at("version.version") == "2.36");
  CHECK(d->raw.at("env[0x0]") == "LD_LIBRARY_PATH=/opt/ollama/lib");
  CHECK(d->raw.at("env_filtered[0x1]") == "HOME");
  CHECK(d->raw.at("env[0x3]") == std::string("LC_X=a\"b\\c\001d"));
  CHECK(d->raw.at("dl_hwcap") == "0x2");

  LdCacheHost host = ld_cache_host(*d);
  CHECK(host.hwcaps_subdirs == d->hwcaps_subdirs);
  CHECK(host.isa_1 == 0x7);
  CHECK(host.hwcap == 0x2);
  CHECK(host.hwcap_mask == 0x6);
  CHECK(host.platform == 0x32);  // _DL_FIRST_PLATFORM (48) + 2: "haswell"
}

TEST_CASE("ld_diagnostics: a null platform, empty and odd hwcaps lists") {
  std::string text = without_line(kSample, "dl_platform=") + "dl_platform=0x0\n";
  text = without_line(text, "dl_hwcaps_subdirs") + "dl_hwcaps_subdirs=\"::a::b:\"\ndl_hwcaps_subdirs_active=0x3\n";
  auto d = parse_ld_diagnostics(text);
  REQUIRE(d.ok());
  CHECK(d->platform.empty());
  CHECK(d->hwcaps_subdirs == std::vector<std::string>{"a", "b"});  // empty entries are not counted

  text = without_line(kSample, "dl_hwcaps_subdirs") + "dl_hwcaps_subdirs=\"\"\ndl_hwcaps_subdirs_active=0x0\n";
  d = parse_ld_diagnostics(text);
  REQUIRE(d.ok());
  CHECK(d->hwcaps_subdirs.empty());
}

TEST_CASE("ld_diagnostics: malformed output is an Error that says why") {
  auto message = [](const std::string& text) {
    auto d = parse_ld_diagnostics(text);
    return d.ok() ? std::string("(parsed)") : d.error().message;
  };
  CHECK(message("").find("no dl_dst_lib") != std::string::npos);
  CHECK(message("Usage: ld.so [OPTION]... EXECUTABLE-FILE\n").find("not key=value") != std::string::npos);
  CHECK(message(without_line(kSample, "dl_dst_lib")).find("no dl_dst_lib") != std::string::npos);
  CHECK(message(without_line(kSample, "path.system_dirs[0x0]")).find("no path.system_dirs[0x0]") != std::string::npos);
  CHECK(message(std::string(kSample) + "dl_platform=\"x\"\n").find("duplicate") != std::string::npos);
  CHECK(message(std::string(kSample) + "x=\"open\n").find("unterminated") != std::string::npos);
  CHECK(message(std::string(kSample) + "x=\"a\\qb\"\n").find("escape") != std::string::npos);
  CHECK(message(std::string(kSample) + "x=\"a\\01\"\n").find("escape") != std::string::npos);
  CHECK(message(std::string(kSample) + "path.system_dirs[0x5]=\"/x/\"\n").find("contiguous") != std::string::npos);
  CHECK(message(without_line(kSample, "dl_hwcaps_subdirs_active") + "dl_hwcaps_subdirs_active=7\n")
            .find("hexadecimal") != std::string::npos);
}

TEST_CASE("ld_diagnostics: this process's loader, asked live") {
  auto interp = program_interpreter("/proc/self/exe");
  REQUIRE(interp.ok());
  INFO("PT_INTERP: " << *interp);
  auto d = query_ld_diagnostics();
  REQUIRE(d.ok());
  CHECK(d->raw.at("path.rtld") == *interp);
  CHECK_FALSE(d->system_dirs.empty());
  CHECK_FALSE(d->lib.empty());
  // x86-64 platforms (sysdeps/x86/dl-procinfo.c): x86_64 unless the CPU qualifies as haswell/xeon_phi.
  CHECK((d->platform == "x86_64" || d->platform == "haswell" || d->platform == "xeon_phi"));

  SECTION("hwcaps subdirectories: the ones `ld.so --help` calls searched, in its order") {
    std::istringstream help(run(*interp + " --help"));
    std::vector<std::string> searched;
    std::string line;
    bool in_section = false;
    while (std::getline(help, line)) {
      if (line.rfind("Subdirectories of glibc-hwcaps directories", 0) == 0) in_section = true;
      else if (in_section && line.rfind("  ", 0) != 0) in_section = false;
      else if (in_section && line.find("searched") != std::string::npos)
        searched.push_back(line.substr(2, line.find(' ', 2) - 2));
    }
    CHECK(d->hwcaps_subdirs == searched);
  }
  SECTION("$LIB: the loader expands it in LD_LIBRARY_PATH to the directory we report") {
    fs::path dir = fs::path(VGPU_TEST_TMP) / "ld_diagnostics_lib";
    fs::remove_all(dir);
    fs::create_directories(dir / d->lib);
    std::ofstream(dir / "dep.c") << "int dep(void) { return 1; }\n";
    std::ofstream(dir / "user.c") << "int dep(void); int user(void) { return dep(); }\n";
    fs::path dep = dir / d->lib / "libvgpudep.so";
    REQUIRE(std::system(("cc -shared -fPIC -o " + dep.string() + " -Wl,-soname,libvgpudep.so " +
                         (dir / "dep.c").string()).c_str()) == 0);
    REQUIRE(std::system(("cc -shared -fPIC -o " + (dir / "libvgpuuser.so").string() + " " + (dir / "user.c").string() +
                         " -L" + (dir / d->lib).string() + " -lvgpudep").c_str()) == 0);
    // Single quotes keep $LIB from the shell; ld.so expands it (elf/dl-load.c _dl_dst_substitute).
    std::string out = run("LD_LIBRARY_PATH='" + dir.string() + "/$LIB' " + *interp + " --list " +
                          (dir / "libvgpuuser.so").string());
    INFO(out);
    CHECK(out.find("libvgpudep.so => " + dep.string()) != std::string::npos);
  }
  SECTION("an explicit loader path, and loaders that are not") {
    auto same = query_ld_diagnostics(*interp);
    REQUIRE(same.ok());
    CHECK(same->system_dirs == d->system_dirs);
    auto missing = query_ld_diagnostics("/nonexistent/ld.so");
    REQUIRE_FALSE(missing.ok());
    CHECK(missing.error().message.find("cannot execute /nonexistent/ld.so: No such file") != std::string::npos);
    auto failing = query_ld_diagnostics("/bin/false");
    REQUIRE_FALSE(failing.ok());
    CHECK(failing.error().message.find("exited with status 1") != std::string::npos);
    auto echo = query_ld_diagnostics("/bin/echo");  // prints "--list-diagnostics", exits 0
    REQUIRE_FALSE(echo.ok());
    CHECK(echo.error().message.find("not key=value") != std::string::npos);
  }
}

TEST_CASE("ld_diagnostics: the subdirectories ld.so tries in each directory, from its own search path") {
  const std::string out =
      "     31961:\tfind library=libx.so [0]; searching\n"
      "     31961:\t search path=/p/glibc-hwcaps/x86-64-v3:/p/tls/x86_64:/p/tls/x86_64:/p/x86_64:/p\t\t(LD_LIBRARY_PATH)\n"
      "     31961:\t search cache=/etc/ld.so.cache\n";
  CHECK(parse_search_subdirs(out, "/p") ==
        std::vector<std::string>{"glibc-hwcaps/x86-64-v3", "tls/x86_64", "tls/x86_64", "x86_64"});
  CHECK(parse_search_subdirs("     1:\t search path=/q/tls:/q\t\t(RUNPATH)\n", "/p").empty());  // another dir
  auto d = query_ld_diagnostics();
  REQUIRE(d.ok());
  REQUIRE_FALSE(d->search_subdirs.empty());
  // The glibc-hwcaps ones come first, in --list-diagnostics' order.
  for (size_t i = 0; i < d->hwcaps_subdirs.size(); ++i) CHECK(d->search_subdirs[i] == "glibc-hwcaps/" + d->hwcaps_subdirs[i]);
}
