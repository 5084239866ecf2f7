#include "report.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <sstream>

namespace vgpu {
namespace {

constexpr Severity kOrder[] = {Severity::error, Severity::warning, Severity::info};

const char* color_of(Severity s) {
  switch (s) {
    case Severity::error: return "\033[1;31m";
    case Severity::warning: return "\033[1;33m";
    case Severity::info: return "\033[36m";
  }
  return "";
}

void tree_text(std::ostringstream& out, const TreeNode& n, const std::string& indent) {
  out << indent << n.label << "\n";
  for (const TreeNode& c : n.children) tree_text(out, c, indent + "  ");
}

nlohmann::json tree_json(const TreeNode& n) {
  nlohmann::json j = {{"label", n.label}, {"children", nlohmann::json::array()}};
  for (const TreeNode& c : n.children) j["children"].push_back(tree_json(c));
  return j;
}

const auto md = markdown_cell;

}  // namespace

std::string markdown_cell(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '|') out += "\\|";
    else if (c == '\n') out += ' ';
    else out += c;
  }
  return out;
}

std::string markdown_code(const std::string& s) {
  if (s.empty()) return "";  // `` would show as two backticks
  size_t run = 0, longest = 0;
  for (char c : s) run = c == '`' ? run + 1 : 0, longest = std::max(longest, run);
  std::string fence(longest + 1, '`');
  return fence + (longest ? " " : "") + s + (longest ? " " : "") + fence;
}

const char* severity_name(Severity s) {
  switch (s) {
    case Severity::error: return "error";
    case Severity::warning: return "warning";
    case Severity::info: return "info";
  }
  return "?";
}

size_t Report::count(Severity s) const {
  size_t n = 0;
  for (const Finding& f : findings) n += f.severity == s;
  return n;
}

bool want_color(int fd) {
  const char* no = std::getenv("NO_COLOR");
  return ::isatty(fd) && !(no && *no);
}

std::string render_text(const Report& r, const TextOptions& o) {
  std::ostringstream out;
  const char* reset = o.color ? "\033[0m" : "";
  for (Severity s : kOrder) {
    if (s == Severity::info && !o.verbose) continue;
    for (const Finding& f : r.findings) {
      if (f.severity != s) continue;
      out << (o.color ? color_of(s) : "") << severity_name(s) << reset << ": " << f.message;
      if (!f.subject.empty()) out << " [" << f.subject << "]";
      out << "  (" << f.id << ")\n";
      for (const std::string& e : f.evidence) out << "    " << e << "\n";
      if (!f.fix.empty()) out << "  fix: " << f.fix << "\n";
    }
  }
  if (o.verbose) {
    for (const auto& [section, kv] : r.facts) {
      out << "\n" << section << ":\n";
      for (const auto& [k, v] : kv) out << "  " << k << " = " << v << "\n";
    }
    if (!r.tree.empty()) {
      out << "\ndependencies:\n";
      for (const TreeNode& n : r.tree) tree_text(out, n, "  ");
    }
  }
  size_t e = r.count(Severity::error), w = r.count(Severity::warning), i = r.count(Severity::info);
  out << (r.findings.empty() || (!e && !w && !o.verbose) ? "" : "\n") << r.tool << ": " << e << " error(s), " << w
      << " warning(s), " << i << " note(s)" << (e ? "" : (w ? "" : ": healthy")) << "\n";
  return out.str();
}

std::string render_json(const Report& r) {
  nlohmann::json j;
  j["tool"] = r.tool;
  j["version"] = r.version;
  j["findings"] = nlohmann::json::array();
  for (const Finding& f : r.findings)
    j["findings"].push_back({{"id", f.id},
                             {"severity", severity_name(f.severity)},
                             {"subject", f.subject},
                             {"message", f.message},
                             {"evidence", f.evidence},
                             {"fix", f.fix}});
  j["facts"] = nlohmann::json::object();
  for (const auto& [section, kv] : r.facts) j["facts"][section] = kv;
  j["tree"] = nlohmann::json::array();
  for (const TreeNode& n : r.tree) j["tree"].push_back(tree_json(n));
  j["summary"] = {{"errors", r.count(Severity::error)},
                  {"warnings", r.count(Severity::warning)},
                  {"info", r.count(Severity::info)}};
  return j.dump(2) + "\n";
}

std::string render_markdown(const Report& r) {
  std::ostringstream out;
  out << "### " << r.tool << " " << r.version << "\n\n";
  out << "| errors | warnings | notes |\n|---|---|---|\n| " << r.count(Severity::error) << " | "
      << r.count(Severity::warning) << " | " << r.count(Severity::info) << " |\n\n";
  if (!r.findings.empty()) {
    out << "| severity | finding | subject | fix |\n|---|---|---|---|\n";
    for (Severity s : kOrder)
      for (const Finding& f : r.findings)
        if (f.severity == s)
          out << "| " << severity_name(s) << " | " << md(f.message) << " | " << md(f.subject) << " | "
              << (f.fix.empty() ? "" : "`" + md(f.fix) + "`") << " |\n";
    out << "\n";
    for (const Finding& f : r.findings) {
      if (f.evidence.empty()) continue;
      out << "<details><summary>" << md(f.id) << ": evidence</summary>\n\n";
      for (const std::string& e : f.evidence) out << "- " << md(e) << "\n";
      out << "\n</details>\n\n";
    }
  }
  for (const auto& [section, kv] : r.facts) {
    out << "<details><summary>" << md(section) << "</summary>\n\n| key | value |\n|---|---|\n";
    for (const auto& [k, v] : kv) out << "| " << md(k) << " | `" << md(v) << "` |\n";
    out << "\n</details>\n\n";
  }
  if (!r.tree.empty()) {
    std::ostringstream t;
    for (const TreeNode& n : r.tree) tree_text(t, n, "");
    out << "<details><summary>dependency tree</summary>\n\n```\n" << t.str() << "```\n\n</details>\n";
  }
  return out.str();
}

}  // namespace vgpu
