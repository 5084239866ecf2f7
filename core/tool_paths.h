// Where a vgpu tool finds what it ships with: its own directory (the programs beside it, the rules in
// ../share/vgpu/rules), and where its report goes.
#pragma once

#include <cstdio>
#include <string>

#include "result.h"

namespace vgpu {

// The directory of the running program (/proc/self/exe, else argv0 made absolute).
std::string executable_dir(const char* argv0);

// The rules directory a tool uses: `requested` (--rules-dir), which must be a directory when given;
// else the installed copy beside the tool (<executable_dir>/../share/vgpu/rules), else `source_dir`
// (the tree it was built from); "" when neither is a directory.
Result<std::string> find_rules_dir(const std::string& requested, const std::string& tool_dir, const std::string& source_dir);

// Writes a report to `path`, or to `fallback` (stdout, stderr) when `path` is empty. False if it
// could not be written.
bool write_report(const std::string& text, const std::string& path, std::FILE* fallback);

}  // namespace vgpu
