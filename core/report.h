// One result object, several renderings (STYLE.md §7): what a vgpu tool found, as findings with a
// severity, what they concern, the evidence and a fix a person can paste; plus facts (environment,
// versions, a dependency tree) that only verbose text and the bug-ticket formats show.
//   text:     grouped by severity, errors first; colour only when asked (a tty without NO_COLOR);
//   json:     {"tool", "version", "findings": [{"id","severity","subject","message","evidence","fix"}],
//              "facts": {section: {key: value}}, "tree": [...]}  (schema: docs/report-schema.md)
//   markdown: a summary table, the findings, facts and the tree in a collapsible section.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace vgpu {

enum class Severity { error, warning, info };
const char* severity_name(Severity s);

struct Finding {
  std::string id;        // stable identifier from rules/ ("env.ollama_num_gpu")
  Severity severity = Severity::info;
  std::string subject;   // what it is about: a file, a variable, a directory
  std::string message;   // one sentence
  std::vector<std::string> evidence;  // each fact with where it came from
  std::string fix;       // one line a person can paste; empty when there is nothing to do
};

struct TreeNode {
  std::string label;     // "libcudart.so.12 => /usr/lib64/libvgpu-cudart.so.12 [RUNPATH of ...]"
  std::vector<TreeNode> children;
};

struct Report {
  std::string tool;      // "vgpu-doctor check"
  std::string version;
  std::vector<Finding> findings;
  std::map<std::string, std::map<std::string, std::string>> facts;  // section -> key -> value
  std::vector<TreeNode> tree;

  size_t count(Severity s) const;
  // The exit code every tool uses: 0 healthy, 1 at least one error-severity finding.
  int exit_code() const { return count(Severity::error) ? 1 : 0; }
};

struct TextOptions {
  bool color = false;
  bool verbose = false;  // also info findings, facts and the tree
};

std::string render_text(const Report& r, const TextOptions& options);
std::string render_json(const Report& r);
std::string render_markdown(const Report& r);

// Markdown: text for a table cell or a line (a '|' escaped, a newline made a space); and text as an inline
// code span, fenced by a longer run of backticks than any inside it (nothing for an empty text).
std::string markdown_cell(const std::string& s);
std::string markdown_code(const std::string& s);

// Whether stdout should get colour: a terminal, and NO_COLOR unset (https://no-color.org).
bool want_color(int fd);

}  // namespace vgpu
