#include "cmd_fix.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "link_chain.h"

namespace vgpu::doctor {
namespace fs = std::filesystem;
namespace {

std::string q(const std::string& s) {  // shell quoting for the printed commands
  if (s.find_first_of(" '\"$`\\*?[]()&;|<>") == std::string::npos) return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

struct Fixer {
  bool dry_run;
  int failures = 0, changes = 0;

  void say(const std::string& cmd) { std::printf("%s%s\n", dry_run ? "" : "+ ", cmd.c_str()); }
  void fail(const std::string& what) {
    std::fprintf(stderr, "vgpu-doctor fix: %s: %s\n", what.c_str(), std::strerror(errno));
    ++failures;
  }

  // Makes `link` a symbolic link to `target`, keeping a real file that was there as LINK.vgpu-orig.
  void link_to(const std::string& link, const std::string& target) {
    LinkChain chain = follow_links(link);
    std::error_code ec;
    if (chain.end == LinkEnd::file && fs::equivalent(chain.final_path, target, ec)) return;  // already right
    ++changes;
    std::error_code sec;
    auto st = fs::symlink_status(link, sec);
    if (!sec && fs::is_regular_file(st)) {
      std::string backup = link + ".vgpu-orig";
      for (int i = 1; fs::exists(backup, ec); ++i) backup = link + ".vgpu-orig." + std::to_string(i);
      say("mv " + q(link) + " " + q(backup));
      if (!dry_run && ::rename(link.c_str(), backup.c_str()) != 0) return fail("mv " + link);
    }
    say("ln -sfn " + q(target) + " " + q(link));
    if (dry_run) return;
    std::string tmp = link + ".vgpu-new";
    ::unlink(tmp.c_str());
    if (::symlink(target.c_str(), tmp.c_str()) != 0) return fail("ln -s " + target + " " + tmp);
    if (::rename(tmp.c_str(), link.c_str()) != 0) {  // atomic: the old name never disappears
      ::unlink(tmp.c_str());
      return fail("ln -sfn " + target + " " + link);
    }
  }

  void write_file(const std::string& path, const std::string& text) {
    std::ifstream in(path);
    std::stringstream cur;
    cur << in.rdbuf();
    if (in && cur.str() == text) return;
    ++changes;
    say("mkdir -p " + q(fs::path(path).parent_path().string()));
    say("cat > " + q(path) + " <<'EOF'\n" + text + "EOF");
    if (dry_run) return;
    std::error_code ec;
    fs::create_directories(fs::path(path).parent_path(), ec);
    std::ofstream out(path, std::ios::trunc);
    out << text;
    if (!out) fail("write " + path);
  }
};

}  // namespace

void setup_fix(CLI::App& app, FixOptions& o) {
  CLI::App* c = app.add_subcommand("fix", "Link NVIDIA's names to vgpu's shims in every backend directory and write the "
                                          "systemd drop-in; idempotent, keeps replaced files as *.vgpu-orig");
  c->add_flag("--dry-run", o.dry_run, "print the exact commands instead of running them");
  c->add_option("--ollama-dir", o.check.ollama_dir, "Ollama's library directory (default: as for check)");
  c->add_option("--shim-dir", o.check.shim_dir, "where vgpu's shims are (default: as for check)");
  c->add_option("--dropin-dir", o.dropin_dir, "where to write vgpu.conf")->capture_default_str();
  c->add_option("--rules-dir", o.check.rules_dir, "rules to use (default: the installed share/vgpu/rules)")->check(CLI::ExistingDirectory);
}

int run_fix(const FixOptions& o, const char* argv0) {
  CheckOptions co = o.check;
  co.env_file.clear();
  auto in = discover_install(co, argv0);
  if (!in) {
    std::fprintf(stderr, "vgpu-doctor: %s\n", in.error().message.c_str());
    return 3;
  }
  if (!fs::exists(fs::path(in->shim_dir) / "libvgpu-cuda.so")) {
    std::fprintf(stderr, "vgpu-doctor: no vgpu shims in %s (use --shim-dir)\n", in->shim_dir.c_str());
    return 3;
  }
  Fixer fx{o.dry_run};
  for (const LinkExpectation& l : in->rules.links) {
    if (l.expect != LinkExpectation::Expect::shim || (!in->era.empty() && !applies_to(l.eras, in->era))) continue;
    std::string shim = in->shim_dir + "/" + l.shim;
    if (l.location == LinkExpectation::Location::system) {
      // The system names live beside the shims; the drop-in puts that directory on the search path.
      fx.link_to(in->shim_dir + "/" + l.name, shim);
      continue;
    }
    std::vector<std::string> dirs;
    if (l.location == LinkExpectation::Location::lib_ollama) dirs.push_back(in->lib_ollama);
    else
      for (const std::string& d : in->backend_dirs)
        if (l.backend_dirs.empty() || std::find(l.backend_dirs.begin(), l.backend_dirs.end(), d) != l.backend_dirs.end())
          dirs.push_back(in->lib_ollama + "/" + d);
    for (const std::string& d : dirs) {
      if (l.name.find_first_of("*?[") == std::string::npos) fx.link_to(d + "/" + l.name, shim);
      else
        for (const std::string& f : glob_files(d + "/" + l.name))
          if (f.find(".vgpu-orig") == std::string::npos) fx.link_to(f, shim);
    }
  }
  fx.write_file(o.dropin_dir + "/vgpu.conf",
                "# Written by vgpu-doctor fix: vgpu's shim directory first on the Ollama service's library path,\n"
                "# so its runners find vgpu's libcuda.so.1 and libnvidia-ml.so.1.\n"
                "[Service]\nEnvironment=\"LD_LIBRARY_PATH=" + in->shim_dir + "\"\n");
  if (fx.changes == 0) std::printf("nothing to do: every link already reaches vgpu's shims, and the drop-in is current\n");
  else if (!o.dry_run && o.dropin_dir.rfind("/etc/systemd/", 0) == 0)
    std::printf("then: sudo systemctl daemon-reload && sudo systemctl restart ollama\n");
  return fx.failures ? 3 : 0;
}

}  // namespace vgpu::doctor
