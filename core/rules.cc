#include "rules.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace vgpu {
namespace {

namespace fs = std::filesystem;

// One problem stops loading. Readers throw it and load_rules turns it into the Error: toml++ reports
// its own parse errors by exception too, and every reader below stays a straight list of reads.
struct RuleError {
  std::string message;
};

// [a-z_][a-z0-9_]*: placeholder and capture names. Checked by hand: compiling a std::regex per
// template string was a third of the doctor's run time.
bool is_identifier(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

// 0xNNNN, lower-case hex, as sysfs writes vendor and device ids.
bool is_pci_id(std::string_view s) {
  return s.size() == 6 && s.substr(0, 2) == "0x" &&
         std::all_of(s.begin() + 2, s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

[[noreturn]] void fail(const SourceLoc& at, const std::string& what) { throw RuleError{at.str() + ": " + what}; }

std::string join(const std::vector<std::string>& v, const char* sep = ", ") {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

template <class T>
std::vector<std::string> names_of(const std::vector<std::pair<const char*, T>>& table) {
  std::vector<std::string> out;
  for (const auto& [name, value] : table) out.push_back(name);
  return out;
}

// The closed vocabularies, one table each (rules/FORMAT.md lists the same values).
const std::vector<std::pair<const char*, Severity>> kSeverities = {
    {"error", Severity::error}, {"warning", Severity::warning}, {"info", Severity::info}};
const std::vector<std::pair<const char*, Provider>> kProviders = {
    {"shim", Provider::shim}, {"other", Provider::other}, {"any", Provider::any}};
const std::vector<std::pair<const char*, RunnerEnv::Action>> kActions = {
    {"prepend", RunnerEnv::Action::prepend}, {"append", RunnerEnv::Action::append},
    {"replace", RunnerEnv::Action::replace}, {"set", RunnerEnv::Action::set},
    {"inherit", RunnerEnv::Action::inherit}};
const std::vector<std::pair<const char*, RunnerEnv::Phase>> kPhases = {
    {"all", RunnerEnv::Phase::all}, {"discovery", RunnerEnv::Phase::discovery},
    {"verify", RunnerEnv::Phase::verify}, {"model", RunnerEnv::Phase::model}};
const std::vector<std::pair<const char*, LinkExpectation::Location>> kLocations = {
    {"backend_dir", LinkExpectation::Location::backend_dir}, {"lib_ollama", LinkExpectation::Location::lib_ollama},
    {"system", LinkExpectation::Location::system}};
const std::vector<std::pair<const char*, LinkExpectation::Expect>> kExpects = {
    {"shim", LinkExpectation::Expect::shim}, {"nvidia", LinkExpectation::Expect::nvidia},
    {"ollama", LinkExpectation::Expect::ollama}, {"absent", LinkExpectation::Expect::absent}};
const std::vector<std::pair<const char*, LogLine::Match>> kMatches = {
    {"substring", LogLine::Match::substring}, {"regex", LogLine::Match::regex}};

const std::vector<std::string> kFacts = {"lib_ollama", "ollama_exe", "ollama_version", "era",
                                         "shim_dir",   "service",    "backend_dirs"};
const std::vector<std::string> kListFacts = {"backend_dirs"};
// What an era's runner_env entries may name besides the facts: the probe being started.
const std::vector<std::string> kRunnerEnvVars = {"backend_dir", "llama_server_dir", "ggml_backend", "device_id"};
// What a link's templates may name besides the facts: the file being judged.
const std::vector<std::string> kLinkVars = {"name", "path", "dir", "shim", "target"};
// What a [[driver_floor]] template may name (rules/FORMAT.md).
const std::vector<std::string> kDriverVars = {"backend_dir", "cuda_driver_api", "nvml_driver", "runtime", "cudart_version",
                                              "required", "cc"};

enum class Type { string, integer, boolean, strings, conditions, tables };

const char* type_name(Type t) {
  switch (t) {
    case Type::string: return "a string";
    case Type::integer: return "an integer";
    case Type::boolean: return "a boolean";
    case Type::strings: return "an array of strings";
    case Type::conditions: return "an array of inline tables (conditions)";
    case Type::tables: return "an array of tables";
  }
  return "?";
}

const char* node_type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a float";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::none: break;
  }
  return "nothing";
}

bool has_type(const toml::node& n, Type t) {
  auto all_of = [&](auto pred) {
    const toml::array* a = n.as_array();
    return a && std::all_of(a->begin(), a->end(), pred);
  };
  switch (t) {
    case Type::string: return n.is_string();
    case Type::integer: return n.is_integer();
    case Type::boolean: return n.is_boolean();
    case Type::strings: return all_of([](const toml::node& e) { return e.is_string(); });
    case Type::conditions:
    case Type::tables: return all_of([](const toml::node& e) { return e.is_table(); });
  }
  return false;
}

struct KeySpec {
  const char* name;
  Type type;
  bool required;
};

// One table of a rule file: every key is checked against `keys` (unknown, wrong type, missing) before
// anything is read, so a reader only asks for what it declared.
class Entry {
 public:
  Entry(const std::string& file, const toml::table& t, std::string what, std::vector<KeySpec> keys)
      : file_(file), t_(t), what_(std::move(what)), keys_(std::move(keys)) {
    for (auto&& [k, v] : t_) {
      const KeySpec* spec = find(k.str());
      if (!spec) {
        std::vector<std::string> known;
        for (const KeySpec& s : keys_) known.push_back(s.name);
        fail(at(k.source()), "unknown key '" + std::string(k.str()) + "' in " + what_ + " (known: " + join(known) + ")");
      }
      if (!has_type(v, spec->type)) {
        std::string got = node_type_name(v);
        if (const toml::array* a = v.as_array())
          for (size_t i = 0; i < a->size(); ++i)
            if (!has_type_element((*a)[i], spec->type)) {
              fail(at((*a)[i].source()), "'" + std::string(k.str()) + "' in " + what_ + " must be " +
                                             type_name(spec->type) + "; element " + std::to_string(i + 1) +
                                             " is " + node_type_name((*a)[i]));
            }
        fail(at(v.source()), "'" + std::string(k.str()) + "' in " + what_ + " must be " + type_name(spec->type) +
                                 ", not " + got);
      }
    }
    for (const KeySpec& s : keys_)
      if (s.required && !t_.contains(s.name)) fail(where(), what_ + named() + " lacks required key '" + s.name + "'");
  }

  const std::string& what() const { return what_; }
  SourceLoc where() const { return at(t_.source()); }
  SourceLoc at(const char* key) const { return at(t_.get(key)->source()); }
  SourceLoc at(const toml::source_region& r) const { return {file_, r.begin.line, r.begin.column}; }
  bool has(const char* key) const { return t_.contains(key); }
  const toml::node* node(const char* key) const { return t_.get(key); }

  std::string str(const char* key, std::string dflt = "") const {
    const toml::node* n = t_.get(key);
    return n ? std::string(n->as_string()->get()) : dflt;
  }
  std::vector<std::string> strs(const char* key) const {
    std::vector<std::string> out;
    if (const toml::node* n = t_.get(key))
      for (const toml::node& e : *n->as_array()) out.emplace_back(e.as_string()->get());
    return out;
  }
  bool boolean(const char* key, bool dflt) const {
    const toml::node* n = t_.get(key);
    return n ? n->as_boolean()->get() : dflt;
  }
  template <class T>
  T choice(const char* key, const std::vector<std::pair<const char*, T>>& table, T dflt) const {
    const toml::node* n = t_.get(key);
    if (!n) return dflt;
    std::string v(n->as_string()->get());
    for (const auto& [name, value] : table)
      if (v == name) return value;
    fail(at(key), "'" + std::string(key) + "' in " + what_ + " must be one of " + join(names_of(table)) + ", not '" + v + "'");
  }
  // " 'ID'" when the table has an id, for messages about the table as a whole.
  std::string named() const { return has("id") && node("id")->is_string() ? " '" + str("id") + "'" : ""; }

 private:
  static bool has_type_element(const toml::node& e, Type t) {
    if (t == Type::strings) return e.is_string();
    if (t == Type::conditions || t == Type::tables) return e.is_table();
    return true;
  }
  const KeySpec* find(std::string_view name) const {
    for (const KeySpec& s : keys_)
      if (name == s.name) return &s;
    return nullptr;
  }
  const std::string& file_;
  const toml::table& t_;
  std::string what_;
  std::vector<KeySpec> keys_;
};

// ---- templates ----

void check_template(const Entry& e, const char* key, const std::vector<std::string>& available) {
  if (!e.has(key)) return;
  std::vector<std::string> texts = e.node(key)->is_array() ? e.strs(key) : std::vector<std::string>{e.str(key)};
  for (const std::string& text : texts) {
    auto used = placeholders(text);
    if (!used) fail(e.at(key), "bad template in '" + std::string(key) + "' of " + e.what() + e.named() + ": " + used.error().message);
    for (const std::string& name : *used)
      if (std::find(available.begin(), available.end(), name) == available.end())
        fail(e.at(key), "unknown placeholder '{" + name + "}' in '" + key + "' of " + e.what() + e.named() +
                            " (available: " + join(available) + ")");
  }
}

std::vector<std::string> with_facts(std::vector<std::string> names) {
  for (const std::string& f : kFacts)
    if (std::find(names.begin(), names.end(), f) == names.end()) names.push_back(f);
  return names;
}

Pattern compile(const Entry& e, const char* key) {
  std::string text = e.str(key);
  try {
    return {text, Regex(text, std::regex::ECMAScript)};
  } catch (const std::regex_error& err) {
    fail(e.at(key), "bad regex in '" + std::string(key) + "' of " + e.what() + e.named() + ": " + err.what());
  }
}

// ---- condition kinds: fields, the placeholders a kind binds, and how it is built ----

struct KindSpec {
  const char* name;
  std::vector<KeySpec> fields;  // besides `kind`
  std::vector<std::string> binds;
  ConditionKind (*make)(const Entry&);
};

const std::vector<std::string> kEnvBinds = {"var", "value", "origin"};
const std::vector<std::string> kEntryBinds = {"var", "value", "origin", "entry"};

// ld.so splits LD_PRELOAD on spaces and colons and LD_LIBRARY_PATH on colons and semicolons
// (glibc elf/rtld.c handle_preload_list, elf/dl-load.c fillin_rpath); the rule says which.
std::string separators(const Entry& e) {
  std::string s = e.str("separators", ":");
  if (s.empty()) fail(e.at("separators"), "'separators' in " + e.what() + " must not be empty");
  return s;
}

const std::vector<KindSpec>& kinds() {
  static const std::vector<KindSpec> k = {
      {"env_set", {{"var", Type::string, true}}, kEnvBinds,
       [](const Entry& e) -> ConditionKind { return EnvSet{e.str("var")}; }},
      {"env_unset", {{"var", Type::string, true}}, {"var"},
       [](const Entry& e) -> ConditionKind { return EnvUnset{e.str("var")}; }},
      {"env_equals", {{"var", Type::string, true}, {"value", Type::string, true}}, kEnvBinds,
       [](const Entry& e) -> ConditionKind { return EnvEquals{e.str("var"), e.str("value")}; }},
      {"env_matches", {{"var", Type::string, true}, {"regex", Type::string, true}}, kEnvBinds,
       [](const Entry& e) -> ConditionKind { return EnvMatches{e.str("var"), compile(e, "regex")}; }},
      {"env_not_matches", {{"var", Type::string, true}, {"regex", Type::string, true}}, kEnvBinds,
       [](const Entry& e) -> ConditionKind { return EnvNotMatches{e.str("var"), compile(e, "regex")}; }},
      {"env_value_not_in", {{"var", Type::string, true}, {"fact", Type::string, true}}, kEnvBinds,
       [](const Entry& e) -> ConditionKind {
         std::string fact = e.str("fact");
         if (std::find(kListFacts.begin(), kListFacts.end(), fact) == kListFacts.end())
           fail(e.at("fact"), "'fact' in " + e.what() + " must be a list fact (" + join(kListFacts) + "), not '" + fact + "'");
         return EnvValueNotIn{e.str("var"), fact};
       }},
      {"env_entry_missing", {{"var", Type::string, true}, {"separators", Type::string, false}}, kEntryBinds,
       [](const Entry& e) -> ConditionKind { return EnvEntryMissing{e.str("var"), separators(e)}; }},
      {"env_entry_not_elf64", {{"var", Type::string, true}, {"separators", Type::string, false}}, kEntryBinds,
       [](const Entry& e) -> ConditionKind { return EnvEntryNotElf64{e.str("var"), separators(e)}; }},
      {"env_entry_has_file",
       {{"var", Type::string, true}, {"separators", Type::string, false}, {"names", Type::strings, true},
        {"provider", Type::string, true}},
       {"var", "value", "origin", "entry", "file", "target"},
       [](const Entry& e) -> ConditionKind {
         if (e.strs("names").empty()) fail(e.at("names"), "'names' in " + e.what() + " must not be empty");
         return EnvEntryHasFile{e.str("var"), separators(e), e.strs("names"), e.choice("provider", kProviders, Provider::any)};
       }},
      {"file_exists", {{"path", Type::string, true}}, {"path"},
       [](const Entry& e) -> ConditionKind { return FileExists{e.str("path")}; }},
      {"file_missing", {{"path", Type::string, true}}, {"path"},
       [](const Entry& e) -> ConditionKind { return FileMissing{e.str("path")}; }},
      {"file_is_shim", {{"path", Type::string, true}}, {"path", "target"},
       [](const Entry& e) -> ConditionKind { return FileIsShim{e.str("path")}; }},
      {"file_contains", {{"path", Type::string, true}, {"text", Type::string, true}}, {"path", "text"},
       [](const Entry& e) -> ConditionKind { return FileContains{e.str("path"), e.str("text")}; }},
      {"command_missing", {{"command", Type::string, true}}, {"command"},
       [](const Entry& e) -> ConditionKind { return CommandMissing{e.str("command")}; }},
      {"pci_vendor_present", {{"vendor", Type::string, true}}, {"vendor", "pci_slot"},
       [](const Entry& e) -> ConditionKind {
         std::string v = e.str("vendor");
         if (!is_pci_id(v))
           fail(e.at("vendor"), "'vendor' in " + e.what() + " must be written 0xNNNN in lower case, as sysfs has it, not '" + v + "'");
         return PciVendorPresent{v};
       }},
  };
  return k;
}

// Reads a `when` list; adds the placeholders its conditions bind to `available`.
When read_when(const std::string& file, const Entry& owner, std::vector<std::string>& available) {
  When when;
  if (!owner.has("when")) return when;
  for (const toml::node& n : *owner.node("when")->as_array()) {
    const toml::table& t = *n.as_table();
    SourceLoc at{file, t.source().begin.line, t.source().begin.column};
    const toml::node* kind = t.get("kind");
    if (!kind) fail(at, "condition in " + owner.what() + owner.named() + " lacks required key 'kind'");
    if (!kind->is_string())
      fail({file, kind->source().begin.line, kind->source().begin.column},
           "'kind' of a condition must be a string, not " + std::string(node_type_name(*kind)));
    std::string name(kind->as_string()->get());
    const KindSpec* spec = nullptr;
    for (const KindSpec& k : kinds())
      if (name == k.name) spec = &k;
    if (!spec) {
      std::vector<std::string> known;
      for (const KindSpec& k : kinds()) known.push_back(k.name);
      fail({file, kind->source().begin.line, kind->source().begin.column},
           "unknown condition kind '" + name + "' in " + owner.what() + owner.named() + " (known: " + join(known) + ")");
    }
    std::vector<KeySpec> keys = {{"kind", Type::string, true}};
    keys.insert(keys.end(), spec->fields.begin(), spec->fields.end());
    Entry e(file, t, "condition '" + name + "'", keys);
    // Condition fields are expanded with the facts only: bindings exist once the condition has held.
    // A regex is not a template, so that `\d{2}` means what it says (as in [[log_line]] patterns).
    for (const KeySpec& f : spec->fields)
      if ((f.type == Type::string || f.type == Type::strings) && std::string_view(f.name) != "regex")
        check_template(e, f.name, kFacts);
    when.push_back({spec->make(e), at});
    for (const std::string& b : spec->binds)
      if (std::find(available.begin(), available.end(), b) == available.end()) available.push_back(b);
  }
  return when;
}

// ---- the loader ----

// Whether TOML text has an array-of-tables header `[[name]]` (spaces allowed inside the brackets) at the
// start of a line.
bool declares_table(const std::string& text, std::string_view name) {
  for (size_t at = text.find("[["); at != std::string::npos; at = text.find("[[", at + 2)) {
    size_t line = text.rfind('\n', at);
    size_t start = line == std::string::npos ? 0 : line + 1;
    if (text.find_first_not_of(" \t", start) != at) continue;
    size_t i = text.find_first_not_of(" \t", at + 2);
    if (i == std::string::npos || text.compare(i, name.size(), name) != 0) continue;
    size_t j = text.find_first_not_of(" \t", i + name.size());
    if (j != std::string::npos && text.compare(j, 2, "]]") == 0) return true;
  }
  return false;
}

class Loader {
 public:
  Loader(RuleSet& rules, const RuleLoadOptions& options) : rules_(rules), options_(options) {}

  void file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw RuleError{"cannot read " + path};
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    if (options_.log_lines_only && !declares_table(text, "log_line") && !declares_table(text, "era")) return;
    toml::table root;
    try {
      root = toml::parse(text, path);
    } catch (const toml::parse_error& err) {
      fail({path, err.source().begin.line, err.source().begin.column}, std::string(err.description()));
    }
    file_ = path;
    Entry top(file_, root, "the file",
              {{"schema", Type::integer, true}, {"era", Type::tables, false}, {"era_detect", Type::tables, false},
               {"link", Type::tables, false}, {"env_rule", Type::tables, false}, {"log_line", Type::tables, false},
               {"install_fact", Type::tables, false}, {"driver_floor", Type::tables, false}});
    int64_t schema = root.get("schema")->as_integer()->get();
    if (schema != kRulesSchema)
      fail(top.at("schema"), "schema " + std::to_string(schema) + " is not supported by this build (it reads schema " +
                                 std::to_string(kRulesSchema) + ")");
    each(root, "era", [&](const toml::table& t) { era(t); });
    each(root, "era_detect", [&](const toml::table& t) { era_detect(t); });
    each(root, "link", [&](const toml::table& t) { link(t); });
    each(root, "env_rule", [&](const toml::table& t) { env_rule(t); });
    each(root, "log_line", [&](const toml::table& t) { log_line(t); });
    each(root, "install_fact", [&](const toml::table& t) { install_fact(t); });
    each(root, "driver_floor", [&](const toml::table& t) { driver_floor(t); });
    rules_.files.push_back(path);
  }

  // Era ids may be defined in a later file than the rules naming them, so they are checked last.
  void check_eras() const {
    std::vector<std::string> defined;
    for (const Era& e : rules_.eras) defined.push_back(e.id);
    for (const auto& [id, at] : era_refs_)
      if (std::find(defined.begin(), defined.end(), id) == defined.end())
        fail(at, "unknown era '" + id + "' (defined: " + join(defined) + ")");
  }

 private:
  template <class F>
  void each(const toml::table& root, const char* key, F&& read) {
    if (const toml::node* n = root.get(key))
      for (const toml::node& t : *n->as_array()) read(*t.as_table());
  }

  std::string id(const Entry& e) {
    std::string v = e.str("id");
    if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
        }))
      fail(e.at("id"), "id '" + v + "' in " + e.what() + " must be letters, digits, '_', '.' and '-'");
    auto [it, fresh] = ids_.emplace(v, e.at("id"));
    if (!fresh) fail(e.at("id"), "duplicate id '" + v + "' (first defined at " + it->second.str() + ")");
    return v;
  }

  std::string source(const Entry& e) {
    std::string s = e.str("source");
    if (s.empty()) fail(e.at("source"), "'source' in " + e.what() + e.named() + " must say where the fact comes from");
    return s;
  }

  EraSet eras(const Entry& e) {
    EraSet v = e.strs("eras");
    if (v.empty()) fail(e.at("eras"), "'eras' in " + e.what() + e.named() + " must name at least one era");
    const toml::array& a = *e.node("eras")->as_array();
    for (size_t i = 0; i < v.size(); ++i) era_refs_.emplace_back(v[i], e.at(a[i].source()));
    return v;
  }

  void era(const toml::table& t) {
    Entry e(file_, t, "[[era]]",
            {{"id", Type::string, true}, {"name", Type::string, true}, {"first_version", Type::string, false},
             {"discovery", Type::string, true},
             {"runner_env", Type::tables, false}, {"source", Type::string, true}});
    Era era{id(e), e.str("name"), e.str("first_version"), e.str("discovery"), {}, source(e), e.where()};
    check_template(e, "discovery", kFacts);
    if (e.has("runner_env"))
      for (const toml::node& n : *e.node("runner_env")->as_array()) {
        Entry r(file_, *n.as_table(), "runner_env of [[era]] '" + era.id + "'",
                {{"var", Type::string, true}, {"action", Type::string, true}, {"phase", Type::string, false},
                 {"entries", Type::strings, false}, {"note", Type::string, false}});
        check_template(r, "entries", with_facts(kRunnerEnvVars));
        RunnerEnv step{r.str("var"), r.choice("action", kActions, RunnerEnv::Action::inherit),
                       r.choice("phase", kPhases, RunnerEnv::Phase::all), r.strs("entries"), r.str("note")};
        if ((step.action == RunnerEnv::Action::inherit) != step.entries.empty())
          fail(r.where(), "runner_env of [[era]] '" + era.id + "' for " + step.var +
                              ": 'entries' is required with every action but inherit, and not allowed with inherit");
        era.runner_env.push_back(std::move(step));
      }
    rules_.eras.push_back(std::move(era));
  }

  void era_detect(const toml::table& t) {
    Entry e(file_, t, "[[era_detect]]",
            {{"id", Type::string, true}, {"eras", Type::strings, true}, {"when", Type::conditions, true},
             {"evidence", Type::string, true}, {"source", Type::string, true}});
    EraDetect d{id(e), eras(e), {}, e.str("evidence"), source(e), e.where()};
    std::vector<std::string> available = kFacts;
    d.when = read_when(file_, e, available);
    check_template(e, "evidence", available);
    rules_.era_detects.push_back(std::move(d));
  }

  void link(const toml::table& t) {
    Entry e(file_, t, "[[link]]",
            {{"id", Type::string, true}, {"eras", Type::strings, true}, {"name", Type::string, true},
             {"location", Type::string, true}, {"backend_dirs", Type::strings, false}, {"expect", Type::string, true},
             {"shim", Type::string, false}, {"required", Type::boolean, false}, {"needed_by", Type::string, false},
             {"severity", Type::string, true}, {"message", Type::string, true}, {"evidence", Type::string, true},
             {"fix", Type::string, true}, {"source", Type::string, true}});
    LinkExpectation l;
    l.id = id(e);
    l.eras = eras(e);
    l.name = e.str("name");
    l.location = e.choice("location", kLocations, LinkExpectation::Location::system);
    l.backend_dirs = e.strs("backend_dirs");
    if ((l.location == LinkExpectation::Location::backend_dir) != !l.backend_dirs.empty())
      fail(e.where(), "[[link]] '" + l.id + "': 'backend_dirs' is required with location = \"backend_dir\" and not allowed otherwise");
    l.expect = e.choice("expect", kExpects, LinkExpectation::Expect::shim);
    l.shim = e.str("shim");
    if ((l.expect == LinkExpectation::Expect::shim) != !l.shim.empty())
      fail(e.where(), "[[link]] '" + l.id + "': 'shim' is required with expect = \"shim\" and not allowed otherwise");
    l.required = e.boolean("required", true);
    l.needed_by = e.str("needed_by");
    l.severity = e.choice("severity", kSeverities, Severity::error);
    l.message = e.str("message"), l.evidence = e.str("evidence"), l.fix = e.str("fix");
    for (const char* key : {"message", "evidence", "fix"}) check_template(e, key, with_facts(kLinkVars));
    l.source = source(e);
    l.where = e.where();
    rules_.links.push_back(std::move(l));
  }

  // env_rule and install_fact share their shape; only the table name differs.
  template <class Rule>
  Rule finding(const toml::table& t, const char* what) {
    Entry e(file_, t, what,
            {{"id", Type::string, true}, {"severity", Type::string, true}, {"eras", Type::strings, true},
             {"when", Type::conditions, true}, {"message", Type::string, true}, {"evidence", Type::string, true},
             {"fix", Type::string, true}, {"source", Type::string, true}});
    Rule r;
    r.id = id(e);
    r.severity = e.choice("severity", kSeverities, Severity::warning);
    r.eras = eras(e);
    std::vector<std::string> available = kFacts;
    r.when = read_when(file_, e, available);
    r.message = e.str("message"), r.evidence = e.str("evidence"), r.fix = e.str("fix");
    for (const char* key : {"message", "evidence", "fix"}) check_template(e, key, available);
    r.source = source(e);
    r.where = e.where();
    return r;
  }
  void env_rule(const toml::table& t) { rules_.env_rules.push_back(finding<EnvRule>(t, "[[env_rule]]")); }
  void install_fact(const toml::table& t) { rules_.install_facts.push_back(finding<InstallFact>(t, "[[install_fact]]")); }

  void driver_floor(const toml::table& t) {
    Entry e(file_, t, "[[driver_floor]]",
            {{"id", Type::string, true}, {"eras", Type::strings, true}, {"backend_dirs", Type::strings, true},
             {"min_cuda_driver_api", Type::integer, false}, {"min_nvml_driver", Type::integer, false},
             {"only_nvidia_runtime", Type::boolean, false}, {"cudart_minor_at_least", Type::integer, false},
             {"cc_below", Type::string, false}, {"min_ollama_version", Type::string, false},
             {"severity", Type::string, true}, {"message", Type::string, true}, {"evidence", Type::string, true},
             {"fix", Type::string, true}, {"source", Type::string, true}});
    DriverFloor f;
    f.id = id(e);
    f.eras = eras(e);
    f.backend_dirs = e.strs("backend_dirs");
    if (f.backend_dirs.empty()) fail(e.at("backend_dirs"), "'backend_dirs' in [[driver_floor]] '" + f.id + "' is empty");
    auto integer = [&](const char* key, long dflt) {
      const toml::node* n = e.node(key);
      if (!n) return dflt;
      int64_t v = n->as_integer()->get();
      if (v < 0 || v > 1000000) fail(e.at(key), "'" + std::string(key) + "' in [[driver_floor]] '" + f.id + "' is out of range");
      return static_cast<long>(v);
    };
    f.min_cuda_driver_api = integer("min_cuda_driver_api", 0);
    f.min_nvml_driver = integer("min_nvml_driver", 0);
    if (!f.min_cuda_driver_api == !f.min_nvml_driver)
      fail(e.where(), "[[driver_floor]] '" + f.id + "' needs exactly one of min_cuda_driver_api and min_nvml_driver");
    f.only_nvidia_runtime = e.boolean("only_nvidia_runtime", false);
    f.cudart_minor_at_least = integer("cudart_minor_at_least", -1);
    f.cc_below = e.str("cc_below");
    if (!f.cc_below.empty() && !parse_version(f.cc_below))
      fail(e.at("cc_below"), "'cc_below' in [[driver_floor]] '" + f.id + "' must be a compute capability like \"7.0\"");
    f.min_ollama_version = e.str("min_ollama_version");
    if (!f.min_ollama_version.empty() && !parse_version(f.min_ollama_version))
      fail(e.at("min_ollama_version"), "'min_ollama_version' in [[driver_floor]] '" + f.id + "' is not a version");
    f.severity = e.choice("severity", kSeverities, Severity::error);
    f.message = e.str("message"), f.evidence = e.str("evidence"), f.fix = e.str("fix");
    for (const char* key : {"message", "evidence", "fix"}) check_template(e, key, with_facts(kDriverVars));
    f.source = source(e);
    f.where = e.where();
    rules_.driver_floors.push_back(std::move(f));
  }

  void log_line(const toml::table& t) {
    Entry e(file_, t, "[[log_line]]",
            {{"id", Type::string, true}, {"eras", Type::strings, true}, {"match", Type::string, true},
             {"pattern", Type::string, true}, {"captures", Type::strings, false}, {"severity", Type::string, true},
             {"meaning", Type::string, true}, {"causes", Type::strings, true}, {"fix", Type::string, true},
             {"source", Type::string, true}});
    LogLine l;
    l.id = id(e);
    l.eras = eras(e);
    l.match = e.choice("match", kMatches, LogLine::Match::substring);
    l.pattern = e.str("pattern");
    if (l.pattern.empty()) fail(e.at("pattern"), "'pattern' in [[log_line]] '" + l.id + "' must not be empty");
    l.captures = e.strs("captures");
    if (l.match == LogLine::Match::regex) l.required = required_literal(l.pattern);
    if (l.match == LogLine::Match::regex && !options_.compile_log_patterns) {
      l.deferred = std::make_shared<LogLine::Deferred>();
    } else if (l.match == LogLine::Match::regex) {
      l.re = compile(e, "pattern").re;
      if (l.captures.size() != l.re->mark_count())
        fail(e.has("captures") ? e.at("captures") : e.at("pattern"),
             "[[log_line]] '" + l.id + "' names " + std::to_string(l.captures.size()) + " captures but its regex has " +
                 std::to_string(l.re->mark_count()) + " groups");
    } else if (!l.captures.empty()) {
      fail(e.at("captures"), "'captures' in [[log_line]] '" + l.id + "' needs match = \"regex\"");
    }
    for (const std::string& c : l.captures)
      if (!is_identifier(c))
        fail(e.at("captures"), "capture name '" + c + "' in [[log_line]] '" + l.id + "' must be [a-z_][a-z0-9_]*");
    l.severity = e.choice("severity", kSeverities, Severity::info);
    l.meaning = e.str("meaning"), l.causes = e.strs("causes"), l.fix = e.str("fix");
    std::vector<std::string> available = l.captures;
    available.push_back("line");
    available = with_facts(available);
    for (const char* key : {"meaning", "causes", "fix"}) check_template(e, key, available);
    l.source = source(e);
    l.where = e.where();
    rules_.log_lines.push_back(std::move(l));
  }

  RuleSet& rules_;
  std::string file_;
  const RuleLoadOptions& options_;
  std::map<std::string, SourceLoc> ids_;                    // every id, one namespace for all tables
  std::vector<std::pair<std::string, SourceLoc>> era_refs_;  // eras named by rules, checked at the end
};

template <class T>
const T* find_id(const std::vector<T>& v, const std::string& id) {
  for (const T& x : v)
    if (x.id == id) return &x;
  return nullptr;
}

}  // namespace

std::string SourceLoc::str() const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

bool applies_to(const EraSet& eras, const std::string& era) {
  return std::find(eras.begin(), eras.end(), era) != eras.end();
}

const std::vector<std::string>& rule_facts() { return kFacts; }
const std::vector<std::string>& rule_list_facts() { return kListFacts; }

std::string required_literal(const std::string& pattern) {
  std::string best, run;
  int depth = 0;
  bool last_literal = false;  // the previous atom was a character appended to `run`
  auto end_run = [&] {
    if (run.size() > best.size()) best = run;
    run.clear();
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      if (++i >= pattern.size()) return "";
      c = pattern[i];
      if (std::isalnum(static_cast<unsigned char>(c))) {  // \d, \s, \b, \n, \1 ...: not a plain character
        if (depth == 0) end_run();
        last_literal = false;
        continue;
      }
    } else if (c == '[') {  // a class: one character of a set
      size_t j = i + 1;
      if (j < pattern.size() && pattern[j] == '^') ++j;
      if (j < pattern.size() && pattern[j] == ']') ++j;
      while (j < pattern.size() && pattern[j] != ']') j += pattern[j] == '\\' ? 2 : 1;
      if (j >= pattern.size()) return "";
      i = j;
      if (depth == 0) end_run();
      last_literal = false;
      continue;
    } else if (c == '(' || c == ')') {
      if (depth == 0) end_run();
      depth += c == '(' ? 1 : -1;
      if (depth < 0) return "";
      last_literal = false;
      continue;
    } else if (c == '|') {
      if (depth == 0) return "";  // either side may match: nothing is certain
      continue;
    } else if (c == '*' || c == '?' || c == '{') {  // the atom before may be absent
      if (depth == 0 && last_literal && !run.empty()) run.pop_back();
      if (depth == 0) end_run();
      if (c == '{') {
        size_t close = pattern.find('}', i);
        if (close == std::string::npos) return "";
        i = close;
      }
      last_literal = false;
      continue;
    } else if (c == '+' || c == '.' || c == '^' || c == '$') {  // (+: the atom before stays, at least once)
      if (depth == 0) end_run();
      last_literal = false;
      continue;
    }
    if (depth == 0) run += c;
    last_literal = depth == 0;
  }
  if (depth != 0) return "";
  end_run();
  return best.size() >= 4 ? best : "";
}

bool LogLine::matches(const std::string& line, std::map<std::string, std::string>* vars) const {
  if (match == Match::substring) {
    if (line.find(pattern) == std::string::npos) return false;
    if (vars) (*vars)["line"] = line;
    return true;
  }
  if (!required.empty() && line.find(required) == std::string::npos) return false;  // cheaper than std::regex
  const Regex* r = re ? &*re : nullptr;
  if (!r && deferred) {
    std::call_once(deferred->once, [&] {
      try {
        deferred->re.emplace(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error&) {
        // left empty: a bad pattern matches nothing (a loader that compiles reports it with file and line)
      }
    });
    if (deferred->re) r = &*deferred->re;
  }
  if (!r) return false;
  std::smatch m;
  if (!std::regex_search(line, m, *r)) return false;
  if (vars) {
    (*vars)["line"] = line;
    for (size_t i = 0; i < captures.size(); ++i) (*vars)[captures[i]] = m[i + 1].str();
  }
  return true;
}

const Era* RuleSet::find_era(const std::string& id) const { return find_id(eras, id); }

std::optional<std::vector<long>> parse_version(const std::string& v) {
  std::vector<long> parts;
  size_t i = v.rfind('v', 0) == 0 ? 1 : 0;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) {
    long n = 0;
    while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && n < 1000000) n = n * 10 + (v[i++] - '0');
    parts.push_back(n);
    if (i < v.size() && v[i] == '.') ++i;
    else break;
  }
  if (parts.empty()) return std::nullopt;
  while (parts.size() < 3) parts.push_back(0);  // "0.30" is "0.30.0"
  return parts;
}

const Era* RuleSet::era_for_version(const std::string& version) const {
  auto v = parse_version(version);
  if (!v) return nullptr;
  const Era* best = nullptr;
  std::vector<long> best_first;
  for (const Era& e : eras) {
    std::vector<long> first;
    if (!e.first_version.empty()) {
      auto f = parse_version(e.first_version);
      if (!f) continue;
      first = *f;
    }
    if (first <= *v && (!best || best_first < first)) best = &e, best_first = first;
  }
  return best;
}
const EnvRule* RuleSet::find_env_rule(const std::string& id) const { return find_id(env_rules, id); }
const LogLine* RuleSet::find_log_line(const std::string& id) const { return find_id(log_lines, id); }
const LinkExpectation* RuleSet::find_link(const std::string& id) const { return find_id(links, id); }
const InstallFact* RuleSet::find_install_fact(const std::string& id) const { return find_id(install_facts, id); }

std::vector<const LogLine*> RuleSet::match_log_line(const std::string& line, const std::string& era) const {
  std::vector<const LogLine*> out;
  for (const LogLine& l : log_lines)
    if ((era.empty() || applies_to(l.eras, era)) && l.matches(line)) out.push_back(&l);
  return out;
}

Result<RuleSet> load_rules(const std::string& dir, const RuleLoadOptions& options) {
  std::error_code ec;
  std::vector<std::string> paths;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".toml") paths.push_back(it->path().string());
  if (ec) return Error{"cannot read rules directory " + dir + ": " + ec.message()};
  if (paths.empty()) return Error{"no *.toml rule files in " + dir};
  std::sort(paths.begin(), paths.end());
  RuleSet rules;
  try {
    Loader loader(rules, options);
    for (const std::string& p : paths) loader.file(p);
    loader.check_eras();
  } catch (const RuleError& e) {
    return Error{e.message};
  }
  return rules;
}

Result<std::vector<std::string>> placeholders(const std::string& tmpl) {
  std::vector<std::string> out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
      ++i;
      continue;
    }
    if (c == '}') return Error{"stray '}' at offset " + std::to_string(i) + " (write '}}' for a brace)"};
    if (c != '{') continue;
    size_t end = tmpl.find('}', i);
    if (end == std::string::npos) return Error{"unclosed '{' at offset " + std::to_string(i) + " (write '{{' for a brace)"};
    std::string name = tmpl.substr(i + 1, end - i - 1);
    if (!is_identifier(name))
      return Error{"bad placeholder name '{" + name + "}' (names are [a-z_][a-z0-9_]*)"};
    out.push_back(name);
    i = end;
  }
  return out;
}

std::string expand(const std::string& tmpl, const std::map<std::string, std::string>& vars) {
  std::string out;
  for (size_t i = 0; i < tmpl.size(); ++i) {
    char c = tmpl[i];
    if ((c == '{' || c == '}') && i + 1 < tmpl.size() && tmpl[i + 1] == c) {
      out += c, ++i;
      continue;
    }
    size_t end = c == '{' ? tmpl.find('}', i) : std::string::npos;
    if (end == std::string::npos) {
      out += c;
      continue;
    }
    auto it = vars.find(tmpl.substr(i + 1, end - i - 1));
    out += it != vars.end() ? it->second : tmpl.substr(i, end - i + 1);
    i = end;
  }
  return out;
}

}  // namespace vgpu
