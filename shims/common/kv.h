// The small TOML subset that vgpu's configuration file and device profiles are written in:
//   # comment
//   [section]
//   key = 123 | 0x1f | -4 | "string" | [1, 2, 3]
// Keys are bare words or bare integers. That is all: no nesting, floats or multi-line values. Every
// profile and config is therefore also valid TOML that other tools (toml++ in vgpu-doctor) can read.
// The shims parse it themselves because they may link nothing but libc.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace vgpu::kv {

struct Value {
  enum class Kind { integer, string, array };
  Kind kind = Kind::integer;
  long long integer = 0;
  std::string string;
  std::vector<long long> array;
  int line = 0;
};

struct Document {
  // "section.key" -> value; keys before any [section] have an empty section ("key").
  std::map<std::string, Value, std::less<>> entries;
  // Keys in file order, for tools that need it and for "unknown key" diagnostics.
  std::vector<std::string> order;

  const Value* find(std::string_view section, std::string_view key) const;
  bool get_int(std::string_view section, std::string_view key, long long& out) const;
  bool get_string(std::string_view section, std::string_view key, std::string& out) const;
};

// Parses `text`; on error returns false and sets `error` to "<origin>:<line>: <what>".
bool parse(std::string_view text, std::string_view origin, Document& out, std::string& error);

// Reads and parses a whole file; error text says whether it could not be read or parsed.
bool parse_file(const char* path, Document& out, std::string& error);

}  // namespace vgpu::kv
