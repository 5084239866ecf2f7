// What vgpu's tools know about Ollama, ggml and the shims, read at run time from rules/*.toml
// (STYLE.md §5: tables, not code). The schema is rules/FORMAT.md; this loader enforces it: unknown keys,
// wrong types, missing keys, unknown condition kinds, eras, severities and placeholders, bad regexes and
// duplicate ids are errors that name FILE:LINE:COLUMN. Adding a rule never needs a recompile; adding a
// condition kind or a fact does (the closed sets below are the contract with vgpu-doctor's evaluator).
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <variant>
#include <vector>

#include "report.h"
#include "result.h"

namespace vgpu {

// Where a rule, a key or a value was written: "rules/environment.toml:12:5".
struct SourceLoc {
  std::string file;
  unsigned line = 0, column = 0;
  std::string str() const;
};

// Severity (error, warning, info) is the report's own (report.h): a rule's severity becomes its finding's.

// Era ids as rules write them ("A", "B", "C"); each must be defined by an [[era]] table.
using EraSet = std::vector<std::string>;
bool applies_to(const EraSet& eras, const std::string& era);

// std::regex_traits<char> with collation spelled out for the "C" locale, where it is byte order (strxfrm
// copies): the library's own traits send each of a bracket expression's 256 characters through the
// locale's collate facet when the pattern is compiled, which was 70% of compiling the shipped log-line
// patterns (0.52 -> 0.15 ms). Traits imbued with any other locale take the library's way. Not for the
// `collate` flag together with `icase`: libstdc++ matches such ranges through a specialisation for
// std::regex_traits itself, which these traits do not get ([a-z] would not match "A"); the rules compile
// with ECMAScript alone.
struct RegexTraits : std::regex_traits<char> {
  template <class It>
  string_type transform(It first, It last) const {
    if (getloc() != std::locale::classic()) return std::regex_traits<char>::transform(first, last);
    return string_type(first, last);
  }
  template <class It>
  string_type transform_primary(It first, It last) const {
    if (getloc() != std::locale::classic()) return std::regex_traits<char>::transform_primary(first, last);
    string_type s(first, last);
    for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    return s;
  }
};
// The rules' regular expressions: ECMAScript grammar, as std::regex.
using Regex = std::basic_regex<char, RegexTraits>;

// A regular expression as written, compiled once at load.
struct Pattern {
  std::string text;
  Regex re;
};

// ---- conditions: the closed set the doctor evaluates (rules/FORMAT.md, "Condition kinds") ----
// Environment conditions look at the environment the service gets (core/service_env.h).
struct EnvSet { std::string var; };
struct EnvUnset { std::string var; };
struct EnvEquals { std::string var, value; };
struct EnvMatches { std::string var; Pattern regex; };
struct EnvNotMatches { std::string var; Pattern regex; };                 // also holds when unset
struct EnvValueNotIn { std::string var, fact; };                         // fact: a list fact
struct EnvEntryMissing { std::string var, separators; };                 // one finding per entry
struct EnvEntryNotElf64 { std::string var, separators; };
enum class Provider { shim, other, any };
struct EnvEntryHasFile { std::string var, separators; std::vector<std::string> names; Provider provider; };
// File conditions: `path` is expanded with the facts, then matched as a glob(3) pattern.
struct FileExists { std::string path; };
struct FileMissing { std::string path; };
struct FileIsShim { std::string path; };
struct FileContains { std::string path, text; };
// Host conditions.
struct CommandMissing { std::string command; };                          // on the service's PATH
struct PciVendorPresent { std::string vendor; };                         // "0x10de"

using ConditionKind = std::variant<EnvSet, EnvUnset, EnvEquals, EnvMatches, EnvNotMatches, EnvValueNotIn,
                                   EnvEntryMissing, EnvEntryNotElf64, EnvEntryHasFile, FileExists,
                                   FileMissing, FileIsShim, FileContains, CommandMissing, PciVendorPresent>;
struct Condition {
  ConditionKind kind;
  SourceLoc where;
};
// A rule fires when every condition of its `when` list holds (an empty list always holds).
using When = std::vector<Condition>;

// ---- the tables ----
struct RunnerEnv {  // one step of how an era builds a runner's environment, applied in order
  enum class Action { prepend, append, replace, set, inherit };
  enum class Phase { all, discovery, verify, model };
  std::string var;
  Action action = Action::inherit;
  Phase phase = Phase::all;
  std::vector<std::string> entries;  // templates, joined with ':'
  std::string note;
};

// "0.12.4" -> {0, 12, 4}; "v0.30.0-rc2" -> {0, 30, 0}; at least three parts; nullopt without a number.
std::optional<std::vector<long>> parse_version(const std::string& v);

struct Era {
  std::string id, name;
  // The first release of the era; empty for the first era. An installed version belongs to the era
  // with the greatest first_version not above it (eras follow one another, no gaps).
  std::string first_version;
  std::string discovery;                    // who discovers GPUs, and how
  std::vector<RunnerEnv> runner_env;
  std::string source;
  SourceLoc where;
};

struct EraDetect {  // tried in load order; the first whose `when` holds gives the candidate eras
  std::string id;
  EraSet eras;
  When when;
  std::string evidence, source;
  SourceLoc where;
};

struct LinkExpectation {
  enum class Location { backend_dir, lib_ollama, system };
  enum class Expect { shim, nvidia, ollama, absent };
  std::string id;
  EraSet eras;
  std::string name;                        // glob(3) pattern of the file name, usually literal
  Location location = Location::system;
  std::vector<std::string> backend_dirs;   // location = backend_dir only
  Expect expect = Expect::shim;
  std::string shim;                        // expect = shim only: the vgpu file it must resolve to
  bool required = true;                    // a missing file is a finding
  std::string needed_by;
  Severity severity = Severity::error;
  std::string message, evidence, fix, source;
  SourceLoc where;
};

// A rule that becomes a finding when all its conditions hold: [[env_rule]] and [[install_fact]] share
// this shape and differ only in what they are about (the service environment; what Ollama's install
// script and unit do to this machine).
struct ConditionRule {
  std::string id;
  Severity severity = Severity::warning;
  EraSet eras;
  When when;
  std::string message, evidence, fix, source;
  SourceLoc where;
};
struct EnvRule : ConditionRule {};

struct LogLine {
  enum class Match { substring, regex };
  std::string id;
  EraSet eras;
  Match match = Match::substring;
  std::string pattern;
  std::optional<Regex> re;             // match = regex, compiled at load
  // Loaded without compiling (RuleLoadOptions): compiled once, on the first match, shared by copies.
  struct Deferred {
    std::once_flag once;
    std::optional<Regex> re;
  };
  std::shared_ptr<Deferred> deferred;
  // match = regex: text every match contains (required_literal), looked for before the regex is run
  // (or compiled); empty when none is certain.
  std::string required;
  std::vector<std::string> captures;   // names of the regex's groups, in order
  Severity severity = Severity::info;
  std::string meaning;
  std::vector<std::string> causes;
  std::string fix, source;
  SourceLoc where;
  // True if `line` (one log line, no newline) matches; fills `vars` with "line" and the captures.
  bool matches(const std::string& line, std::map<std::string, std::string>* vars = nullptr) const;
};

struct InstallFact : ConditionRule {};

// What a backend dir's runtime needs of the driver: cudart's own floor on the driver API version
// (cuDriverGetVersion), and Ollama's floors on the NVIDIA driver branch (nvmlSystemGetDriverVersion).
// Judged on the answers of the libraries the runner really loads (vgpu-smi in a child).
struct DriverFloor {
  std::string id;
  EraSet eras;
  std::vector<std::string> backend_dirs;   // the dirs it applies to: ["cuda_v12"]
  long min_cuda_driver_api = 0;            // 0: none; 13000 = 13.0
  long min_nvml_driver = 0;                // 0: none; the branch (major), 550
  bool only_nvidia_runtime = false;        // applies only when the runtime loaded is NVIDIA's, not vgpu's
  long cudart_minor_at_least = -1;         // -1: always; else only when the bundled libcudart.so.N.<m> has m >= this
  std::string cc_below;                    // "": always; else only for a device of compute capability below "7.0"
  std::string min_ollama_version;          // "": the whole era; else from this release (applies when unknown too)
  Severity severity = Severity::error;
  std::string message, evidence, fix, source;
  SourceLoc where;
};

struct RuleSet {
  std::vector<std::string> files;  // what was loaded, in order
  std::vector<Era> eras;
  std::vector<EraDetect> era_detects;
  std::vector<LinkExpectation> links;
  std::vector<EnvRule> env_rules;
  std::vector<LogLine> log_lines;
  std::vector<InstallFact> install_facts;
  std::vector<DriverFloor> driver_floors;

  const Era* find_era(const std::string& id) const;
  // The era an installed Ollama version belongs to: the one with the greatest first_version not above
  // it ("0.12.4", "0.30.0-rc2": numeric dot-separated parts, a suffix ignored). Null for an unparsable one.
  const Era* era_for_version(const std::string& version) const;
  const EnvRule* find_env_rule(const std::string& id) const;
  const LogLine* find_log_line(const std::string& id) const;
  const LinkExpectation* find_link(const std::string& id) const;
  const InstallFact* find_install_fact(const std::string& id) const;
  // The log lines that match `line` and apply to `era` (every era if `era` is empty), in load order.
  std::vector<const LogLine*> match_log_line(const std::string& line, const std::string& era = "") const;
};

// The schema version this build reads (`schema = N` at the top of every rule file).
inline constexpr int kRulesSchema = 1;

// The facts the doctor supplies: always available as placeholders, and the names `env_value_not_in`
// may use as lists (rules/FORMAT.md, "Facts").
const std::vector<std::string>& rule_facts();
const std::vector<std::string>& rule_list_facts();

// Reads every *.toml in `dir`, in name order. The first problem found is the error.
struct RuleLoadOptions {
  // Compile [[log_line]] regexes at load, checking each and its capture count (default). A tool that
  // never matches log lines (vgpu-doctor) turns it off: every other key is still checked, and a regex is
  // compiled on its first match instead (LogLine::matches), where a bad one matches nothing.
  bool compile_log_patterns = true;
  // Read only the files that declare [[log_line]] or [[era]] tables (the eras they name): a tool that
  // only explains log lines (vgpu-trace) skips parsing the rest, which are then not checked either.
  bool log_lines_only = false;
};
Result<RuleSet> load_rules(const std::string& dir, const RuleLoadOptions& options = {});

// The longest run of plain characters (4 or more) that every match of an ECMAScript `pattern` contains:
// read at the pattern's top level only (a group may be optional, a character before ?, * or {n,m} is),
// and none at all when the top level has an alternation. "" when no such run is certain.
std::string required_literal(const std::string& pattern);

// Replaces each {name} in `tmpl` with vars[name]; "{{" and "}}" are literal braces. A name absent from
// `vars` is left as written: the loader has already rejected templates naming placeholders their rule
// does not have.
std::string expand(const std::string& tmpl, const std::map<std::string, std::string>& vars);
// The placeholder names `tmpl` uses, in order; an error for a stray or unclosed brace or a bad name.
Result<std::vector<std::string>> placeholders(const std::string& tmpl);

}  // namespace vgpu
