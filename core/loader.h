// A model of glibc's dynamic linker resolving shared-object dependencies, in the context of one
// process (its environment, current directory, and the objects it already has loaded), so that
// vgpu-doctor can say for every dependency where it was found and why, and for every failure what was
// tried in order. The search order is glibc 2.36's _dl_map_object (elf/dl-load.c):
//   0. a name with '/' is opened as given ($ORIGIN/$LIB/$PLATFORM expanded);
//   1. an object already loaded under that name or with that SONAME is reused (_dl_name_match_p), and
//      so is one whose file (device and inode) a search step opens again (_dl_file_id_match_p);
//   2. DT_RPATH of the requesting object, then of the object that loaded it, and on up to the main
//      program, then the main program's, but only when the requesting object has no DT_RUNPATH;
//   3. LD_LIBRARY_PATH;
//   4. DT_RUNPATH of the requesting object only (not of its loaders);
//   5. /etc/ld.so.cache (unless the requesting object is linked -z nodeflib, DF_1_NODEFLIB);
//   6. the default directories (likewise).
// In every directory of 2-4 and 6, the glibc-hwcaps subdirectories the loader reports are tried first
// (elf/dl-hwcaps.c). An empty path entry means the current directory (elf/dl-load.c fillin_rpath). A
// file of the wrong ELF class or machine is skipped and the search goes on; a file that is not ELF at
// all, or truncated, ends the search with an error (open_verify).
// Platform facts ($LIB, $PLATFORM, hwcaps subdirectories, default directories) come from the loader
// itself (ld.so --list-diagnostics), never from constants.
#pragma once

#include <sys/stat.h>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "elf_file.h"

namespace vgpu {

struct LoaderPlatform {
  std::string platform;                     // $PLATFORM (dl_platform)
  std::string lib;                          // $LIB
  std::vector<std::string> hwcaps_subdirs;  // glibc-hwcaps/<name>, in priority order
  // Every subdirectory tried inside each search directory before it, in order, as the loader prints
  // them ("glibc-hwcaps/x86-64-v3", then glibc < 2.37's legacy "tls/x86_64", "x86_64", ...). Empty:
  // the glibc-hwcaps ones from hwcaps_subdirs only.
  std::vector<std::string> search_subdirs;
  std::vector<std::string> system_dirs;     // the default directories, in order
  std::string rtld;                         // the dynamic loader itself, always loaded (path.rtld)
  int elf_class = 2;                        // ELFCLASS64
  unsigned machine = 62;                    // EM_X86_64
};

struct LoaderContext {
  std::string ld_library_path;  // as the process has it (empty entries mean the current directory)
  std::string cwd;              // for relative and empty path entries
  // /etc/ld.so.cache lookup for a soname, as _dl_load_cache_lookup answers it; empty: no cache.
  std::function<std::optional<std::string>(const std::string&)> cache_lookup;
  // Parsed files shared between models (one per backend directory in a check); null: a private one.
  std::shared_ptr<ElfCache> elf_cache;
};

// One place the loader looked.
struct SearchStep {
  std::string source;     // "RPATH of /x/libfoo.so", "LD_LIBRARY_PATH", "RUNPATH of ...", "ld.so.cache", "default directories"
  std::string candidate;  // the path tried
  std::string outcome;    // "not found", "wrong ELF class", "wrong machine", "not an ELF file: ...", "found"
  bool subdir = false;    // a hwcaps subdirectory of a search directory (evidence may leave these out)
};

struct Resolution {
  std::string name;            // the DT_NEEDED string (or the dlopen argument)
  bool found = false;
  bool fatal = false;          // the search stopped at a file ld.so could not read as ELF (not found)
  std::string path;            // the path it is loaded from
  std::string how;             // "already loaded (SONAME match)", "RUNPATH of ...", "LD_LIBRARY_PATH", ...
  std::vector<SearchStep> tried;
  std::vector<std::string> notes;  // "RPATH ignored: RUNPATH is set", "RUNPATH entry '' means the current directory"
  struct LoadedObject* object = nullptr;
};

struct LoadedObject {
  std::string path;                 // as opened (symbolic links not resolved, as ld.so keeps it)
  std::shared_ptr<const ElfInfo> elf;
  unsigned long long dev = 0, ino = 0;  // the file's identity, as _dl_map_object_from_fd compares it
  LoadedObject* loader = nullptr;   // the object whose dependency (or dlopen) brought this one in
  std::vector<std::string> names;   // names it was requested by, plus its SONAME once matched
  std::vector<Resolution> deps;     // its DT_NEEDED, resolved
};

class LoaderModel {
 public:
  LoaderModel(LoaderPlatform platform, LoaderContext context);

  // Models dlopen(name) called from `caller` (nullptr: the main program): finds the object, then its
  // dependencies breadth-first as _dl_map_object_deps does. The result describes the top object; every
  // object it brought in is in objects().
  Resolution load(const std::string& name, LoadedObject* caller);

  // Adds an object the process already has (the main program first), without resolving its deps.
  Result<LoadedObject*> preload(const std::string& path);

  const std::vector<std::unique_ptr<LoadedObject>>& objects() const { return objects_; }

  // Expands $ORIGIN/${ORIGIN}, $LIB, $PLATFORM in a path entry of `object` (nullptr: the main program).
  std::string expand(const std::string& entry, const LoadedObject* object) const;

 private:
  Resolution map_object(const std::string& name, LoadedObject* loader);
  LoadedObject* find_loaded(const std::string& name);
  std::unique_ptr<LoadedObject> open_object(const std::string& path, const struct stat& st,
                                            std::shared_ptr<const ElfInfo> elf);
  // Tries `name` in each directory of `path_list`; records each step under `source`.
  bool search_list(const std::string& name, const std::string& path_list, const LoadedObject* owner,
                   const std::string& source, Resolution& r);
  bool try_file(const std::string& path, const std::string& source, Resolution& r);
  // `name` in each subdirectory of `dir`, then in `dir`, as ld.so walks one search directory.
  bool try_dir(const std::string& dir, const std::string& name, const std::string& source, Resolution& r);
  std::vector<std::string> subdirs_;
  std::map<std::string, bool> dir_exists_;  // hwcaps subdirectories seen, as ld.so marks them

  LoaderPlatform platform_;
  LoaderContext context_;
  std::vector<std::unique_ptr<LoadedObject>> objects_;
  LoadedObject* main_ = nullptr;
};

}  // namespace vgpu
