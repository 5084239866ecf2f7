// vgpu-doctor: checks an Ollama + vgpu installation and explains every failure with a fix.
//   check   what is wrong with this installation, and how to fix it (cmd_check.cc)
//   probe   what the install's own ggml finds, backend directory by directory (cmd_probe.cc)
//   fix     link NVIDIA's names to the shims and write the systemd drop-in (cmd_fix.cc)
// Exit: 0 no error-severity finding, 1 at least one, 2 usage error, 3 the doctor itself failed.
#include <CLI/CLI.hpp>

#include "cmd_check.h"
#include "cmd_fix.h"
#include "cmd_probe.h"

int main(int argc, char** argv) {
  CLI::App app{"vgpu-doctor: checks an Ollama installation that uses vgpu's virtual GPU, and explains every "
               "failure with a fix.\n\nExit status: 0 healthy, 1 problems found, 2 usage error, 3 the doctor failed."};
  app.require_subcommand(1);
  vgpu::doctor::CheckOptions check, probe;
  vgpu::doctor::setup_check(app, check);
  vgpu::doctor::setup_probe(app, probe);
  vgpu::doctor::FixOptions fix;
  vgpu::doctor::setup_fix(app, fix);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  if (app.got_subcommand("fix")) return vgpu::doctor::run_fix(fix, argv[0]);
  if (app.got_subcommand("probe")) return vgpu::doctor::run_probe(probe, argv[0]);
  return vgpu::doctor::run_check(check, argv[0]);
}
