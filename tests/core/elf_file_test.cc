// core/elf_file: reading real ELF files built at test time (tests/core/fixtures, tests/CMakeLists.txt)
// and the per-symbol version check the doctor and the coverage test rely on.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <elf.h>

#include <cstdio>
#include <algorithm>
#include <fstream>
#include <string>

#include "elf_file.h"

using namespace vgpu;

static std::string fixture(const char* name) { return std::string(VGPU_FIXTURE_DIR) + "/" + name; }

TEST_CASE("identity, SONAME, NEEDED and RUNPATH are read") {
  auto e = read_elf(fixture("libfix_consumer.so"));
  REQUIRE(e.ok());
  CHECK(e->elf_class == ELFCLASS64);
  CHECK(e->type == ET_DYN);
  CHECK(e->soname == "libfix_consumer.so");
  CHECK(e->has_runpath);
  CHECK(e->runpath == "$ORIGIN:");  // the empty entry recent ggml builds ship
  CHECK_FALSE(e->has_rpath);
  bool needs_provider = false;
  for (const auto& n : e->needed) needs_provider |= n == "libfix.so.1";
  CHECK(needs_provider);
}

TEST_CASE("versions: definitions, requirements and per-symbol versions") {
  auto p = read_elf(fixture("libfix_good/libfix.so.1"));
  REQUIRE(p.ok());
  REQUIRE(p->version_defs.size() == 2);
  CHECK(p->version_defs[0] == "libfix.so.1");  // BASE: the SONAME
  CHECK(p->version_defs[1] == "LIBFIX_1");
  const ElfSymbol* f = p->find_defined("f", "LIBFIX_1");
  REQUIRE(f);
  CHECK_FALSE(f->version_hidden);
  CHECK(p->find_defined("h", "") == nullptr);  // local

  auto c = read_elf(fixture("libfix_consumer.so"));
  REQUIRE(c.ok());
  bool found = false;
  for (const auto& s : c->symbols)
    if (s.name == "g" && !s.defined) {
      found = true;
      CHECK(s.version == "LIBFIX_1");
      CHECK(s.version_file == "libfix.so.1");
    }
  CHECK(found);
}

// Every defined symbol of `e`, looked up by name, against a plain scan of its .dynsym.
static void check_lookup_matches_scan(const ElfInfo& e) {
  size_t checked = 0;
  for (const ElfSymbol& s : e.symbols) {
    if (!s.defined) continue;
    std::vector<const ElfSymbol*> scan;
    for (const ElfSymbol& t : e.symbols)
      if (t.defined && t.name == s.name) scan.push_back(&t);
    auto got = e.defined_named(s.name);
    if (got != scan) FAIL_CHECK(e.path << ": lookup of " << s.name << " gives " << got.size() << ", scan " << scan.size());
    ++checked;
  }
  CHECK(checked > 0);
  CHECK(e.defined_named("vgpu_no_such_symbol_anywhere").empty());
}

TEST_CASE("defined_named: .gnu.hash lookup and the fallback index agree with a scan") {
  // The C and C++ runtimes this test runs with: thousands of symbols, several versions of some names.
  std::vector<std::string> libs;
  std::ifstream maps("/proc/self/maps");
  for (std::string line; std::getline(maps, line);) {
    auto slash = line.find('/');
    if (slash == std::string::npos) continue;
    std::string path = line.substr(slash);
    if ((path.find("/libc.so.6") != std::string::npos || path.find("/libstdc++.so.6") != std::string::npos) &&
        std::find(libs.begin(), libs.end(), path) == libs.end())
      libs.push_back(path);
  }
  REQUIRE(!libs.empty());
  for (const std::string& path : libs) {
    auto e = read_elf(path);
    REQUIRE(e.ok());
    CHECK_FALSE(e->gnu_hash.buckets.empty());
    check_lookup_matches_scan(*e);
    ElfInfo without = *e;  // the same symbols through the fallback index
    without.gnu_hash = {};
    check_lookup_matches_scan(without);
  }
  auto sysv = read_elf(fixture("libfix_sysv/libfix.so.1"));
  REQUIRE(sysv.ok());
  CHECK(sysv->gnu_hash.buckets.empty());
  check_lookup_matches_scan(*sysv);
  auto c = read_elf(fixture("libfix_consumer.so"));
  REQUIRE(c.ok());
  CHECK(missing_imports(*c, "libfix.so.1", *sysv).empty());
}

TEST_CASE("missing_imports judges each symbol as glibc would") {
  auto c = read_elf(fixture("libfix_consumer.so"));
  REQUIRE(c.ok());
  auto good = read_elf(fixture("libfix_good/libfix.so.1"));
  REQUIRE(good.ok());
  CHECK(missing_imports(*c, "libfix.so.1", *good).empty());

  auto wrong = read_elf(fixture("libfix_wrong/libfix.so.1"));
  REQUIRE(wrong.ok());
  auto m = missing_imports(*c, "libfix.so.1", *wrong);
  REQUIRE(m.size() == 2);
  CHECK(m[0].reason.find("no version node LIBFIX_1") != std::string::npos);

  auto partial = read_elf(fixture("libfix_partial/libfix.so.1"));
  REQUIRE(partial.ok());
  m = missing_imports(*c, "libfix.so.1", *partial);
  REQUIRE(m.size() == 1);
  CHECK(m[0].symbol == "g");
  CHECK(m[0].reason == "defined but local: the provider's version script does not export it");  // the seeds' bug

  auto plain = read_elf(fixture("libfix_plain/libfix.so.1"));
  REQUIRE(plain.ok());
  m = missing_imports(*c, "libfix.so.1", *plain);
  REQUIRE(m.size() == 2);
  CHECK(m[0].reason.find("no version information") != std::string::npos);
}

TEST_CASE("a truncated or non-ELF file is an error, not a crash") {
  std::string path = std::string(VGPU_TEST_TMP) + "/truncated.so";
  {
    std::ifstream in(fixture("libfix_good/libfix.so.1"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t cut : {size_t{0}, size_t{10}, size_t{64}, bytes.size() / 3, bytes.size() - 100}) {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(bytes.data(), static_cast<std::streamsize>(cut));
      out.close();
      auto r = read_elf(path);
      if (!r.ok()) CHECK_FALSE(r.error().message.empty());
    }
  }
  {
    std::ofstream out(path, std::ios::trunc);
    out << "#!/bin/sh\necho not an ELF file\n";
  }
  auto r = read_elf(path);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("not an ELF file") != std::string::npos);
  auto missing = read_elf(fixture("does-not-exist.so"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("No such file") != std::string::npos);
}
