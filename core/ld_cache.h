// /etc/ld.so.cache, read the way glibc 2.36's dynamic loader reads it, and the loader's choice among its
// entries for a soname. The layout is glibc's sysdeps/generic/dl-cache.h (struct cache_file,
// cache_file_new, file_entry_new, the extension directory); the format detection and the choice are
// elf/dl-cache.c (_dl_load_cache_lookup, search_cache); ldconfig writes it in elf/cache.c (save_cache).
// A truncated or corrupt cache is an Error: every offset is checked against the buffer.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "result.h"

namespace vgpu {

// sysdeps/generic/ldconfig.h: the low byte says what kind of object, the next the ABI it needs.
inline constexpr uint32_t kLdCacheFlagElfLibc6 = 0x0003;     // FLAG_ELF_LIBC6
inline constexpr uint32_t kLdCacheFlagX8664Lib64 = 0x0300;   // FLAG_X8664_LIB64
// sysdeps/unix/sysv/linux/x86_64/dl-cache.h: _DL_CACHE_DEFAULT_ID, the only flags an x86-64 ld.so
// accepts (_dl_cache_check_flags is `flags == _DL_CACHE_DEFAULT_ID` there).
inline constexpr uint32_t kLdCacheX8664 = kLdCacheFlagElfLibc6 | kLdCacheFlagX8664Lib64;
// sysdeps/generic/dl-cache.h: DL_CACHE_HWCAP_EXTENSION, set in `hwcap` of glibc-hwcaps entries.
inline constexpr uint64_t kLdCacheHwcapExtension = 1ULL << 62;

struct LdCacheEntry {
  std::string key;    // the soname
  std::string value;  // the path ld.so opens
  uint32_t flags = 0;
  uint64_t hwcap = 0;  // 0 in the old format
  // The glibc-hwcaps subdirectory ("x86-64-v3") of an entry whose hwcap marks it as one; "" if none.
  // Resolved exactly as ld.so resolves it (relative to the start of the file), which in an old+new cache
  // names the wrong string: see parse_ld_cache.
  std::string hwcaps_subdir;

  // dl_cache_hwcap_extension (sysdeps/generic/dl-cache.h): only DL_CACHE_HWCAP_EXTENSION is set in the
  // upper 32 bits, apart from the ISA level.
  bool is_glibc_hwcaps() const { return ((hwcap >> 32) & ~uint64_t{0x3ff}) == (kLdCacheHwcapExtension >> 32); }
  // The x86 ISA level ldconfig recorded (index of the highest GNU_PROPERTY_X86_ISA_1_NEEDED bit; 0: baseline).
  unsigned isa_level() const { return static_cast<unsigned>((hwcap >> 32) & 0x3ff); }
  // Index into the glibc-hwcaps extension section (lower 32 bits).
  uint32_t hwcaps_index() const { return static_cast<uint32_t>(hwcap); }
};

struct LdCache {
  std::vector<LdCacheEntry> entries;  // in file order: the order ld.so's binary search depends on
  std::string format;                 // "new", "old+new" (entries from the new part), or "old"
  // The glibc-hwcaps extension section: subdirectory names in section order (ldconfig sorts them), as
  // ld.so resolves them. An entry whose index is not below its size is never chosen
  // (glibc_hwcaps_priority returns 0).
  std::vector<std::string> hwcaps_names;
};

// Reads and parses the cache at `path` (normally /etc/ld.so.cache).
Result<LdCache> read_ld_cache(const std::string& path);
Result<LdCache> parse_ld_cache(std::span<const unsigned char> bytes);

// The process facts _dl_load_cache_lookup depends on. All of them are printed by
// `ld.so --list-diagnostics` (ld_diagnostics.h: ld_cache_host). The defaults describe a baseline x86-64
// CPU with no glibc-hwcaps subdirectory active, which is what the loader itself uses on such a CPU.
struct LdCacheHost {
  // The glibc-hwcaps subdirectories ld.so uses, most preferred first (_dl_hwcaps_priorities before
  // sorting: elf/dl-hwcaps.c compute_priorities).
  std::vector<std::string> hwcaps_subdirs;
  uint32_t isa_1 = 1;          // x86.cpu_features.isa_1: GNU_PROPERTY_X86_ISA_1_{BASELINE,V2,V3,V4} bits
  uint64_t hwcap = 0x2;        // dl_hwcap (HWCAP_X86_64)
  uint64_t hwcap_mask = 0x6;   // glibc.cpu.hwcap_mask; its default is dl_hwcap_important
  uint64_t platform = ~0ULL;   // dl_string_platform: _DL_FIRST_PLATFORM + index, or -1 if not a known platform
};

// The entry an x86-64 ld.so would take for `soname`, or nullptr: search_cache (elf/dl-cache.c) ported
// statement for statement. In short:
//   - the entries are binary-searched with _dl_cache_libcmp (digit runs compare as numbers), so an
//     unsorted cache can hide entries from ld.so, as it does here;
//   - among the run of entries with that name, only flags == 0x303 (libc6, x86-64) are considered;
//   - glibc-hwcaps entries (which ldconfig sorts before the plain ones) are skipped if their ISA level
//     is not supported (dl_cache_hwcap_isa_level_compatible, sysdeps/x86/dl-isa-level.h) or their
//     subdirectory is not active (priority 0); of the rest the one whose subdirectory comes first in
//     hwcaps_subdirs wins, ties going to the earlier entry;
//   - a plain entry is taken only if no glibc-hwcaps entry was; legacy hwcap bits outside
//     (hwcap & hwcap_mask) | platform bits | bit 63 exclude it, as does a platform other than ours;
//   - the first plain entry that passes ends the search.
// In an "old" cache there is no hwcap data: the first entry with flags 0x303 wins.
const LdCacheEntry* ld_cache_lookup(const LdCache& cache, std::string_view soname,
                                    const LdCacheHost& host = LdCacheHost{});

// _dl_cache_libcmp (elf/dl-cache.c): the order of the cache, negative/zero/positive.
int ld_cache_libcmp(const char* p1, const char* p2);

// What ldconfig read to build the cache and that changed after it last ran: `conf` (normally
// /etc/ld.so.conf), the files its `include` lines name (globs, relative to the including file's
// directory, as elf/ldconfig.c parse_conf_include does), and the directories they list. Each with its
// modification time after the cache's. A missing cache or conf is an Error.
struct LdCacheStale {
  std::string path;  // the conf file or the listed directory
  bool directory = false;
  long long newer_by_s = 0;  // seconds after the cache was written
};
Result<std::vector<LdCacheStale>> ld_cache_stale_sources(const std::string& cache, const std::string& conf);

}  // namespace vgpu
