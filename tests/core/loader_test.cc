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
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "host_loader.h"
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

// vgpu-doctor's own model of this machine's loader (core/host_loader: its --list-diagnostics, its
// search subdirectories, /etc/ld.so.cache) for a process with `ld_library_path` running in `cwd`.
LoaderModel model(const std::string& ld_library_path, const fs::path& cwd) {
  auto m = host_loader(ld_library_path, cwd.string());
  REQUIRE(m.ok());
  return std::move(m.value());
}

// The model's answer for every object the load brought in, by DT_NEEDED name.
std::map<std::string, std::string> model_resolution(LoaderModel& m) {
  std::map<std::string, std::string> out;
  for (const auto& o : m.objects())
    for (const Resolution& d : o->deps) out[d.name] = d.found ? d.path : "not found";
  return out;
}

void compare(const fs::path& lib, const std::string& ld_library_path, const fs::path& cwd) {
  LoaderModel m = model(ld_library_path, cwd);
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
  LoaderModel m = model("", d);
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
  LoaderModel m = model("", d / "cwd");
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
  LoaderModel m = model((d / "env").string(), d);
  Resolution top = m.load((d / "libalpha.so").string(), nullptr);
  CHECK(top.object->deps.at(0).how == "LD_LIBRARY_PATH");
}

TEST_CASE("loader: RUNPATH applies to direct dependencies only; the chain's RPATH applies to all") {
  fs::path d = scratch("chain");
  build_lib(d / "deep", "gamma", {});
  build_lib(d / "mid", "beta", {"gamma"});
  build_lib(d, "alpha", {"beta"}, "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/mid:$ORIGIN/deep'");
  build_lib(d, "rho", {"beta"}, "-Wl,--disable-new-dtags -Wl,-rpath,'$ORIGIN/mid:$ORIGIN/deep'");
  LoaderModel m = model("", d);
  m.load((d / "libalpha.so").string(), nullptr);
  auto res = model_resolution(m);
  CHECK(res["libgamma.so"] == "not found");  // libb's own search has no RUNPATH of liba to use
  compare(d / "libalpha.so", "", d);
  compare(d / "librho.so", "", d);  // with RPATH, libr's path also serves libb's dependency
}

TEST_CASE("loader: not found lists every place tried, in order") {
  fs::path d = scratch("missing");
  build_lib(d, "alpha", {"nowhere"}, "-Wl,--enable-new-dtags -Wl,-rpath,'$ORIGIN/x'");
  LoaderModel m = model((d / "env").string(), d);
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
  auto diag = query_ld_diagnostics();
  REQUIRE(diag.ok());
  if (diag->hwcaps_subdirs.empty()) return;  // this CPU has none: nothing to prefer
  fs::path d = scratch("hwcaps");
  build_lib(d / "dir", "beta", {});
  build_lib(d / "dir/glibc-hwcaps" / diag->hwcaps_subdirs.back(), "beta", {});
  build_lib(d, "alpha", {"beta"});
  compare(d / "libalpha.so", (d / "dir").string(), d);
  LoaderModel m = model((d / "dir").string(), d);
  Resolution top = m.load((d / "libalpha.so").string(), nullptr);
  CHECK(top.object->deps.at(0).path.find("glibc-hwcaps") != std::string::npos);
}

// ---- generated layouts: many random libraries, directories and search paths, model against ld.so ----
namespace {

struct GenLib {
  std::string name;                 // lib<name>.so, SONAME the same
  std::vector<std::string> needed;  // names
  std::string path_kind;            // "runpath", "rpath", ""
  std::vector<std::string> path;    // entries
  std::string dir;                  // where it is placed (relative to the layout root)
};

// A layout: up to 6 libraries in 4 directories (some in two, so the search order decides), each with
// RUNPATH or RPATH made of $ORIGIN, $ORIGIN/../dN, absolute dirs and empty entries; sometimes a 32-bit
// library of the same name first on a path (skipped), sometimes a file that is not ELF (fatal);
// LD_LIBRARY_PATH a random list with relative and empty entries; a random current directory.
struct Layout {
  std::vector<GenLib> libs;
  std::vector<std::pair<std::string, std::string>> extra;  // (dir, name): a copy of lib name in another dir
  std::vector<std::pair<std::string, std::string>> bad32, junk;
  std::vector<std::pair<std::string, std::string>> in_subdir;  // (dir/subdir, name): a copy in a hwcaps subdirectory
  std::string ld_library_path, cwd;
};

Layout generate(std::mt19937& rng, const fs::path& root) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  const std::vector<std::string> dirs = {"d0", "d1", "d2", "d3/sub"};
  Layout l;
  int n = 3 + pick(4);
  for (int i = 0; i < n; ++i) {
    GenLib g;
    g.name = "g" + std::to_string(i);
    g.dir = dirs[static_cast<size_t>(pick(4))];
    for (int j = i + 1; j < n; ++j)
      if (pick(3) == 0 || j == i + 1) g.needed.push_back("g" + std::to_string(j));  // a DAG, top = g0
    int kind = pick(3);
    g.path_kind = kind == 0 ? "runpath" : kind == 1 ? "rpath" : "";
    if (!g.path_kind.empty())
      for (int k = 0, m = 1 + pick(3); k < m; ++k) {
        int e = pick(5);
        const std::string& d = dirs[static_cast<size_t>(pick(4))];
        g.path.push_back(e == 0 ? "$ORIGIN" : e == 1 ? "$ORIGIN/../" + d : e == 2 ? "" : (root / d).string());
      }
    l.libs.push_back(g);
  }
  for (int i = 1; i < n; ++i) {
    if (pick(3) == 0) l.extra.push_back({dirs[static_cast<size_t>(pick(4))], "g" + std::to_string(i)});
    if (pick(6) == 0) l.bad32.push_back({dirs[static_cast<size_t>(pick(4))], "g" + std::to_string(i)});
    if (pick(12) == 0) l.junk.push_back({dirs[static_cast<size_t>(pick(4))], "g" + std::to_string(i)});
    // The subdirectories ld.so tries first in each directory: legacy ones (glibc < 2.37) and a
    // glibc-hwcaps level this CPU may or may not have.
    static const char* subs[] = {"x86_64", "tls", "tls/x86_64", "glibc-hwcaps/x86-64-v2", "glibc-hwcaps/x86-64-v4", "haswell"};
    if (pick(5) == 0) l.in_subdir.push_back({dirs[static_cast<size_t>(pick(4))] + "/" + subs[pick(6)], "g" + std::to_string(i)});
  }
  std::vector<std::string> llp;
  for (int k = 0, m = pick(4); k < m; ++k) {
    int e = pick(4);
    const std::string& d = dirs[static_cast<size_t>(pick(4))];
    llp.push_back(e == 0 ? "" : e == 1 ? d : (root / d).string());
  }
  for (const std::string& e : llp) l.ld_library_path += (&e == &llp.front() ? "" : ":") + e;
  l.cwd = pick(2) ? (root / dirs[static_cast<size_t>(pick(4))]).string() : root.string();
  return l;
}

void build_layout(const Layout& l, const fs::path& root) {
  for (const char* d : {"d0", "d1", "d2", "d3/sub"}) fs::create_directories(root / d);
  auto place = [&](const GenLib& g, const std::string& dir) {
    std::string opts;
    if (!g.path_kind.empty()) {
      std::string joined;
      for (size_t i = 0; i < g.path.size(); ++i) joined += (i ? ":" : "") + g.path[i];
      // Through a response file: the shell would expand $ORIGIN.
      fs::path rsp = root / (g.name + "-" + std::to_string(std::hash<std::string>{}(dir)) + ".rsp");
      std::ofstream(rsp) << "-rpath=" << joined << "\n";
      opts = "-Wl,@" + rsp.string() + (g.path_kind == "runpath" ? " -Wl,--enable-new-dtags" : " -Wl,--disable-new-dtags");
    }
    build_lib(root / dir, g.name, g.needed, opts);
  };
  for (const GenLib& g : l.libs) place(g, g.dir);
  for (const auto& [dir, name] : l.extra)
    for (const GenLib& g : l.libs)
      if (g.name == name && g.dir != dir) place(g, dir);
  for (const auto& [dir, name] : l.in_subdir)
    for (const GenLib& g : l.libs)
      if (g.name == name) place(g, dir);
  for (const auto& [dir, name] : l.bad32) {
    if (fs::exists(root / dir / ("lib" + name + ".so"))) continue;
    std::ofstream(root / ".s32.s") << ".globl x\nx:\n ret\n";
    std::string cmd = "as --32 -o " + (root / ".s32.o").string() + " " + (root / ".s32.s").string() + " && ld -m elf_i386 -shared -soname lib" +
                      name + ".so -o " + (root / dir / ("lib" + name + ".so")).string() + " " + (root / ".s32.o").string();
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  for (const auto& [dir, name] : l.junk)
    if (!fs::exists(root / dir / ("lib" + name + ".so"))) std::ofstream(root / dir / ("lib" + name + ".so")) << "not ELF\n";
}

}  // namespace

TEST_CASE("loader: generated layouts resolve as ld.so resolves them") {
  const unsigned seed = 20261122;
  const int layouts = 40;
  std::mt19937 rng(seed);
  int compared = 0, fatal = 0, missing = 0, deps = 0, from_subdir = 0;
  for (int i = 0; i < layouts; ++i) {
    fs::path root = scratch(("gen" + std::to_string(i)).c_str());
    Layout l = generate(rng, root);
    build_layout(l, root);
    fs::path top = root / l.libs[0].dir / "libg0.so";
    INFO("seed " << seed << ", layout " << i << " in " << root << ", LD_LIBRARY_PATH=" << l.ld_library_path << ", cwd " << l.cwd);
    LoaderModel m = model(l.ld_library_path, l.cwd);
    Resolution r = m.load(top.string(), nullptr);
    REQUIRE(r.found);
    bool model_fatal = false, model_missing = false;
    for (const auto& o : m.objects())
      for (const Resolution& d : o->deps) model_fatal |= d.fatal, model_missing |= !d.found;
    auto real = ld_so_list(kLdSo, top.string(), {"LD_LIBRARY_PATH=" + l.ld_library_path}, l.cwd);
    REQUIRE(real.ok());
    INFO("ld.so said:\n" << real->output);
    if (model_fatal) {
      // ld.so gives up at a file it cannot read as ELF: it fails, where the model stopped too.
      CHECK(real->exit_status != 0);
      CHECK(real->output.find("error while loading shared libraries") != std::string::npos);
      ++fatal;
      continue;
    }
    CHECK(real->exit_status == 0);
    auto model = model_resolution(m);
    for (const auto& [name, path] : model) {
      if (name == "linux-vdso.so.1" || name == fs::path(kLdSo).filename().string()) continue;
      INFO(name << ": model " << path << ", ld.so " << (real->paths.count(name) ? real->paths[name] : "(not listed)"));
      REQUIRE(real->paths.count(name));
      std::string want = real->paths[name];
      if (want != "not found" && want[0] != '/') want = l.cwd + "/" + want;  // ld.so prints it as it opened it
      if (path == "not found" || want == "not found") CHECK(path == want);
      else CHECK(fs::weakly_canonical(path) == fs::weakly_canonical(want));
      ++deps;
      from_subdir += path.find("/x86_64/") != std::string::npos || path.find("/tls/") != std::string::npos ||
                     path.find("/glibc-hwcaps/") != std::string::npos;
    }
    missing += model_missing;
    ++compared;
  }
  // The generator must reach every kind of case, or the test proves less than it claims.
  CHECK(compared >= layouts / 2);
  CHECK(fatal >= 1);
  CHECK(missing >= 1);
  CHECK(from_subdir >= 1);  // some dependency really came from a hwcaps subdirectory
  WARN("generated layouts: " << compared << " compared dependency by dependency (" << deps << " dependencies, " << missing
                             << " with one not found, " << from_subdir << " found in a hwcaps subdirectory), " << fatal << " stopped at a non-ELF file, as ld.so did");
}
