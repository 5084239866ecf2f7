// Libraries: each backend dir's ggml backend resolved as that era's runner resolves it, then every
// versioned import checked against its provider symbol by symbol, and the model checked against the
// real loader run in the same environment.
#include <algorithm>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "checks.h"
#include "elf_file.h"
#include "ld_cache.h"
#include "ld_diagnostics.h"
#include "loader_check.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;
namespace {

bool is_backend(const std::string& file) {
  return file.rfind("libggml-", 0) == 0 && file.size() > 3 && file.compare(file.size() - 3, 3, ".so") == 0 &&
         file.rfind("libggml-base", 0) != 0 && file.rfind("libggml-cpu", 0) != 0;
}

// One backend library, with the real loader already resolving it in a child while the model does.
struct Backend {
  std::string dir, lib;
  std::map<std::string, std::string> env;
  std::optional<PendingLdSoList> real;
};

void check_backend(const Install& in, Backend& b, Report& r) {
  const std::string &dir = b.dir, &lib = b.lib;
  auto& env = b.env;
  std::string llp = env.count("LD_LIBRARY_PATH") ? env["LD_LIBRARY_PATH"] : "";
  auto loader = make_loader(llp, "/");
  if (!loader) {
    r.findings.push_back({"doctor.loader", Severity::warning, lib, "cannot model the loader: " + loader.error().message, {}, ""});
    return;
  }
  Resolution top = loader->load(lib, nullptr);
  if (!top.found) return;  // check_links reports a missing backend library
  TreeNode node{lib + " [runner for " + dir + ", era " + (in.era.empty() ? "?" : in.era) + ", LD_LIBRARY_PATH=" + llp + "]", {}};
  std::set<std::string> noted_empty, bad_seen;
  for (const auto& o : loader->objects()) {
    for (const Resolution& d : o->deps) {
      if (o.get() == top.object || d.object == nullptr || !d.found)
        node.children.push_back({d.name + " => " + (d.found ? d.path + " [" + d.how + "]" : "not found"), {}});
      // ELF sanity of what the search met: a candidate of the wrong class or machine, truncated or not
      // ELF at all, is skipped by ld.so (open_verify) and the search goes on.
      for (const SearchStep& t : d.tried) {
        bool bad = t.outcome.rfind("wrong ", 0) == 0 || t.outcome.rfind("not an ELF file", 0) == 0;
        if (!bad || !bad_seen.insert(t.candidate).second) continue;
        bool unreadable = t.outcome.rfind("not an ELF file", 0) == 0;
        r.findings.push_back({"elf.bad_candidate", d.found ? Severity::warning : Severity::error, t.candidate,
                              unreadable ? t.candidate + " cannot be read as ELF (" + t.outcome + "): ld.so gives up there, and " +
                                               d.name + " fails to load"
                                         : t.candidate + " is skipped by ld.so (" + t.outcome + "), so " + d.name +
                                               (d.found ? " comes from " + d.path + " instead" : " is not loaded at all"),
                              {"tried " + t.candidate + " [" + t.source + "]: " + t.outcome},
                              "replace " + t.candidate + " with a 64-bit build for this machine, or remove it (vgpu-doctor fix re-links the shims)"});
      }
      if (!d.found) {
        Finding f{"resolve.not_found", Severity::error, o->path,
                  d.name + ", needed by " + o->path + ", is found nowhere the " + dir + " runner looks", {},
                  "install or link " + d.name + " into " + in.lib_ollama + "/" + dir + " or a directory on the runner's path"};
        // Every directory was also searched in its glibc-hwcaps subdirectories first; listing those would
        // triple the list without telling more (the JSON tree and -v keep the model's full answer).
        for (const SearchStep& t : d.tried)
          if (!t.subdir)
            f.evidence.push_back("tried " + t.candidate + " [" + t.source + "]: " + t.outcome);
        f.evidence.push_back("(each directory's hwcaps subdirectories were tried first, as ld.so does)");
        r.findings.push_back(std::move(f));
        continue;
      }
      for (const std::string& n : d.notes)
        if (n.find("empty entry") != std::string::npos && noted_empty.insert(o->path).second)
          r.findings.push_back({"resolve.empty_runpath_entry", Severity::warning, o->path,
                                o->path + " has an empty search-path entry, which ld.so reads as the current directory "
                                          "(the runner's is inherited: \"/\" under systemd, anything in a shell)",
                                {"RUNPATH \"" + o->elf->runpath + "\" [" + o->path + "]", n},
                                "run Ollama from a directory that holds no libraries, or rebuild without the trailing ':'"});
      // Per-symbol version check of what o imports from this provider (elf_file.h missing_imports).
      std::string prefix = d.name == "libcuda.so.1" ? "cu" : "";
      // One finding per provider, naming every symbol; the registration entry points first, since a
      // fatbin that cannot register is what kills the backend at load.
      auto missing = missing_imports(*o->elf, d.name, *d.object->elf, prefix);
      order_for_report(missing);
      if (!missing.empty()) {
        const MissingImport& first = missing.front();
        Finding f{"symbols.missing", Severity::error, d.path,
                  std::to_string(missing.size()) + " symbol(s) " + o->path + " imports are not provided by " + d.path +
                      ", e.g. " + first.symbol + (first.version.empty() ? "" : "@" + first.version) + ": " + first.reason,
                  {d.name + " => " + d.path + " [" + d.how + "]"},
                  "link " + d.name + " to the vgpu shim built for it (vgpu-doctor's links check names it)"};
        for (const MissingImport& m : missing)
          f.evidence.push_back(m.symbol + (m.version.empty() ? "" : "@" + m.version) + ": " + m.reason);
        r.findings.push_back(std::move(f));
      }
      // ELF sanity of the provider.
      if (d.object->elf->soname.empty())
        r.findings.push_back({"elf.no_soname", Severity::warning, d.path, d.path + " has no SONAME", {}, ""});
      else if (d.object->elf->soname != d.name && d.name.find('/') == std::string::npos)
        r.findings.push_back({"elf.soname_mismatch", Severity::warning, d.path,
                              d.path + " is installed as " + d.name + " but its SONAME is " + d.object->elf->soname,
                              {"DT_SONAME " + d.object->elf->soname}, ""});
    }
  }
  r.tree.push_back(std::move(node));

  // The model against the real loader, in the same environment.
  if (!b.real) return;
  auto real = b.real->result();
  if (!real) return;
  // Whether it loads at all: ld.so's trace exits non-zero on a file it cannot read (or a bad version).
  bool model_loads = true;
  for (const auto& o : loader->objects())
    for (const Resolution& d : o->deps) model_loads &= d.found;
  bool real_loads = real->exit_status == 0 && real->output.find("not found") == std::string::npos;
  if (model_loads != real_loads) {
    Finding f{"doctor.model_disagrees", Severity::warning, lib,
              std::string("the real loader ") + (real_loads ? "loads " : "cannot load ") + lib + ", vgpu-doctor's model says it " +
                  (model_loads ? "can" : "cannot"),
              {"ld.so exit status " + std::to_string(real->exit_status)}, ""};
    std::istringstream lines(real->output);
    for (std::string l; std::getline(lines, l);)
      if (l.find("error") != std::string::npos || l.find("not found") != std::string::npos) f.evidence.push_back("ld.so: " + l);
    r.findings.push_back(std::move(f));
  }
  for (const auto& o : loader->objects())
    for (const Resolution& d : o->deps) {
      auto it = real->paths.find(d.name);
      if (it == real->paths.end()) continue;
      std::string model = d.found ? d.path : "not found";
      std::error_code ec;
      bool same = model == it->second || (d.found && it->second != "not found" && fs::equivalent(model, it->second, ec));
      if (!same)
        r.findings.push_back({"doctor.model_disagrees", Severity::warning, d.name,
                              "the real loader resolves " + d.name + " differently from vgpu-doctor's model",
                              {"model: " + model + " [" + d.how + "]", "ld.so: " + it->second}, ""});
    }
}

}  // namespace

void check_libraries(const Install& in, Report& r) {
  std::vector<Backend> backends;
  for (const std::string& dir : in.backend_dirs) {
    std::error_code ec;
    std::vector<std::string> libs;
    for (const auto& e : fs::directory_iterator(in.lib_ollama + "/" + dir, ec))
      if (is_backend(e.path().filename().string())) libs.push_back(e.path().string());
    std::sort(libs.begin(), libs.end());
    for (std::string& lib : libs) backends.push_back({dir, std::move(lib), runner_environment(in, dir, RunnerEnv::Phase::model), std::nullopt});
  }
  // The real loader first, one child per backend, so that it works while the model does.
  static const Result<std::string> rtld = program_interpreter("/proc/self/exe");
  if (rtld)
    for (Backend& b : backends) {
      if (auto p = PendingLdSoList::start(rtld.value(), b.lib, env_list(b.env), "/")) b.real.emplace(std::move(p.value()));
    }
  for (Backend& b : backends) check_backend(in, b, r);

  // The cache every runner's lookups go through, against what ldconfig built it from.
  if (auto stale = ld_cache_stale_sources("/etc/ld.so.cache", "/etc/ld.so.conf"); stale && !stale->empty()) {
    Finding f{"loader.cache_stale", Severity::warning, "/etc/ld.so.cache",
              "/etc/ld.so.cache is older than " + stale->front().path +
                  (stale->size() > 1 ? " and " + std::to_string(stale->size() - 1) + " more" : "") +
                  ": libraries or settings changed since ldconfig last ran are invisible to cache lookups",
              {}, "sudo ldconfig"};
    for (const LdCacheStale& s : *stale)
      f.evidence.push_back(s.path + (s.directory ? " (a directory ld.so.conf lists)" : "") + " changed " +
                           std::to_string(s.newer_by_s) + " s after the cache was written");
    r.findings.push_back(std::move(f));
  }
}

}  // namespace vgpu::doctor
