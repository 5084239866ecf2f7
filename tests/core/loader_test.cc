// core/loader: the model of glibc's library search, checked differentially against the real loader.
// Every scenario builds tiny libraries at test time (chosen SONAME, NEEDED, RPATH/RUNPATH, placement),
// asks the model how each dependency resolves, and asks ld.so itself (`ld.so --list`, run with the same
// environment and current directory); the two must name the same file for every dependency.
#include <catch2/catch.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ld_cache.h"
#include "ld_diagnostics.h"
#include "loader.h"
#include "loader_check.h"

using namespace vgpu;
namespace fs = std::filesystem;

namespace {

const char* kLdSo = "/lib64/ld-linux-x86-64.so.2";

// Builds lib<name>.so at `dir` with SONAME lib<name>.so, the given NEEDED and link options.
void build_lib(const fs::path& dir, const std::string& name, const std::vector<std::string>& needed,
               const std::string& options = "") {
  fs::create_directories(dir);
  fs::path src = dir / (name + ".c");
  std::ofstream(src) << "int " << name << "_fn(void) { return 1; }\n";
  // NEEDED entries come from --no-as-needed -l: of stub files in a private link directory.
  fs::path stubs = dir.parent_path() / ".stubs";
  fs::create_directories(stubs);
  std::string link;
  for (const std::string& n : needed) {
    fs::path stub = stubs / ("lib" + n + ".so");
    if (!fs::exists(stub)) {
      std::ofstream(stubs / (n + ".c")) << "int " << n << "_stub;\n";
      REQUIRE(std::system(("cc -shared -o " + stub.string() + " -Wl,-soname,lib" + n + ".so " +
                           (stubs / (n + ".c")).string()).c_str()) == 0);
    }
    link += " -l" + n;
  }
  std::string cmd = "cc -shared -fPIC -o " + (dir / ("lib" + name + ".so")).string() + " -Wl,-soname,lib" + name +
                    ".so " + src.string() + " -L" + stubs.string() + " -Wl,--no-as-needed" + link + " " + options;
  REQUIRE(std::system(cmd.c_str()) == 0);
}

// What the real loader resolves for `lib`: soname -> path (or "not found").
std::map<std::string, std::string> real_resolution(const fs::path& lib, const std::string& ld_library_path,
                                                   const fs::path& cwd) {
  auto r = ld_so_list(kLdSo, lib.string(), {"LD_LIBRARY_PATH=" + ld_library_path}, cwd.string());
  REQUIRE(r.ok());
  return r->paths;
}

LoaderPlatform platform() {
  auto diag = query_ld_diagnostics(kLdSo);
  REQUIRE(diag.ok());
  LoaderPlatform p;
  p.platform = diag->platform;
  p.lib = diag->lib;
  p.hwcaps_subdirs = diag->hwcaps_subdirs;
  p.system_dirs = diag->system_dirs;
  p.rtld = kLdSo;
  return p;
}

LoaderContext context(const std::string& ld_library_path, const fs::path& cwd) {
  LoaderContext c;
  c.ld_library_path = ld_library_path;
  c.cwd = cwd.string();
  auto diag = query_ld_diagnostics(kLdSo);
  REQUIRE(diag.ok());
  LdCacheHost host = ld_cache_host(diag.value());
  auto cache = std::make_shared<Result<LdCache>>(read_ld_cache("/etc/ld.so.cache"));
  c.cache_lookup = [cache, host](const std::string& soname) -> std::optional<std::string> {
    if (!cache->ok()) return std::nullopt;
    const LdCacheEntry* e = ld_cache_lookup(cache->value(), soname, host);
    if (!e) return std::nullopt;
    return e->value;
  };
  return c;
}

// The model's answer for every object the load brought in, by DT_NEEDED name.
std::map<std::string, std::string> model_resolution(LoaderModel& m) {
  std::map<std::string, std::string> out;
  for (const auto& o : m.objects())
    for (const Resolution& d : o->deps) out[d.name] = d.found ? d.path : "not found";
  return out;
}

void compare(const fs::path& lib, const std::string& ld_library_path, const fs::path& cwd) {
  LoaderModel m(platform(), context(ld_library_path, cwd));
  Resolution top = m.load(lib.string(), nullptr);
  REQUIRE(top.found);
  auto model = model_resolution(m);
  auto real = real_resolution(lib, ld_library_path, cwd);
  for (const auto& [name, path] : model) {
    // ld.so lists itself by path, not by the SONAME libc's DT_NEEDED asks for.
    if (name == "linux-vdso.so.1" || name == fs::path(kLdSo).filename().string()) continue;
    INFO(name << ": model " << path << ", ld.so " << (real.count(name) ? real[name] : "(not listed)"));
    REQUIRE(real.count(name));
    // ld.so prints the path it opened; compare canonical forms (it may print "./x" for "x").
    if (path == "not found" || real[name] == "not found") CHECK(path == real[name]);
    else CHECK(fs::weakly_canonical(path) == fs::weakly_canonical(real[name]));
  }
}

fs::path scratch(const char* name) {
  fs::path p = fs::path(VGPU_TEST_TMP) / "loader" / name;
  fs::remove_all(p);
  fs::create_directories(p);
  return p;
}

}  // namespace

TEST_CASE("loader: RUNPATH $ORIGIN finds a sibling directory") {
  fs::path d = scratch("origin");
  build_lib(d / "sub", "beta", {});
  build_lib(d, "alpha", {"beta"}, "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/sub'");
  LoaderModel m(platform(), context("", d));
  Resolution top = m.load((d / "libalpha.so").string(), nullptr);
  REQUIRE(top.found);
  const Resolution& r = top.object->deps.at(0);
  CHECK(r.found);
  CHECK(r.how.rfind("RUNPATH of ", 0) == 0);
  compare(d / "libalpha.so", "", d);
}

TEST_CASE("loader: an empty RUNPATH entry is the current directory") {
  fs::path d = scratch("empty-entry");
  build_lib(d / "cwd", "beta", {});
  build_lib(d / "lib", "alpha", {"beta"}, "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN:'");
  LoaderModel m(platform(), context("", d / "cwd"));
  Resolution top = m.load((d / "lib/libalpha.so").string(), nullptr);
  REQUIRE(top.found);
  const Resolution& b = top.object->deps.at(0);
  CHECK(b.found);
  CHECK(fs::weakly_canonical(b.path) == fs::weakly_canonical(d / "cwd/libbeta.so"));
  bool noted = false;
  for (const auto& n : b.notes) noted |= n.find("empty entry") != std::string::npos;
  CHECK(noted);
  compare(d / "lib/libalpha.so", "", d / "cwd");
}

TEST_CASE("loader: LD_LIBRARY_PATH comes before RUNPATH; RPATH is ignored when RUNPATH is set") {
  fs::path d = scratch("order");
  build_lib(d / "env", "beta", {});
  build_lib(d / "runpath", "beta", {});
  build_lib(d / "rpath", "beta", {});
  build_lib(d, "alpha", {"beta"}, "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/runpath'");
  build_lib(d, "rho", {"beta"}, "-Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/rpath'");
  compare(d / "libalpha.so", (d / "env").string(), d);
  compare(d / "libalpha.so", "", d);
  compare(d / "librho.so", (d / "env").string(), d);  // RPATH (no RUNPATH) beats LD_LIBRARY_PATH
  LoaderModel m(platform(), context((d / "env").string(), d));
  Resolution top = m.load((d / "libalpha.so").string(), nullptr);
  CHECK(top.object->deps.at(0).how == "LD_LIBRARY_PATH");
}

TEST_CASE("loader: RUNPATH applies to direct dependencies only; the chain's RPATH applies to all") {
  fs::path d = scratch("chain");
  build_lib(d / "deep", "gamma", {});
  build_lib(d / "mid", "beta", {"gamma"});
  build_lib(d, "alpha", {"beta"}, "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/mid:$ORIGIN/deep'");
  build_lib(d, "rho", {"beta"}, "-Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/mid:$ORIGIN/deep'");
  LoaderModel m(platform(), context("", d));
  m.load((d / "libalpha.so").string(), nullptr);
  auto res = model_resolution(m);
  CHECK(res["libgamma.so"] == "not found");  // libb's own search has no RUNPATH of liba to use
  compare(d / "libalpha.so", "", d);
  compare(d / "librho.so", "", d);  // with RPATH, libr's path also serves libb's dependency
}

TEST_CASE("loader: not found lists every place tried, in order") {
  fs::path d = scratch("missing");
  build_lib(d, "alpha", {"nowhere"}, "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/x'");
  LoaderModel m(platform(), context((d / "env").string(), d));
  Resolution top = m.load((d / "libalpha.so").string(), nullptr);
  const Resolution& r = top.object->deps.at(0);
  CHECK_FALSE(r.found);
  REQUIRE(r.tried.size() >= 3);
  CHECK(r.tried[0].source == "LD_LIBRARY_PATH");
  bool runpath = false, cache = false, defaults = false;
  for (const auto& t : r.tried) {
    runpath |= t.source.rfind("RUNPATH of", 0) == 0;
    cache |= t.source == "ld.so.cache";
    defaults |= t.source == "default directories";
  }
  CHECK((runpath && cache && defaults));
  compare(d / "libalpha.so", (d / "env").string(), d);
}

TEST_CASE("loader: a glibc-hwcaps subdirectory the loader supports is preferred") {
  LoaderPlatform p = platform();
  if (p.hwcaps_subdirs.empty()) return;  // this CPU has none: nothing to prefer
  fs::path d = scratch("hwcaps");
  build_lib(d / "dir", "beta", {});
  build_lib(d / "dir/glibc-hwcaps" / p.hwcaps_subdirs.back(), "beta", {});
  build_lib(d, "alpha", {"beta"});
  compare(d / "libalpha.so", (d / "dir").string(), d);
  LoaderModel m(p, context((d / "dir").string(), d));
  Resolution top = m.load((d / "libalpha.so").string(), nullptr);
  CHECK(top.object->deps.at(0).path.find("glibc-hwcaps") != std::string::npos);
}
