// The dynamic loader's own platform facts, as it reports them with `ld.so --list-diagnostics` (glibc
// 2.34 and later; elf/dl-diagnostics.c _dl_print_diagnostics): $PLATFORM, $LIB, the glibc-hwcaps
// subdirectories it will try and the default directories. Tools like libtree and lddtree hard-code
// these and get Debian wrong ($LIB is "lib/x86_64-linux-gnu" there), so we ask the loader.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "ld_cache.h"
#include "result.h"

namespace vgpu {

struct LdDiagnostics {
  std::string platform;  // dl_platform, what $PLATFORM expands to; "" when the loader has none (0x0)
  // glibc-hwcaps subdirectory names ("x86-64-v3", without "glibc-hwcaps/"), most preferred first: the
  // entries of dl_hwcaps_subdirs whose bit is set in dl_hwcaps_subdirs_active (bit 0 = first entry,
  // elf/dl-hwcaps.h _dl_hwcaps_subdirs_active; split as _dl_hwcaps_split does, empty entries skipped).
  std::vector<std::string> hwcaps_subdirs;
  // path.system_dirs, in search order, exactly as printed (with the trailing '/', as ld.so joins them).
  std::vector<std::string> system_dirs;
  // What $LIB expands to: dl_dst_lib, the DL_DST_LIB that _dl_dst_substitute (elf/dl-load.c) copies in.
  // Upstream elf/Makefile defines it as $(notdir $(slibdir)) ("lib64" on Fedora, "lib" elsewhere);
  // Debian's patch debian/patches/any/local-ld-multiarch.diff makes it $(slibdir) without its leading
  // '/', "lib/x86_64-linux-gnu". No rule reproduces both, hence the loader is asked.
  std::string lib;
  // Every line, key -> value: quoted strings unescaped, numbers as printed ("0x7").
  std::map<std::string, std::string> raw;
  // The subdirectories ld.so tries inside every search directory before the directory itself, in its
  // order: "glibc-hwcaps/x86-64-v3", ..., then, before glibc 2.37, the legacy hwcaps ones ("tls/x86_64",
  // "x86_64", ...; elf/dl-hwcaps.c _dl_important_hwcaps), which --list-diagnostics does not print.
  // Read from the loader's own LD_DEBUG=libs search path (parse_search_subdirs); empty when unknown.
  std::vector<std::string> search_subdirs;
};

// From LD_DEBUG=libs output of a run with LD_LIBRARY_PATH=`probe_dir`: the subdirectories of probe_dir
// on the first "search path=" line that names it, in order (duplicates kept: ld.so tries them twice).
std::vector<std::string> parse_search_subdirs(std::string_view ld_debug_output, const std::string& probe_dir);

// Parses the output of `ld.so --list-diagnostics`. An Error if a line is malformed or one of
// dl_dst_lib, dl_platform, dl_hwcaps_subdirs, dl_hwcaps_subdirs_active, path.system_dirs[0x0] is missing.
Result<LdDiagnostics> parse_ld_diagnostics(std::string_view text);

// Runs `<ld_so> --list-diagnostics` in a child process (no shell; the environment is inherited, as it
// affects the answer) and parses what it prints; search_subdirs comes from query_search_subdirs. An empty `ld_so` means this process's own loader: the
// PT_INTERP of /proc/self/exe.
Result<LdDiagnostics> query_ld_diagnostics(const std::string& ld_so = "");

// The subdirectories `loader` tries in each search directory (LdDiagnostics::search_subdirs): for
// glibc >= 2.37 the glibc-hwcaps ones; before, read from the loader's LD_DEBUG=libs search path in a
// child, and kept in $XDG_CACHE_HOME/vgpu (~/.cache/vgpu) under a key of the loader file and its
// diagnostics (CPU features, hwcaps, platform), which decide the list. Empty when unknown.
std::vector<std::string> query_search_subdirs(const std::string& loader, const LdDiagnostics& d);

// The PT_INTERP string of the ELF file at `path` (symlinks followed).
Result<std::string> program_interpreter(const std::string& path);

// The facts ld_cache_lookup needs, from the diagnostics: hwcaps_subdirs, x86.cpu_features.isa_1,
// dl_hwcap, dl_hwcap_important (the default of the glibc.cpu.hwcap_mask tunable; a GLIBC_TUNABLES or
// LD_HWCAP_MASK override in the target's environment is not modelled) and dl_string_platform.
LdCacheHost ld_cache_host(const LdDiagnostics& diagnostics);

}  // namespace vgpu
