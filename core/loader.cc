#include "loader.h"

#include <elf.h>
#include <sys/stat.h>

#include <cctype>
#include <deque>

namespace vgpu {
namespace {

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string join(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  return dir.back() == '/' ? dir + name : dir + "/" + name;
}

// Path lists: DT_RPATH/DT_RUNPATH separate with ':'; LD_LIBRARY_PATH also accepts ';'
// (elf/dl-load.c: decompose_rpath uses ":", _dl_init_paths passes ":;" for the environment).
std::vector<std::string> split(const std::string& list, const char* seps) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t pos = list.find_first_of(seps, start);
    out.push_back(list.substr(start, pos == std::string::npos ? std::string::npos : pos - start));
    if (pos == std::string::npos) break;
    start = pos + 1;
  }
  return out;
}

}  // namespace

LoaderModel::LoaderModel(LoaderPlatform platform, LoaderContext context)
    : platform_(std::move(platform)), context_(std::move(context)) {
  if (!context_.elf_cache) context_.elf_cache = std::make_shared<ElfCache>();
  subdirs_ = platform_.search_subdirs;
  if (subdirs_.empty())
    for (const std::string& h : platform_.hwcaps_subdirs) subdirs_.push_back("glibc-hwcaps/" + h);
  // ld.so is in every process before anything is searched; a DT_NEEDED on its SONAME finds it loaded.
  struct stat st {};
  if (!platform_.rtld.empty() && ::stat(platform_.rtld.c_str(), &st) == 0) {
    if (auto elf = context_.elf_cache->read(platform_.rtld)) {
      auto obj = open_object(platform_.rtld, st, std::move(elf.value()));
      obj->names.push_back(platform_.rtld);
      objects_.push_back(std::move(obj));
    }
  }
}

std::unique_ptr<LoadedObject> LoaderModel::open_object(const std::string& path, const struct stat& st,
                                                       std::shared_ptr<const ElfInfo> elf) {
  auto obj = std::make_unique<LoadedObject>();
  obj->path = path;
  obj->elf = std::move(elf);
  obj->dev = st.st_dev;
  obj->ino = st.st_ino;
  return obj;
}

Result<LoadedObject*> LoaderModel::preload(const std::string& path) {
  struct stat st {};
  auto elf = context_.elf_cache->read(path);
  if (!elf) return elf.error();
  ::stat(path.c_str(), &st);
  auto obj = open_object(path, st, std::move(elf.value()));
  obj->names.push_back(path);
  LoadedObject* p = obj.get();
  objects_.push_back(std::move(obj));
  if (!main_) main_ = p;
  return p;
}

std::string LoaderModel::expand(const std::string& entry, const LoadedObject* object) const {
  // elf/dl-load.c _dl_dst_substitute: $ORIGIN is the directory of the object's path as loaded (for
  // the main program, of the executable); $LIB and $PLATFORM are the loader's own values.
  const LoadedObject* o = object ? object : main_;
  std::string origin = o ? dirname_of(o->path) : context_.cwd;
  if (!origin.empty() && origin[0] != '/') origin = join(context_.cwd, origin);
  struct { const char* token; const std::string& value; } const dsts[] = {
      {"ORIGIN", origin}, {"LIB", platform_.lib}, {"PLATFORM", platform_.platform}};
  std::string out;
  for (size_t i = 0; i < entry.size();) {
    if (entry[i] != '$') {
      out += entry[i++];
      continue;
    }
    bool done = false;
    for (const auto& d : dsts) {
      std::string plain = d.token, braced = std::string("{") + d.token + "}";
      if (entry.compare(i + 1, braced.size(), braced) == 0) {
        out += d.value, i += 1 + braced.size(), done = true;
      } else if (entry.compare(i + 1, plain.size(), plain) == 0 &&
                 (i + 1 + plain.size() == entry.size() ||
                  !(std::isalnum(static_cast<unsigned char>(entry[i + 1 + plain.size()])) || entry[i + 1 + plain.size()] == '_'))) {
        out += d.value, i += 1 + plain.size(), done = true;
      }
      if (done) break;
    }
    if (!done) out += entry[i++];
  }
  return out;
}

LoadedObject* LoaderModel::find_loaded(const std::string& name) {
  for (auto& o : objects_)
    for (const std::string& n : o->names)
      if (n == name) return o.get();
  return nullptr;
}

bool LoaderModel::try_file(const std::string& path, const std::string& source, Resolution& r) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    r.tried.push_back({source, path, "not found"});
    return false;
  }
  auto elf = context_.elf_cache->read(path);
  if (!elf) {
    // open_verify: only a wrong class or machine is skipped; a file ld.so cannot read as ELF (bad magic,
    // too short, headers past the end) fails the whole load there ("lose"), and the search stops.
    // The reader's words without the path the step already names: "not an ELF file", or
    // "not an ELF file: truncated: ...".
    std::string why = elf.error().message;
    if (why.rfind(path + ": ", 0) == 0) why.erase(0, path.size() + 2);
    r.tried.push_back({source, path, why == "not an ELF file" ? why : "not an ELF file: " + why});
    r.fatal = true;
    r.notes.push_back("ld.so stops at " + path + ": it cannot read it as ELF, and does not search further");
    return false;
  }
  const ElfInfo& info = *elf.value();
  if (info.elf_class != platform_.elf_class) {
    r.tried.push_back({source, path, info.elf_class == ELFCLASS32 ? "wrong ELF class (32-bit)" : "wrong ELF class"});
    return false;
  }
  if (info.machine != platform_.machine) {
    r.tried.push_back({source, path, "wrong machine (e_machine " + std::to_string(info.machine) + ")"});
    return false;
  }
  r.tried.push_back({source, path, "found"});
  r.found = true;
  r.path = path;
  r.how = source;
  // _dl_map_object_from_fd: the same file already loaded under another name is not loaded twice.
  for (auto& o : objects_)
    if (o->dev == static_cast<unsigned long long>(st.st_dev) && o->ino == static_cast<unsigned long long>(st.st_ino)) {
      r.path = o->path;
      r.how = source + ", the same file as " + o->path + ", already loaded";
      r.object = o.get();
      return true;
    }
  auto obj = open_object(path, st, std::move(elf.value()));
  r.object = obj.get();
  objects_.push_back(std::move(obj));
  return true;
}

bool LoaderModel::search_list(const std::string& name, const std::string& path_list, const LoadedObject* owner,
                              const std::string& source, Resolution& r) {
  const char* seps = source == "LD_LIBRARY_PATH" ? ":;" : ":";
  for (const std::string& raw : split(path_list, seps)) {
    std::string dir = raw;
    if (dir.empty()) {
      r.notes.push_back(source + ": empty entry, which means the current directory (" + context_.cwd + ")");
      dir = context_.cwd;
    } else {
      dir = expand(dir, owner);
      if (dir[0] != '/') {
        r.notes.push_back(source + ": relative entry '" + raw + "' is taken from the current directory (" + context_.cwd + ")");
        dir = join(context_.cwd, dir);
      }
    }
    if (try_dir(dir, name, source, r) || r.fatal) return r.found;
  }
  return false;
}

bool LoaderModel::try_dir(const std::string& dir, const std::string& name, const std::string& source, Resolution& r) {
  for (const std::string& sub : subdirs_) {
    // elf/dl-load.c open_path: a search directory found missing is marked `nonexisting` and never tried
    // again; most hwcaps subdirectories do not exist, so neither the loader nor the model looks in them.
    std::string path = join(dir, sub);
    auto known = dir_exists_.find(path);
    if (known == dir_exists_.end()) {
      struct stat st {};
      known = dir_exists_.emplace(path, ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)).first;
    }
    if (!known->second) continue;
    size_t before = r.tried.size();
    bool hit = try_file(join(join(dir, sub), name), source, r);
    for (size_t i = before; i < r.tried.size(); ++i) r.tried[i].subdir = true;
    if (hit || r.fatal) return hit;
  }
  return try_file(join(dir, name), source, r);
}

Resolution LoaderModel::map_object(const std::string& name, LoadedObject* loader) {
  Resolution r;
  r.name = name;
  if (LoadedObject* o = find_loaded(name)) {
    r.found = true, r.path = o->path, r.how = "already loaded", r.object = o;
    return r;
  }
  // _dl_map_object: a loaded object whose SONAME is the name is reused, and the name added to it.
  for (auto& o : objects_)
    if (!o->elf->soname.empty() && o->elf->soname == name) {
      o->names.push_back(name);
      r.found = true, r.path = o->path, r.how = "already loaded (SONAME match: " + o->path + ")", r.object = o.get();
      return r;
    }
  if (name.find('/') != std::string::npos) {
    std::string path = expand(name, loader);
    if (path[0] != '/') path = join(context_.cwd, path);
    if (try_file(path, "path given", r)) r.object->names.push_back(name);
    return r;
  }
  LoadedObject* requester = loader ? loader : main_;
  bool has_runpath = requester && requester->elf->has_runpath;
  if (!has_runpath) {
    bool did_main = false;
    for (LoadedObject* l = requester; l && !r.fatal; l = l->loader) {
      if (l->elf->has_rpath && search_list(name, l->elf->rpath, l, "RPATH of " + l->path, r)) break;
      did_main |= l == main_;
    }
    if (!r.found && !r.fatal && !did_main && main_ && main_->elf->has_rpath)
      search_list(name, main_->elf->rpath, main_, "RPATH of " + main_->path, r);
  } else {
    for (LoadedObject* l = requester; l; l = l->loader)
      if (l->elf->has_rpath)
        r.notes.push_back("RPATH of " + l->path + " ignored: " + requester->path + " has RUNPATH");
  }
  if (!r.found && !r.fatal && !context_.ld_library_path.empty())
    search_list(name, context_.ld_library_path, main_, "LD_LIBRARY_PATH", r);
  if (!r.found && !r.fatal && has_runpath) search_list(name, requester->elf->runpath, requester, "RUNPATH of " + requester->path, r);
  // elf/dl-load.c: the cache and the default directories are skipped for an object linked -z nodeflib.
  bool nodeflib = requester && requester->elf->nodeflib;
  if (!r.found && nodeflib) r.notes.push_back(requester->path + " is linked -z nodeflib: ld.so.cache and the default directories are not searched");
  if (!r.found && !r.fatal && !nodeflib && context_.cache_lookup) {
    if (auto cached = context_.cache_lookup(name)) try_file(*cached, "ld.so.cache", r);
    else r.tried.push_back({"ld.so.cache", name, "no entry"});
  }
  if (!r.found && !r.fatal && !nodeflib)
    for (const std::string& dir : platform_.system_dirs)
      if (try_dir(dir, name, "default directories", r) || r.fatal) break;
  if (r.found) r.object->names.push_back(name);
  return r;
}

Resolution LoaderModel::load(const std::string& name, LoadedObject* caller) {
  size_t before = objects_.size();
  Resolution top = map_object(name, caller);
  if (!top.found || objects_.size() == before) return top;  // absent, or already loaded: nothing new
  top.object->loader = caller ? caller : main_;
  // _dl_map_object_deps: breadth first over the objects this load brought in.
  std::deque<LoadedObject*> queue{top.object};
  while (!queue.empty()) {
    LoadedObject* o = queue.front();
    queue.pop_front();
    for (const std::string& needed : o->elf->needed) {
      size_t n = objects_.size();
      Resolution d = map_object(needed, o);
      if (d.found && objects_.size() > n) {
        d.object->loader = o;
        queue.push_back(d.object);
      }
      o->deps.push_back(std::move(d));
    }
  }
  return top;
}

}  // namespace vgpu
