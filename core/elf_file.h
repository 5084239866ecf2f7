// Typed view of what the dynamic linker reads from an ELF shared object: identity (class, machine,
// SONAME), dependencies and search paths (DT_NEEDED, DT_RPATH, DT_RUNPATH), dynamic symbols with their
// versions, and the version definitions and requirements. Read with libelf; a truncated or corrupt file
// is an Error, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string_view>
#include <tuple>
#include <string>
#include <vector>

#include "result.h"

namespace vgpu {

// The strings of a symbol are views into string tables the ElfInfo holds (ElfInfo::strings), so that
// reading a library of thousands of symbols allocates per table, not per symbol. They live as long as
// some copy of the ElfInfo they came from.
struct ElfSymbol {
  std::string_view name;
  bool defined = false;      // st_shndx != SHN_UNDEF
  unsigned binding = 0;      // STB_*
  unsigned type = 0;         // STT_*
  unsigned visibility = 0;   // STV_*
  uint64_t value = 0;        // st_value: the address (relative to the load base in a shared object)
  std::string_view version;       // version name ("libcudart.so.12"), empty when none
  std::string_view version_file;  // undefined symbols: the DT_NEEDED file the version is required from
  bool version_hidden = false;  // defined as name@version (not the default name@@version)
  bool version_is_base = false; // the BASE definition (index 1): an unversioned symbol of a versioned object
};

struct ElfVersionNeed {
  std::string file;                 // the DT_NEEDED name the requirement is on
  std::vector<std::string> names;   // version names required from it
};

struct ElfInfo {
  std::string path;
  int elf_class = 0;    // ELFCLASS32 / ELFCLASS64
  unsigned machine = 0; // EM_*
  unsigned type = 0;    // ET_*
  std::string soname;
  std::vector<std::string> needed;
  std::string rpath, runpath;  // raw strings; empty when absent
  bool has_rpath = false, has_runpath = false;
  bool nodeflib = false;  // DF_1_NODEFLIB: ld.so skips ld.so.cache and the default directories for its deps
  std::vector<ElfSymbol> symbols;          // .dynsym, index 0 excluded
  std::vector<std::string_view> local_defined;  // .symtab (if not stripped, and only for objects that define
                                                // versions): defined symbols a version script kept local
  std::vector<std::string> version_defs;   // .gnu.version_d names, BASE first (empty: no versioning)
  std::vector<ElfVersionNeed> version_needs;
  std::shared_ptr<const void> strings;     // owns the string tables the views above point into

  const ElfSymbol* find_defined(const std::string& name, const std::string& version) const;
  // The defined symbols called `name`, in .dynsym order. Looked up in the object's own .gnu.hash, as
  // ld.so looks it up (a definition missing from it is one ld.so cannot find either); an object without
  // a usable one gets an index built on first use and shared by copies (thread-safe).
  std::vector<const ElfSymbol*> defined_named(std::string_view name) const;

  // .gnu.hash (DT_GNU_HASH): empty buckets when the object has none or it is malformed.
  struct GnuHash {
    uint32_t symoffset = 0;
    std::vector<uint32_t> buckets, chain;
  } gnu_hash;

 private:
  // (GNU hash of the name, index in symbols) for the defined symbols, sorted: one allocation, and a
  // lookup is a binary search (glibc's own lookup uses the same hash, from .gnu.hash).
  struct DefinedIndex {
    std::once_flag built;
    std::vector<std::pair<uint32_t, uint32_t>> entries;
  };
  mutable std::shared_ptr<DefinedIndex> defined_index_ = std::make_shared<DefinedIndex>();
};

// Reads `path` (symlinks followed).
Result<ElfInfo> read_elf(const std::string& path);
// Parses an ELF image held in memory (the fuzz target's entry; `name` labels errors).
Result<ElfInfo> parse_elf(std::span<const unsigned char> bytes, const std::string& name = "<memory>");

// Parsed files by identity (device, inode, size, modification time), so that a check that models one
// loader per backend directory parses a shared dependency (libggml-base.so, libc.so.6, a shim) once.
// A file changed on disk is a different key and is read again. Thread-safe.
class ElfCache {
 public:
  Result<std::shared_ptr<const ElfInfo>> read(const std::string& path);
  size_t size() const;

 private:
  using Key = std::tuple<uint64_t, uint64_t, int64_t, int64_t, int64_t>;  // dev, ino, size, mtime s, ns
  mutable std::mutex mu_;
  std::map<Key, std::shared_ptr<const ElfInfo>> files_;
  // The same file read under another name (a link, /lib against /usr/lib): a copy that names it, made once
  std::map<std::pair<Key, std::string>, std::shared_ptr<const ElfInfo>> aliases_;
};

// A versioned or unversioned import of `consumer` that `provider` does not satisfy the way glibc's
// check_match would: wrong or missing version node, symbol absent, local/hidden, or the provider has no
// version information at all.
struct MissingImport {
  std::string symbol;
  std::string version;  // required version, empty for an unversioned import
  std::string reason;
};

// Orders missing imports for a person: the fatbin registration entry points first (a fatbin that cannot
// register is what kills a CUDA backend at load: __cudaRegisterFatBinary, then the other
// __cudaRegister*, then the other __cuda*), the rest in .dynsym order.
void order_for_report(std::vector<MissingImport>& missing);

// Checks every undefined symbol of `consumer` that requires a version owned by `provider_name` (the
// DT_NEEDED name it is loaded as), plus, when `unversioned_prefix` is not empty, every unversioned
// undefined symbol starting with that prefix.
std::vector<MissingImport> missing_imports(const ElfInfo& consumer, const std::string& provider_name,
                                           const ElfInfo& provider, const std::string& unversioned_prefix = "");

}  // namespace vgpu
