#include "cmd_check.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include "checks.h"
#include "tool_paths.h"

namespace vgpu::doctor {

void setup_check(CLI::App& app, CheckOptions& o) {
  CLI::App* c = app.add_subcommand("check", "Check the installation: links, library resolution exactly as ld.so does "
                                            "it, versioned symbols, environment, the stub PCI device");
  c->add_option("--ollama-dir", o.ollama_dir, "Ollama's library directory (default: <ollama on PATH>/../lib/ollama, "
                                               "/usr/local/lib/ollama, /usr/lib/ollama)");
  c->add_option("--shim-dir", o.shim_dir, "where vgpu's shims are (default: /usr/lib64, then beside vgpu-doctor)");
  c->add_option("--env-file", o.env_file, "the service environment: a systemd drop-in or KEY=VALUE lines "
                                           "(default: /etc/systemd/system/ollama.service and its .d/*.conf)");
  c->add_option("--pid", o.pid, "take the environment of this running process (/proc/PID/environ)");
  c->add_option("--rules-dir", o.rules_dir, "rules to use (default: the installed share/vgpu/rules)")->check(CLI::ExistingDirectory);
  c->add_option("--sysfs-root", o.sysfs_root, "where to look for the stub (default: the service's VGPU_SYSFS_ROOT, else /sys)");
  c->add_option("--format", o.format, "report format")->check(CLI::IsMember({"text", "json", "markdown"}));
  c->add_option("-o,--output", o.output, "write the report to FILE instead of stdout");
  c->add_flag("-v,--verbose", o.verbose, "also notes, facts and the dependency tree (text format)");
}

int run_check(const CheckOptions& o, const char* argv0) {
  prefetch_loader_facts();  // the loader's facts come in while the rules load and the install is found
  auto in = discover_install(o, argv0);
  if (!in) {
    std::fprintf(stderr, "vgpu-doctor: %s\n", in.error().message.c_str());
    return 3;
  }
  Report r;
  r.tool = "vgpu-doctor check";
  r.version = VGPU_VERSION;
  r.facts["install"]["lib_ollama"] = in->lib_ollama + "  [" + in->lib_ollama_origin + "]";
  r.facts["install"]["shim_dir"] = in->shim_dir + "  [" + in->shim_dir_origin + "]";
  r.facts["install"]["environment"] = in->env_origin;
  r.facts["install"]["rules"] = in->rules_dir;
  r.facts["install"]["ollama"] = in->ollama_exe.empty() ? "no ollama on PATH" : in->ollama_exe;
  r.facts["install"]["ollama_version"] =
      in->ollama_version.empty() ? "unknown" + (in->ollama_version_note.empty() ? "" : "  [" + in->ollama_version_note + "]")
                                 : in->ollama_version + "  [" + in->ollama_version_note + "]";
  r.facts["install"]["era"] = in->era.empty() ? "unknown" : in->era + "  [" + in->era_evidence + "]";
  if (!in->era_on_disk.empty())
    r.findings.push_back({"install.era_mismatch", Severity::warning, in->lib_ollama,
                          "the ollama binary is " + in->ollama_version + " (era " + in->era + ") but " + in->lib_ollama +
                              " has the layout of era " + in->era_on_disk + ": binary and libraries from different releases",
                          {in->era_evidence},
                          "unpack one Ollama release (bin/ollama and lib/ollama together), then: vgpu-doctor fix"});
  std::string dirs;
  for (const auto& d : in->backend_dirs) dirs += (dirs.empty() ? "" : ", ") + d;
  r.facts["install"]["backend_dirs"] = dirs.empty() ? "(none)" : dirs;
  std::error_code ec;
  std::filesystem::path smi = std::filesystem::path(executable_dir(argv0)) / "vgpu-smi";
  ShimsCheck shims = ShimsCheck::start(*in, std::filesystem::exists(smi, ec) ? smi.string() : "");
  check_links(*in, r);
  check_libraries(*in, r);
  check_env(*in, r);
  check_stub(*in, r);
  shims.finish(*in, r);

  std::string text = o.format == "json"       ? render_json(r)
                     : o.format == "markdown" ? render_markdown(r)
                                              : render_text(r, {o.output.empty() && want_color(1), o.verbose});
  if (!write_report(text, o.output, stdout)) {
    std::fprintf(stderr, "vgpu-doctor: cannot write %s\n", o.output.empty() ? "the report" : o.output.c_str());
    return 3;
  }
  return r.exit_code();
}

}  // namespace vgpu::doctor
