#include "ld_diagnostics.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>

#include "child.h"
#include "fd.h"

namespace vgpu {
namespace {

// One owner per C resource (STYLE.md §3): the Elf handle (descriptors: fd.h; children: child.h).
struct ElfDeleter {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

// A value as _dl_diagnostics_print_string writes it: '"', then printable ASCII with '\' and '"'
// backslash-escaped and every other byte as '\' and three octal digits, then '"'. glibc's
// print_quoted_char (elf/dl-diagnostics.c, 2.36 and still in later releases) writes bits 6-8 as both
// the first and the second digit, so bits 3-5 of such a byte are lost; we decode the digits as printed.
Result<std::string> unquote(std::string_view v) {
  if (v.size() < 2 || v.back() != '"') return Error{"unterminated string"};
  std::string out;
  for (size_t i = 1; i + 1 < v.size(); ++i) {
    char c = v[i];
    if (c == '"') return Error{"unescaped '\"' inside a string"};
    if (c != '\\') {
      out += c;
      continue;
    }
    if (i + 2 < v.size() && (v[i + 1] == '\\' || v[i + 1] == '"')) {
      out += v[++i];
      continue;
    }
    if (i + 3 < v.size() - 1) {  // three digits before the closing quote
      unsigned value = 0;
      bool octal = true;
      for (size_t k = 1; k <= 3; ++k) {
        char d = v[i + k];
        if (d < '0' || d > '7') octal = false;
        value = value * 8 + static_cast<unsigned>(d - '0');
      }
      if (octal) {
        out += static_cast<char>(value & 0xff);
        i += 3;
        continue;
      }
    }
    return Error{"bad escape sequence"};
  }
  return out;
}

Result<uint64_t> parse_hex(const std::string& key, std::string_view v) {
  uint64_t value = 0;
  if (v.substr(0, 2) == "0x") {
    auto [end, ec] = std::from_chars(v.data() + 2, v.data() + v.size(), value, 16);
    if (ec == std::errc() && end == v.data() + v.size() && v.size() > 2) return value;
  }
  return Error{key + " is not a hexadecimal number: " + std::string(v)};
}

}  // namespace

Result<LdDiagnostics> parse_ld_diagnostics(std::string_view text) {
  LdDiagnostics d;
  std::map<uint64_t, std::string> system_dirs;
  const std::string_view system_dirs_key = "path.system_dirs[";
  size_t line_no = 0;
  bool platform_is_null = false;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return Error{"ld.so --list-diagnostics line " + std::to_string(line_no) + ": " + why + ": " +
                   std::string(line.substr(0, 200))};
    };
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return bad("not key=value");
    std::string key(line.substr(0, eq));
    std::string_view raw_value = line.substr(eq + 1);
    std::string value;
    bool quoted = !raw_value.empty() && raw_value[0] == '"';
    // _dl_diagnostics_print_string prints a null pointer as 0x0, unquoted; a real platform is quoted.
    if (key == "dl_platform") platform_is_null = !quoted;
    if (quoted) {
      auto s = unquote(raw_value);
      if (!s) return bad(s.error().message);
      value = std::move(*s);
    } else {
      value = std::string(raw_value);  // a number (0x...), or 0x0 for a null string
    }
    if (key.compare(0, system_dirs_key.size(), system_dirs_key) == 0) {
      if (key.back() != ']') return bad("bad index");
      auto index = parse_hex(key, std::string_view(key).substr(system_dirs_key.size(),
                                                               key.size() - system_dirs_key.size() - 1));
      if (!index) return bad(index.error().message);
      system_dirs[*index] = value;
    }
    if (!d.raw.emplace(key, std::move(value)).second) return bad("duplicate key");
  }

  for (const char* required : {"dl_dst_lib", "dl_platform", "dl_hwcaps_subdirs", "dl_hwcaps_subdirs_active",
                               "path.system_dirs[0x0]"})
    if (!d.raw.count(required))
      return Error{std::string("ld.so --list-diagnostics output has no ") + required +
                   " (is this glibc 2.34 or later?)"};

  d.lib = d.raw["dl_dst_lib"];
  if (!platform_is_null) d.platform = d.raw["dl_platform"];

  auto active = parse_hex("dl_hwcaps_subdirs_active", d.raw["dl_hwcaps_subdirs_active"]);
  if (!active) return active.error();
  // _dl_hwcaps_split_masked (elf/dl-hwcaps_split.c): ':'-separated, empty entries skipped, the mask's
  // bit 0 for the first entry; a uint32_t mask, so entries past the 32nd are never active.
  std::string_view all = d.raw["dl_hwcaps_subdirs"];
  unsigned bit = 0;
  while (!all.empty()) {
    size_t colon = all.find(':');
    std::string_view name = all.substr(0, colon);
    all = colon == std::string_view::npos ? std::string_view{} : all.substr(colon + 1);
    if (name.empty()) continue;
    if (bit < 32 && ((*active >> bit) & 1)) d.hwcaps_subdirs.emplace_back(name);
    ++bit;
  }

  uint64_t expected = 0;
  for (auto& [index, dir] : system_dirs) {
    if (index != expected++) return Error{"ld.so --list-diagnostics: path.system_dirs indices are not contiguous"};
    d.system_dirs.push_back(dir);
  }
  return d;
}

Result<std::string> program_interpreter(const std::string& path) {
  if (elf_version(EV_CURRENT) == EV_NONE) return Error{"libelf: " + std::string(elf_errmsg(-1))};
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  ElfPtr elf(elf_begin(fd.fd, ELF_C_READ, nullptr));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return Error{path + ": not an ELF file"};
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) return Error{path + ": bad program headers: " + elf_errmsg(-1)};
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph)) return Error{path + ": bad program header: " + elf_errmsg(-1)};
    if (ph.p_type != PT_INTERP) continue;
    if (ph.p_filesz == 0 || ph.p_filesz > 4096) return Error{path + ": implausible PT_INTERP size"};
    std::string interp(ph.p_filesz, '\0');
    ssize_t n = ::pread(fd.fd, interp.data(), interp.size(), static_cast<off_t>(ph.p_offset));
    if (n != static_cast<ssize_t>(interp.size())) return Error{path + ": cannot read PT_INTERP"};
    interp.resize(std::strlen(interp.c_str()));  // stored with its NUL
    return interp;
  }
  return Error{path + " has no PT_INTERP (statically linked?)"};
}

Result<LdDiagnostics> query_ld_diagnostics(const std::string& ld_so) {
  std::string loader = ld_so;
  if (loader.empty()) {
    auto interp = program_interpreter("/proc/self/exe");
    if (!interp) return interp.error();
    loader = *interp;
  }
  auto run = run_child({loader, "--list-diagnostics"});
  if (!run) return run.error();
  if (!WIFEXITED(run->status) || WEXITSTATUS(run->status) != 0)
    return Error{loader + " --list-diagnostics " + describe_status(run->status) +
                 " (glibc before 2.34 has no --list-diagnostics)"};
  auto d = parse_ld_diagnostics(run->output);
  if (!d) return Error{loader + ": " + d.error().message};
  d->search_subdirs = query_search_subdirs(loader, *d);
  return d;
}

namespace {

// The key of what decides the subdirectory list: the loader's answers about itself and this CPU
// (every --list-diagnostics line but the environment and the process's own), and the loader file.
std::string search_subdirs_key(const std::string& loader, const LdDiagnostics& d) {
  std::string facts = loader;
  for (const auto& [k, v] : d.raw)
    if (k.rfind("env", 0) != 0 && k.rfind("auxv", 0) != 0 && k.rfind("uname", 0) != 0 && k.rfind("path.prefix", 0) != 0)
      facts += "\n" + k + "=" + v;
  struct stat st {};
  if (::stat(loader.c_str(), &st) == 0)
    facts += "\n" + std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
             std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec);
  uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char c : facts) h = (h ^ c) * 1099511628211ULL;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

std::string cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x == '/') return std::string(x) + "/vgpu";
  if (const char* home = std::getenv("HOME"); home && *home == '/') return std::string(home) + "/.cache/vgpu";
  return "";
}

}  // namespace

std::vector<std::string> query_search_subdirs(const std::string& loader, const LdDiagnostics& d) {
  // glibc 2.37 dropped the legacy hwcaps subdirectories: then the glibc-hwcaps ones are the whole list.
  auto version = d.raw.find("version.version");
  if (version != d.raw.end()) {
    unsigned major = 0, minor = 0;
    if (std::sscanf(version->second.c_str(), "%u.%u", &major, &minor) == 2 && (major > 2 || (major == 2 && minor >= 37))) {
      std::vector<std::string> out;
      for (const std::string& h : d.hwcaps_subdirs) out.push_back("glibc-hwcaps/" + h);
      return out;
    }
  }
  // Older loaders are asked (a child), and the answer kept per loader and CPU facts: it cannot change
  // while they do not.
  std::string dir = cache_dir(), file = dir.empty() ? "" : dir + "/ld-search-subdirs-" + search_subdirs_key(loader, d);
  if (!file.empty()) {
    std::ifstream in(file);
    std::vector<std::string> cached;
    std::string line;
    bool complete = false;
    while (std::getline(in, line)) {
      if (line == "# end") complete = true;
      else if (!line.empty() && line[0] != '#') cached.push_back(line);
    }
    if (complete && !cached.empty()) return cached;
  }
  // ld.so --list on itself needs nothing, so it is asked to preload a name nobody has (LD_PRELOAD is
  // searched like a DT_NEEDED, LD_LIBRARY_PATH first) and prints its search path.
  const std::string probe = "/nonexistent-vgpu-probe";
  ChildOptions co;
  co.inherit_env = false;
  co.env = {"LD_DEBUG=libs", "LD_LIBRARY_PATH=" + probe, "LD_PRELOAD=libvgpu-probe-nonexistent.so"};
  co.merge_stderr = true;
  co.timeout_ms = 5000;
  auto libs = run_child({loader, "--list", loader}, co);
  if (!libs) return {};
  std::vector<std::string> subdirs = parse_search_subdirs(libs->output, probe);
  if (!file.empty() && !subdirs.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    std::string tmp = file + ".tmp" + std::to_string(::getpid());
    {
      std::ofstream out(tmp);
      out << "# the subdirectories " << loader << " tries in each search directory (vgpu, core/ld_diagnostics)\n";
      for (const std::string& s : subdirs) out << s << "\n";
      out << "# end\n";
    }
    std::filesystem::rename(tmp, file, ec);  // atomic: a reader sees all of it or none
    if (ec) std::filesystem::remove(tmp, ec);
  }
  return subdirs;
}

std::vector<std::string> parse_search_subdirs(std::string_view out, const std::string& probe_dir) {
  std::vector<std::string> subdirs;
  size_t at = 0;
  while ((at = out.find("search path=", at)) != std::string_view::npos) {
    at += 12;
    std::string_view line = out.substr(at, out.find_first_of("\t\n", at) - at);
    bool saw_probe = false;
    size_t start = 0;
    for (;;) {
      size_t colon = line.find(':', start);
      std::string_view entry = line.substr(start, colon == std::string_view::npos ? std::string_view::npos : colon - start);
      if (entry.size() > probe_dir.size() && entry.substr(0, probe_dir.size()) == probe_dir && entry[probe_dir.size()] == '/')
        subdirs.emplace_back(entry.substr(probe_dir.size() + 1)), saw_probe = true;
      else if (entry == probe_dir)
        saw_probe = true;
      if (colon == std::string_view::npos) break;
      start = colon + 1;
    }
    if (saw_probe) return subdirs;
    subdirs.clear();
  }
  return subdirs;
}

LdCacheHost ld_cache_host(const LdDiagnostics& diagnostics) {
  LdCacheHost host;
  host.hwcaps_subdirs = diagnostics.hwcaps_subdirs;
  auto number = [&](const char* key, uint64_t fallback) {
    auto it = diagnostics.raw.find(key);
    if (it == diagnostics.raw.end()) return fallback;
    auto v = parse_hex(key, it->second);
    return v ? *v : fallback;
  };
  host.isa_1 = static_cast<uint32_t>(number("x86.cpu_features.isa_1", host.isa_1));
  host.hwcap = number("dl_hwcap", host.hwcap);
  host.hwcap_mask = number("dl_hwcap_important", host.hwcap_mask);
  host.platform = number("dl_string_platform", host.platform);
  return host;
}

}  // namespace vgpu
