#include "ld_diagnostics.h"

#include <elf.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

namespace vgpu {
namespace {

// One owner per C resource (STYLE.md §3): a file descriptor, an Elf handle, a child process.
class UniqueFd {
 public:
  explicit UniqueFd(int fd = -1) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    reset(o.release());
    return *this;
  }
  ~UniqueFd() { reset(); }
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_;
};

struct ElfDeleter {
  void operator()(Elf* e) const { elf_end(e); }
};
using ElfPtr = std::unique_ptr<Elf, ElfDeleter>;

// A forked child that is always reaped: killed and waited for if the caller gives up on it early.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  // The waitpid status; an Error if waitpid fails.
  Result<int> wait() {
    int status = 0;
    pid_t r;
    do r = ::waitpid(pid_, &status, 0);
    while (r < 0 && errno == EINTR);
    pid_ = -1;
    if (r < 0) return Error{std::string("waitpid: ") + std::strerror(errno)};
    return status;
  }

 private:
  pid_t pid_;
};

Result<std::pair<UniqueFd, UniqueFd>> make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Error{std::string("pipe: ") + std::strerror(errno)};
  return std::pair<UniqueFd, UniqueFd>{UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Reads until end of file.
Result<std::string> read_all(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Error{std::string("read: ") + std::strerror(errno)};
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + strsignal(WTERMSIG(status));
  return "stopped";
}

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
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Error{"cannot open " + path + ": " + std::strerror(errno)};
  ElfPtr elf(elf_begin(fd.get(), ELF_C_READ, nullptr));
  if (!elf || elf_kind(elf.get()) != ELF_K_ELF) return Error{path + ": not an ELF file"};
  size_t phnum = 0;
  if (elf_getphdrnum(elf.get(), &phnum) != 0) return Error{path + ": bad program headers: " + elf_errmsg(-1)};
  for (size_t i = 0; i < phnum; ++i) {
    GElf_Phdr ph;
    if (!gelf_getphdr(elf.get(), static_cast<int>(i), &ph)) return Error{path + ": bad program header: " + elf_errmsg(-1)};
    if (ph.p_type != PT_INTERP) continue;
    if (ph.p_filesz == 0 || ph.p_filesz > 4096) return Error{path + ": implausible PT_INTERP size"};
    std::string interp(ph.p_filesz, '\0');
    ssize_t n = ::pread(fd.get(), interp.data(), interp.size(), static_cast<off_t>(ph.p_offset));
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
  auto out = make_pipe();
  if (!out) return out.error();
  // Reports the errno of a failed exec; closed by a successful one (O_CLOEXEC).
  auto exec_err = make_pipe();
  if (!exec_err) return exec_err.error();
  auto& [out_r, out_w] = *out;
  auto& [err_r, err_w] = *exec_err;
  // Everything the child needs is prepared before fork: after it, only async-signal-safe calls.
  const char* argv[] = {loader.c_str(), "--list-diagnostics", nullptr};
  pid_t pid = ::fork();
  if (pid < 0) return Error{std::string("fork: ") + std::strerror(errno)};
  if (pid == 0) {
    // dup2 onto itself would keep O_CLOEXEC (the pipe got fd 1 because stdout was closed): clear it.
    bool ready = out_w.get() == STDOUT_FILENO ? ::fcntl(STDOUT_FILENO, F_SETFD, 0) == 0
                                              : ::dup2(out_w.get(), STDOUT_FILENO) >= 0;
    if (ready) ::execv(argv[0], const_cast<char* const*>(argv));
    int e = errno;
    ssize_t ignored = ::write(err_w.get(), &e, sizeof e);
    (void)ignored;
    ::_exit(127);  // never return into the caller (STYLE.md §3)
  }
  ChildProcess child(pid);
  out_w.reset();
  err_w.reset();
  auto text = read_all(out_r.get());
  if (!text) return text.error();
  auto err = read_all(err_r.get());
  if (!err) return err.error();
  auto status = child.wait();
  if (!status) return status.error();
  if (err->size() == sizeof(int)) {
    int e;
    std::memcpy(&e, err->data(), sizeof e);
    return Error{"cannot execute " + loader + ": " + std::strerror(e)};
  }
  if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0)
    return Error{loader + " --list-diagnostics " + describe_status(*status) +
                 " (glibc before 2.34 has no --list-diagnostics)"};
  auto d = parse_ld_diagnostics(*text);
  if (!d) return Error{loader + ": " + d.error().message};
  return d;
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
