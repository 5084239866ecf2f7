// core/loader_check: reading ld.so's own trace of a real library.
#include <catch2/catch.hpp>

#include "loader_check.h"

using namespace vgpu;

TEST_CASE("loader_check: parse every line shape ld.so --list prints") {
  auto m = parse_ld_so_list(
      "\tlinux-vdso.so.1 (0x00007ffd)\n"
      "\tlibbeta.so (0x00007f65ecf45000)\n"
      "\tlibcudart.so.12 => /usr/lib64/libvgpu-cudart.so.12 (0x00007f65ecd58000)\n"
      "\tlibcuda.so.1 => not found\n"
      "\t/lib64/ld-linux-x86-64.so.2 (0x00007f65ecf59000)\n",
      "/work");
  CHECK(m["libbeta.so"] == "/work/libbeta.so");
  CHECK(m["libcudart.so.12"] == "/usr/lib64/libvgpu-cudart.so.12");
  CHECK(m["libcuda.so.1"] == "not found");
  CHECK(m["/lib64/ld-linux-x86-64.so.2"] == "/lib64/ld-linux-x86-64.so.2");
}

TEST_CASE("loader_check: the real loader on a real library") {
  auto r = ld_so_list("/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libm.so.6", {}, "/");
  REQUIRE(r.ok());
  CHECK(r->exit_status == 0);
  REQUIRE(r->paths.count("libc.so.6"));
  CHECK(r->paths["libc.so.6"].find("libc.so.6") != std::string::npos);
  CHECK_FALSE(ld_so_list("/nonexistent/ld.so", "/x", {}, "/").ok());
}
