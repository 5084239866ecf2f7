// vgpu-doctor probe [--ollama-dir DIR] [--shim-dir DIR] [--env-file FILE]: for each backend directory,
// a child process loads the install's own ggml registry the way that era's runner does (libggml-base.so
// and libggml.so from lib/ollama, ggml_backend_load_all_from_path over lib/ollama and the backend dir,
// in the runner's environment), and the devices it yields are printed; a directory that yields no GPU
// gets the reason: the child's own words matched against rules/log_lines.toml.
#pragma once

#include <CLI/CLI.hpp>

#include "install.h"

namespace vgpu::doctor {

void setup_probe(CLI::App& app, CheckOptions& o);
int run_probe(const CheckOptions& o, const char* argv0);

}  // namespace vgpu::doctor
