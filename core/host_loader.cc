#include "host_loader.h"

#include <future>
#include <mutex>

#include "background.h"
#include "ld_cache.h"
#include "ld_diagnostics.h"

namespace vgpu {

namespace {

// What every loader model of a run shares: the loader's own platform facts (a child process) and
// ld.so.cache. Gathered once, on a thread of its own when prefetch_loader_facts() asks early.
struct LoaderFacts {
  Result<LdDiagnostics> diag;
  std::shared_ptr<Result<LdCache>> cache;
};

std::shared_future<std::shared_ptr<const LoaderFacts>>& loader_facts_future() {
  static std::shared_future<std::shared_ptr<const LoaderFacts>> f;
  return f;
}

std::shared_ptr<const LoaderFacts> gather_loader_facts() {
  return std::make_shared<const LoaderFacts>(
      LoaderFacts{query_ld_diagnostics(), std::make_shared<Result<LdCache>>(read_ld_cache("/etc/ld.so.cache"))});
}

const LoaderFacts& loader_facts() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!loader_facts_future().valid()) loader_facts_future() = std::async(std::launch::deferred, gather_loader_facts).share();
  });
  return *loader_facts_future().get();
}

}  // namespace

const std::shared_ptr<ElfCache>& host_elf_cache() {
  static const auto cache = std::make_shared<ElfCache>();  // one parse per file for the whole run
  return cache;
}

void prefetch_host_loader_facts() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (!loader_facts_future().valid())
      loader_facts_future() = std::async(std::launch::async, [] {
                                run_in_background();  // (and the run of ld.so it starts)
                                return gather_loader_facts();
                              }).share();
  });
}

Result<LoaderModel> host_loader(const std::string& ld_library_path, const std::string& cwd) {
  const LoaderFacts& facts = loader_facts();
  const Result<LdDiagnostics>& diag = facts.diag;
  if (!diag) return Error{"ld.so --list-diagnostics: " + diag.error().message};
  std::shared_ptr<Result<LdCache>> cache = facts.cache;
  LoaderPlatform p;
  p.platform = diag->platform;
  p.lib = diag->lib;
  p.hwcaps_subdirs = diag->hwcaps_subdirs;
  p.search_subdirs = diag->search_subdirs;
  p.system_dirs = diag->system_dirs;
  p.rtld = diag->raw.count("path.rtld") ? diag->raw.at("path.rtld") : "";
  LoaderContext c;
  c.ld_library_path = ld_library_path;
  c.cwd = cwd;
  c.elf_cache = host_elf_cache();
  LdCacheHost host = ld_cache_host(diag.value());
  c.cache_lookup = [host, cache](const std::string& soname) -> std::optional<std::string> {
    if (!cache->ok()) return std::nullopt;
    const LdCacheEntry* e = ld_cache_lookup(cache->value(), soname, host);
    return e ? std::optional<std::string>(e->value) : std::nullopt;
  };
  return LoaderModel(std::move(p), std::move(c));
}

}  // namespace vgpu
