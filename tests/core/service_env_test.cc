// core/service_env: the environment systemd gives a service, and where each variable came from.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "service_env.h"

using namespace vgpu;
namespace fs = std::filesystem;

TEST_CASE("service_env: Environment= quoting, escapes, %% and resets, as systemd.exec(5) defines them") {
  std::vector<std::string> w;
  REQUIRE(split_environment_value(R"(A=1 "B=two words" 'C=it''s' D=\"x\" E=100%%)", w));
  REQUIRE(w.size() == 5);
  CHECK(w[0] == "A=1");
  CHECK(w[1] == "B=two words");
  CHECK(w[2] == "C=its");
  CHECK(w[3] == "D=\"x\"");
  CHECK(w[4] == "E=100%");
  std::vector<std::string> bad;
  CHECK_FALSE(split_environment_value(R"("A=unterminated)", bad));

  ServiceEnv env;
  parse_unit_environment("[Unit]\nEnvironment=IGNORED=1\n[Service]\nEnvironment=\"LD_PRELOAD=/usr/lib64/libvgpu-exec.so\"\n"
                         "Environment=OLLAMA_NUM_GPU=1 OLLAMA_DEBUG=1\nEnvironment=OLLAMA_DEBUG=2\n"
                         "EnvironmentFile=-/etc/default/ollama\nEnvironment=9BAD=x\n",
                         "/etc/systemd/system/ollama.service.d/vgpu.conf", env);
  CHECK_FALSE(env.find("IGNORED"));
  REQUIRE(env.find("LD_PRELOAD"));
  CHECK(env.find("LD_PRELOAD")->origin == "Environment= in /etc/systemd/system/ollama.service.d/vgpu.conf:4");
  CHECK(env.find("OLLAMA_DEBUG")->value == "2");  // later assignments win
  CHECK(env.env_files == std::vector<std::string>{"-/etc/default/ollama"});
  REQUIRE(env.problems.size() == 1);
  CHECK(env.problems[0].find(":8: '9BAD=x' is not NAME=VALUE") != std::string::npos);
  parse_unit_environment("[Service]\nEnvironment=\n", "reset.conf", env);
  CHECK_FALSE(env.find("OLLAMA_NUM_GPU"));  // an empty Environment= clears the list
}

TEST_CASE("service_env: drop-ins in name order, then their EnvironmentFile=; env files; /proc/PID/environ") {
  fs::path d = fs::path(VGPU_TEST_TMP) / "service_env";
  fs::remove_all(d);
  fs::create_directories(d / "ollama.service.d");
  std::ofstream(d / "ollama.service") << "[Service]\nEnvironment=\"PATH=/usr/bin\"\n";
  std::ofstream(d / "ollama.service.d/20-vgpu.conf") << "[Service]\nEnvironment=OLLAMA_LLM_LIBRARY=cuda_v12\n"
                                                       << "EnvironmentFile=" << (d / "vgpu.env").string() << "\n"
                                                       << "EnvironmentFile=-" << (d / "missing.env").string() << "\n";
  std::ofstream(d / "ollama.service.d/10-base.conf") << "[Service]\nEnvironment=OLLAMA_LLM_LIBRARY=cpu\n";
  std::ofstream(d / "ollama.service.d/README") << "not a drop-in\n";
  std::ofstream(d / "vgpu.env") << "# comment\nexport VGPU_LOG=info\nLD_LIBRARY_PATH=\"/usr/lib64:/opt/x\"\nbroken line\n";
  auto env = read_service_env((d / "ollama.service").string(), (d / "ollama.service.d").string());
  REQUIRE(env.ok());
  CHECK(env->find("OLLAMA_LLM_LIBRARY")->value == "cuda_v12");  // 20- after 10-
  CHECK(env->find("VGPU_LOG")->value == "info");
  CHECK(env->find("LD_LIBRARY_PATH")->value == "/usr/lib64:/opt/x");
  CHECK(env->find("LD_LIBRARY_PATH")->origin.find("vgpu.env:3") != std::string::npos);
  CHECK(env->find("PATH")->origin.find("ollama.service:2") != std::string::npos);
  REQUIRE(env->problems.size() == 1);  // the '-' file may be missing; the broken line is reported
  CHECK(env->problems[0].find("vgpu.env:4: not NAME=VALUE") != std::string::npos);

  auto file = read_env_source((d / "vgpu.env").string());
  REQUIRE(file.ok());
  CHECK(file->find("VGPU_LOG"));
  auto dropin = read_env_source((d / "ollama.service.d/20-vgpu.conf").string());
  REQUIRE(dropin.ok());
  CHECK(dropin->find("OLLAMA_LLM_LIBRARY")->origin.rfind("Environment= in ", 0) == 0);
  CHECK_FALSE(read_env_source((d / "nope").string()).ok());

  // /proc/PID/environ holds the environment a process was started with: start one with a known one.
  pid_t child = fork();
  if (child == 0) {
    char arg0[] = "sleep", arg1[] = "30", var[] = "VGPU_SERVICE_ENV_TEST=yes";
    char* argv[] = {arg0, arg1, nullptr};
    char* envp[] = {var, nullptr};
    execve("/bin/sleep", argv, envp);
    _exit(127);
  }
  Result<ServiceEnv> other = Error{"not read"};
  for (int i = 0; i < 200; ++i) {  // until the exec has happened
    other = read_process_env(static_cast<int>(child));
    if (other.ok() && other->find("VGPU_SERVICE_ENV_TEST")) break;
    usleep(10000);
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  REQUIRE(other.ok());
  REQUIRE(other->find("VGPU_SERVICE_ENV_TEST"));
  CHECK(other->find("VGPU_SERVICE_ENV_TEST")->value == "yes");
  CHECK(other->find("VGPU_SERVICE_ENV_TEST")->origin == "/proc/" + std::to_string(child) + "/environ");
  CHECK_FALSE(read_process_env(999999999).ok());
}
