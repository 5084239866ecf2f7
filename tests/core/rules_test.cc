// core/rules: the real rules/ load and say what the research says; broken rule files are rejected with
// FILE:LINE:COLUMN and the exact reason (rules/FORMAT.md).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "rules.h"

using namespace vgpu;
namespace fs = std::filesystem;

namespace {

// A minimal valid file defining the eras the broken files name.
const char* kEras = R"(schema = 1
[[era]]
id = "A"
name = "a"
discovery = "d"
source = "s"
[[era]]
id = "B"
name = "b"
first_version = "0.12.4"
discovery = "d"
source = "s"
)";

// Writes `files` (name -> text) into a fresh scratch dir and loads it; returns the error message, or ""
// when it loaded.
std::string load_error(const std::string& scenario, const std::map<std::string, std::string>& files, std::string* dir_out = nullptr) {
  fs::path dir = fs::path(VGPU_TEST_TMP) / "rules" / scenario;
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const auto& [name, text] : files) std::ofstream(dir / name) << text;
  if (dir_out) *dir_out = dir.string();
  auto r = load_rules(dir.string());
  return r ? "" : r.error().message;
}

std::string env_rule(const std::string& body) {
  return "schema = 1\n[[env_rule]]\n" + body;
}

const std::string kGoodRule = R"(id = "r.one"
severity = "warning"
eras = ["A"]
when = [{ kind = "env_set", var = "X" }]
message = "{var} is set"
evidence = "{var}={value} [{origin}]"
fix = "unset {var}"
source = "test"
)";

}  // namespace

TEST_CASE("rules: the shipped rules load and cover the three eras") {
  auto rules = load_rules(VGPU_RULES_DIR);
  INFO((rules ? "" : rules.error().message));
  REQUIRE(rules.ok());
  CHECK(rules->files.size() == 6);
  REQUIRE(rules->eras.size() == 3);
  CHECK(rules->find_era("A")->first_version.empty());
  CHECK(rules->find_era("B")->first_version == "0.12.4");
  CHECK(rules->find_era("C")->first_version == "0.30.0");

  // Era B: LD_LIBRARY_PATH gets [LibOllamaPath, LibOllamaPath/cuda_vNN] prepended; OLLAMA_LIBRARY_PATH is replaced.
  const Era& b = *rules->find_era("B");
  REQUIRE(b.runner_env.size() >= 2);
  CHECK(b.runner_env[0].var == "LD_LIBRARY_PATH");
  CHECK(b.runner_env[0].action == RunnerEnv::Action::prepend);
  CHECK(b.runner_env[0].entries == std::vector<std::string>{"{lib_ollama}", "{backend_dir}"});
  CHECK(b.runner_env[1].var == "OLLAMA_LIBRARY_PATH");
  CHECK(b.runner_env[1].action == RunnerEnv::Action::replace);
  const Era& c = *rules->find_era("C");
  CHECK(std::any_of(c.runner_env.begin(), c.runner_env.end(),
                    [](const RunnerEnv& s) { return s.var == "GGML_BACKEND_PATH" && s.action == RunnerEnv::Action::replace; }));

  // llama-server means era C; libggml-base.so without it means A or B.
  REQUIRE(rules->era_detects.size() == 2);
  CHECK(rules->era_detects[0].eras == EraSet{"C"});
  CHECK(std::holds_alternative<FileExists>(rules->era_detects[0].when.at(0).kind));
  CHECK(rules->era_detects[1].eras == EraSet{"A", "B"});

  const EnvRule* num_gpu = rules->find_env_rule("env.ollama_num_gpu");
  REQUIRE(num_gpu);
  CHECK(num_gpu->severity == Severity::warning);
  CHECK(num_gpu->eras == EraSet{"A", "B", "C"});
  REQUIRE(num_gpu->when.size() == 1);
  REQUIRE(std::holds_alternative<EnvSet>(num_gpu->when[0].kind));
  CHECK(std::get<EnvSet>(num_gpu->when[0].kind).var == "OLLAMA_NUM_GPU");
  CHECK(num_gpu->where.file == std::string(VGPU_RULES_DIR) + "/environment.toml");

  const EnvRule* llm = rules->find_env_rule("env.ollama_llm_library.unknown_dir");
  REQUIRE(llm);
  CHECK(llm->severity == Severity::error);
  REQUIRE(llm->when.size() == 3);
  CHECK(std::get<EnvValueNotIn>(llm->when[2].kind).fact == "backend_dirs");
  std::map<std::string, std::string> vars = {{"var", "OLLAMA_LLM_LIBRARY"}, {"value", "cuda"},
                                             {"lib_ollama", "/usr/local/lib/ollama"}, {"backend_dirs", "cuda_v12, cuda_v13"},
                                             {"service", "ollama.service"}};
  CHECK(expand(llm->fix, vars) ==
        "sudo systemctl edit ollama.service  # remove OLLAMA_LLM_LIBRARY, or set it to exactly one of: cuda_v12, cuda_v13");

  // CUDA_VISIBLE_DEVICES keeps the one virtual GPU visible only if its first entry is 0 or a UUID.
  const EnvRule* cvd = rules->find_env_rule("env.cuda_visible_devices.hides_device");
  REQUIRE(cvd);
  const Regex& keeps = std::get<EnvNotMatches>(cvd->when.at(1).kind).regex.re;
  for (const char* v : {"0", "0,1", " 0 ", "GPU-3f2504e0", "GPU-3f2504e0-4f89-11d3-9a0c-0305e82c3301,1"})
    CHECK(std::regex_search(std::string(v), keeps));
  for (const char* v : {"", "-1", "1", "1,0", "none", "01"}) CHECK_FALSE(std::regex_search(std::string(v), keeps));
  // TRACE (OLLAMA_DEBUG=2 or more) is what shows discovery output in eras B and C.
  const Regex& trace =
      std::get<EnvNotMatches>(rules->find_env_rule("env.ollama_debug.discovery_hidden")->when.at(0).kind).regex.re;
  CHECK(std::regex_search(std::string("2"), trace));
  CHECK(std::regex_search(std::string("10"), trace));
  for (const char* v : {"", "1", "true", "0"}) CHECK_FALSE(std::regex_search(std::string(v), trace));

  const EnvRule* preload = rules->find_env_rule("env.ld_preload.missing");
  REQUIRE(preload);
  CHECK(std::get<EnvEntryMissing>(preload->when[0].kind).separators == " :");

  // Links: libcuda.so.1 from the system -> libvgpu-cuda.so; libcudart.so.12 bundled in cuda_v12 -> the shim;
  // cublasLt stays NVIDIA's; a top-level libggml-cuda.so must be absent.
  const LinkExpectation* cuda = rules->find_link("link.libcuda");
  REQUIRE(cuda);
  CHECK(cuda->location == LinkExpectation::Location::system);
  CHECK(cuda->shim == "libvgpu-cuda.so");
  const LinkExpectation* cudart = rules->find_link("link.cudart12");
  REQUIRE(cudart);
  CHECK(cudart->location == LinkExpectation::Location::backend_dir);
  CHECK(cudart->backend_dirs == std::vector<std::string>{"cuda_v12"});
  CHECK(cudart->shim == "libvgpu-cudart.so.12");
  CHECK(rules->find_link("link.cudart12_full")->name == "libcudart.so.12.*");
  CHECK(rules->find_link("link.cublaslt")->expect == LinkExpectation::Expect::nvidia);
  CHECK(rules->find_link("link.ggml_cuda_toplevel")->expect == LinkExpectation::Expect::absent);

  REQUIRE(rules->find_install_fact("install.upgrade_deletes_lib_ollama"));
  CHECK(std::holds_alternative<PciVendorPresent>(rules->find_install_fact("install.installs_nvidia_driver")->when[1].kind));
}

TEST_CASE("rules: log lines match as documented, with captures, per era") {
  auto rules = load_rules(VGPU_RULES_DIR);
  REQUIRE(rules.ok());
  // #16985's line, as llama-server --verbose prints it.
  std::string line = "E load_backend: failed to load /var/www/ollama__2/lib/ollama/cuda_v13/libggml-cuda.so: "
                     "libcuda.so.1: cannot open shared object file: No such file or directory";
  auto hits = rules->match_log_line(line, "C");
  REQUIRE(hits.size() == 1);
  CHECK(hits[0]->id == "log.load_backend_failed");
  std::map<std::string, std::string> vars;
  REQUIRE(hits[0]->matches(line, &vars));
  CHECK(vars["path"] == "/var/www/ollama__2/lib/ollama/cuda_v13/libggml-cuda.so");
  CHECK(vars["error"] == "libcuda.so.1: cannot open shared object file: No such file or directory");
  CHECK(expand(hits[0]->meaning, vars) ==
        "ggml could not dlopen /var/www/ollama__2/lib/ollama/cuda_v13/libggml-cuda.so: libcuda.so.1: cannot open "
        "shared object file: No such file or directory");

  // Both spellings of the OLLAMA_LLM_LIBRARY skip line (0.12.4-0.12.11 "users", later "user's").
  for (const char* l : {"time=x level=DEBUG msg=\"skipping available library at user's request\" requested=cuda libDir=/usr/lib/ollama/cuda_v13",
                        "time=x level=DEBUG msg=\"skipping available library at users request\" requested=cuda libDir=/usr/lib/ollama/cuda_v12"}) {
    auto h = rules->match_log_line(l, "B");
    REQUIRE(h.size() == 1);
    std::map<std::string, std::string> v;
    h[0]->matches(l, &v);
    CHECK(v["requested"] == "cuda");
  }
  CHECK(rules->match_log_line("ggml_cuda_init: failed to initialize CUDA: CUDA driver version is insufficient for CUDA runtime version", "B").size() == 2);
  CHECK(rules->match_log_line("looking for compatible GPUs", "B").empty());  // era A's line
  CHECK(rules->match_log_line("looking for compatible GPUs", "A").size() == 1);
  auto sym = rules->match_log_line("./app: symbol lookup error: /x/libggml-cuda.so: undefined symbol: cudaFoo, version libcudart.so.12");
  REQUIRE(sym.size() == 1);
  std::map<std::string, std::string> sv;
  sym[0]->matches("./app: symbol lookup error: /x/libggml-cuda.so: undefined symbol: cudaFoo, version libcudart.so.12", &sv);
  CHECK(sv["file"] == "/x/libggml-cuda.so");
  CHECK(sv["symbol"] == "cudaFoo");
  CHECK(sv["version"] == "libcudart.so.12");
  CHECK(rules->match_log_line("level=DEBUG msg=\"evaluating which, if any, devices to filter out\" initial_count=0").size() == 1);
  CHECK(rules->match_log_line("level=DEBUG msg=\"evaluating which, if any, devices to filter out\" initial_count=1").empty());
}

TEST_CASE("rules: placeholders expand, and braces are escaped by doubling") {
  CHECK(expand("{var}={value}", {{"var", "A"}, {"value", "1"}}) == "A=1");
  CHECK(expand("awk '{{print $1}}' {file}", {{"file", "f"}}) == "awk '{print $1}' f");
  CHECK(expand("{unknown} stays", {}) == "{unknown} stays");
  auto p = placeholders("{a} and {b_2} {{not}}");
  REQUIRE(p.ok());
  CHECK(*p == std::vector<std::string>{"a", "b_2"});
  CHECK(placeholders("${d##*v}").error().message == "bad placeholder name '{d##*v}' (names are [a-z_][a-z0-9_]*)");
  CHECK(placeholders("open {x").error().message == "unclosed '{' at offset 5 (write '{{' for a brace)");
  CHECK(placeholders("x}").error().message == "stray '}' at offset 1 (write '}}' for a brace)");
}

TEST_CASE("rules: a good file loads; each broken one names file, line, column and the reason") {
  std::string dir;
  CHECK(load_error("good", {{"eras.toml", kEras}, {"e.toml", env_rule(kGoodRule)}}) == "");

  SECTION("unknown key") {
    std::string text = env_rule(kGoodRule + "severty = \"error\"\n");
    std::string err = load_error("unknown_key", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:11:1: unknown key 'severty' in [[env_rule]] (known: id, severity, eras, when, "
                       "message, evidence, fix, source)");
  }
  SECTION("unknown key inside a condition") {
    std::string text = env_rule(R"(id = "r"
severity = "info"
eras = ["A"]
when = [{ kind = "env_set", vr = "X" }]
message = "m"
evidence = "e"
fix = "f"
source = "s"
)");
    std::string err = load_error("unknown_field", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:6:29: unknown key 'vr' in condition 'env_set' (known: kind, var)");
  }
  SECTION("wrong type") {
    std::string text = env_rule(R"(id = "r"
severity = 2
)");
    std::string err = load_error("wrong_type", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:4:12: 'severity' in [[env_rule]] must be a string, not an integer");
  }
  SECTION("wrong element type") {
    std::string text = env_rule(R"(id = "r"
eras = ["A", 2]
)");
    std::string err = load_error("wrong_element", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:4:14: 'eras' in [[env_rule]] must be an array of strings; element 2 is an integer");
  }
  SECTION("missing required key") {
    std::string text = env_rule(R"(id = "r.no_fix"
severity = "info"
eras = ["A"]
when = []
message = "m"
evidence = "e"
source = "s"
)");
    std::string err = load_error("missing", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:2:1: [[env_rule]] 'r.no_fix' lacks required key 'fix'");
  }
  SECTION("unknown condition kind") {
    std::string text = env_rule(R"(id = "r"
severity = "info"
eras = ["A"]
when = [
  { kind = "env_sett", var = "X" },
]
message = "m"
evidence = "e"
fix = "f"
source = "s"
)");
    std::string err = load_error("kind", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err.rfind(dir + "/e.toml:7:12: unknown condition kind 'env_sett' in [[env_rule]] 'r' (known: env_set, env_unset, "
                          "env_equals, env_matches, ",
                    0) == 0);
  }
  SECTION("bad severity") {
    std::string text = env_rule(kGoodRule);
    text.replace(text.find("\"warning\""), 9, "\"fatal\"");
    std::string err = load_error("severity", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:4:12: 'severity' in [[env_rule]] must be one of error, warning, info, not 'fatal'");
  }
  SECTION("unknown era, defined in no file") {
    std::string text = env_rule(kGoodRule);
    text.replace(text.find("[\"A\"]"), 5, "[\"A\", \"D\"]");
    std::string err = load_error("era", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:5:14: unknown era 'D' (defined: A, B)");
  }
  SECTION("bad regex") {
    std::string text = env_rule(R"(id = "r"
severity = "info"
eras = ["A"]
when = [{ kind = "env_matches", var = "X", regex = "(unclosed" }]
message = "m"
evidence = "e"
fix = "f"
source = "s"
)");
    std::string err = load_error("regex", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:6:52: bad regex in 'regex' of condition 'env_matches': "
                       "Mismatched '(' and ')' in regular expression");
  }
  SECTION("a regex is not a template: braces are repetitions") {
    std::string text = env_rule(kGoodRule);
    const std::string cond = "{ kind = \"env_set\", var = \"X\" }";
    text.replace(text.find(cond), cond.size(), "{ kind = \"env_matches\", var = \"X\", regex = \"^[0-9]{2}$\" }");
    CHECK(load_error("regex_braces", {{"eras.toml", kEras}, {"e.toml", text}}) == "");
  }
  SECTION("log line captures must match the regex's groups") {
    std::string text = R"toml(schema = 1
[[log_line]]
id = "l"
eras = ["A"]
match = "regex"
pattern = "failed: (\\S+) (\\S+)"
captures = ["path"]
severity = "error"
meaning = "{path}"
causes = []
fix = "f"
source = "s"
)toml";
    std::string err = load_error("captures", {{"eras.toml", kEras}, {"l.toml", text}}, &dir);
    CHECK(err == dir + "/l.toml:7:12: [[log_line]] 'l' names 1 captures but its regex has 2 groups");
  }
  SECTION("duplicate id across files") {
    std::string err = load_error("duplicate", {{"eras.toml", kEras}, {"a.toml", env_rule(kGoodRule)}, {"b.toml", env_rule(kGoodRule)}}, &dir);
    CHECK(err == dir + "/b.toml:3:6: duplicate id 'r.one' (first defined at " + dir + "/a.toml:3:6)");
  }
  SECTION("unknown placeholder") {
    std::string text = env_rule(kGoodRule);
    text.replace(text.find("{var} is set"), 12, "{vale} is set");
    std::string err = load_error("placeholder", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err == dir + "/e.toml:7:11: unknown placeholder '{vale}' in 'message' of [[env_rule]] 'r.one' (available: "
                       "lib_ollama, ollama_exe, ollama_version, era, shim_dir, service, backend_dirs, var, value, origin)");
  }
  SECTION("a placeholder bound by a condition kind the rule does not use") {
    std::string text = env_rule(kGoodRule);
    text.replace(text.find("unset {var}"), 11, "rm {entry}");
    std::string err = load_error("unbound", {{"eras.toml", kEras}, {"e.toml", text}}, &dir);
    CHECK(err.find("/e.toml:9:7: unknown placeholder '{entry}' in 'fix'") != std::string::npos);
  }
  SECTION("schema version") {
    std::string err = load_error("schema", {{"eras.toml", kEras}, {"e.toml", "schema = 2\n"}}, &dir);
    CHECK(err == dir + "/e.toml:1:10: schema 2 is not supported by this build (it reads schema 1)");
    err = load_error("schema", {{"eras.toml", kEras}, {"e.toml", "[[env_rule]]\n"}}, &dir);
    CHECK(err == dir + "/e.toml:1:1: the file lacks required key 'schema'");
  }
  SECTION("TOML syntax") {
    std::string err = load_error("syntax", {{"eras.toml", kEras}, {"e.toml", "schema = 1\nx = \n"}}, &dir);
    CHECK(err.rfind(dir + "/e.toml:2:", 0) == 0);
  }
}

TEST_CASE("rules: an installed version belongs to the era with the greatest first_version not above it") {
  CHECK(parse_version("0.12.4") == std::vector<long>{0, 12, 4});
  CHECK(parse_version("v0.30.0-rc2") == std::vector<long>{0, 30, 0});
  CHECK(parse_version("0.30") == std::vector<long>{0, 30, 0});
  CHECK_FALSE(parse_version("unknown"));
  CHECK_FALSE(parse_version(""));
  auto rules = load_rules(VGPU_RULES_DIR);
  REQUIRE(rules.ok());
  auto era = [&](const char* v) {
    const Era* e = rules->era_for_version(v);
    return e ? e->id : std::string("none");
  };
  // The boundaries of ../shared/research/ollama-discovery.md: <= 0.12.3 A, 0.12.4-0.24 B, >= 0.30 C.
  CHECK(era("0.1.32") == "A");
  CHECK(era("0.12.3") == "A");
  CHECK(era("0.12.4") == "B");
  CHECK(era("0.24.0") == "B");
  CHECK(era("0.30.0-rc1") == "C");
  CHECK(era("0.33.0") == "C");
  CHECK(era("1.0.0") == "C");
  CHECK(era("garbage") == "none");
}

TEST_CASE("rules: [[driver_floor]] loads, and a broken one names file, line and the reason") {
  const std::string good = R"X(schema = 1
[[driver_floor]]
id = "d.one"
eras = ["B"]
backend_dirs = ["cuda_v12"]
min_nvml_driver = 550
cudart_minor_at_least = 4
cc_below = "7.0"
min_ollama_version = "0.30.11"
severity = "error"
message = "{backend_dir}: driver {nvml_driver} < {required} ({cudart_version}, cc {cc})"
evidence = "{runtime} {cuda_driver_api}"
fix = "vgpu-doctor fix"
source = "test"
)X";
  std::string dir;
  CHECK(load_error("floor_good", {{"eras.toml", kEras}, {"d.toml", good}}) == "");
  auto rules = load_rules((fs::path(VGPU_TEST_TMP) / "rules" / "floor_good").string());
  REQUIRE(rules.ok());
  REQUIRE(rules->driver_floors.size() == 1);
  const DriverFloor& f = rules->driver_floors[0];
  CHECK(f.min_nvml_driver == 550);
  CHECK(f.min_cuda_driver_api == 0);
  CHECK(f.cudart_minor_at_least == 4);
  CHECK(f.cc_below == "7.0");
  CHECK_FALSE(f.only_nvidia_runtime);

  std::string both = good;
  both.insert(both.find("min_nvml_driver"), "min_cuda_driver_api = 13000\n");
  std::string err = load_error("floor_both", {{"eras.toml", kEras}, {"d.toml", both}}, &dir);
  CHECK(err == dir + "/d.toml:2:1: [[driver_floor]] 'd.one' needs exactly one of min_cuda_driver_api and min_nvml_driver");
  std::string bad_cc = good;
  bad_cc.replace(bad_cc.find("\"7.0\""), 5, "\"seven\"");
  err = load_error("floor_cc", {{"eras.toml", kEras}, {"d.toml", bad_cc}}, &dir);
  CHECK(err.find("/d.toml:8:12: 'cc_below' in [[driver_floor]] 'd.one' must be a compute capability") != std::string::npos);
  std::string bad_var = good;
  bad_var.replace(bad_var.find("{runtime}"), 9, "{entry}");
  err = load_error("floor_var", {{"eras.toml", kEras}, {"d.toml", bad_var}}, &dir);
  CHECK(err.find("unknown placeholder '{entry}' in 'evidence'") != std::string::npos);

  auto shipped = load_rules(VGPU_RULES_DIR);
  REQUIRE(shipped.ok());
  std::vector<std::string> ids;
  for (const DriverFloor& d : shipped->driver_floors) ids.push_back(d.id);
  CHECK(ids == std::vector<std::string>{"driver.cuda_v13.api", "driver.cuda_v12.api", "driver.cuda_v12.nvidia_550",
                                        "driver.cuda_v12.nvidia_570"});
}

TEST_CASE("rules: loaded without compiling log-line regexes, every key is still checked and matches are the same") {
  auto compiled = load_rules(VGPU_RULES_DIR);
  auto deferred = load_rules(VGPU_RULES_DIR, RuleLoadOptions{.compile_log_patterns = false});
  REQUIRE(compiled.ok());
  REQUIRE(deferred.ok());
  size_t regexes = 0;
  for (const LogLine& l : deferred->log_lines)
    if (l.match == LogLine::Match::regex) {
      ++regexes;
      CHECK_FALSE(l.re);
      CHECK(l.deferred);
    }
  CHECK(regexes > 0);
  for (const char* line : {
           "E load_backend: failed to load /x/cuda_v13/libggml-cuda.so: libcuda.so.1: cannot open shared object file: No such file or directory",
           "ggml_cuda_init: failed to initialize CUDA: CUDA driver version is insufficient for CUDA runtime version",
           "./app: symbol lookup error: /x/libggml-cuda.so: undefined symbol: cudaFoo, version libcudart.so.12",
           "looking for compatible GPUs", "nothing to see"}) {
    auto a = compiled->match_log_line(line), b = deferred->match_log_line(line);
    REQUIRE(a.size() == b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      CHECK(a[i]->id == b[i]->id);
      std::map<std::string, std::string> va, vb;
      a[i]->matches(line, &va), b[i]->matches(line, &vb);
      CHECK(va == vb);
    }
  }
  // A bad regex is still refused by a compiling load, and matches nothing in a deferred one.
  const std::string bad = "schema = 1\n[[log_line]]\nid = \"l.bad\"\neras = [\"A\"]\nmatch = \"regex\"\npattern = \"(\"\n"
                          "severity = \"info\"\nmeaning = \"m\"\ncauses = [\"c\"]\nfix = \"f\"\nsource = \"s\"\n";
  CHECK(load_error("bad_regex_compiled", {{"eras.toml", kEras}, {"l.toml", bad}}).find("bad regex") != std::string::npos);
  fs::path dir = fs::path(VGPU_TEST_TMP) / "rules" / "bad_regex_compiled";
  auto lazy = load_rules(dir.string(), RuleLoadOptions{.compile_log_patterns = false});
  REQUIRE(lazy.ok());
  CHECK(lazy->match_log_line("(").empty());
}

TEST_CASE("rules: log_lines_only reads the files with [[log_line]] or [[era]] tables, and the same log lines") {
  auto all = load_rules(VGPU_RULES_DIR);
  auto some = load_rules(VGPU_RULES_DIR, RuleLoadOptions{.log_lines_only = true});
  REQUIRE(all.ok());
  REQUIRE(some.ok());
  CHECK(some->log_lines.size() == all->log_lines.size());
  CHECK(some->eras.size() == all->eras.size());
  CHECK(some->links.empty());
  CHECK(some->files.size() < all->files.size());
  // A file of other tables is not parsed (a broken one is not an error then); a header written with
  // spaces inside its brackets still counts; a "[[log_line]]" that is not a header does not.
  const std::string log = "schema = 1\n  [[ log_line ]]\nid = \"l.one\"\neras = [\"A\"]\nmatch = \"substring\"\n"
                          "pattern = \"hello\"\nseverity = \"info\"\nmeaning = \"m\"\ncauses = [\"c\"]\nfix = \"f\"\nsource = \"s\"\n";
  const std::string broken_links = "schema = 1\n# not [[log_line]]\nx = \"[[log_line]]\"\n[[link]]\nthis is not toml\n";
  std::string dir;
  CHECK_FALSE(load_error("log_lines_only", {{"eras.toml", kEras}, {"l.toml", log}, {"links.toml", broken_links}}, &dir).empty());
  auto only = load_rules(dir, RuleLoadOptions{.log_lines_only = true});
  REQUIRE(only.ok());
  REQUIRE(only->log_lines.size() == 1);
  CHECK(only->match_log_line("say hello").size() == 1);
}

TEST_CASE("rules: required_literal finds text every match contains, and only that") {
  CHECK(required_literal("load_backend: failed to load (\\S+): (.*)$") == "load_backend: failed to load ");
  CHECK(required_literal("version [`']([^']+)' not found \\(required by ([^)]+)\\)") == "' not found (required by ");
  CHECK(required_literal("symbol lookup error: ([^:]+): undefined symbol: ([^,\\s]+)(?:, version (\\S+))?") ==
        "symbol lookup error: ");
  CHECK(required_literal("abcde?fgh") == "abcd");        // the e may be absent
  CHECK(required_literal("abcd*efgh") == "efgh");
  CHECK(required_literal("abcd{0,2}xyz").empty());       // "abc" and "xyz": too short
  CHECK(required_literal("abcde+fgh") == "abcde");
  CHECK(required_literal("nothing (?:here|there) certain") == "nothing ");  // (the first of the longest)
  CHECK(required_literal("one alternative|another").empty());   // an alternation at the top
  CHECK(required_literal("(?:maybe this)? or that") == " or that");
  CHECK(required_literal("[abcdefgh]+ xy").empty());
  CHECK(required_literal("a\\.b\\.c\\.d") == "a.b.c.d");
  CHECK(required_literal("\\dabcd\\d") == "abcd");
  CHECK(required_literal("unbalanced (").empty());
  // Every shipped regex's literal is in each line its rule is meant to match (checked through matches()
  // in the tests above); here: it is in the pattern's own plain text, never invented.
  auto shipped = load_rules(VGPU_RULES_DIR);
  REQUIRE(shipped.ok());
  size_t with = 0;
  for (const LogLine& l : shipped->log_lines)
    if (l.match == LogLine::Match::regex && !l.required.empty()) {
      ++with;
      std::string plain;
      for (size_t i = 0; i < l.pattern.size(); ++i) plain += l.pattern[i] == '\\' && i + 1 < l.pattern.size() ? l.pattern[++i] : l.pattern[i];
      CHECK(plain.find(l.required) != std::string::npos);
    }
  CHECK(with >= 8);
}

TEST_CASE("Regex (C-locale collation spelled out) matches what std::regex matches") {
  const char* patterns[] = {"[a-z_][a-z0-9_]*", "[^ ]+=([^ ]*)", "[[:digit:]]{2,}", "[[:alpha:][:space:]]+x", "[[=a=]]b",
                            "[[=B=]]+", "[[.hyphen.]-z]", "[A-Fa-f0-9]{4}:[0-9a-f]{2}", "\\d+\\s\\w", "[]a]", "[^\\]x]+$",
                            "load_backend: failed to load (\\S+): (.*)$", "([\"'])[^\"']*\\1"};
  const char* subjects[] = {"", "abc", "_x9", "KEY=val rest", "12", "a1 2x", "ab", "Ab", "bbB", "-", "z", "0000:05",
                            "00ff:0a", "7 q", "]", "xyz]", "load_backend: failed to load /x/libggml-cuda.so: nope",
                            "'quoted'", "\"mixed'", "\xe9t\xe9", "A-Z"};
  for (auto flags : {std::regex::ECMAScript, std::regex::ECMAScript | std::regex::icase, std::regex::ECMAScript | std::regex::collate,
                     std::regex::extended})
    for (const char* p : patterns) {
      std::optional<std::regex> lib;
      std::optional<Regex> ours;
      try {
        lib.emplace(p, flags);
      } catch (const std::regex_error&) {
      }
      try {
        ours.emplace(p, flags);
      } catch (const std::regex_error&) {
      }
      INFO("pattern " << p << " flags " << flags);
      REQUIRE(lib.has_value() == ours.has_value());
      if (!lib) continue;
      CHECK(lib->mark_count() == ours->mark_count());
      for (const char* s : subjects) {
        INFO("subject " << s);
        std::smatch a, b;
        std::string text(s);
        bool la = std::regex_search(text, a, *lib), lb = std::regex_search(text, b, *ours);
        CHECK(la == lb);
        if (la && lb) CHECK(a.str() == b.str());
      }
    }
}
