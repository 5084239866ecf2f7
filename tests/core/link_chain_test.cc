// core/link_chain: every hop of a library name's symbolic links, and how the chain ends.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "link_chain.h"

using namespace vgpu;
namespace fs = std::filesystem;

TEST_CASE("link_chain: files, relative and absolute hops, dangling links, loops, directories") {
  fs::path d = fs::path(VGPU_TEST_TMP) / "link_chain";
  fs::remove_all(d);
  fs::create_directories(d / "lib64");
  std::ofstream(d / "lib64/libvgpu-cudart.so.12") << "x";
  fs::create_symlink("lib64/libvgpu-cudart.so.12", d / "libcudart.so.12.8.90");  // relative to the link's dir
  fs::create_directories(d / "cuda_v12");
  fs::create_symlink((d / "libcudart.so.12.8.90").string(), d / "cuda_v12/libcudart.so.12");
  auto c = follow_links((d / "cuda_v12/libcudart.so.12").string());
  CHECK(c.end == LinkEnd::file);
  REQUIRE(c.hops.size() == 2);
  CHECK(fs::equivalent(c.final_path, d / "lib64/libvgpu-cudart.so.12"));
  CHECK(describe(c).find(" -> ") != std::string::npos);

  fs::create_symlink("libcuda.so.1.580", d / "libcuda.so.1");  // to nothing
  c = follow_links((d / "libcuda.so.1").string());
  CHECK(c.end == LinkEnd::missing);
  CHECK(c.hops.size() == 1);
  CHECK(describe(c).find("(missing: dangling link)") != std::string::npos);

  fs::create_symlink("loop-b", d / "loop-a");
  fs::create_symlink("loop-a", d / "loop-b");
  c = follow_links((d / "loop-a").string());
  CHECK(c.end == LinkEnd::loop);
  CHECK(describe(c).find("(loop)") != std::string::npos);

  fs::create_symlink("lib64", d / "dirlink");
  CHECK(follow_links((d / "dirlink").string()).end == LinkEnd::not_file);
  c = follow_links((d / "absent").string());
  CHECK(c.end == LinkEnd::missing);
  CHECK(c.hops.empty());
}
