// exec_fixture MODE PRINTER: starts PRINTER (print_env, which prints its arguments and environment) the
// way MODE says, under LD_PRELOAD=libvgpu-exec.so; exec_hook_test.sh compiles it at test time and
// compares what PRINTER prints with what the hook should have handed it. The environment handed over
// lacks LD_PRELOAD and VGPU_FOO and has the shim dir behind another directory, unless MODE says otherwise.
// The process's own environment (set by the script): PATH, LD_PRELOAD, LD_LIBRARY_PATH=<shim dir>,
// VGPU_FOO=bar.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char* g_printer;
static char g_path_entry[4096];  // "LD_LIBRARY_PATH=/other:<shim dir>"

static void die(const char* what) {
  fprintf(stderr, "exec_fixture: %s: %s\n", what, strerror(errno));
  exit(1);
}

static const char* shim_dir(void) {
  const char* d = getenv("LD_LIBRARY_PATH");
  if (!d) {
    fprintf(stderr, "exec_fixture: LD_LIBRARY_PATH must name the shim dir\n");
    exit(2);
  }
  return d;
}

static const char* base_name(const char* path) {
  const char* slash = strrchr(path, '/');
  return slash ? slash + 1 : path;
}

// Pages mapped in this process (/proc/self/statm, first field), read without stdio or malloc.
static long mapped_pages(void) {
  char buf[128];
  int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) die("open /proc/self/statm");
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) die("read /proc/self/statm");
  buf[n] = '\0';
  return strtol(buf, NULL, 10);
}

static int wait_child(pid_t pid) {
  int status;
  if (waitpid(pid, &status, 0) < 0) die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// An environment whose repair needs more than the hook builds on its stack, so it takes the mmap path:
// LD_LIBRARY_PATH=/xxx...x:<shim dir>, the directory name 40 KiB long (the hook copies only the
// variables it rewrites, so the size has to be in one of those).
static char** big_env(void) {
  static char big[64 * 1024];
  static const char prefix[] = "LD_LIBRARY_PATH=/";
  size_t at = sizeof prefix - 1;
  memcpy(big, prefix, at);
  memset(big + at, 'x', 40 * 1024);
  at += 40 * 1024;
  snprintf(big + at, sizeof big - at, ":%s", shim_dir());
  static char* env[] = {big, "KEEP=1", NULL};
  return env;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: exec_fixture MODE PRINTER\n");
    return 2;
  }
  const char* mode = argv[1];
  g_printer = argv[2];
  snprintf(g_path_entry, sizeof g_path_entry, "LD_LIBRARY_PATH=/other:%s", shim_dir());
  char* env[] = {g_path_entry, "KEEP=1", NULL};
  char* args[] = {(char*)g_printer, "one", "two", NULL};
  char* search_args[] = {(char*)base_name(g_printer), "one", "two", NULL};

  if (strcmp(mode, "execve") == 0) {
    execve(g_printer, args, env);
  } else if (strcmp(mode, "execle") == 0) {
    execle(g_printer, g_printer, "one", "two", (char*)NULL, env);
  } else if (strcmp(mode, "execvpe") == 0) {
    execvpe(base_name(g_printer), search_args, env);
  } else if (strcmp(mode, "fexecve") == 0) {
    int fd = open(g_printer, O_RDONLY | O_CLOEXEC);
    if (fd < 0) die("open printer");
    fexecve(fd, args, env);
  } else if (strcmp(mode, "execveat") == 0) {
    execveat(AT_FDCWD, g_printer, args, env, 0);
  } else if (strcmp(mode, "posix_spawn") == 0 || strcmp(mode, "posix_spawnp") == 0) {
    pid_t pid;
    int r = strcmp(mode, "posix_spawnp") == 0
                ? posix_spawnp(&pid, base_name(g_printer), NULL, NULL, search_args, env)
                : posix_spawn(&pid, g_printer, NULL, NULL, args, env);
    if (r != 0) {
      errno = r;
      die(mode);
    }
    return wait_child(pid);
  } else if (strcmp(mode, "execv-clearenv") == 0) {
    // The program threw its environment away; the vgpu variables still reach the child.
    clearenv();
    setenv("KEEP", "1", 1);
    setenv("LD_LIBRARY_PATH", g_path_entry + strlen("LD_LIBRARY_PATH="), 1);
    execv(g_printer, args);
  } else if (strcmp(mode, "execvp-unsetenv") == 0 || strcmp(mode, "execl-unsetenv") == 0 ||
             strcmp(mode, "execlp-unsetenv") == 0) {
    unsetenv("LD_PRELOAD");
    unsetenv("VGPU_FOO");
    if (strcmp(mode, "execvp-unsetenv") == 0)
      execvp(base_name(g_printer), search_args);
    else if (strcmp(mode, "execlp-unsetenv") == 0)
      execlp(base_name(g_printer), base_name(g_printer), "one", "two", (char*)NULL);
    else
      execl(g_printer, g_printer, "one", "two", (char*)NULL);
  } else if (strcmp(mode, "override") == 0) {
    char* mine[] = {"VGPU_FOO=mine", "KEEP=1", NULL};
    execve(g_printer, args, mine);
  } else if (strcmp(mode, "none-needed") == 0) {
    // Already right: LD_PRELOAD as the process has it, the shim dir first, VGPU_FOO present.
    static char preload[4096], path[4096];
    snprintf(preload, sizeof preload, "LD_PRELOAD=%s", getenv("LD_PRELOAD"));
    snprintf(path, sizeof path, "LD_LIBRARY_PATH=%s:/x", shim_dir());
    char* right[] = {"KEEP=1", preload, "VGPU_FOO=bar", path, NULL};
    execve(g_printer, args, right);
  } else if (strcmp(mode, "big-env") == 0) {
    execve(g_printer, args, big_env());
  } else if (strcmp(mode, "vfork") == 0) {
    // CPython's subprocess starts children this way: a vfork child shares its parent's memory, so
    // whatever the hook maps there and leaves mapped (the exec succeeded) would stay in the parent.
    char* quiet[] = {(char*)g_printer, "--quiet", NULL};
    long before = 0;
    for (int i = 0; i <= 64; i++) {
      if (i == 1) before = mapped_pages();  // after one round: lazy binding and the like are done
      pid_t pid = vfork();
      if (pid < 0) die("vfork");
      if (pid == 0) {
        execve(g_printer, quiet, env);
        _exit(127);
      }
      if (wait_child(pid) != 0) {
        fprintf(stderr, "exec_fixture: vfork child %d failed\n", i);
        return 1;
      }
    }
    long after = mapped_pages();
    printf("vfork: 64 children, mapped pages %s (%ld -> %ld)\n", after == before ? "unchanged" : "GREW",
           before, after);
    return after == before ? 0 : 1;
  } else if (strcmp(mode, "exec-fail") == 0) {
    // A failed exec returns its own errno, and the repair leaves no mapping behind.
    static const char missing[] = "/nonexistent/vgpu-exec-test";
    char* missing_args[] = {(char*)missing, NULL};
    errno = 0;
    int r = execve(missing, missing_args, env);
    printf("execve small env: %d %s\n", r, strerrorname_np(errno));
    long before = mapped_pages();
    for (int i = 0; i < 64; i++) {
      errno = 0;
      r = execve(missing, missing_args, big_env());
      if (r != -1 || errno != ENOENT) break;
    }
    printf("execve big env: %d %s, mapped pages %s\n", r, strerrorname_np(errno),
           mapped_pages() == before ? "unchanged" : "GREW");
    pid_t pid;
    r = posix_spawn(&pid, missing, NULL, NULL, missing_args, env);
    printf("posix_spawn: %s\n", strerrorname_np(r));
    return 0;
  } else {
    fprintf(stderr, "exec_fixture: unknown mode %s\n", mode);
    return 2;
  }
  die(mode);
}
