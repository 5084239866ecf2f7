// vgpu-doctor fix [--dry-run] [--ollama-dir DIR] [--shim-dir DIR] [--dropin-dir DIR]: makes every NVIDIA
// name rules/links.toml wants answered by a shim point at it (in each backend directory, and for the
// system names in the shim directory), then writes the systemd drop-in that puts the shim directory on
// the service's LD_LIBRARY_PATH. Idempotent. A real file it replaces is renamed to NAME.vgpu-orig, never
// deleted. --dry-run prints the exact commands instead.
#pragma once

#include <CLI/CLI.hpp>

#include "install.h"

namespace vgpu::doctor {

struct FixOptions {
  CheckOptions check;
  std::string dropin_dir = "/etc/systemd/system/ollama.service.d";
  bool dry_run = false;
};

void setup_fix(CLI::App& app, FixOptions& o);
int run_fix(const FixOptions& o, const char* argv0);

}  // namespace vgpu::doctor
