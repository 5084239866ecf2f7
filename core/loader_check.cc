#include "loader_check.h"

#include <sys/wait.h>

#include <sstream>

#include "child.h"

namespace vgpu {

std::map<std::string, std::string> parse_ld_so_list(const std::string& output, const std::string& cwd) {
  std::map<std::string, std::string> m;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    line.erase(0, line.find_first_not_of(" \t"));
    auto arrow = line.find(" => ");
    if (arrow == std::string::npos) {
      // elf/rtld.c prints "name (0x...)" when the object's path is the name itself: opened relative
      // to the current directory (an empty or relative search-path entry), or an absolute name.
      std::string name = line.substr(0, line.find(" ("));
      if (name.empty() || line.find(" (0x") == std::string::npos) continue;
      m[name] = name[0] == '/' ? name : cwd + "/" + name;
      continue;
    }
    std::string name = line.substr(0, arrow), rest = line.substr(arrow + 4);
    m[name] = rest.rfind("not found", 0) == 0 ? "not found" : rest.substr(0, rest.find(" ("));
  }
  return m;
}

Result<PendingLdSoList> PendingLdSoList::start(const std::string& ld_so, const std::string& object,
                                               const std::vector<std::string>& env, const std::string& cwd) {
  // Trace mode as ldd runs it: unlike `ld.so --list`, it goes on past a missing dependency and lists it
  // as "not found" (elf/rtld.c, LD_TRACE_LOADED_OBJECTS).
  ChildOptions o;
  o.inherit_env = false;
  o.env = env;
  o.env.push_back("LD_TRACE_LOADED_OBJECTS=1");
  o.cwd = cwd;
  o.merge_stderr = true;
  auto child = Child::start({ld_so, object}, o);
  if (!child) return child.error();
  return PendingLdSoList(std::move(child.value()), cwd);
}

Result<RealResolution> PendingLdSoList::result() {
  auto run = child_.finish();
  if (!run) return run.error();
  RealResolution r;
  r.output = std::move(run->output);
  r.exit_status = WIFEXITED(run->status) ? WEXITSTATUS(run->status) : 128 + WTERMSIG(run->status);
  r.paths = parse_ld_so_list(r.output, cwd_);
  return r;
}

Result<RealResolution> ld_so_list(const std::string& ld_so, const std::string& object,
                                  const std::vector<std::string>& env, const std::string& cwd) {
  auto pending = PendingLdSoList::start(ld_so, object, env, cwd);
  if (!pending) return pending.error();
  return pending->result();
}

}  // namespace vgpu
