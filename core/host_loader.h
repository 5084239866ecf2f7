// A loader model of this machine's own ld.so: its platform facts from `ld.so --list-diagnostics` and
// its /etc/ld.so.cache, gathered once per run (optionally early, on a thread) and shared by every
// model, with one ELF cache for the run. vgpu-doctor models each runner with it; vgpu-trace re-runs it
// in a traced process's context to say why a library it loaded was unloaded again.
#pragma once

#include <memory>
#include <string>

#include "elf_file.h"
#include "loader.h"
#include "result.h"

namespace vgpu {

// Starts gathering the facts on a thread, so that they come in while the caller works. Optional.
void prefetch_host_loader_facts();
// The parsed ELF files every model of this run shares.
const std::shared_ptr<ElfCache>& host_elf_cache();
// A model of a process with `ld_library_path` running in `cwd`.
Result<LoaderModel> host_loader(const std::string& ld_library_path, const std::string& cwd = "/");

}  // namespace vgpu
