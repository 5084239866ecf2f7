#include "link_chain.h"

#include <glob.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

namespace vgpu {
namespace {

constexpr int kMaxHops = 40;  // Linux MAXSYMLINKS (include/linux/namei.h)

std::string dir_of(const std::string& p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? "." : (s == 0 ? "/" : p.substr(0, s));
}

}  // namespace

LinkChain follow_links(const std::string& path) {
  LinkChain c;
  c.start = path;
  std::string cur = path;
  for (int hop = 0;; ++hop) {
    struct stat st {};
    if (::lstat(cur.c_str(), &st) != 0) {
      c.final_path = cur;
      c.end = LinkEnd::missing;
      return c;
    }
    if (!S_ISLNK(st.st_mode)) {
      c.final_path = cur;
      c.end = S_ISREG(st.st_mode) ? LinkEnd::file : LinkEnd::not_file;
      return c;
    }
    if (hop == kMaxHops) {
      c.final_path = cur;
      c.end = LinkEnd::loop;
      return c;
    }
    char buf[PATH_MAX];
    ssize_t n = ::readlink(cur.c_str(), buf, sizeof buf - 1);
    if (n < 0) {
      c.final_path = cur;
      c.end = LinkEnd::missing;
      return c;
    }
    std::string target(buf, static_cast<size_t>(n));
    // A relative target is relative to the directory holding the link, not to the current directory.
    if (target.empty() || target[0] != '/') target = dir_of(cur) + "/" + target;
    if (std::find(c.hops.begin(), c.hops.end(), target) != c.hops.end() || target == c.start) {
      c.hops.push_back(target);
      c.final_path = target;
      c.end = LinkEnd::loop;
      return c;
    }
    c.hops.push_back(target);
    cur = target;
  }
}

std::string describe(const LinkChain& c) {
  std::string s = c.start;
  for (const std::string& h : c.hops) s += " -> " + h;
  switch (c.end) {
    case LinkEnd::missing: s += c.hops.empty() ? " (missing)" : " (missing: dangling link)"; break;
    case LinkEnd::loop: s += " (loop)"; break;
    case LinkEnd::not_file: s += " (not a regular file)"; break;
    case LinkEnd::file: break;
  }
  return s;
}

std::vector<std::string> glob_files(const std::string& pattern) {
  std::vector<std::string> out;
  glob_t g{};
  if (::glob(pattern.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.push_back(g.gl_pathv[i]);
  ::globfree(&g);
  return out;
}

}  // namespace vgpu
