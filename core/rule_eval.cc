#include "rule_eval.h"

#include <elf.h>
#include <glob.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "elf_file.h"
#include "link_chain.h"

namespace vgpu {
namespace {

namespace fs = std::filesystem;

// systemd's PATH for services whose unit sets none (systemd.exec(5), "Environment Variables Set or
// Propagated by the Service Manager"; /sbin and /bin where /usr is split).
constexpr const char* kDefaultServicePath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

// glob(3) with its result freed on the line that acquires it (STYLE.md §3).
class Glob {
 public:
  explicit Glob(const std::string& pattern) { ok_ = ::glob(pattern.c_str(), 0, nullptr, &g_) == 0; }
  ~Glob() { ::globfree(&g_); }
  Glob(const Glob&) = delete;
  Glob& operator=(const Glob&) = delete;
  std::vector<std::string> paths() const {
    if (!ok_) return {};
    return std::vector<std::string>(g_.gl_pathv, g_.gl_pathv + g_.gl_pathc);
  }

 private:
  glob_t g_{};
  bool ok_ = false;
};

// A literal path inside a glob pattern: the root prefix must not be read as a pattern.
std::string glob_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string base_name(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

// The filesystem view of one evaluation: paths as the examined system names them, mapped under root.
class Fs {
 public:
  explicit Fs(const EvalContext& ctx) : root_(ctx.root) {
    std::error_code ec;
    if (!root_.empty()) real_root_ = fs::weakly_canonical(root_, ec).string();
  }
  std::string host(const std::string& p) const { return root_.empty() || p.empty() || p[0] != '/' ? p : root_ + p; }
  // `p` as the examined system names it: without the root, as written or as realpath(3) spells it.
  std::string shown(const std::string& p) const {
    for (const std::string& r : {root_, real_root_})
      if (!r.empty() && p.size() > r.size() && p.compare(0, r.size(), r) == 0 && p[r.size()] == '/') return p.substr(r.size());
    return p;
  }
  // The sorted matches of `pattern` (a glob written on the examined system), as that system names them.
  std::vector<std::string> glob(const std::string& pattern) const {
    std::string p = root_.empty() || pattern.empty() || pattern[0] != '/' ? pattern : glob_escape(root_) + pattern;
    std::vector<std::string> out;
    for (const std::string& m : Glob(p).paths()) out.push_back(shown(m));
    return out;
  }
  bool exists(const std::string& p) const { return follow_links(host(p)).end != LinkEnd::missing; }
  LinkChain chain(const std::string& p) const { return follow_links(host(p)); }
  std::string realpath(const std::string& p) const {
    std::error_code ec;
    fs::path r = fs::canonical(host(p), ec);
    return ec ? p : shown(r.string());
  }

 private:
  std::string root_, real_root_;
};

std::vector<std::string> split(const std::string& value, const std::string& separators) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= value.size()) {
    size_t end = value.find_first_of(separators, start);
    if (end == std::string::npos) end = value.size();
    std::string piece = value.substr(start, end - start);
    if (!piece.empty() && std::find(out.begin(), out.end(), piece) == out.end()) out.push_back(piece);
    start = end + 1;
  }
  return out;
}

// The absolute entries of a list variable; relative ones are not judged (see rule_eval.h).
std::vector<std::string> absolute_entries(const std::string& value, const std::string& separators) {
  std::vector<std::string> out;
  for (std::string& e : split(value, separators))
    if (e[0] == '/') out.push_back(std::move(e));
  return out;
}

bool is_shim(const LinkChain& chain, const std::vector<std::string>& shims) {
  if (chain.end != LinkEnd::file) return false;
  auto named = [&](const std::string& p) { return std::find(shims.begin(), shims.end(), base_name(p)) != shims.end(); };
  return named(chain.start) || named(chain.final_path) || std::any_of(chain.hops.begin(), chain.hops.end(), named);
}

// The ELF machine this process runs as: the host's, for the doctor (read once from its own executable).
unsigned host_machine() {
  static const unsigned machine = [] {
    auto self = read_elf("/proc/self/exe");
    return self ? self->machine : 0u;
  }();
  return machine;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// A sysfs PCI directory name: "dddd:bb:dd.f" (what shims/common/pci.cc parse_bus_id accepts).
bool is_bus_id(const std::string& name) {
  static const Regex re("[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]");
  return std::regex_match(name, re);
}

class Evaluator {
 public:
  explicit Evaluator(const EvalContext& ctx) : ctx_(ctx), fs_(ctx), facts_(fact_values(ctx)) {}

  std::vector<Bindings> operator()(const Condition& c) const {
    return std::visit([this](const auto& k) { return eval(k); }, c.kind);
  }

 private:
  std::string x(const std::string& tmpl) const { return expand(tmpl, facts_); }
  const EnvVar* find(const std::string& var) const { return ctx_.env ? ctx_.env->find(var) : nullptr; }
  static Bindings env_binds(const EnvVar& v) { return {{"var", v.name}, {"value", v.value}, {"origin", v.origin}}; }
  static std::vector<Bindings> one(Bindings b) { return {std::move(b)}; }

  std::vector<Bindings> eval(const EnvSet& k) const {
    const EnvVar* v = find(x(k.var));
    return v ? one(env_binds(*v)) : std::vector<Bindings>{};
  }
  std::vector<Bindings> eval(const EnvUnset& k) const {
    std::string var = x(k.var);
    return find(var) ? std::vector<Bindings>{} : one({{"var", var}});
  }
  std::vector<Bindings> eval(const EnvEquals& k) const {
    const EnvVar* v = find(x(k.var));
    return v && v->value == x(k.value) ? one(env_binds(*v)) : std::vector<Bindings>{};
  }
  std::vector<Bindings> eval(const EnvMatches& k) const {
    const EnvVar* v = find(x(k.var));
    return v && std::regex_search(v->value, k.regex.re) ? one(env_binds(*v)) : std::vector<Bindings>{};
  }
  std::vector<Bindings> eval(const EnvNotMatches& k) const {
    std::string var = x(k.var);
    const EnvVar* v = find(var);
    if (!v) return one({{"var", var}, {"value", ""}, {"origin", "not set"}});
    return std::regex_search(v->value, k.regex.re) ? std::vector<Bindings>{} : one(env_binds(*v));
  }
  std::vector<Bindings> eval(const EnvValueNotIn& k) const {
    const EnvVar* v = find(x(k.var));
    if (!v) return {};
    auto list = ctx_.list_facts.find(k.fact);
    if (list != ctx_.list_facts.end() && std::find(list->second.begin(), list->second.end(), v->value) != list->second.end())
      return {};
    return one(env_binds(*v));
  }
  std::vector<Bindings> eval(const EnvEntryMissing& k) const {
    const EnvVar* v = find(x(k.var));
    std::vector<Bindings> out;
    if (!v) return out;
    for (const std::string& e : absolute_entries(v->value, x(k.separators)))
      if (!fs_.exists(e)) out.push_back(entry_binds(*v, e));
    return out;
  }
  // ld.so refuses an object of another class or machine (glibc elf/dl-load.c open_verify).
  std::vector<Bindings> eval(const EnvEntryNotElf64& k) const {
    const EnvVar* v = find(x(k.var));
    std::vector<Bindings> out;
    if (!v) return out;
    for (const std::string& e : absolute_entries(v->value, x(k.separators))) {
      if (!fs_.exists(e)) continue;
      auto elf = read_elf(fs_.host(e));
      if (!elf || elf->elf_class != ELFCLASS64 || elf->machine != host_machine()) out.push_back(entry_binds(*v, e));
    }
    return out;
  }
  std::vector<Bindings> eval(const EnvEntryHasFile& k) const {
    const EnvVar* v = find(x(k.var));
    std::vector<Bindings> out;
    if (!v) return out;
    std::set<std::string> taken;  // file names whose first holder has been found
    for (const std::string& dir : absolute_entries(v->value, x(k.separators))) {
      std::set<std::string> here;
      for (const std::string& pattern : k.names)
        for (const std::string& m : fs_.glob(glob_escape(dir) + "/" + x(pattern))) here.insert(base_name(m));
      for (const std::string& file : here) {
        if (taken.count(file)) continue;
        std::string path = dir + "/" + file;
        LinkChain chain = fs_.chain(path);
        if (chain.end != LinkEnd::file) continue;  // open(2) fails; ld.so tries the next entry
        taken.insert(file);
        bool shim = is_shim(chain, ctx_.shims);
        if (k.provider == Provider::any || (k.provider == Provider::shim) == shim) {
          Bindings b = entry_binds(*v, dir);
          b["file"] = file;
          b["target"] = fs_.realpath(path);
          out.push_back(std::move(b));
        }
      }
    }
    return out;
  }
  std::vector<Bindings> eval(const FileExists& k) const {
    std::vector<std::string> m = fs_.glob(x(k.path));
    return m.empty() ? std::vector<Bindings>{} : one({{"path", m.front()}});
  }
  std::vector<Bindings> eval(const FileMissing& k) const {
    std::string path = x(k.path);
    return fs_.glob(path).empty() ? one({{"path", path}}) : std::vector<Bindings>{};
  }
  std::vector<Bindings> eval(const FileIsShim& k) const {
    for (const std::string& m : fs_.glob(x(k.path)))
      if (is_shim(fs_.chain(m), ctx_.shims)) return one({{"path", m}, {"target", fs_.realpath(m)}});
    return {};
  }
  std::vector<Bindings> eval(const FileContains& k) const {
    std::string text = x(k.text);
    for (const std::string& m : fs_.glob(x(k.path))) {
      if (fs_.chain(m).end != LinkEnd::file) continue;
      std::ifstream in(fs_.host(m), std::ios::binary);
      if (!in) continue;
      std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (body.find(text) != std::string::npos) return one({{"path", m}, {"text", text}});
    }
    return {};
  }
  // Found as execvp(3) would find it: a regular file with an execute bit in a PATH directory.
  std::vector<Bindings> eval(const CommandMissing& k) const {
    std::string command = x(k.command);
    const EnvVar* path = find("PATH");
    std::vector<std::string> candidates;
    if (command.find('/') != std::string::npos) {
      candidates.push_back(command);
    } else {
      for (const std::string& dir : absolute_entries(path ? path->value : kDefaultServicePath, ":"))
        candidates.push_back(dir + "/" + command);
    }
    for (const std::string& c : candidates) {
      struct stat st {};
      if (::stat(fs_.host(c).c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111)) return {};
    }
    return one({{"command", command}});
  }
  std::vector<Bindings> eval(const PciVendorPresent& k) const {
    std::string vendor = lower(x(k.vendor));
    std::error_code ec;
    std::vector<std::string> slots;
    for (fs::directory_iterator it(ctx_.sysfs_root + "/bus/pci/devices", ec), end; !ec && it != end; it.increment(ec))
      if (is_bus_id(it->path().filename().string())) slots.push_back(it->path().filename().string());
    std::sort(slots.begin(), slots.end());
    for (const std::string& slot : slots) {
      std::ifstream in(ctx_.sysfs_root + "/bus/pci/devices/" + slot + "/vendor");
      std::string text;
      if (std::getline(in, text) && lower(trim(text)) == vendor) return one({{"vendor", vendor}, {"pci_slot", slot}});
    }
    return {};
  }

  static Bindings entry_binds(const EnvVar& v, const std::string& entry) {
    Bindings b = env_binds(v);
    b["entry"] = entry;
    return b;
  }

  const EvalContext& ctx_;
  Fs fs_;
  Bindings facts_;
};

// The finding's subject: what its conditions were about.
std::string subject_of(const Bindings& b) {
  for (const char* key : {"var", "path", "command", "pci_slot"})
    if (auto it = b.find(key); it != b.end()) return it->second;
  return "";
}

template <class Rule>
void run_table(const std::vector<Rule>& table, const EvalContext& ctx, const std::string& era, std::vector<Finding>& out) {
  Bindings facts = fact_values(ctx);
  for (const Rule& r : table) {
    if (!era.empty() && !applies_to(r.eras, era)) continue;
    for (const Bindings& b : evaluate(r.when, ctx)) {
      Bindings vars = facts;
      for (const auto& [k, v] : b) vars[k] = v;
      out.push_back({r.id, r.severity, subject_of(b), expand(r.message, vars), {expand(r.evidence, vars)},
                     expand(r.fix, vars)});
    }
  }
}

}  // namespace

std::vector<std::string> shim_names(const RuleSet& rules) {
  std::set<std::string> names;
  for (const LinkExpectation& l : rules.links)
    if (l.expect == LinkExpectation::Expect::shim) names.insert(l.shim);
  return {names.begin(), names.end()};
}

Bindings fact_values(const EvalContext& ctx) {
  Bindings vars = ctx.facts;
  for (const auto& [name, list] : ctx.list_facts) {
    std::string joined;
    for (const std::string& item : list) joined += (joined.empty() ? "" : ", ") + item;
    vars[name] = joined;
  }
  return vars;
}

std::vector<Bindings> evaluate(const Condition& condition, const EvalContext& ctx) {
  return Evaluator(ctx)(condition);
}

std::vector<Bindings> evaluate(const When& when, const EvalContext& ctx) {
  Evaluator eval(ctx);
  std::vector<Bindings> combos = {{}};
  for (const Condition& c : when) {
    std::vector<Bindings> matches = eval(c);
    std::vector<Bindings> next;
    for (const Bindings& so_far : combos)
      for (const Bindings& m : matches) {
        Bindings b = so_far;
        b.insert(m.begin(), m.end());  // keeps what an earlier condition bound (rules/FORMAT.md)
        if (std::find(next.begin(), next.end(), b) == next.end()) next.push_back(std::move(b));
      }
    combos = std::move(next);
    if (combos.empty()) break;
  }
  return combos;
}

std::vector<Finding> run_rules(const RuleSet& rules, const EvalContext& ctx, const std::string& era) {
  EvalContext c = ctx;
  if (c.shims.empty()) c.shims = shim_names(rules);
  std::vector<Finding> out;
  run_table(rules.env_rules, c, era, out);
  run_table(rules.install_facts, c, era, out);
  return out;
}

}  // namespace vgpu
