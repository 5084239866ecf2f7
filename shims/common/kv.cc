#include "kv.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace vgpu::kv {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool parse_integer(std::string_view s, long long& out) {
  s = trim(s);
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return false;
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s.remove_prefix(2);
  }
  unsigned long long v = 0;
  bool any = false;
  for (char c : s) {
    if (c == '_') continue;  // TOML allows 1_000
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    unsigned long long next = v * static_cast<unsigned>(base) + static_cast<unsigned>(d);
    if (next / static_cast<unsigned>(base) != v && v != 0) return false;  // overflow
    v = next;
    any = true;
  }
  if (!any || v > static_cast<unsigned long long>(INT64_MAX)) return false;
  out = neg ? -static_cast<long long>(v) : static_cast<long long>(v);
  return true;
}

// Returns the value part with a trailing "# comment" removed, honouring quotes.
std::string_view strip_comment(std::string_view s) {
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '"' && (i == 0 || s[i - 1] != '\\')) quoted = !quoted;
    else if (s[i] == '#' && !quoted) return s.substr(0, i);
  }
  return s;
}

bool parse_string(std::string_view s, std::string& out) {
  if (s.size() < 2 || s.front() != '"' || s.back() != '"') return false;
  s = s.substr(1, s.size() - 2);
  out.clear();
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') return false;
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i == s.size()) return false;
    switch (s[i]) {
      case '"': out += '"'; break;
      case '\\': out += '\\'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      default: return false;
    }
  }
  return true;
}

}  // namespace

const Value* Document::find(std::string_view section, std::string_view key) const {
  std::string full;
  full.reserve(section.size() + key.size() + 1);
  if (!section.empty()) {
    full.append(section);
    full += '.';
  }
  full.append(key);
  auto it = entries.find(full);
  return it == entries.end() ? nullptr : &it->second;
}

bool Document::get_int(std::string_view section, std::string_view key, long long& out) const {
  const Value* v = find(section, key);
  if (!v || v->kind != Value::Kind::integer) return false;
  out = v->integer;
  return true;
}

bool Document::get_string(std::string_view section, std::string_view key, std::string& out) const {
  const Value* v = find(section, key);
  if (!v || v->kind != Value::Kind::string) return false;
  out = v->string;
  return true;
}

bool parse(std::string_view text, std::string_view origin, Document& out, std::string& error) {
  std::string section;
  int line_no = 0;
  auto fail = [&](const char* what) {
    error.assign(origin);
    error += ':';
    error += std::to_string(line_no);
    error += ": ";
    error += what;
    return false;
  };
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_no;
    line = trim(strip_comment(line));
    if (line.empty()) continue;
    if (line.front() == '[') {
      if (line.back() != ']') return fail("section header without closing ']'");
      std::string_view name = trim(line.substr(1, line.size() - 2));
      if (name.empty()) return fail("empty section name");
      for (char c : name)
        if (!is_key_char(c)) return fail("section name may hold only letters, digits, '_' and '-'");
      section.assign(name);
      continue;
    }
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) return fail("expected 'key = value'");
    std::string_view key = trim(line.substr(0, eq));
    std::string_view raw = trim(line.substr(eq + 1));
    if (key.empty()) return fail("empty key");
    for (char c : key)
      if (!is_key_char(c)) return fail("key may hold only letters, digits, '_' and '-'");
    if (raw.empty()) return fail("missing value");
    Value v;
    v.line = line_no;
    if (raw.front() == '"') {
      v.kind = Value::Kind::string;
      if (!parse_string(raw, v.string)) return fail("malformed string (use \"...\" with \\\" \\\\ \\n \\t escapes)");
    } else if (raw.front() == '[') {
      v.kind = Value::Kind::array;
      if (raw.back() != ']') return fail("array without closing ']'");
      std::string_view items = trim(raw.substr(1, raw.size() - 2));
      while (!items.empty()) {
        size_t comma = items.find(',');
        long long x;
        if (!parse_integer(items.substr(0, comma), x)) return fail("arrays may hold only integers");
        v.array.push_back(x);
        if (comma == std::string_view::npos) break;
        items = trim(items.substr(comma + 1));
      }
    } else {
      v.kind = Value::Kind::integer;
      if (!parse_integer(raw, v.integer)) return fail("value is not an integer, a \"string\" or an [array]");
    }
    std::string full = section.empty() ? std::string(key) : section + "." + std::string(key);
    if (out.entries.count(full)) return fail("duplicate key");
    out.order.push_back(full);
    out.entries.emplace(std::move(full), std::move(v));
  }
  return true;
}

bool parse_file(const char* path, Document& out, std::string& error) {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    error = std::string(path) + ": " + std::strerror(errno);
    return false;
  }
  std::string text;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = std::string(path) + ": " + std::strerror(errno);
      ::close(fd);
      return false;
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return parse(text, path, out, error);
}

}  // namespace vgpu::kv
