// Unit tests of the exec hook's pure half (shims/exec/exec_hook.h): what it records from the initial
// environment, and how it repairs the environment handed to exec and posix_spawn.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "exec_hook.h"

namespace {

// An environment as exec takes it: owned strings, a NULL-terminated pointer array over them.
class Env {
 public:
  Env(std::initializer_list<std::string> entries = {}) : strings_(entries) {
    for (auto& s : strings_) pointers_.push_back(s.data());
    pointers_.push_back(nullptr);
  }
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;
  char* const* envp() const { return pointers_.data(); }
  std::string& operator[](size_t i) { return strings_[i]; }

 private:
  std::vector<std::string> strings_;
  std::vector<char*> pointers_;
};

std::vector<std::string> to_vector(char* const* envp) {
  std::vector<std::string> out;
  for (; *envp; envp++) out.emplace_back(*envp);
  return out;
}

std::vector<std::string> to_vector(const char* const* items, size_t n) { return {items, items + n}; }

struct Recorded {
  std::vector<void*> buf;
  vgpu_exec_recorded rec{};
};

Recorded record(const Env& env, const char* self_path, const char* self_dir) {
  Recorded r;
  vgpu_exec_recorded probe{};
  size_t need = vgpu_exec_record(env.envp(), self_path, self_dir, nullptr, 0, &probe);
  r.buf.resize(need / sizeof(void*) + 1);
  REQUIRE(vgpu_exec_record(env.envp(), self_path, self_dir, r.buf.data(), need, &r.rec) == need);
  return r;
}

// The recorded state of a process started with LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so, VGPU_FOO=bar.
const char* const kPreload[] = {"/opt/a.so", "/shim/libvgpu-exec.so"};
const char* const kVars[] = {"VGPU_FOO=bar", "VGPU_LOG=info"};
const vgpu_exec_recorded kRec = {kPreload, 2, "/shim", kVars, 2, 0, 0, nullptr};

struct Repaired {
  size_t need = 0;
  std::vector<void*> buf;
  vgpu_exec_changes changes{};
  std::vector<std::string> env;  // the output, or the input when nothing needed repair
};

Repaired repair(char* const* envp, const vgpu_exec_recorded& rec = kRec) {
  Repaired r;
  r.need = vgpu_exec_repair_env(envp, &rec, nullptr, 0, &r.changes);
  if (r.need == 0) {
    if (envp) r.env = to_vector(envp);
    return r;
  }
  r.buf.resize(r.need / sizeof(void*) + 1);
  REQUIRE(vgpu_exec_repair_env(envp, &rec, r.buf.data(), r.need, &r.changes) == r.need);
  r.env = to_vector(reinterpret_cast<char* const*>(r.buf.data()));
  return r;
}

using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("record: LD_PRELOAD entries split on spaces and colons, duplicates dropped, the hook listed once") {
  Env env{"PATH=/bin", "LD_PRELOAD=/opt/a.so  /shim/libvgpu-exec.so:/opt/a.so::/opt/b.so"};
  auto r = record(env, "/shim/libvgpu-exec.so", "/shim");
  CHECK(to_vector(r.rec.preload, r.rec.n_preload) ==
        Strings{"/opt/a.so", "/shim/libvgpu-exec.so", "/opt/b.so"});
  CHECK(std::string(r.rec.shim_dir) == "/shim");
}

TEST_CASE("record: a bare file name in LD_PRELOAD is the hook when the loader found it under that name") {
  Env env{"LD_PRELOAD=libvgpu-exec.so"};
  auto r = record(env, "/usr/lib64/libvgpu-exec.so", "/usr/lib64");
  CHECK(to_vector(r.rec.preload, r.rec.n_preload) == Strings{"libvgpu-exec.so"});
  Env other_dir{"LD_PRELOAD=/elsewhere/libvgpu-exec.so"};
  auto r2 = record(other_dir, "/usr/lib64/libvgpu-exec.so", "/usr/lib64");
  CHECK(to_vector(r2.rec.preload, r2.rec.n_preload) ==
        Strings{"/elsewhere/libvgpu-exec.so", "/usr/lib64/libvgpu-exec.so"});
}

TEST_CASE("record: loaded without LD_PRELOAD (/etc/ld.so.preload), the hook's own path is the entry") {
  Env env{"HOME=/root"};
  auto r = record(env, "/usr/lib64/libvgpu-exec.so", "/usr/lib64");
  CHECK(to_vector(r.rec.preload, r.rec.n_preload) == Strings{"/usr/lib64/libvgpu-exec.so"});
  auto none = record(env, nullptr, nullptr);
  CHECK(none.rec.n_preload == 0);
  CHECK(none.rec.shim_dir == nullptr);
  auto empty_env = record(Env{}, "/x/libvgpu-exec.so", "/x");
  CHECK(empty_env.rec.n_preload == 1);
}

TEST_CASE("record: the last LD_PRELOAD is the one ld.so used") {
  Env env{"LD_PRELOAD=/first.so", "LD_PRELOAD=/second.so /h/libvgpu-exec.so"};
  auto r = record(env, "/h/libvgpu-exec.so", "/h");
  CHECK(to_vector(r.rec.preload, r.rec.n_preload) == Strings{"/second.so", "/h/libvgpu-exec.so"});
}

TEST_CASE("record: VGPU_SHIM_DIR names the shim directory unless empty") {
  auto set = record(Env{"VGPU_SHIM_DIR=/opt/vgpu/lib"}, "/h/x.so", "/h");
  CHECK(std::string(set.rec.shim_dir) == "/opt/vgpu/lib");
  CHECK(std::string(record(Env{"VGPU_SHIM_DIR="}, "/h/x.so", "/h").rec.shim_dir) == "/h");
}

TEST_CASE("record: every VGPU_* variable once, the first of each name, VGPU_EXEC_DISABLE left out") {
  Env env{"VGPU_FOO=bar", "PATH=/bin", "XVGPU_NOT=1", "VGPU=no", "VGPU_EXEC_DISABLE=1",
          "VGPU_FOO=second", "VGPU_EMPTY=", "VGPU_FOOBAR=x"};
  auto r = record(env, "/h/x.so", "/h");
  CHECK(to_vector(r.rec.vars, r.rec.n_vars) == Strings{"VGPU_FOO=bar", "VGPU_EMPTY=", "VGPU_FOOBAR=x"});
}

TEST_CASE("record: copies every string, so later changes to the environment do not reach it") {
  Env env{"LD_PRELOAD=/h/x.so", "VGPU_FOO=bar", "VGPU_SHIM_DIR=/s"};
  auto r = record(env, "/h/x.so", "/h");
  std::memset(env[0].data(), 'z', env[0].size());
  std::memset(env[1].data(), 'z', env[1].size());
  std::memset(env[2].data(), 'z', env[2].size());
  CHECK(std::string(r.rec.preload[0]) == "/h/x.so");
  CHECK(std::string(r.rec.vars[0]) == "VGPU_FOO=bar");
  CHECK(std::string(r.rec.shim_dir) == "/s");
}

TEST_CASE("record: VGPU_LOG info or debug turns logging on; VGPU_LOG_FILE names the file") {
  auto info = record(Env{"VGPU_LOG=info", "VGPU_LOG_FILE=/tmp/l"}, "/h/x.so", "/h");
  CHECK(info.rec.log_enabled);
  CHECK_FALSE(info.rec.log_debug);
  CHECK(std::string(info.rec.log_file) == "/tmp/l");
  auto debug = record(Env{"VGPU_LOG=debug"}, "/h/x.so", "/h");
  CHECK(debug.rec.log_enabled);
  CHECK(debug.rec.log_debug);
  CHECK(debug.rec.log_file == nullptr);
  for (const char* quiet : {"VGPU_LOG=warn", "VGPU_LOG=error", "VGPU_LOG=", "VGPU_LOG=INFO"}) {
    auto r = record(Env{quiet}, "/h/x.so", "/h");
    CHECK_FALSE(r.rec.log_enabled);
  }
}

TEST_CASE("record: a buffer too small is left alone; the size returned is enough") {
  Env env{"LD_PRELOAD=/a.so", "VGPU_FOO=bar"};
  vgpu_exec_recorded out{};
  size_t need = vgpu_exec_record(env.envp(), "/h/x.so", "/h", nullptr, 0, &out);
  std::vector<unsigned char> small(need - 1, 0xaa);
  CHECK(vgpu_exec_record(env.envp(), "/h/x.so", "/h", small.data(), small.size(), &out) == need);
  CHECK(out.preload == nullptr);
  CHECK(std::all_of(small.begin(), small.end(), [](unsigned char c) { return c == 0xaa; }));
}

TEST_CASE("repair: an environment that is already right needs nothing") {
  Env env{"A=1", "LD_PRELOAD=/opt/a.so /shim/libvgpu-exec.so", "LD_LIBRARY_PATH=/shim:/x",
          "VGPU_FOO=bar", "VGPU_LOG=info"};
  vgpu_exec_changes ch{};
  CHECK(vgpu_exec_repair_env(env.envp(), &kRec, nullptr, 0, &ch) == 0);
  CHECK(ch.vars_added == 0);
  // Extra entries of the caller's own, duplicates and a trailing slash on the shim dir are all fine.
  Env extra{"LD_PRELOAD=/z.so:/shim/libvgpu-exec.so:/opt/a.so:/z.so", "LD_LIBRARY_PATH=/shim/;/x:/shim",
            "VGPU_FOO=bar", "VGPU_LOG=info"};
  CHECK(vgpu_exec_repair_env(extra.envp(), &kRec, nullptr, 0, &ch) == 0);
}

TEST_CASE("repair: an empty or NULL environment gets everything") {
  const Strings expected{"LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so", "LD_LIBRARY_PATH=/shim",
                         "VGPU_FOO=bar", "VGPU_LOG=info"};
  CHECK(repair(nullptr).env == expected);
  Env empty{};
  auto r = repair(empty.envp());
  CHECK(r.env == expected);
  CHECK(r.changes.old_preload == nullptr);
  CHECK(r.changes.old_library_path == nullptr);
  CHECK(std::string(r.changes.new_preload) == expected[0]);
  CHECK(std::string(r.changes.new_library_path) == expected[1]);
  CHECK(r.changes.vars_added == 2);
}

TEST_CASE("repair: LD_PRELOAD keeps the caller's entries and order, appends the missing, drops duplicates") {
  Env env{"LD_PRELOAD=/mine.so /opt/a.so:/mine.so", "LD_LIBRARY_PATH=/shim", "VGPU_FOO=bar", "VGPU_LOG=info"};
  auto r = repair(env.envp());
  CHECK(r.env == Strings{"LD_PRELOAD=/mine.so:/opt/a.so:/shim/libvgpu-exec.so", "LD_LIBRARY_PATH=/shim",
                         "VGPU_FOO=bar", "VGPU_LOG=info"});
  CHECK(r.changes.new_library_path == nullptr);
  CHECK(r.changes.vars_added == 0);
  Env blank{"LD_PRELOAD=", "LD_LIBRARY_PATH=/shim", "VGPU_FOO=bar", "VGPU_LOG=info"};
  CHECK(repair(blank.envp()).env[0] == "LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so");
}

TEST_CASE("repair: LD_LIBRARY_PATH gets the shim dir first, the rest in order") {
  auto path_of = [](const char* value) {
    Env env{"LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so", value, "VGPU_FOO=bar", "VGPU_LOG=info"};
    auto r = repair(env.envp());
    return r.env[1];
  };
  // Ollama's runner environment: its bundled CUDA directory first.
  CHECK(path_of("LD_LIBRARY_PATH=/usr/lib/ollama/cuda_v12:/shim") ==
        "LD_LIBRARY_PATH=/shim:/usr/lib/ollama/cuda_v12");
  CHECK(path_of("LD_LIBRARY_PATH=/a:/shim/:/b;/shim:/c") == "LD_LIBRARY_PATH=/shim:/a:/b:/c");
  CHECK(path_of("LD_LIBRARY_PATH=/a") == "LD_LIBRARY_PATH=/shim:/a");
  CHECK(path_of("LD_LIBRARY_PATH=") == "LD_LIBRARY_PATH=/shim");
  // Empty entries mean the working directory to ld.so: they stay.
  CHECK(path_of("LD_LIBRARY_PATH=/a::/shim") == "LD_LIBRARY_PATH=/shim:/a:");
  CHECK(path_of("LD_LIBRARY_PATH=:/shim") == "LD_LIBRARY_PATH=/shim:");
  CHECK(path_of("LD_LIBRARY_PATH=/shimmer:/shim") == "LD_LIBRARY_PATH=/shim:/shimmer");
}

TEST_CASE("repair: only missing VGPU_* variables are added; a value the caller set wins") {
  Env env{"VGPU_FOO=changed-by-caller", "LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so",
          "LD_LIBRARY_PATH=/shim"};
  auto r = repair(env.envp());
  CHECK(r.env == Strings{"VGPU_FOO=changed-by-caller", "LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so",
                         "LD_LIBRARY_PATH=/shim", "VGPU_LOG=info"});
  CHECK(r.changes.vars_added == 1);
  CHECK(r.changes.new_preload == nullptr);
}

TEST_CASE("repair: other entries keep their place and their very strings; replaced ones stay in place") {
  Env env{"A=1", "LD_LIBRARY_PATH=/x:/shim", "B=2", "LD_PRELOAD=/mine.so", "C=3"};
  auto r = repair(env.envp());
  CHECK(r.env == Strings{"A=1", "LD_LIBRARY_PATH=/shim:/x", "B=2",
                         "LD_PRELOAD=/mine.so:/opt/a.so:/shim/libvgpu-exec.so", "C=3", "VGPU_FOO=bar",
                         "VGPU_LOG=info"});
  auto out = reinterpret_cast<char* const*>(r.buf.data());
  CHECK(out[0] == env.envp()[0]);
  CHECK(out[2] == env.envp()[2]);
  CHECK(out[4] == env.envp()[4]);
  CHECK(out[5] == kVars[0]);
  CHECK(std::string(r.changes.old_preload) == "LD_PRELOAD=/mine.so");
  CHECK(std::string(r.changes.old_library_path) == "LD_LIBRARY_PATH=/x:/shim");
  CHECK(r.changes.new_preload == out[3]);
  CHECK(r.changes.new_library_path == out[1]);
}

TEST_CASE("repair: of two LD_PRELOAD entries the last, which ld.so uses, is repaired") {
  Env env{"LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so", "LD_LIBRARY_PATH=/shim", "LD_PRELOAD=/mine.so",
          "VGPU_FOO=bar", "VGPU_LOG=info"};
  auto r = repair(env.envp());
  CHECK(r.env == Strings{"LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so", "LD_LIBRARY_PATH=/shim",
                         "LD_PRELOAD=/mine.so:/opt/a.so:/shim/libvgpu-exec.so", "VGPU_FOO=bar",
                         "VGPU_LOG=info"});
}

TEST_CASE("repair: without a shim dir LD_LIBRARY_PATH is left alone") {
  vgpu_exec_recorded rec = kRec;
  rec.shim_dir = nullptr;
  Env env{"LD_LIBRARY_PATH=/x", "LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so", "VGPU_FOO=bar",
          "VGPU_LOG=info"};
  vgpu_exec_changes ch{};
  CHECK(vgpu_exec_repair_env(env.envp(), &rec, nullptr, 0, &ch) == 0);
}

TEST_CASE("repair: a buffer too small is left alone; the exact size returned is enough") {
  Env env{"A=1"};
  vgpu_exec_changes ch{};
  size_t need = vgpu_exec_repair_env(env.envp(), &kRec, nullptr, 0, &ch);
  REQUIRE(need > 0);
  CHECK(ch.new_preload == nullptr);
  std::vector<void*> buf(need / sizeof(void*) + 1, reinterpret_cast<void*>(0x1));
  CHECK(vgpu_exec_repair_env(env.envp(), &kRec, buf.data(), need - 1, &ch) == need);
  CHECK(std::all_of(buf.begin(), buf.end(), [](void* p) { return p == reinterpret_cast<void*>(0x1); }));
  CHECK(vgpu_exec_repair_env(env.envp(), &kRec, buf.data(), need, &ch) == need);
  CHECK(to_vector(reinterpret_cast<char* const*>(buf.data())) ==
        Strings{"A=1", "LD_PRELOAD=/opt/a.so:/shim/libvgpu-exec.so", "LD_LIBRARY_PATH=/shim", "VGPU_FOO=bar",
                "VGPU_LOG=info"});
}
