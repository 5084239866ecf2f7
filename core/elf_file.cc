#include "fd.h"
#include "elf_file.h"

#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>

namespace vgpu {
namespace {

struct ElfDeleter {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

Error elf_error(const std::string& path, const char* what) {
  return Error{path + ": " + what + ": " + elf_errmsg(-1)};
}

}  // namespace

namespace {
uint32_t gnu_hash_of(std::string_view s) {
  uint32_t h = 5381;
  for (unsigned char c : s) h = h * 33 + c;
  return h;
}
}  // namespace

std::vector<const ElfSymbol*> ElfInfo::defined_named(std::string_view name) const {
  std::vector<const ElfSymbol*> out;
  uint32_t h = gnu_hash_of(name);
  if (!gnu_hash.buckets.empty()) {
    // elf/dl-lookup.c do_lookup_x: the bucket gives the first symbol of the chain; chain values are the
    // hashes with the low bit marking the chain's end. symbols[] starts at dynsym index 1.
    uint32_t i = gnu_hash.buckets[h % gnu_hash.buckets.size()];
    if (i < gnu_hash.symoffset) return out;
    for (; i - gnu_hash.symoffset < gnu_hash.chain.size() && i >= 1 && i - 1 < symbols.size(); ++i) {
      uint32_t c = gnu_hash.chain[i - gnu_hash.symoffset];
      const ElfSymbol& sym = symbols[i - 1];
      if ((c | 1) == (h | 1) && sym.defined && sym.name == name) out.push_back(&sym);
      if (c & 1) break;
    }
    return out;
  }
  DefinedIndex& ix = *defined_index_;
  std::call_once(ix.built, [&] {
    for (size_t i = 0; i < symbols.size(); ++i)
      if (symbols[i].defined) ix.entries.emplace_back(gnu_hash_of(symbols[i].name), static_cast<uint32_t>(i));
    std::sort(ix.entries.begin(), ix.entries.end());
  });
  auto it = std::lower_bound(ix.entries.begin(), ix.entries.end(), std::pair<uint32_t, uint32_t>(h, 0));
  for (; it != ix.entries.end() && it->first == h; ++it)
    if (symbols[it->second].name == name) out.push_back(&symbols[it->second]);
  return out;
}

const ElfSymbol* ElfInfo::find_defined(const std::string& name, const std::string& version) const {
  for (const ElfSymbol& s : symbols)
    if (s.defined && s.name == name && (version.empty() || s.version == version)) return &s;
  return nullptr;
}

namespace {
Result<ElfInfo> read_from(ElfPtr elf, const std::string& path);
}  // namespace

Result<ElfInfo> read_elf(const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) return Error{"libelf: " + std::string(elf_errmsg(-1))};
  Fd fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  ElfPtr elf(elf_begin(fd.fd, ELF_C_READ, nullptr));
  if (!elf) return elf_error(path, "not readable as ELF");
  return read_from(std::move(elf), path);
}

Result<std::shared_ptr<const ElfInfo>> ElfCache::read(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  Key key{st.st_dev, st.st_ino, st.st_size, st.st_mtim.tv_sec, st.st_mtim.tv_nsec};
  {
    std::lock_guard lock(mu_);
    auto it = files_.find(key);
    if (it != files_.end()) {
      if (it->second->path == path) return it->second;
      // The same file under another name: errors name this one.
      auto& alias = aliases_[{key, path}];
      if (!alias) {
        auto copy = std::make_shared<ElfInfo>(*it->second);
        copy->path = path;
        alias = std::move(copy);
      }
      return alias;
    }
  }
  auto elf = read_elf(path);
  if (!elf) return elf.error();
  auto shared = std::make_shared<const ElfInfo>(std::move(elf.value()));
  std::lock_guard lock(mu_);
  files_.emplace(key, shared);
  return shared;
}

size_t ElfCache::size() const {
  std::lock_guard lock(mu_);
  return files_.size();
}

Result<ElfInfo> parse_elf(std::span<const unsigned char> bytes, const std::string& name) {
  if (elf_version(EV_CURRENT) == EV_NONE) return Error{"libelf: " + std::string(elf_errmsg(-1))};
  // elf_memory wants a mutable image (it may convert byte order in place): work on a copy.
  std::vector<char> copy(bytes.begin(), bytes.end());
  ElfPtr elf(elf_memory(copy.data(), copy.size()));
  if (!elf) return elf_error(name, "not readable as ELF");
  return read_from(std::move(elf), name);
}

namespace {

Result<ElfInfo> read_from(ElfPtr elf, const std::string& path) {
  if (elf_kind(elf.get()) != ELF_K_ELF) return Error{path + ": not an ELF file"};
  GElf_Ehdr eh;
  if (!gelf_getehdr(elf.get(), &eh)) return elf_error(path, "bad ELF header");
  // ld.so reads the program headers before anything else (elf/dl-load.c open_verify): a file that ends
  // before them is "cannot read file data" to it, never loadable, however intact its ELF header.
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) return elf_error(path, "bad program header count");
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph))
      return Error{path + ": truncated: its program headers run past the end of the file"};
  }
  ElfInfo info;
  info.path = path;
  info.elf_class = gelf_getclass(elf.get());
  info.machine = eh.e_machine;
  info.type = eh.e_type;

  Elf_Scn *gnu_hash = nullptr, *symtab = nullptr, *dynsym = nullptr, *versym = nullptr, *verdef = nullptr, *verneed = nullptr, *dynamic = nullptr;
  size_t symtab_link = 0, dynsym_link = 0, verdef_link = 0, verneed_link = 0, dynamic_link = 0;
  for (Elf_Scn* scn = nullptr; (scn = elf_nextscn(elf.get(), scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) return elf_error(path, "bad section header");
    switch (sh.sh_type) {
      case SHT_DYNSYM: dynsym = scn, dynsym_link = sh.sh_link; break;
      case SHT_SYMTAB: symtab = scn, symtab_link = sh.sh_link; break;
      case SHT_GNU_versym: versym = scn; break;
      case SHT_GNU_verdef: verdef = scn, verdef_link = sh.sh_link; break;
      case SHT_GNU_verneed: verneed = scn, verneed_link = sh.sh_link; break;
      case SHT_DYNAMIC: dynamic = scn, dynamic_link = sh.sh_link; break;
      case SHT_GNU_HASH: gnu_hash = scn; break;
      default: break;
    }
  }
  auto str = [&](size_t link, size_t off) -> std::string {
    const char* s = elf_strptr(elf.get(), link, off);
    return s ? s : "";
  };
  // String tables copied once each (libelf's buffers end with elf_end); symbols hold views into them.
  auto tables = std::make_shared<std::map<size_t, std::vector<char>>>();
  info.strings = tables;
  auto view = [&](size_t link, size_t off) -> std::string_view {
    auto it = tables->find(link);
    if (it == tables->end()) {
      std::vector<char> bytes;
      if (Elf_Scn* scn = elf_getscn(elf.get(), link))
        if (Elf_Data* d = elf_getdata(scn, nullptr); d && d->d_buf)
          bytes.assign(static_cast<const char*>(d->d_buf), static_cast<const char*>(d->d_buf) + d->d_size);
      it = tables->emplace(link, std::move(bytes)).first;
    }
    const std::vector<char>& b = it->second;
    if (off >= b.size()) return {};
    size_t n = strnlen(b.data() + off, b.size() - off);
    return n == b.size() - off ? std::string_view() : std::string_view(b.data() + off, n);  // unterminated: none
  };

  if (dynamic) {
    Elf_Data* d = elf_getdata(dynamic, nullptr);
    if (!d) return elf_error(path, "unreadable .dynamic");
    GElf_Shdr sh;
    gelf_getshdr(dynamic, &sh);
    size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    for (size_t i = 0; i < n; ++i) {
      GElf_Dyn dyn;
      if (!gelf_getdyn(d, static_cast<int>(i), &dyn)) return elf_error(path, "bad .dynamic entry");
      if (dyn.d_tag == DT_NULL) break;
      if (dyn.d_tag == DT_NEEDED) info.needed.push_back(str(dynamic_link, dyn.d_un.d_val));
      else if (dyn.d_tag == DT_SONAME) info.soname = str(dynamic_link, dyn.d_un.d_val);
      else if (dyn.d_tag == DT_RPATH) info.rpath = str(dynamic_link, dyn.d_un.d_val), info.has_rpath = true;
      else if (dyn.d_tag == DT_RUNPATH) info.runpath = str(dynamic_link, dyn.d_un.d_val), info.has_runpath = true;
      else if (dyn.d_tag == DT_FLAGS_1) info.nodeflib = (dyn.d_un.d_val & DF_1_NODEFLIB) != 0;
    }
  }

  // Version index -> (name, file) for definitions (file empty) and requirements.
  std::map<unsigned, std::pair<std::string_view, std::string_view>> versions;
  if (verdef) {
    Elf_Data* d = elf_getdata(verdef, nullptr);
    if (!d) return elf_error(path, "unreadable .gnu.version_d");
    size_t off = 0;
    for (int guard = 0; guard < 65536; ++guard) {
      GElf_Verdef vd;
      if (!gelf_getverdef(d, static_cast<int>(off), &vd)) return elf_error(path, "bad version definition");
      GElf_Verdaux aux;
      if (vd.vd_cnt && gelf_getverdaux(d, static_cast<int>(off + vd.vd_aux), &aux)) {
        std::string_view name = view(verdef_link, aux.vda_name);
        versions[vd.vd_ndx] = {name, {}};
        info.version_defs.emplace_back(name);
      }
      if (!vd.vd_next) break;
      off += vd.vd_next;
    }
  }
  if (verneed) {
    Elf_Data* d = elf_getdata(verneed, nullptr);
    if (!d) return elf_error(path, "unreadable .gnu.version_r");
    size_t off = 0;
    for (int guard = 0; guard < 65536; ++guard) {
      GElf_Verneed vn;
      if (!gelf_getverneed(d, static_cast<int>(off), &vn)) return elf_error(path, "bad version requirement");
      std::string_view file = view(verneed_link, vn.vn_file);
      ElfVersionNeed need{std::string(file), {}};
      size_t aoff = off + vn.vn_aux;
      for (unsigned i = 0; i < vn.vn_cnt; ++i) {
        GElf_Vernaux aux;
        if (!gelf_getvernaux(d, static_cast<int>(aoff), &aux)) return elf_error(path, "bad version requirement entry");
        std::string_view name = view(verneed_link, aux.vna_name);
        versions[aux.vna_other] = {name, file};
        need.names.emplace_back(name);
        if (!aux.vna_next) break;
        aoff += aux.vna_next;
      }
      info.version_needs.push_back(std::move(need));
      if (!vn.vn_next) break;
      off += vn.vn_next;
    }
  }

  // Only a library that defines versions can hide a versioned symbol behind its version script; a
  // consumer's .symtab (ggml-cuda's has ~45,000 entries) is never consulted, so it is not read.
  if (symtab && !info.version_defs.empty()) {
    if (Elf_Data* d = elf_getdata(symtab, nullptr)) {
      GElf_Shdr sh;
      gelf_getshdr(symtab, &sh);
      size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
      for (size_t i = 1; i < n; ++i) {
        GElf_Sym sym;
        if (!gelf_getsym(d, static_cast<int>(i), &sym)) break;
        if (GELF_ST_BIND(sym.st_info) == STB_LOCAL && sym.st_shndx != SHN_UNDEF &&
            (GELF_ST_TYPE(sym.st_info) == STT_FUNC || GELF_ST_TYPE(sym.st_info) == STT_OBJECT))
          info.local_defined.push_back(view(symtab_link, sym.st_name));
      }
    }
  }

  if (dynsym) {
    Elf_Data* d = elf_getdata(dynsym, nullptr);
    Elf_Data* vs = versym ? elf_getdata(versym, nullptr) : nullptr;
    if (!d) return elf_error(path, "unreadable .dynsym");
    GElf_Shdr sh;
    gelf_getshdr(dynsym, &sh);
    size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    // sh_size is the file's word, not a promise: never reserve more than the data really holds.
    info.symbols.reserve(std::min(n, d->d_size / (info.elf_class == ELFCLASS32 ? sizeof(Elf32_Sym) : sizeof(Elf64_Sym))));
    for (size_t i = 1; i < n; ++i) {
      GElf_Sym sym;
      if (!gelf_getsym(d, static_cast<int>(i), &sym)) return elf_error(path, "bad dynamic symbol");
      ElfSymbol s;
      s.name = view(dynsym_link, sym.st_name);
      s.defined = sym.st_shndx != SHN_UNDEF;
      s.binding = GELF_ST_BIND(sym.st_info);
      s.type = GELF_ST_TYPE(sym.st_info);
      s.visibility = GELF_ST_VISIBILITY(sym.st_other);
      s.value = sym.st_value;
      GElf_Versym v;
      if (vs && gelf_getversym(vs, static_cast<int>(i), &v)) {
        unsigned idx = v & 0x7fff;
        s.version_hidden = (v & 0x8000) != 0;
        s.version_is_base = idx == 1 && !info.version_defs.empty();
        if (idx > 1 || (idx == 1 && s.defined && !info.version_defs.empty())) {
          auto it = versions.find(idx);
          if (it != versions.end()) {
            s.version = it->second.first;
            s.version_file = it->second.second;
          }
        }
      }
      info.symbols.push_back(s);
    }
  }

  // .gnu.hash: nbuckets, symoffset, bloom_size, bloom_shift, the bloom words (ELF-class-sized), the
  // buckets, then one chain word per hashed symbol. Anything out of bounds: ignored, not trusted.
  if (gnu_hash) {
    Elf_Data* d = elf_rawdata(gnu_hash, nullptr);
    size_t word = info.elf_class == ELFCLASS32 ? 4 : 8;
    if (d && d->d_buf && d->d_size >= 16) {
      const auto* w = static_cast<const unsigned char*>(d->d_buf);
      auto u32 = [&](size_t off) {
        uint32_t v;
        std::memcpy(&v, w + off, 4);
        return v;
      };
      uint32_t nbuckets = u32(0), symoffset = u32(4), bloom = u32(8);
      size_t buckets_at = 16 + size_t{bloom} * word, chain_at = buckets_at + size_t{nbuckets} * 4;
      if (nbuckets > 0 && bloom < d->d_size && nbuckets < d->d_size && chain_at <= d->d_size &&
          symoffset <= info.symbols.size() + 1) {
        info.gnu_hash.symoffset = symoffset;
        info.gnu_hash.buckets.resize(nbuckets);
        std::memcpy(info.gnu_hash.buckets.data(), w + buckets_at, size_t{nbuckets} * 4);
        size_t nchain = std::min((d->d_size - chain_at) / 4, info.symbols.size() + 1 - symoffset);
        info.gnu_hash.chain.resize(nchain);
        if (nchain) std::memcpy(info.gnu_hash.chain.data(), w + chain_at, nchain * 4);
      }
    }
  }
  return info;
}

}  // namespace

void order_for_report(std::vector<MissingImport>& missing) {
  auto rank = [](const MissingImport& m) {
    if (m.symbol == "__cudaRegisterFatBinary") return 0;
    if (m.symbol.rfind("__cudaRegister", 0) == 0) return 1;
    return m.symbol.rfind("__cuda", 0) == 0 ? 2 : 3;
  };
  std::stable_sort(missing.begin(), missing.end(),
                   [&](const MissingImport& a, const MissingImport& b) { return rank(a) < rank(b); });
}

std::vector<MissingImport> missing_imports(const ElfInfo& consumer, const std::string& provider_name,
                                           const ElfInfo& provider, const std::string& unversioned_prefix) {
  std::vector<MissingImport> out;
  auto wanted = [&](const ElfSymbol& s) {
    if (s.defined) return false;
    if (!s.version.empty()) return s.version_file == provider_name;
    return !unversioned_prefix.empty() && s.name.rfind(unversioned_prefix, 0) == 0;
  };
  for (const ElfSymbol& s : consumer.symbols) {
    if (!wanted(s)) continue;
    bool versioned = !s.version.empty();
    MissingImport m{std::string(s.name), std::string(s.version), ""};
    const ElfSymbol* def = nullptr;
    const ElfSymbol* any = nullptr;  // same name, any version
    for (const ElfSymbol* p : provider.defined_named(s.name)) {
      any = p;
      if (!versioned || p->version == s.version) {
        def = p;
        break;
      }
    }
    if (versioned && provider.version_defs.empty()) {
      m.reason = "provider has no version information (glibc aborts in check_match)";
    } else if (!any) {
      bool local = std::find(provider.local_defined.begin(), provider.local_defined.end(), s.name) !=
                   provider.local_defined.end();  // only for what is missing: rare
      m.reason = local ? "defined but local: the provider's version script does not export it" : "not exported";
    } else if (!def) {
      bool node = false;
      for (const std::string& v : provider.version_defs) node |= v == s.version;
      m.reason = node ? "exported, but under version " + (any->version.empty() ? std::string("(none)") : std::string(any->version))
                      : "provider has no version node " + m.version;
    } else if (def->visibility == 2 /* STV_HIDDEN */ || def->binding == 0 /* STB_LOCAL */) {
      m.reason = "exported but local or hidden";
    } else {
      continue;
    }
    out.push_back(std::move(m));
  }
  return out;
}

}  // namespace vgpu
