// Helpers the core tests share.
#pragma once

#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <string>

namespace vgpu::test {

// stdout of a shell command: the tests' own fixture commands (ldconfig, ld.so), never user input.
inline std::string run_command(const std::string& cmd) {
  struct PipeCloser {
    void operator()(FILE* f) const { pclose(f); }
  };
  std::unique_ptr<FILE, PipeCloser> p(popen(cmd.c_str(), "r"));
  REQUIRE(p);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p.get())) > 0) out.append(buf, n);
  return out;
}

}  // namespace vgpu::test
