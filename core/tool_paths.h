// Where a vgpu tool finds what it ships with: its own directory (the programs beside it, the rules in
// ../share/vgpu/rules), and where its report goes.
#pragma once

#include <cstdio>
#include <string>

#include "result.h"

namespace vgpu {

// The directory of the running program (/proc/self/exe, else argv0 made absolute).
std::string executable_dir(const char* argv0);

// The program execvp would run for `name` (one without a slash): the first executable regular file of
// that name in a directory of $PATH (an empty entry is the current directory), or of `unset_path` when
// PATH is unset (glibc's own default is "/bin:/usr/bin"). "" when there is none, or `name` has a slash.
std::string find_on_path(const std::string& name, const std::string& unset_path = "/bin:/usr/bin");

// The rules directory a tool uses: `requested` (--rules-dir), which must be a directory when given;
// else the installed copy beside the tool (<executable_dir>/../share/vgpu/rules), else `source_dir`
// (the tree it was built from); "" when neither is a directory.
Result<std::string> find_rules_dir(const std::string& requested, const std::string& tool_dir, const std::string& source_dir);

// Writes a report to `path`, or to `fallback` (stdout, stderr) when `path` is empty. False if it
// could not be written.
bool write_report(const std::string& text, const std::string& path, std::FILE* fallback);

}  // namespace vgpu
