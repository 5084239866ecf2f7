// core/ld_cache: this machine's /etc/ld.so.cache and caches that ldconfig writes at test time over a
// scratch directory of tiny libraries, each checked entry by entry against `ldconfig -p`; lookups that
// exercise glibc-hwcaps priorities, the ISA-level check, numeric soname order and 32-bit entries; and
// truncated or corrupted caches, which must be Errors, never crashes (this suite also runs under
// ASan+UBSan).
#include <catch2/catch.hpp>

#include "test_util.h"

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ld_cache.h"

using namespace vgpu;
namespace fs = std::filesystem;

namespace {

std::string run(const std::string& cmd) { return vgpu::test::run_command(cmd); }

std::string ldconfig() {
  for (const char* p : {"/sbin/ldconfig", "/usr/sbin/ldconfig"})
    if (fs::exists(p)) return p;
  FAIL("ldconfig not found in /sbin or /usr/sbin (Debian's libc-bin has it)");
  return "";
}

std::vector<unsigned char> slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One line of `ldconfig -p`: "\tKEY (DESCRIPTION) => VALUE" (elf/cache.c print_entry).
struct Listed {
  std::string key, description, value;
};

std::vector<Listed> ldconfig_p(const std::string& cache_file) {
  std::istringstream in(run(ldconfig() + " -p -C " + cache_file));
  std::vector<Listed> out;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '\t') continue;
    size_t open = line.find(" ("), arrow = line.rfind(") => ");
    REQUIRE(open != std::string::npos);
    REQUIRE(arrow != std::string::npos);
    out.push_back({line.substr(1, open - 1), line.substr(open + 2, arrow - open - 2), line.substr(arrow + 5)});
  }
  return out;
}

// The parse agrees with ldconfig's own listing, entry by entry and in order; and for every x86-64
// soname, the lookup (no glibc-hwcaps subdirectory active) returns the first plain x86-64 entry, which
// is what search_cache takes when no legacy hwcap bits are involved.
void check_against_ldconfig_p(const std::string& cache_file, const LdCache& cache) {
  std::vector<Listed> listed = ldconfig_p(cache_file);
  REQUIRE(listed.size() == cache.entries.size());
  std::map<std::string, std::string> first_plain;
  for (size_t i = 0; i < listed.size(); ++i) {
    const LdCacheEntry& e = cache.entries[i];
    INFO("entry " << i << ": " << listed[i].key << " (" << listed[i].description << ") => " << listed[i].value);
    CHECK(e.key == listed[i].key);
    CHECK(e.value == listed[i].value);
    const std::string& d = listed[i].description;
    bool x86_64 = d.rfind("libc6,x86-64", 0) == 0;
    CHECK(x86_64 == (e.flags == kLdCacheX8664));
    size_t hw = d.find("hwcap: \"");
    if (hw != std::string::npos) {
      CHECK(e.is_glibc_hwcaps());
      CHECK(e.hwcaps_subdir == d.substr(hw + 8, d.size() - hw - 9));
    } else if (d.find("hwcap: ") == std::string::npos && x86_64) {
      first_plain.emplace(e.key, e.value);
    }
  }
  for (const auto& [key, value] : first_plain) {
    const LdCacheEntry* e = ld_cache_lookup(cache, key);
    INFO("lookup " << key);
    REQUIRE(e);
    CHECK(e->value == value);
  }
}

// Scratch libraries: libfoo.so.1 plain and in glibc-hwcaps/x86-64-v2 and -v3 (the v3 one marked as
// needing ISA level v3), libnum.so.9 and libnum.so.10 (numeric order), libonly32.so.1 (i386 only).
struct Scratch {
  fs::path dir = fs::path(VGPU_TEST_TMP) / "ld_cache";
  fs::path libs = dir / "libs";
  fs::path conf = dir / "ld.so.conf";

  Scratch() {
    fs::remove_all(dir);
    fs::create_directories(libs / "glibc-hwcaps" / "x86-64-v2");
    fs::create_directories(libs / "glibc-hwcaps" / "x86-64-v3");
    std::ofstream(dir / "f.c") << "int f(void) { return 1; }\n";
    lib("libfoo.so.1", libs / "libfoo.so.1");
    lib("libfoo.so.1", libs / "glibc-hwcaps/x86-64-v2/libfoo.so.1");
    lib("libfoo.so.1", libs / "glibc-hwcaps/x86-64-v3/libfoo.so.1", "-Wl,-z,x86-64-v3");
    lib("libnum.so.9", libs / "libnum.so.9");
    lib("libnum.so.10", libs / "libnum.so.10");
    // No i386 C runtime is needed for a shared object with nothing but a function and a SONAME.
    lib("libonly32.so.1", libs / "libonly32.so.1", "-m32 -nostdlib");
    std::ofstream(conf) << libs.string() << "\n";
  }
  void lib(const std::string& soname, const fs::path& out, const std::string& extra = "") {
    std::string cmd = "cc -shared -fPIC " + extra + " -o " + out.string() + " -Wl,-soname," + soname + " " +
                      (dir / "f.c").string();
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  // `ldconfig -c FORMAT`: "new", "compat" (old+new) or "old". -X: leave the scratch links alone. ldconfig
  // always adds the system directories too; run as root it also refreshes /var/cache/ldconfig/aux-cache.
  fs::path cache(const std::string& format) {
    fs::path out = dir / ("ld.so.cache." + format);
    std::string cmd = ldconfig() + " -X -c " + format + " -C " + out.string() + " -f " + conf.string();
    INFO(cmd);
    REQUIRE(std::system(cmd.c_str()) == 0);
    return out;
  }
  std::string path(const std::string& rel) const { return (libs / rel).string(); }
};

Scratch& scratch() {
  static Scratch s;
  return s;
}

LdCacheHost all_levels() {
  LdCacheHost h;
  h.hwcaps_subdirs = {"x86-64-v4", "x86-64-v3", "x86-64-v2"};
  h.isa_1 = 0xf;  // baseline, v2, v3, v4
  return h;
}

}  // namespace

TEST_CASE("ld_cache: this machine's /etc/ld.so.cache matches ldconfig -p") {
  auto cache = read_ld_cache("/etc/ld.so.cache");
  REQUIRE(cache.ok());
  CHECK((cache->format == "new" || cache->format == "old+new"));
  CHECK_FALSE(cache->entries.empty());
  check_against_ldconfig_p("/etc/ld.so.cache", *cache);
  // libc.so.6 has an i386 entry too on multilib systems; the x86-64 one must win.
  const LdCacheEntry* libc = ld_cache_lookup(*cache, "libc.so.6");
  REQUIRE(libc);
  CHECK(libc->flags == kLdCacheX8664);
  CHECK(ld_cache_lookup(*cache, "libvgpu-no-such-library.so.1") == nullptr);
}

TEST_CASE("ld_cache: new format written by ldconfig over scratch libraries") {
  fs::path file = scratch().cache("new");
  auto cache = read_ld_cache(file.string());
  REQUIRE(cache.ok());
  CHECK(cache->format == "new");
  check_against_ldconfig_p(file.string(), *cache);
  CHECK(cache->hwcaps_names == std::vector<std::string>{"x86-64-v2", "x86-64-v3"});

  std::vector<const LdCacheEntry*> foo;
  for (const LdCacheEntry& e : cache->entries)
    if (e.key == "libfoo.so.1") foo.push_back(&e);
  REQUIRE(foo.size() == 3);
  // ldconfig puts glibc-hwcaps entries first (elf/cache.c compare), sorted by subdirectory name.
  CHECK(foo[0]->hwcaps_subdir == "x86-64-v2");
  CHECK(foo[0]->isa_level() == 0);
  CHECK(foo[1]->hwcaps_subdir == "x86-64-v3");
  CHECK(foo[1]->isa_level() == 2);  // GNU_PROPERTY_X86_ISA_1_V3 is bit 2
  CHECK(foo[2]->hwcaps_subdir.empty());
  CHECK_FALSE(foo[2]->is_glibc_hwcaps());

  SECTION("no glibc-hwcaps subdirectory active: the plain entry") {
    const LdCacheEntry* e = ld_cache_lookup(*cache, "libfoo.so.1");
    REQUIRE(e);
    CHECK(e->value == scratch().path("libfoo.so.1"));
  }
  SECTION("the most preferred active subdirectory wins") {
    const LdCacheEntry* e = ld_cache_lookup(*cache, "libfoo.so.1", all_levels());
    REQUIRE(e);
    CHECK(e->value == scratch().path("glibc-hwcaps/x86-64-v3/libfoo.so.1"));
    LdCacheHost v2_only = all_levels();
    v2_only.hwcaps_subdirs = {"x86-64-v2"};
    e = ld_cache_lookup(*cache, "libfoo.so.1", v2_only);
    REQUIRE(e);
    CHECK(e->value == scratch().path("glibc-hwcaps/x86-64-v2/libfoo.so.1"));
    // Preference is the host's order, not the cache's: a later, less preferred entry does not win.
    LdCacheHost v2_first = all_levels();
    v2_first.hwcaps_subdirs = {"x86-64-v2", "x86-64-v3"};
    e = ld_cache_lookup(*cache, "libfoo.so.1", v2_first);
    REQUIRE(e);
    CHECK(e->value == scratch().path("glibc-hwcaps/x86-64-v2/libfoo.so.1"));
  }
  SECTION("an entry whose ISA level the CPU lacks is skipped even if its subdirectory is active") {
    LdCacheHost h = all_levels();
    h.isa_1 = 0x3;  // baseline and v2 only
    const LdCacheEntry* e = ld_cache_lookup(*cache, "libfoo.so.1", h);
    REQUIRE(e);
    CHECK(e->value == scratch().path("glibc-hwcaps/x86-64-v2/libfoo.so.1"));
  }
  SECTION("soname digits compare as numbers (_dl_cache_libcmp)") {
    const LdCacheEntry* nine = ld_cache_lookup(*cache, "libnum.so.9");
    const LdCacheEntry* ten = ld_cache_lookup(*cache, "libnum.so.10");
    REQUIRE(nine);
    REQUIRE(ten);
    CHECK(nine->value == scratch().path("libnum.so.9"));
    CHECK(ten->value == scratch().path("libnum.so.10"));
    CHECK(ld_cache_libcmp("libnum.so.9", "libnum.so.10") < 0);
    CHECK(ld_cache_libcmp("libnum.so.10", "libnum.so.9") > 0);
    CHECK(ld_cache_libcmp("libnum.so.010", "libnum.so.10") == 0);
  }
  SECTION("a 32-bit entry is never taken by an x86-64 process") {
    bool listed = false;
    for (const LdCacheEntry& e : cache->entries)
      if (e.key == "libonly32.so.1") {
        listed = true;
        CHECK(e.flags != kLdCacheX8664);
      }
    CHECK(listed);
    CHECK(ld_cache_lookup(*cache, "libonly32.so.1") == nullptr);
  }
}

TEST_CASE("ld_cache: old+new (compat) and old formats written by ldconfig") {
  SECTION("old+new: ld.so reads the new part; its glibc-hwcaps names resolve as glibc resolves them") {
    fs::path file = scratch().cache("compat");
    auto cache = read_ld_cache(file.string());
    REQUIRE(cache.ok());
    CHECK(cache->format == "old+new");
    check_against_ldconfig_p(file.string(), *cache);  // including the hwcap names ldconfig -p prints
    // ldconfig writes the names relative to the new header, ld.so and ldconfig -p read them from the
    // start of the file: no active subdirectory matches, so the plain entry is taken.
    const LdCacheEntry* e = ld_cache_lookup(*cache, "libfoo.so.1", all_levels());
    REQUIRE(e);
    CHECK(e->value == scratch().path("libfoo.so.1"));
  }
  SECTION("old: no hwcap data, the first x86-64 entry of the name is taken") {
    fs::path file = scratch().cache("old");
    auto cache = read_ld_cache(file.string());
    REQUIRE(cache.ok());
    CHECK(cache->format == "old");
    check_against_ldconfig_p(file.string(), *cache);
    const LdCacheEntry* e = ld_cache_lookup(*cache, "libfoo.so.1", all_levels());
    REQUIRE(e);
    CHECK(e->value == scratch().path("glibc-hwcaps/x86-64-v2/libfoo.so.1"));
  }
}

TEST_CASE("ld_cache: truncated and corrupted caches are Errors, never crashes") {
  std::vector<unsigned char> good = slurp(scratch().cache("new"));
  REQUIRE(parse_ld_cache(good).ok());
  std::vector<unsigned char> compat = slurp(scratch().cache("compat"));
  REQUIRE(parse_ld_cache(compat).ok());

  SECTION("every proper prefix") {
    for (const auto* bytes : {&good, &compat}) {
      size_t ok = 0;
      for (size_t n = 0; n < bytes->size(); ++n)
        ok += parse_ld_cache(std::span<const unsigned char>(bytes->data(), n)).ok();
      // The file ends with the generator string, which the extension directory covers: any cut loses
      // part of something the header points at.
      CHECK(ok == 0);
    }
  }
  SECTION("random byte flips and random 32-bit fields") {
    std::mt19937 rng(20240607);
    size_t parsed = 0;
    for (int round = 0; round < 3000; ++round) {
      std::vector<unsigned char> bytes = round % 2 ? good : compat;
      std::uniform_int_distribution<size_t> anywhere(0, bytes.size() - 1);
      std::uniform_int_distribution<size_t> header(0, 64);
      int changes = 1 + round % 4;
      for (int i = 0; i < changes; ++i) {
        size_t at = (round % 3 == 0 ? header : anywhere)(rng);
        if (round % 5 == 0 && at + 4 <= bytes.size()) {
          uint32_t v = static_cast<uint32_t>(rng());
          std::memcpy(bytes.data() + at, &v, 4);
        } else {
          bytes[at] ^= static_cast<unsigned char>(1u << (rng() % 8));
        }
      }
      auto cache = parse_ld_cache(bytes);
      if (!cache) {
        CHECK_FALSE(cache.error().message.empty());
        continue;
      }
      ++parsed;
      // A cache that still parses must be safe to search, in every configuration.
      for (const char* name : {"libfoo.so.1", "libnum.so.10", "libc.so.6", ""}) {
        ld_cache_lookup(*cache, name);
        ld_cache_lookup(*cache, name, all_levels());
      }
    }
    INFO("corrupted caches that still parsed: " << parsed);
    SUCCEED();
  }
  SECTION("specific corruptions") {
    auto put32 = [](std::vector<unsigned char> b, size_t at, uint32_t v) {
      std::memcpy(b.data() + at, &v, 4);
      return b;
    };
    auto err = [](const std::vector<unsigned char>& b) {
      auto r = parse_ld_cache(b);
      return r.ok() ? std::string("(parsed)") : r.error().message;
    };
    CHECK(err({}).find("not an ld.so.cache") != std::string::npos);
    CHECK(err(std::vector<unsigned char>(100, 'x')).find("not an ld.so.cache") != std::string::npos);
    CHECK(err(put32(good, 20, 0xffffffffu)).find("do not fit") != std::string::npos);       // nlibs
    std::vector<unsigned char> big = good;
    big[28] = 3;  // cache_file_new_flags_endian_big
    CHECK(err(big).find("little-endian") != std::string::npos);
    CHECK(err(put32(good, 32, 2)).find("misaligned") != std::string::npos);                 // extension_offset
    CHECK(err(put32(good, 32, static_cast<uint32_t>(good.size()))).find("extension") != std::string::npos);
    CHECK(err(put32(good, 48 + 4, static_cast<uint32_t>(good.size()))).find("outside") != std::string::npos);  // key
    CHECK(err(put32(good, 48 + 8, 0xfffffff0u)).find("outside") != std::string::npos);     // value
  }
}

TEST_CASE("ld_cache: a cache older than what ldconfig reads (conf, includes, listed directories) is named") {
  fs::path root = fs::path(VGPU_TEST_TMP) / "ld-stale";
  fs::remove_all(root);
  fs::create_directories(root / "conf.d");
  fs::create_directories(root / "libs-a");
  fs::create_directories(root / "libs-b");
  std::ofstream(root / "ld.so.conf") << "# comment\ninclude conf.d/*.conf\n" << (root / "libs-a").string() << "\n";
  std::ofstream(root / "conf.d" / "vgpu.conf") << (root / "libs-b").string() << "=libc6, /nonexistent # trailing\n";
  std::ofstream(root / "ld.so.cache") << "cache";
  auto set_time = [](const fs::path& p, int offset_s) {
    fs::last_write_time(p, fs::file_time_type::clock::now() + std::chrono::seconds(offset_s));
  };
  for (const char* p : {"ld.so.conf", "conf.d/vgpu.conf", "libs-a", "libs-b"}) set_time(root / p, -100);
  set_time(root / "ld.so.cache", -10);
  auto fresh = ld_cache_stale_sources((root / "ld.so.cache").string(), (root / "ld.so.conf").string());
  REQUIRE(fresh.ok());
  CHECK(fresh->empty());

  set_time(root / "conf.d" / "vgpu.conf", 0);  // an included file edited after ldconfig ran
  set_time(root / "libs-b", 0);                // and a library dropped into a directory it lists
  auto stale = ld_cache_stale_sources((root / "ld.so.cache").string(), (root / "ld.so.conf").string());
  REQUIRE(stale.ok());
  REQUIRE(stale->size() == 2);
  CHECK((*stale)[0].path == (root / "conf.d" / "vgpu.conf").string());
  CHECK_FALSE((*stale)[0].directory);
  CHECK((*stale)[1].path == (root / "libs-b").string());
  CHECK((*stale)[1].directory);
  CHECK((*stale)[1].newer_by_s >= 9);

  CHECK_FALSE(ld_cache_stale_sources((root / "none").string(), (root / "ld.so.conf").string()).ok());
}
