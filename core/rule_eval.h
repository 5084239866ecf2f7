// Evaluating the conditions of rules/ (rules/FORMAT.md, "Conditions") against a service's environment,
// the filesystem and the host, and turning the [[env_rule]] and [[install_fact]] tables into findings.
// The loader (rules.h) has already checked every kind, field and placeholder; this file decides only
// whether a condition holds and what it binds.
//
// Semantics FORMAT.md leaves to the evaluator (each chosen to match what ld.so or systemd would do):
//   - A `when` holds when every condition holds. Each condition yields the bindings it holds with (none:
//     it does not hold); conditions that range over entries (env_entry_*) yield one per entry, and the
//     rule's bindings are the combinations of all conditions', in order, the first condition binding a
//     name supplying it. A rule fires once per combination; `when = []` fires once.
//   - Entries are the value split on `separators`, empty pieces dropped (ld.so skips them in LD_PRELOAD;
//     in LD_LIBRARY_PATH an empty piece means the working directory, which is not modelled), and each
//     distinct entry judged once. Entries that are not absolute paths (a bare LD_PRELOAD name, which ld.so
//     looks up like a DT_NEEDED name; a relative directory) are not judged.
//   - An entry, or a file in one, "exists" when its symlink chain ends at something: a dangling link does
//     not (open(2) fails on it, so ld.so moves on).
//   - env_entry_has_file: the files considered are the distinct names matching `names` in any entry;
//     for each name, the first entry where it opens as a regular file is the one ld.so takes. A finding
//     for each name whose first holder's provider is the rule's. Ordered by entry, then name.
//   - "Resolves to a shim": the file's link chain ends at a regular file, and the file itself, a hop or
//     the end is named as some [[link]]'s `shim` (EvalContext::shims). `target` is the realpath.
//   - file_is_shim, file_contains: the first glob match (glob(3) sorts) that qualifies.
//   - env_value_not_in: a list fact the context lacks counts as the empty list.
//   - env_not_matches on an unset variable binds value "" and origin "not set".
//   - command_missing: the service's PATH, or systemd's fixed default when the unit sets none; a command
//     is found where a regular file (links followed) with an execute bit exists.
//   - pci_vendor_present: the shims' scan (shims/common/pci.cc): <sysfs_root>/bus/pci/devices/<bus id>/
//     vendor, names that are not bus ids skipped; the lowest bus id with the vendor is `pci_slot`.
//   - EvalContext::root prefixes every absolute path looked at (file_* paths, env entries, PATH dirs) but
//     not sysfs_root, and symlinks inside it are followed as the kernel does (an absolute target leaves
//     the root). Bound paths are shown without the prefix, as on the system examined.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "report.h"
#include "rules.h"
#include "service_env.h"

namespace vgpu {

struct EvalContext {
  const ServiceEnv* env = nullptr;                             // the service's environment; null: empty
  std::map<std::string, std::string> facts;                    // lib_ollama, ollama_exe, era, shim_dir ...
  std::map<std::string, std::vector<std::string>> list_facts;  // backend_dirs
  std::vector<std::string> shims;  // file names [[link]]s name as `shim` (shim_names); run_rules fills it if empty
  std::string sysfs_root = "/sys";
  std::string root;                // prefix for absolute paths; "" for the running system
};

// One condition's or one rule's placeholder values: "var", "value", "origin", "entry", "path" ...
using Bindings = std::map<std::string, std::string>;

// The `shim` names of every [[link]] with expect = "shim", sorted, without duplicates.
std::vector<std::string> shim_names(const RuleSet& rules);

// The placeholder values the facts supply: the facts, and each list fact joined with ", ".
Bindings fact_values(const EvalContext& ctx);

// What one condition holds with: empty when it does not hold; one entry per match for env_entry_*.
std::vector<Bindings> evaluate(const Condition& condition, const EvalContext& ctx);
// What `when` holds with: empty when it does not; one Bindings (empty for `when = []`) per finding.
std::vector<Bindings> evaluate(const When& when, const EvalContext& ctx);

// Runs every [[env_rule]], then every [[install_fact]], that applies to `era` (all of them if `era` is
// empty), in load order. Each firing is a finding: the rule's id and severity, its message, evidence
// and fix expanded with the facts and the bindings, and as subject the variable, path, command or PCI
// slot the conditions bound (the first of those present).
std::vector<Finding> run_rules(const RuleSet& rules, const EvalContext& ctx, const std::string& era);

}  // namespace vgpu
