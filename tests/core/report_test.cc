// core/report: one Report, three renderings.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "report.h"

using namespace vgpu;

namespace {

Report sample() {
  Report r;
  r.tool = "vgpu-doctor check";
  r.version = "0.1.0";
  r.findings.push_back({"env.ollama_num_gpu", Severity::warning, "OLLAMA_NUM_GPU",
                        "OLLAMA_NUM_GPU has no effect in any Ollama version",
                        {"OLLAMA_NUM_GPU=1 [Environment= in /etc/systemd/system/ollama.service.d/vgpu.conf]"},
                        "systemctl edit ollama  # remove OLLAMA_NUM_GPU"});
  r.findings.push_back({"symbols.hidden", Severity::error, "/usr/lib/ollama/cuda_v12/libcudart.so.12",
                        "__cudaRegisterFatBinary@libcudart.so.12 is not exported | it is local",
                        {"readelf: __cudaRegisterFatBinary LOCAL"}, "vgpu-doctor fix"});
  r.findings.push_back({"stub.present", Severity::info, "0000:00:05.0", "stub PCI device found", {}, ""});
  r.facts["environment"]["LD_LIBRARY_PATH"] = "/usr/lib64";
  r.tree.push_back({"libggml-cuda.so", {{"libcudart.so.12 => /usr/lib64/libvgpu-cudart.so.12 [RUNPATH]", {}}}});
  return r;
}

}  // namespace

TEST_CASE("report: text groups by severity, errors first, with fix lines; info only when verbose") {
  Report r = sample();
  std::string t = render_text(r, {});
  CHECK(t.find("error: __cudaRegisterFatBinary") < t.find("warning: OLLAMA_NUM_GPU"));
  CHECK(t.find("  fix: vgpu-doctor fix\n") != std::string::npos);
  CHECK(t.find("stub PCI device found") == std::string::npos);
  CHECK(t.find("\033[") == std::string::npos);  // no colour unless asked
  CHECK(t.find("1 error(s), 1 warning(s), 1 note(s)") != std::string::npos);
  std::string v = render_text(r, {true, true});
  CHECK(v.find("stub PCI device found") != std::string::npos);
  CHECK(v.find("\033[1;31merror") != std::string::npos);
  CHECK(v.find("LD_LIBRARY_PATH = /usr/lib64") != std::string::npos);
  CHECK(v.find("    libcudart.so.12 => ") != std::string::npos);
  CHECK(r.exit_code() == 1);
  Report healthy;
  healthy.tool = "t";
  CHECK(render_text(healthy, {}) == "t: 0 error(s), 0 warning(s), 0 note(s): healthy\n");
  CHECK(healthy.exit_code() == 0);
}

TEST_CASE("report: JSON carries every field, in the documented shape") {
  auto j = nlohmann::json::parse(render_json(sample()));
  REQUIRE(j["findings"].size() == 3);
  CHECK(j["findings"][1]["id"] == "symbols.hidden");
  CHECK(j["findings"][1]["severity"] == "error");
  CHECK(j["findings"][0]["evidence"][0].get<std::string>().find("vgpu.conf") != std::string::npos);
  CHECK(j["facts"]["environment"]["LD_LIBRARY_PATH"] == "/usr/lib64");
  CHECK(j["tree"][0]["children"][0]["label"].get<std::string>().rfind("libcudart.so.12", 0) == 0);
  CHECK(j["summary"]["errors"] == 1);
}

TEST_CASE("report: Markdown has a summary table and escapes what would break it") {
  std::string m = render_markdown(sample());
  CHECK(m.find("| 1 | 1 | 1 |") != std::string::npos);
  CHECK(m.find("is not exported \\| it is local") != std::string::npos);
  CHECK(m.find("<summary>dependency tree</summary>") != std::string::npos);
}

TEST_CASE("markdown_cell and markdown_code: a '|' cannot end a cell, a backtick cannot end a code span") {
  CHECK(markdown_cell("a|b\nc") == "a\\|b c");
  CHECK(markdown_code("/usr/lib/libx.so") == "`/usr/lib/libx.so`");
  CHECK(markdown_code("say `hi`") == "`` say `hi` ``");
  CHECK(markdown_code("a``b") == "``` a``b ```");
}
