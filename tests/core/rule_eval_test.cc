// core/rule_eval: each condition kind of rules/FORMAT.md holds where it should and not elsewhere, on
// scratch files built here; then the shipped rules/ run against scenario environments give exactly the
// findings a person should see.
#include <catch2/catch.hpp>

#include <elf.h>
#include <sys/stat.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "elf_file.h"
#include "rule_eval.h"

using namespace vgpu;
namespace fs = std::filesystem;

namespace {

// A fresh scratch directory for one scenario.
fs::path scratch(const std::string& scenario) {
  fs::path dir = fs::path(VGPU_TEST_TMP) / "rule_eval" / scenario;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

void symlink(const fs::path& target, const fs::path& link) {
  fs::create_directories(link.parent_path());
  fs::create_symlink(target, link);
}

// A real 64-bit shared object of this machine (built by tests/CMakeLists.txt).
const std::string kElf64 = std::string(VGPU_FIXTURE_DIR) + "/libfix_good/libfix.so.1";

unsigned this_machine() {
  auto self = read_elf("/proc/self/exe");
  REQUIRE(self);
  return self->machine;
}

// The 52 bytes of an ELF32 header for i386, written by hand: no 32-bit toolchain is needed.
void write_elf32(const fs::path& p) {
  Elf32_Ehdr h{};
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS32;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_DYN;
  h.e_machine = EM_386;
  h.e_version = EV_CURRENT;
  h.e_ehsize = sizeof h;
  h.e_shentsize = sizeof(Elf32_Shdr);
  write(p, std::string(reinterpret_cast<const char*>(&h), sizeof h));
}

// An ELF64 header of another machine than this one.
void write_elf64_foreign(const fs::path& p) {
  Elf64_Ehdr h{};
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_DYN;
  h.e_machine = this_machine() == EM_AARCH64 ? EM_X86_64 : EM_AARCH64;
  h.e_version = EV_CURRENT;
  h.e_ehsize = sizeof h;
  h.e_shentsize = sizeof(Elf64_Shdr);
  write(p, std::string(reinterpret_cast<const char*>(&h), sizeof h));
}

Pattern regex(const std::string& text) { return {text, Regex(text)}; }

std::vector<Bindings> eval1(ConditionKind kind, const EvalContext& ctx) {
  return evaluate(When{Condition{std::move(kind), {}}}, ctx);
}

const std::string kOrigin = "Environment= in /etc/systemd/system/ollama.service.d/vgpu.conf:3";

}  // namespace

TEST_CASE("rule_eval: env_set and env_unset") {
  ServiceEnv env;
  env.set("EMPTY", "", kOrigin);
  EvalContext ctx{.env = &env};
  auto r = eval1(EnvSet{"EMPTY"}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0] == Bindings{{"var", "EMPTY"}, {"value", ""}, {"origin", kOrigin}});
  CHECK(eval1(EnvSet{"ABSENT"}, ctx).empty());
  CHECK(eval1(EnvUnset{"EMPTY"}, ctx).empty());
  CHECK(eval1(EnvUnset{"ABSENT"}, ctx) == std::vector<Bindings>{{{"var", "ABSENT"}}});
  EvalContext no_env;  // a null environment is an empty one
  CHECK(eval1(EnvSet{"EMPTY"}, no_env).empty());
}

TEST_CASE("rule_eval: env_equals, env_matches and env_not_matches") {
  ServiceEnv env;
  env.set("OLLAMA_DEBUG", "1", kOrigin);
  EvalContext ctx{.env = &env};
  CHECK(eval1(EnvEquals{"OLLAMA_DEBUG", "1"}, ctx).size() == 1);
  CHECK(eval1(EnvEquals{"OLLAMA_DEBUG", "10"}, ctx).empty());
  CHECK(eval1(EnvEquals{"ABSENT", ""}, ctx).empty());
  CHECK(eval1(EnvMatches{"OLLAMA_DEBUG", regex("^[1-9]$")}, ctx).size() == 1);
  CHECK(eval1(EnvMatches{"OLLAMA_DEBUG", regex("^[2-9]$")}, ctx).empty());
  CHECK(eval1(EnvMatches{"ABSENT", regex(".*")}, ctx).empty());

  auto r = eval1(EnvNotMatches{"OLLAMA_DEBUG", regex("^[2-9]$")}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0].at("value") == "1");
  CHECK(r[0].at("origin") == kOrigin);
  CHECK(eval1(EnvNotMatches{"OLLAMA_DEBUG", regex("^1$")}, ctx).empty());
  // Unset: holds, with an empty value.
  r = eval1(EnvNotMatches{"ABSENT", regex(".*")}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0] == Bindings{{"var", "ABSENT"}, {"value", ""}, {"origin", "not set"}});
}

TEST_CASE("rule_eval: env_value_not_in a list fact") {
  ServiceEnv env;
  env.set("OLLAMA_LLM_LIBRARY", "cuda_v11", kOrigin);
  EvalContext ctx{.env = &env, .list_facts = {{"backend_dirs", {"cuda_v12", "cuda_v13"}}}};
  auto r = eval1(EnvValueNotIn{"OLLAMA_LLM_LIBRARY", "backend_dirs"}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0].at("value") == "cuda_v11");
  env.set("OLLAMA_LLM_LIBRARY", "cuda_v12", kOrigin);
  CHECK(eval1(EnvValueNotIn{"OLLAMA_LLM_LIBRARY", "backend_dirs"}, ctx).empty());
  CHECK(eval1(EnvValueNotIn{"ABSENT", "backend_dirs"}, ctx).empty());
  EvalContext no_fact{.env = &env};  // a list fact the context lacks is the empty list
  CHECK(eval1(EnvValueNotIn{"OLLAMA_LLM_LIBRARY", "backend_dirs"}, no_fact).size() == 1);
}

TEST_CASE("rule_eval: env_entry_missing, one binding per missing entry") {
  fs::path d = scratch("entry_missing");
  write(d / "present.so", "x");
  symlink(d / "nowhere.so", d / "dangling.so");
  std::string p = d.string();
  ServiceEnv env;
  // Spaces and colons both separate LD_PRELOAD (glibc elf/rtld.c); empty pieces, repeats and bare names
  // (looked up by ld.so like DT_NEEDED names) are not judged.
  env.set("LD_PRELOAD", p + "/present.so " + p + "/gone1.so::" + p + "/dangling.so " + p + "/gone1.so libbare.so", kOrigin);
  EvalContext ctx{.env = &env};
  auto r = eval1(EnvEntryMissing{"LD_PRELOAD", " :"}, ctx);
  REQUIRE(r.size() == 2);
  CHECK(r[0].at("entry") == p + "/gone1.so");
  CHECK(r[1].at("entry") == p + "/dangling.so");
  CHECK(r[0].at("var") == "LD_PRELOAD");
  CHECK(r[0].at("origin") == kOrigin);
  CHECK(r[0].at("value") == env.find("LD_PRELOAD")->value);
  // With ":" only, the space-separated text is one (missing) entry.
  CHECK(eval1(EnvEntryMissing{"LD_PRELOAD", ":"}, ctx).size() == 2);

  env.set("LD_PRELOAD", p + "/present.so", kOrigin);
  CHECK(eval1(EnvEntryMissing{"LD_PRELOAD", " :"}, ctx).empty());
  CHECK(eval1(EnvEntryMissing{"ABSENT", ":"}, ctx).empty());
}

TEST_CASE("rule_eval: env_entry_not_elf64 by class and machine") {
  fs::path d = scratch("not_elf64");
  write_elf32(d / "lib32.so");
  write_elf64_foreign(d / "foreign.so");
  write(d / "text.so", "not an ELF file\n");
  std::string p = d.string();
  ServiceEnv env;
  env.set("LD_PRELOAD", kElf64 + " " + p + "/lib32.so:" + p + "/foreign.so " + p + "/text.so " + p + "/missing.so", kOrigin);
  EvalContext ctx{.env = &env};
  auto r = eval1(EnvEntryNotElf64{"LD_PRELOAD", " :"}, ctx);
  REQUIRE(r.size() == 3);  // the 64-bit object of this machine and the missing file are not judged here
  CHECK(r[0].at("entry") == p + "/lib32.so");
  CHECK(r[1].at("entry") == p + "/foreign.so");
  CHECK(r[2].at("entry") == p + "/text.so");

  env.set("LD_PRELOAD", kElf64, kOrigin);
  CHECK(eval1(EnvEntryNotElf64{"LD_PRELOAD", " :"}, ctx).empty());
}

TEST_CASE("rule_eval: env_entry_has_file judges the first entry holding each name, as ld.so takes it") {
  fs::path d = scratch("has_file");
  write(d / "shims/libvgpu-cudart.so.12", "shim");
  write(d / "nvidia/libcudart.so.12.8.90", "nvidia");
  symlink(d / "shims/libvgpu-cudart.so.12", d / "linked/libcudart.so.12");
  symlink("libcudart.so.12.8.90", d / "nvidia/libcudart.so.12");
  symlink(d / "nowhere", d / "broken/libcudart.so.12");
  std::string p = d.string();
  ServiceEnv env;
  EvalContext ctx{.env = &env, .shims = {"libvgpu-cudart.so.12"}};
  const std::vector<std::string> names = {"libcudart.so.12"};

  // The dangling link in broken/ does not open, so ld.so takes linked/'s, which is the shim.
  env.set("LD_LIBRARY_PATH", p + "/broken:" + p + "/linked;" + p + "/nvidia", kOrigin);
  auto r = eval1(EnvEntryHasFile{"LD_LIBRARY_PATH", ":;", names, Provider::shim}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0].at("entry") == p + "/linked");
  CHECK(r[0].at("file") == "libcudart.so.12");
  CHECK(r[0].at("target") == p + "/shims/libvgpu-cudart.so.12");
  CHECK(eval1(EnvEntryHasFile{"LD_LIBRARY_PATH", ":;", names, Provider::other}, ctx).empty());
  CHECK(eval1(EnvEntryHasFile{"LD_LIBRARY_PATH", ":;", names, Provider::any}, ctx).size() == 1);

  // NVIDIA's directory first: its file shadows the shim.
  env.set("LD_LIBRARY_PATH", p + "/nvidia:" + p + "/linked", kOrigin);
  CHECK(eval1(EnvEntryHasFile{"LD_LIBRARY_PATH", ":;", names, Provider::shim}, ctx).empty());
  r = eval1(EnvEntryHasFile{"LD_LIBRARY_PATH", ":;", names, Provider::other}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0].at("entry") == p + "/nvidia");
  CHECK(r[0].at("target") == p + "/nvidia/libcudart.so.12.8.90");

  // A glob covers each distinct name once: libcudart.so.12 and libcudart.so.12.8.90 are two names.
  r = eval1(EnvEntryHasFile{"LD_LIBRARY_PATH", ":;", {"libcudart.so.*"}, Provider::any}, ctx);
  REQUIRE(r.size() == 2);
  CHECK(r[0].at("file") == "libcudart.so.12");
  CHECK(r[1].at("file") == "libcudart.so.12.8.90");

  env.set("LD_LIBRARY_PATH", p + "/broken", kOrigin);
  CHECK(eval1(EnvEntryHasFile{"LD_LIBRARY_PATH", ":;", names, Provider::any}, ctx).empty());
}

TEST_CASE("rule_eval: file_exists and file_missing match glob(3) patterns expanded with the facts") {
  fs::path d = scratch("file_exists");
  write(d / "lib/ollama/cuda_v13/libggml-cuda.so", "x");
  write(d / "lib/ollama/cuda_v12/libggml-cuda.so", "x");
  EvalContext ctx{.facts = {{"lib_ollama", (d / "lib/ollama").string()}}};
  auto r = eval1(FileExists{"{lib_ollama}/cuda_v*/libggml-cuda.so"}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0].at("path") == (d / "lib/ollama/cuda_v12/libggml-cuda.so").string());  // the first match, sorted
  CHECK(eval1(FileExists{"{lib_ollama}/llama-server"}, ctx).empty());
  CHECK(eval1(FileMissing{"{lib_ollama}/cuda_v*/libggml-cuda.so"}, ctx).empty());
  r = eval1(FileMissing{"{lib_ollama}/llama-server"}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0].at("path") == (d / "lib/ollama/llama-server").string());
}

TEST_CASE("rule_eval: file_is_shim follows the link chain to a shim's name") {
  fs::path d = scratch("file_is_shim");
  write(d / "usr/lib64/libvgpu-cudart.so.13", "shim");
  write(d / "lib/ollama/cuda_v12/libcudart.so.12.8.90", "nvidia");
  symlink("libcudart.so.12.8.90", d / "lib/ollama/cuda_v12/libcudart.so.12");
  symlink(d / "usr/lib64/libvgpu-cudart.so.13", d / "lib/ollama/cuda_v13/libcudart.so.13");
  EvalContext ctx{.facts = {{"lib_ollama", (d / "lib/ollama").string()}}, .shims = {"libvgpu-cudart.so.13"}};
  auto r = eval1(FileIsShim{"{lib_ollama}/cuda_v*/libcudart.so.*"}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0].at("path") == (d / "lib/ollama/cuda_v13/libcudart.so.13").string());
  CHECK(r[0].at("target") == (d / "usr/lib64/libvgpu-cudart.so.13").string());
  CHECK(eval1(FileIsShim{"{lib_ollama}/cuda_v12/libcudart.so.*"}, ctx).empty());
  // A dangling link named like the shim is not a shim.
  fs::remove(d / "usr/lib64/libvgpu-cudart.so.13");
  CHECK(eval1(FileIsShim{"{lib_ollama}/cuda_v*/libcudart.so.*"}, ctx).empty());
}

TEST_CASE("rule_eval: file_contains, with absolute paths under the context's root") {
  fs::path d = scratch("file_contains");
  write(d / "etc/systemd/system/ollama.service", "[Service]\nEnvironment=\"LD_PRELOAD=/usr/lib64/libvgpu-exec.so\"\n");
  EvalContext ctx{.root = d.string()};
  auto r = eval1(FileContains{"/etc/systemd/system/ollama.service", "LD_PRELOAD"}, ctx);
  REQUIRE(r.size() == 1);
  CHECK(r[0] == Bindings{{"path", "/etc/systemd/system/ollama.service"}, {"text", "LD_PRELOAD"}});
  CHECK(eval1(FileContains{"/etc/systemd/system/ollama.service", "LD_LIBRARY_PATH"}, ctx).empty());
  CHECK(eval1(FileContains{"/etc/systemd/system/absent.service", "LD_PRELOAD"}, ctx).empty());
  // The root applies to file_exists too, and bound paths read as on the examined system.
  CHECK(eval1(FileExists{"/etc/systemd/system/*.service"}, ctx) ==
        std::vector<Bindings>{{{"path", "/etc/systemd/system/ollama.service"}}});
}

TEST_CASE("rule_eval: command_missing searches the service's PATH, or systemd's default") {
  fs::path d = scratch("command_missing");
  write(d / "bin/nvidia-smi", "#!/bin/sh\n");
  fs::permissions(d / "bin/nvidia-smi", fs::perms::owner_all);
  write(d / "noexec/nvidia-smi", "#!/bin/sh\n");
  fs::permissions(d / "noexec/nvidia-smi", fs::perms::owner_read | fs::perms::owner_write);
  ServiceEnv env;
  EvalContext ctx{.env = &env};
  env.set("PATH", (d / "noexec").string() + ":" + (d / "bin").string(), kOrigin);
  CHECK(eval1(CommandMissing{"nvidia-smi"}, ctx).empty());
  env.set("PATH", (d / "noexec").string(), kOrigin);
  CHECK(eval1(CommandMissing{"nvidia-smi"}, ctx) == std::vector<Bindings>{{{"command", "nvidia-smi"}}});
  // No PATH in the unit: systemd's fixed default, looked up under the root.
  ServiceEnv empty;
  write(d / "root/usr/bin/nvidia-smi", "#!/bin/sh\n");
  fs::permissions(d / "root/usr/bin/nvidia-smi", fs::perms::owner_all);
  EvalContext rooted{.env = &empty, .root = (d / "root").string()};
  CHECK(eval1(CommandMissing{"nvidia-smi"}, rooted).empty());
  CHECK(eval1(CommandMissing{"vgpu-no-such-command"}, rooted).size() == 1);
}

TEST_CASE("rule_eval: pci_vendor_present scans <sysfs>/bus/pci/devices/*/vendor") {
  fs::path d = scratch("pci");
  write(d / "bus/pci/devices/0000:00:05.0/vendor", "0x10DE\n");
  write(d / "bus/pci/devices/0000:00:01.0/vendor", "0x1af4\n");
  write(d / "bus/pci/devices/not-a-slot/vendor", "0x8086\n");
  EvalContext ctx{.sysfs_root = d.string()};
  CHECK(eval1(PciVendorPresent{"0x10de"}, ctx) == std::vector<Bindings>{{{"vendor", "0x10de"}, {"pci_slot", "0000:00:05.0"}}});
  CHECK(eval1(PciVendorPresent{"0x1af4"}, ctx).at(0).at("pci_slot") == "0000:00:01.0");
  CHECK(eval1(PciVendorPresent{"0x8086"}, ctx).empty());  // only bus-id names are devices
  EvalContext nosys{.sysfs_root = (d / "absent").string()};
  CHECK(eval1(PciVendorPresent{"0x10de"}, nosys).empty());
}

TEST_CASE("rule_eval: a when list holds when all hold; the first binder of a name supplies it") {
  ServiceEnv env;
  env.set("A", "a-value", "origin of A");
  env.set("LIST", "/nonexistent/x /nonexistent/y", "origin of LIST");
  EvalContext ctx{.env = &env};
  CHECK(evaluate(When{}, ctx) == std::vector<Bindings>{Bindings{}});
  auto r = evaluate(When{{EnvSet{"A"}, {}}, {EnvEntryMissing{"LIST", " "}, {}}}, ctx);
  REQUIRE(r.size() == 2);  // one per missing entry
  CHECK(r[0].at("var") == "A");
  CHECK(r[0].at("value") == "a-value");
  CHECK(r[0].at("entry") == "/nonexistent/x");
  CHECK(r[1].at("entry") == "/nonexistent/y");
  CHECK(evaluate(When{{EnvSet{"A"}, {}}, {EnvSet{"ABSENT"}, {}}}, ctx).empty());
}

// ---- the shipped rules against scenario installations ----

namespace {

struct Scenario {
  fs::path root;
  ServiceEnv env;
  EvalContext ctx;
};

// An era-B installation under a scratch root: Ollama in /usr/local, the shims in /usr/lib64, no unit
// file in /etc, no PCI devices; OLLAMA_DEBUG=2 so that the discovery-logging hint stays quiet.
Scenario installation(const std::string& name) {
  Scenario s;
  s.root = scratch("scenario-" + name);
  fs::create_directories(s.root / "usr/lib64");
  fs::copy_file(kElf64, s.root / "usr/lib64/libvgpu-exec.so");
  write(s.root / "usr/local/lib/ollama/cuda_v12/libggml-cuda.so", "x");
  write(s.root / "usr/local/lib/ollama/cuda_v13/libggml-cuda.so", "x");
  fs::create_directories(s.root / "sys/bus/pci/devices");
  parse_unit_environment("[Service]\nEnvironment=OLLAMA_DEBUG=2\n", "/etc/systemd/system/ollama.service.d/debug.conf", s.env);
  s.ctx.env = &s.env;
  s.ctx.facts = {{"lib_ollama", "/usr/local/lib/ollama"}, {"ollama_exe", "/usr/local/bin/ollama"}, {"ollama_version", "0.24.0"},
                 {"era", "B"}, {"shim_dir", "/usr/lib64"}, {"service", "ollama.service"}};
  s.ctx.list_facts = {{"backend_dirs", {"cuda_v12", "cuda_v13"}}};
  s.ctx.sysfs_root = (s.root / "sys").string();
  s.ctx.root = s.root.string();
  return s;
}

RuleSet shipped_rules() {
  auto rules = load_rules(VGPU_RULES_DIR);
  INFO((rules ? "" : rules.error().message));
  REQUIRE(rules);
  return std::move(*rules);
}

std::vector<std::string> ids(const std::vector<Finding>& findings) {
  std::vector<std::string> out;
  for (const Finding& f : findings) out.push_back(f.id);
  return out;
}

const char* kDropIn = "/etc/systemd/system/ollama.service.d/vgpu.conf";

}  // namespace

TEST_CASE("rule_eval: shipped rules, OLLAMA_NUM_GPU set") {
  RuleSet rules = shipped_rules();
  Scenario s = installation("num_gpu");
  parse_unit_environment("[Service]\n# layers\nEnvironment=OLLAMA_NUM_GPU=1\n", kDropIn, s.env);
  auto f = run_rules(rules, s.ctx, "B");
  REQUIRE(ids(f) == std::vector<std::string>{"env.ollama_num_gpu"});
  CHECK(f[0].severity == Severity::warning);
  CHECK(f[0].subject == "OLLAMA_NUM_GPU");
  CHECK(f[0].evidence == std::vector<std::string>{"OLLAMA_NUM_GPU=1 [Environment= in /etc/systemd/system/ollama.service.d/vgpu.conf:3]"});
  CHECK(f[0].fix.rfind("sudo systemctl edit ollama.service  # delete the OLLAMA_NUM_GPU line", 0) == 0);
  // Era A has the rule too.
  CHECK(ids(run_rules(rules, s.ctx, "A")) == std::vector<std::string>{"env.ollama_num_gpu"});
}

TEST_CASE("rule_eval: shipped rules, OLLAMA_LLM_LIBRARY naming no backend directory") {
  RuleSet rules = shipped_rules();
  Scenario s = installation("llm_library");
  parse_unit_environment("[Service]\nEnvironment=OLLAMA_LLM_LIBRARY=cuda_v11\n", kDropIn, s.env);
  auto f = run_rules(rules, s.ctx, "B");
  REQUIRE(ids(f) == std::vector<std::string>{"env.ollama_llm_library.unknown_dir"});
  CHECK(f[0].severity == Severity::error);
  CHECK(f[0].subject == "OLLAMA_LLM_LIBRARY");
  CHECK(f[0].message ==
        "OLLAMA_LLM_LIBRARY=cuda_v11 is not the name of a backend directory in /usr/local/lib/ollama, so Ollama "
        "skips every GPU directory and runs on the CPU");
  CHECK(f[0].evidence == std::vector<std::string>{
                             "OLLAMA_LLM_LIBRARY=cuda_v11 [Environment= in /etc/systemd/system/ollama.service.d/vgpu.conf:2]; "
                             "backend directories: cuda_v12, cuda_v13; the log shows \"skipping available library at "
                             "user's request\" once per directory"});
  CHECK(f[0].fix == "sudo systemctl edit ollama.service  # remove OLLAMA_LLM_LIBRARY, or set it to exactly one of: cuda_v12, cuda_v13");

  // A real directory name, or an mlx_ value (which Ollama ignores), is fine; era A has no such rule.
  parse_unit_environment("[Service]\nEnvironment=OLLAMA_LLM_LIBRARY=cuda_v13\n", kDropIn, s.env);
  CHECK(run_rules(rules, s.ctx, "B").empty());
  parse_unit_environment("[Service]\nEnvironment=OLLAMA_LLM_LIBRARY=mlx_metal\n", kDropIn, s.env);
  CHECK(run_rules(rules, s.ctx, "B").empty());
  parse_unit_environment("[Service]\nEnvironment=OLLAMA_LLM_LIBRARY=cuda_v11\n", kDropIn, s.env);
  CHECK(run_rules(rules, s.ctx, "A").empty());
}

TEST_CASE("rule_eval: shipped rules, LD_PRELOAD naming missing files") {
  RuleSet rules = shipped_rules();
  Scenario s = installation("ld_preload");
  parse_unit_environment("[Service]\nEnvironment=\"LD_PRELOAD=/usr/lib64/libvgpu-exec.so /opt/vgpu/libvgpu-exec.so:/usr/lib/libvgpu-exec.so\"\n",
                         kDropIn, s.env);
  auto f = run_rules(rules, s.ctx, "C");
  REQUIRE(ids(f) == std::vector<std::string>{"env.ld_preload.missing", "env.ld_preload.missing"});
  CHECK(f[0].message == "LD_PRELOAD names /opt/vgpu/libvgpu-exec.so, which does not exist: ld.so ignores it in every process "
                        "and prints an error each time");
  CHECK(f[1].message.rfind("LD_PRELOAD names /usr/lib/libvgpu-exec.so, which does not exist", 0) == 0);
  for (const Finding& x : f) {
    CHECK(x.severity == Severity::error);
    CHECK(x.subject == "LD_PRELOAD");
    CHECK(x.evidence == std::vector<std::string>{"LD_PRELOAD=/usr/lib64/libvgpu-exec.so /opt/vgpu/libvgpu-exec.so:/usr/lib/"
                                                 "libvgpu-exec.so [Environment= in /etc/systemd/system/ollama.service.d/vgpu.conf:2]"});
  }

  // A 32-bit copy is found but refused by ld.so.
  write_elf32(s.root / "usr/lib/libvgpu-exec.so");
  f = run_rules(rules, s.ctx, "C");
  REQUIRE(ids(f) == std::vector<std::string>{"env.ld_preload.missing", "env.ld_preload.not_elf64"});
  CHECK(f[1].message.rfind("LD_PRELOAD names /usr/lib/libvgpu-exec.so, which is not a 64-bit ELF shared object", 0) == 0);
  CHECK(f[1].fix == "sudo systemctl edit ollama.service  # point LD_PRELOAD at the lib64 copy, e.g. /usr/lib64/libvgpu-exec.so");
}

TEST_CASE("rule_eval: shipped rules, a clean installation has no findings") {
  RuleSet rules = shipped_rules();
  Scenario s = installation("clean");
  parse_unit_environment("[Service]\nEnvironment=OLLAMA_HOST=0.0.0.0 LD_PRELOAD=/usr/lib64/libvgpu-exec.so\n"
                         "Environment=PATH=/usr/local/bin:/usr/bin\n",
                         kDropIn, s.env);
  for (const char* era : {"B", "C"}) {
    INFO("era " << era);
    CHECK(ids(run_rules(rules, s.ctx, era)).empty());
  }
  // Without OLLAMA_DEBUG the only finding is the hint on how to see discovery (an info).
  ServiceEnv bare;
  s.ctx.env = &bare;
  auto f = run_rules(rules, s.ctx, "B");
  REQUIRE(ids(f) == std::vector<std::string>{"env.ollama_debug.discovery_hidden"});
  CHECK(f[0].severity == Severity::info);
  CHECK(f[0].evidence == std::vector<std::string>{"OLLAMA_DEBUG is ''; TRACE needs an integer >= 2 (level = -4 x n)"});
}

TEST_CASE("rule_eval: shipped rules, install facts about the shims, the unit and the PCI stub") {
  RuleSet rules = shipped_rules();
  Scenario s = installation("install");
  fs::path lib = s.root / "usr/local/lib/ollama";
  write(s.root / "usr/lib64/libvgpu-cudart.so.13", "shim");
  // An absolute link target would leave the root (the kernel follows it); a relative one stays inside.
  symlink("../../../../lib64/libvgpu-cudart.so.13", lib / "cuda_v13/libcudart.so.13");
  write(s.root / "etc/systemd/system/ollama.service", "[Service]\nEnvironment=\"LD_PRELOAD=/usr/lib64/libvgpu-exec.so\"\n");
  write(s.root / "sys/bus/pci/devices/0000:00:05.0/vendor", "0x10de\n");
  auto f = run_rules(rules, s.ctx, "C");
  REQUIRE(ids(f) == std::vector<std::string>{"install.upgrade_deletes_lib_ollama", "install.installs_nvidia_driver",
                                             "install.unit_rewritten.ld_preload"});
  CHECK(f[0].subject == "/usr/local/lib/ollama/cuda_v13/libcudart.so.13");
  CHECK(f[0].evidence == std::vector<std::string>{"/usr/local/lib/ollama/cuda_v13/libcudart.so.13 -> /usr/lib64/libvgpu-cudart.so.13"});
  CHECK(f[1].subject == "nvidia-smi");
  CHECK(f[1].evidence == std::vector<std::string>{"nvidia-smi not on PATH; 0000:00:05.0 has vendor 0x10de"});
  CHECK(f[2].evidence == std::vector<std::string>{"/etc/systemd/system/ollama.service contains 'LD_PRELOAD'"});
  // nvidia-smi on the service's default PATH: the installer would not touch the driver.
  write(s.root / "usr/bin/nvidia-smi", "#!/bin/sh\n");
  fs::permissions(s.root / "usr/bin/nvidia-smi", fs::perms::owner_all);
  CHECK(ids(run_rules(rules, s.ctx, "C")) ==
        std::vector<std::string>{"install.upgrade_deletes_lib_ollama", "install.unit_rewritten.ld_preload"});
}
