// core/tool_paths: where a report goes.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "tool_paths.h"

using namespace vgpu;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/vgpu-tool-paths.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("write_report: a new file, then a shorter and a longer report over it, in place") {
  TempDir dir;
  std::string file = dir.path + "/report.txt";
  std::string long_report(20000, 'x'), short_report = "short report\n";
  REQUIRE(write_report(long_report, file, stderr));
  CHECK(slurp(file) == long_report);
  struct stat before {};
  REQUIRE(stat(file.c_str(), &before) == 0);

  REQUIRE(write_report(short_report, file, stderr));
  CHECK(slurp(file) == short_report);  // nothing of the longer one left behind
  struct stat after {};
  REQUIRE(stat(file.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);
  CHECK(after.st_size == static_cast<off_t>(short_report.size()));

  REQUIRE(write_report(long_report + "end\n", file, stderr));
  CHECK(slurp(file) == long_report + "end\n");
  REQUIRE(write_report("", file, stderr));
  CHECK(slurp(file).empty());
}

TEST_CASE("write_report: a device takes the report; a path that cannot be written is an error") {
  TempDir dir;
  CHECK(write_report("to nowhere\n", "/dev/null", stderr));
  CHECK_FALSE(write_report("x\n", dir.path + "/no/such/dir/report.txt", stderr));
  CHECK_FALSE(write_report("x\n", dir.path, stderr));  // a directory
  CHECK_FALSE(std::filesystem::exists(dir.path + "/no"));
}

TEST_CASE("write_report: a write that fails part way leaves what it wrote, none of the old report") {
  TempDir dir;
  std::string file = dir.path + "/report.txt";
  REQUIRE(write_report(std::string(20000, 'x'), file, stderr));
  // In a child: files may grow to 8 KiB only (EFBIG after that, SIGXFSZ ignored).
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit small {8192, 8192};
    bool ok = setrlimit(RLIMIT_FSIZE, &small) == 0 && !write_report(std::string(20000, 'y'), file, stderr);
    _exit(ok ? 0 : 1);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);  // the failure was reported
  std::string left = slurp(file);
  CHECK(left.size() <= 8192);
  CHECK(left.find('x') == std::string::npos);
}

TEST_CASE("find_on_path: the first executable regular file of the name, as execvp finds it") {
  TempDir dir;
  for (const char* d : {"/a", "/b", "/c", "/d"}) std::filesystem::create_directory(dir.path + d);
  std::filesystem::create_directory(dir.path + "/a/prog");  // a directory of that name
  { std::ofstream(dir.path + "/b/prog") << "#!/bin/sh\n"; }  // not executable
  for (const char* f : {"/c/prog", "/d/prog"}) {
    { std::ofstream(dir.path + f) << "#!/bin/sh\n"; }
    std::filesystem::permissions(dir.path + f, std::filesystem::perms::owner_all);
  }
  const char* old = getenv("PATH");
  std::string saved = old ? old : "";
  setenv("PATH", (dir.path + "/none:" + dir.path + "/a:" + dir.path + "/b:" + dir.path + "/c:" + dir.path + "/d").c_str(), 1);
  CHECK(find_on_path("prog") == dir.path + "/c/prog");
  CHECK(find_on_path("nothere").empty());
  CHECK(find_on_path("c/prog").empty());  // a name with a slash is no search
  unsetenv("PATH");
  CHECK(find_on_path("prog", dir.path + "/d") == dir.path + "/d/prog");  // PATH unset: the default given
  if (old) setenv("PATH", saved.c_str(), 1);
}
