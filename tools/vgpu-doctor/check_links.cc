// Links: every name rules/links.toml expects, where it expects it, reaches what it should.

#include <filesystem>

#include "checks.h"
#include "link_chain.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;
namespace {

bool is_shim_file(const std::string& path) { return fs::path(path).filename().string().rfind("libvgpu-", 0) == 0; }

void judge(const Install& in, const LinkExpectation& l, const std::string& path, const std::string& dir,
           const std::string& how, Report& r) {
  LinkChain chain = follow_links(path);
  std::map<std::string, std::string> vars = eval_context(in).facts;
  vars["name"] = fs::path(path).filename().string();
  vars["path"] = path;
  vars["dir"] = dir;
  vars["shim"] = l.shim;
  vars["target"] = chain.end == LinkEnd::file ? chain.final_path : describe(chain);
  std::string problem;
  if (chain.end != LinkEnd::file) {
    problem = describe(chain);
  } else if (l.expect == LinkExpectation::Expect::shim) {
    std::error_code ec;
    if (!fs::equivalent(chain.final_path, fs::path(in.shim_dir) / l.shim, ec))
      problem = is_shim_file(chain.final_path) ? "reaches another vgpu file" : "reaches a file that is not vgpu's shim";
  } else if (l.expect == LinkExpectation::Expect::nvidia && is_shim_file(chain.final_path)) {
    problem = "reaches a vgpu shim where NVIDIA's library is expected";
  } else if (l.expect == LinkExpectation::Expect::absent) {
    problem = "exists";
  }
  if (problem.empty()) {
    r.facts["links"][path] = describe(chain) + (how.empty() ? "" : " [" + how + "]");
    return;
  }
  Finding f{l.id, l.severity, path, expand(l.message, vars), {expand(l.evidence, vars), describe(chain) + ": " + problem},
            expand(l.fix, vars)};
  if (!how.empty()) f.evidence.push_back("found through " + how);
  r.findings.push_back(std::move(f));
}

void missing(const Install& in, const LinkExpectation& l, const std::string& where, const std::string& dir,
             std::vector<std::string> tried, Report& r) {
  if (!l.required || l.expect == LinkExpectation::Expect::absent) return;
  std::map<std::string, std::string> vars = eval_context(in).facts;
  vars["name"] = l.name;
  vars["path"] = where;
  vars["dir"] = dir;
  vars["shim"] = l.shim;
  vars["target"] = "(missing)";
  Finding f{l.id, l.severity, where, expand(l.message, vars), {where + ": no such file"}, expand(l.fix, vars)};
  for (auto& t : tried) f.evidence.push_back("tried " + t);
  r.findings.push_back(std::move(f));
}

}  // namespace

void check_links(const Install& in, Report& r) {
  for (const LinkExpectation& l : in.rules.links) {
    if (!in.era.empty() && !applies_to(l.eras, in.era)) continue;
    switch (l.location) {
      case LinkExpectation::Location::backend_dir:
        for (const std::string& dir : in.backend_dirs) {
          if (!l.backend_dirs.empty() &&
              std::find(l.backend_dirs.begin(), l.backend_dirs.end(), dir) == l.backend_dirs.end())
            continue;
          std::string d = in.lib_ollama + "/" + dir;
          auto files = glob_files(d + "/" + l.name);
          if (files.empty() && l.name.find_first_of("*?[") == std::string::npos) missing(in, l, d + "/" + l.name, d, {}, r);
          for (const std::string& f : files) judge(in, l, f, d, "", r);
        }
        break;
      case LinkExpectation::Location::lib_ollama: {
        auto files = glob_files(in.lib_ollama + "/" + l.name);
        if (files.empty() && l.name.find_first_of("*?[") == std::string::npos)
          missing(in, l, in.lib_ollama + "/" + l.name, in.lib_ollama, {}, r);
        for (const std::string& f : files) judge(in, l, f, in.lib_ollama, "", r);
        break;
      }
      case LinkExpectation::Location::system: {
        // Found the way a runner finds it: its LD_LIBRARY_PATH (the era's), ld.so.cache, default dirs.
        std::string dir = in.backend_dirs.empty() ? "" : in.backend_dirs.front();
        auto env = runner_environment(in, dir);
        auto loader = make_loader(env.count("LD_LIBRARY_PATH") ? env["LD_LIBRARY_PATH"] : "");
        if (!loader) {
          r.findings.push_back({"doctor.loader", Severity::warning, l.name, "cannot model the loader: " + loader.error().message, {}, ""});
          break;
        }
        Resolution res = loader->load(l.name, nullptr);
        if (!res.found) {
          std::vector<std::string> tried;
          for (const SearchStep& t : res.tried) tried.push_back(t.candidate + " [" + t.source + "]: " + t.outcome);
          missing(in, l, l.name, "", tried, r);
        } else {
          judge(in, l, res.path, fs::path(res.path).parent_path().string(), res.how, r);
        }
        break;
      }
    }
  }
}

}  // namespace vgpu::doctor
