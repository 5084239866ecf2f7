// vgpu-doctor check [--ollama-dir DIR] [--shim-dir DIR] [--env-file FILE] [--pid PID]
//                   [--format text|json|markdown] [-o FILE] [-v]
#pragma once

#include <CLI/CLI.hpp>

#include "install.h"

namespace vgpu::doctor {

void setup_check(CLI::App& app, CheckOptions& o);
int run_check(const CheckOptions& o, const char* argv0);

}  // namespace vgpu::doctor
