#include "ld_cache.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace vgpu {
namespace {

// One owner per C resource (STYLE.md §3).
struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Sizes and offsets of sysdeps/generic/dl-cache.h as compiled for x86-64.
constexpr std::string_view kMagicOld = "ld.so-1.7.0";               // CACHEMAGIC
constexpr std::string_view kMagicNew = "glibc-ld.so.cache1.1";      // CACHEMAGIC_VERSION_NEW
constexpr size_t kOldHeaderSize = 16;   // struct cache_file: magic[11], (pad), nlibs at 12
constexpr size_t kOldEntrySize = 12;    // struct file_entry: flags, key, value
constexpr size_t kNewHeaderSize = 48;   // struct cache_file_new (static_assert in dl-cache.h)
constexpr size_t kNewEntrySize = 24;    // struct file_entry_new: flags, key, value, osversion, hwcap
constexpr size_t kNewAlign = 8;         // __alignof__ (struct cache_file_new): it holds uint64_t
constexpr uint32_t kExtensionMagic = static_cast<uint32_t>(-358342284);  // cache_extension_magic
constexpr uint32_t kTagGlibcHwcaps = 1;  // cache_extension_tag_glibc_hwcaps
constexpr uint32_t kTagCount = 2;        // cache_extension_count
constexpr uint8_t kEndianMask = 3, kEndianLittle = 2;  // cache_file_new_flags_endian_*
// sysdeps/x86/dl-procinfo.h: _DL_HWCAP_PLATFORM, four platform bits from _DL_FIRST_PLATFORM (48).
constexpr uint64_t kHwcapPlatform = 0xFULL << 48;
constexpr uint64_t kHwcapTls = 1ULL << 63;  // _DL_HWCAP_TLS_MASK in search_cache

// Bounds-checked little-endian reads (the cache is in host order; ld.so rejects the other one).
class Bytes {
 public:
  explicit Bytes(std::span<const unsigned char> b) : b_(b) {}
  size_t size() const { return b_.size(); }
  bool has(size_t off, size_t len) const { return off <= b_.size() && len <= b_.size() - off; }
  uint32_t u32(size_t off) const {
    uint32_t v;
    std::memcpy(&v, b_.data() + off, sizeof v);
    return v;
  }
  uint64_t u64(size_t off) const {
    uint64_t v;
    std::memcpy(&v, b_.data() + off, sizeof v);
    return v;
  }
  uint8_t u8(size_t off) const { return b_[off]; }
  bool starts_with(size_t off, std::string_view magic) const {
    return has(off, magic.size()) && std::memcmp(b_.data() + off, magic.data(), magic.size()) == 0;
  }
  // The NUL-terminated string at base + index; an Error if it starts or runs past the end.
  Result<std::string> cstring(size_t base, uint32_t index, const char* what) const {
    size_t off = base + index;
    if (base > b_.size() || index >= b_.size() - base)
      return Error{std::string(what) + " string index " + std::to_string(index) + " is outside the file"};
    const void* nul = std::memchr(b_.data() + off, 0, b_.size() - off);
    if (!nul) return Error{std::string(what) + " string at " + std::to_string(off) + " is not terminated"};
    return std::string(reinterpret_cast<const char*>(b_.data() + off),
                       static_cast<const unsigned char*>(nul) - (b_.data() + off));
  }

 private:
  std::span<const unsigned char> b_;
};

Error corrupt(const std::string& why) { return Error{"corrupt ld.so.cache: " + why}; }

// cache_extension_load and cache_extension_verify (sysdeps/generic/dl-cache.h): offsets in the extension
// directory are from the start of the file. Returns the glibc-hwcaps names in section order, each
// resolved from the start of the file as glibc_hwcaps_compare (elf/dl-cache.c) and ldconfig -p
// (glibc_hwcaps_string, elf/cache.c) resolve them. ldconfig writes them relative to the new header
// (save_cache: str_offset), so in an old+new cache both read a wrong string; we read what they read.
Result<std::vector<std::string>> load_hwcaps_names(const Bytes& b, size_t new_header) {
  uint32_t ext = b.u32(new_header + 32);
  if (ext == 0) return std::vector<std::string>{};  // no extensions: not an error
  if (ext % 4 != 0) return corrupt("extension directory offset " + std::to_string(ext) + " is misaligned");
  if (!b.has(ext, 8)) return corrupt("extension directory is past the end of the file");
  if (b.u32(ext) != kExtensionMagic) return corrupt("extension directory has a bad magic number");
  uint32_t count = b.u32(ext + 4);
  if (!b.has(ext + 8, size_t{count} * 16)) return corrupt("extension sections run past the end of the file");
  size_t hw_off = 0, hw_size = 0;
  bool have = false;
  for (uint32_t i = 0; i < count; ++i) {
    size_t s = ext + 8 + size_t{i} * 16;
    uint32_t tag = b.u32(s), off = b.u32(s + 8), size = b.u32(s + 12);
    if (!b.has(off, size)) return corrupt("extension section " + std::to_string(i) + " is past the end of the file");
    if (tag >= kTagCount) continue;  // unknown tags are skipped, as glibc does
    if (tag == kTagGlibcHwcaps) hw_off = off, hw_size = size, have = true;
  }
  std::vector<std::string> names;
  // cache_extension_verify drops (does not reject) an empty, misaligned or odd-sized hwcaps section.
  if (!have || hw_size == 0 || hw_off % 4 != 0 || hw_size % 4 != 0) return names;
  for (size_t i = 0; i < hw_size / 4; ++i) {
    auto name = b.cstring(0, b.u32(hw_off + 4 * i), "glibc-hwcaps name");
    if (!name) return corrupt(name.error().message);
    names.push_back(std::move(*name));
  }
  return names;
}

// The new-format part whose header is at `header` (0, or after the old table).
Result<LdCache> parse_new(const Bytes& b, size_t header, std::string format) {
  if (!b.has(header, kNewHeaderSize)) return corrupt("new-format header is truncated");
  uint32_t nlibs = b.u32(header + 20);
  // _dl_load_cache_lookup's "check for corruption": the entry table fits in the file. (It does not check
  // this for a new part inside an old cache; reading past the end there would be a glibc bug.)
  if ((b.size() - header - kNewHeaderSize) / kNewEntrySize < nlibs)
    return corrupt(std::to_string(nlibs) + " entries do not fit in " + std::to_string(b.size()) + " bytes");
  // cache_file_new_matches_endian: 0 means unknown, else the endian bits must say little.
  uint8_t flags = b.u8(header + 28);
  if (flags != 0 && (flags & kEndianMask) != kEndianLittle)
    return Error{"ld.so.cache is not marked little-endian (flags " + std::to_string(flags) +
                 "): ld.so ignores it"};
  auto names = load_hwcaps_names(b, header);
  if (!names) return names.error();
  LdCache cache;
  cache.format = std::move(format);
  cache.hwcaps_names = std::move(*names);
  cache.entries.reserve(nlibs);
  for (uint32_t i = 0; i < nlibs; ++i) {
    size_t e = header + kNewHeaderSize + size_t{i} * kNewEntrySize;
    LdCacheEntry entry;
    entry.flags = b.u32(e);
    entry.hwcap = b.u64(e + 16);
    // String indices are relative to the new header (search_cache's string_table is cache_new).
    auto key = b.cstring(header, b.u32(e + 4), "key");
    if (!key) return corrupt("entry " + std::to_string(i) + ": " + key.error().message);
    auto value = b.cstring(header, b.u32(e + 8), "value");
    if (!value) return corrupt("entry " + std::to_string(i) + ": " + value.error().message);
    entry.key = std::move(*key);
    entry.value = std::move(*value);
    if (entry.is_glibc_hwcaps() && entry.hwcaps_index() < cache.hwcaps_names.size())
      entry.hwcaps_subdir = cache.hwcaps_names[entry.hwcaps_index()];
    cache.entries.push_back(std::move(entry));
  }
  return cache;
}

Result<LdCache> parse_old(const Bytes& b, uint32_t nlibs) {
  LdCache cache;
  cache.format = "old";
  // search_cache's string table for the old format starts right after the entry table.
  size_t strings = kOldHeaderSize + size_t{nlibs} * kOldEntrySize;
  cache.entries.reserve(nlibs);
  for (uint32_t i = 0; i < nlibs; ++i) {
    size_t e = kOldHeaderSize + size_t{i} * kOldEntrySize;
    LdCacheEntry entry;
    entry.flags = b.u32(e);
    auto key = b.cstring(strings, b.u32(e + 4), "key");
    if (!key) return corrupt("entry " + std::to_string(i) + ": " + key.error().message);
    auto value = b.cstring(strings, b.u32(e + 8), "value");
    if (!value) return corrupt("entry " + std::to_string(i) + ": " + value.error().message);
    entry.key = std::move(*key);
    entry.value = std::move(*value);
    cache.entries.push_back(std::move(entry));
  }
  return cache;
}

// glibc_hwcaps_compare / sort_priorities_by_name: memcmp over the shorter length, then shorter first.
// std::string_view::compare is exactly that (char_traits<char> compares as unsigned char, like memcmp).
int hwcaps_compare(std::string_view a, std::string_view b) { return a.compare(b); }

// glibc_hwcaps_priorities_init (elf/dl-cache.c): the priority of each name of the cache's hwcaps
// section, 0 meaning unusable, lower meaning preferred. It merges the section (which ldconfig sorts) with
// _dl_hwcaps_priorities (the active subdirectories numbered 1.. in preference order, then sorted by
// name: elf/dl-hwcaps.c compute_priorities, sort_priorities_by_name). The merge is ported as is, so an
// unsorted section gets the same (possibly wrong) priorities it gets from ld.so.
std::vector<uint32_t> hwcaps_priorities(const LdCache& cache, const LdCacheHost& host) {
  struct Priority {
    std::string_view name;
    uint32_t priority;
  };
  std::vector<Priority> right;
  for (size_t i = 0; i < host.hwcaps_subdirs.size(); ++i)
    right.push_back({host.hwcaps_subdirs[i], static_cast<uint32_t>(i + 1)});
  // An insertion sort that swaps only on "less" is stable.
  std::stable_sort(right.begin(), right.end(),
                   [](const Priority& a, const Priority& b) { return hwcaps_compare(a.name, b.name) < 0; });
  std::vector<uint32_t> result(cache.hwcaps_names.size(), 0);
  size_t l = 0, r = 0;
  while (l < result.size() && r < right.size()) {
    int cmp = hwcaps_compare(cache.hwcaps_names[l], right[r].name);
    if (cmp == 0) result[l++] = right[r++].priority;
    else if (cmp < 0) result[l++] = 0;
    else ++r;
  }
  return result;
}

}  // namespace

Result<LdCache> parse_ld_cache(std::span<const unsigned char> bytes) {
  Bytes b(bytes);
  // _dl_load_cache_lookup (elf/dl-cache.c) accepts three layouts, in this order of checks.
  if (b.size() > kNewHeaderSize && b.starts_with(0, kMagicNew)) return parse_new(b, 0, "new");
  if (b.size() > kOldHeaderSize && b.starts_with(0, kMagicOld)) {
    uint32_t nlibs = b.u32(12);
    if ((b.size() - kOldHeaderSize) / kOldEntrySize < nlibs)
      return corrupt(std::to_string(nlibs) + " old-format entries do not fit in " + std::to_string(b.size()) + " bytes");
    // ALIGN_CACHE: the new header, if any, follows the old table aligned to 8; ld.so then uses only it.
    size_t offset = (kOldHeaderSize + size_t{nlibs} * kOldEntrySize + kNewAlign - 1) & ~(kNewAlign - 1);
    if (b.has(offset, kNewHeaderSize) && b.starts_with(offset, kMagicNew)) return parse_new(b, offset, "old+new");
    return parse_old(b, nlibs);
  }
  if (b.starts_with(0, kMagicNew) || b.starts_with(0, kMagicOld)) return corrupt("header is truncated");
  return Error{"not an ld.so.cache file (no ld.so-1.7.0 or glibc-ld.so.cache1.1 magic)"};
}

Result<LdCache> read_ld_cache(const std::string& path) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  struct stat st;
  if (::fstat(fd.fd, &st) != 0) return Error{"cannot stat " + path + ": " + std::strerror(errno)};
  std::vector<unsigned char> bytes(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < bytes.size()) {
    ssize_t n = ::read(fd.fd, bytes.data() + got, bytes.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{"cannot read " + path + ": " + std::strerror(errno)};
    if (n == 0) break;  // shrank while we read: parse what is there
    got += static_cast<size_t>(n);
  }
  bytes.resize(got);
  auto cache = parse_ld_cache(bytes);
  if (!cache) return Error{path + ": " + cache.error().message};
  return cache;
}

int ld_cache_libcmp(const char* p1, const char* p2) {
  // Ported from _dl_cache_libcmp (elf/dl-cache.c). Digit runs are compared as numbers; glibc's int
  // arithmetic wraps on absurdly long runs, which unsigned arithmetic reproduces without UB.
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (*p1 != '\0') {
    if (digit(*p1)) {
      if (!digit(*p2)) return 1;
      uint32_t v1 = static_cast<uint32_t>(*p1++ - '0'), v2 = static_cast<uint32_t>(*p2++ - '0');
      while (digit(*p1)) v1 = v1 * 10 + static_cast<uint32_t>(*p1++ - '0');
      while (digit(*p2)) v2 = v2 * 10 + static_cast<uint32_t>(*p2++ - '0');
      if (v1 != v2) return static_cast<int32_t>(v1 - v2) < 0 ? -1 : 1;
    } else if (digit(*p2)) {
      return -1;
    } else if (*p1 != *p2) {
      return *p1 - *p2;  // plain char, signed on x86-64 as in glibc
    } else {
      ++p1, ++p2;
    }
  }
  return *p1 - *p2;
}

const LdCacheEntry* ld_cache_lookup(const LdCache& cache, std::string_view soname, const LdCacheHost& host) {
  // search_cache (elf/dl-cache.c, glibc 2.36), for the x86-64 loader: the same binary search, the same
  // walk over the entries with an equal key, the same acceptance tests in the same order.
  const std::string name(soname);
  const std::vector<LdCacheEntry>& libs = cache.entries;
  const bool has_hwcap_data = cache.format != "old";  // entry_size >= sizeof (struct file_entry_new)

  // `platform` is 1 << dl_string_platform, or all ones when the platform is unknown (never matches).
  // x86's shl uses the count modulo 64; so do we, rather than shifting out of range.
  uint64_t platform = host.platform;
  if (platform != ~0ULL) platform = 1ULL << (platform & 63);
  const uint64_t hwcap_exclude = ~((host.hwcap & host.hwcap_mask) | kHwcapPlatform | kHwcapTls);
  std::vector<uint32_t> priorities;  // computed on first use, as glibc_hwcaps_priority does
  bool have_priorities = false;

  int64_t left = 0, right = static_cast<int64_t>(libs.size()) - 1;
  const LdCacheEntry* best = nullptr;
  uint32_t best_priority = 0;
  auto at = [&](int64_t i) -> const LdCacheEntry& { return libs[static_cast<size_t>(i)]; };

  while (left <= right) {
    int64_t middle = (left + right) / 2;
    int cmpres = ld_cache_libcmp(name.c_str(), at(middle).key.c_str());
    if (cmpres == 0) {
      left = middle;  // the last entry known to have the name
      while (middle > 0 && ld_cache_libcmp(name.c_str(), at(middle - 1).key.c_str()) == 0) --middle;
      do {
        const LdCacheEntry& lib = at(middle);
        if (middle > left && ld_cache_libcmp(name.c_str(), lib.key.c_str()) != 0) break;
        if (lib.flags != kLdCacheX8664) continue;  // _dl_cache_check_flags
        bool named_hwcap = false;
        if (has_hwcap_data) {
          named_hwcap = lib.is_glibc_hwcaps();
          // dl_cache_hwcap_isa_level_compatible (sysdeps/x86/dl-isa-level.h): 1 << level, in 32 bits
          // (x86 shifts modulo 32), must be among the CPU's isa_1 bits.
          if (named_hwcap) {
            uint32_t isa = 1U << (lib.isa_level() & 31);
            if ((isa & host.isa_1) != isa) continue;
          }
          // glibc-hwcaps entries come first (ldconfig's compare, elf/cache.c); once a plain entry is
          // reached, a glibc-hwcaps match already found wins.
          if (!named_hwcap && best != nullptr) break;
          if ((lib.hwcap & hwcap_exclude) != 0 && !named_hwcap) continue;
          if ((lib.hwcap & kHwcapPlatform) != 0 && (lib.hwcap & kHwcapPlatform) != platform) continue;
          if (named_hwcap) {
            if (!have_priorities) priorities = hwcaps_priorities(cache, host), have_priorities = true;
            uint32_t index = lib.hwcaps_index();
            uint32_t priority = index < priorities.size() ? priorities[index] : 0;
            if (priority == 0) continue;  // subdirectory not active here
            if (best == nullptr || priority < best_priority) best_priority = priority;
            else continue;  // an earlier entry is preferred
          }
        }
        best = &lib;
        if (!named_hwcap) break;  // flags are _DL_CACHE_DEFAULT_ID: nothing better can follow
      } while (++middle <= right);
      break;
    }
    if (cmpres < 0) left = middle + 1;
    else right = middle - 1;
  }
  return best;
}

namespace {

// elf/ldconfig.c parse_conf: '#' starts a comment; "include PATTERN..." (glob, relative to the
// including file's directory); "hwcap ..." is obsolete and ignored; anything else is a directory,
// possibly written "dir=TYPE" (an old form) or with several separated by blanks, commas or colons.
void read_conf(const std::string& file, int depth, std::vector<std::string>& confs, std::vector<std::string>& dirs) {
  if (depth > 16 || std::find(confs.begin(), confs.end(), file) != confs.end()) return;  // include loops
  std::ifstream in(file);
  if (!in) return;
  confs.push_back(file);
  std::string dir_of = file.substr(0, file.rfind('/') + 1);
  for (std::string line; std::getline(in, line);) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string first;
    if (!(words >> first)) continue;
    if (first == "include") {
      for (std::string pattern; words >> pattern;) {
        if (pattern[0] != '/') pattern = dir_of + pattern;
        glob_t g{};
        if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
          for (size_t i = 0; i < g.gl_pathc; ++i) read_conf(g.gl_pathv[i], depth + 1, confs, dirs);
        globfree(&g);
      }
      continue;
    }
    if (first == "hwcap") continue;
    for (char& c : line)
      if (c == ',' || c == ':' || c == '\t') c = ' ';
    std::istringstream entries(line);
    for (std::string d; entries >> d;) dirs.push_back(d.substr(0, d.find('=')));
  }
}

}  // namespace

Result<std::vector<LdCacheStale>> ld_cache_stale_sources(const std::string& cache, const std::string& conf) {
  struct stat cs {};
  if (::stat(cache.c_str(), &cs) != 0) return Error{"cannot stat " + cache + ": " + std::strerror(errno)};
  struct stat fs {};
  if (::stat(conf.c_str(), &fs) != 0) return Error{"cannot stat " + conf + ": " + std::strerror(errno)};
  std::vector<std::string> confs, dirs;
  read_conf(conf, 0, confs, dirs);
  std::vector<LdCacheStale> out;
  auto newer = [&](const std::string& path, bool directory) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    long long d = static_cast<long long>(st.st_mtim.tv_sec) - static_cast<long long>(cs.st_mtim.tv_sec);
    bool after = st.st_mtim.tv_sec > cs.st_mtim.tv_sec ||
                 (st.st_mtim.tv_sec == cs.st_mtim.tv_sec && st.st_mtim.tv_nsec > cs.st_mtim.tv_nsec);
    if (after) out.push_back({path, directory, d});
  };
  for (const std::string& c : confs) newer(c, false);
  for (const std::string& d : dirs) newer(d, true);
  return out;
}

}  // namespace vgpu
