// The programs vgpu-trace's tests trace (tests/trace/vgpu_trace_test.sh), one mode per argument:
//   chain N            fork, and exec itself with chain N-1, down to 0
//   threads N          N threads each making many cheap system calls and writing one line
//   signal             a handler for SIGUSR1, the signal raised, "handled" printed
//   killed             a child that kills itself with SIGKILL; the parent reports its status
//   exec-thread        a thread that is not the leader execs this program with "hello"
//   vfork              vfork, then exec /bin/true; the parent prints the status
//   dlopen PATH...     dlopen each (RTLD_NOW); dlerror to stderr on failure
//   dlopen-unlink PATH FILE  dlopen PATH, then remove FILE (the file a link PATH points to, say)
//   hello              prints "hello"
//   orphan             forks a child that prints "orphan done" 200 ms later; the parent exits at once
//   vfork-exec MS       a thread vforks a child that waits 2*MS ms and exits (the thread waits in vfork,
//                      where an interrupt does not stop it); MS ms in, the main thread execs this
//                      program with "hello" (the exec ends the vforking thread)
//   leader-exit [MS [PATH [LEADER_MS]]]  the main thread ends (pthread_exit; LEADER_MS ms in, default 0)
//                      while another thread waits MS ms (default 100), dlopens PATH if given and not
//                      empty, prints "thread done", then exits 0
//   die-in-open PATH   makes a FIFO at PATH; a child blocks opening it and is killed with SIGKILL
//   listdir DIR        opens DIR without O_DIRECTORY (as Go's os.ReadDir does), reads it with
//                      getdents64 to the end, rewinds and reads it again, then opens and reads it once
//                      more; prints how many names each read-through had
//   create PATH        creates PATH (O_CREAT | O_EXCL), which must not exist; prints "created"
//   exec-missing PATH  execv(PATH) fails; prints the error, exits 3
//   openat2 PATH       opens PATH with openat2 and leaves it open; prints "opened"
//   int80              getpid through the i386 system-call ABI (int $0x80, also from a 64-bit build);
//                      prints "int80 getpid: same" when it gave this process's pid
//   int80-loop N       N times, 20 ms apart: i386 call 257 through int $0x80 (remap_file_pages of nothing,
//                      EINVAL) with the registers of an x86-64 openat(AT_FDCWD, "/nonexistent/libx.so"),
//                      which a tracer that took it for an x86-64 call would record; then "int80-loop done: N"
//   partials           writes "a" to stdout, "b" to stderr, "c\n" to stdout, "d\ne" to stderr, each one write
//   clone-process      a child made by clone(2) with no exit signal (not a fork: the tracer sees a clone
//                      event, as for a thread), which execs this program with "hello"; prints its status
//   timed-threads N    waits 300 ms (time to attach), then does `threads N` and prints its own
//                      elapsed time, "elapsed_us U" (bench/trace.sh's attach-mode figure)
// Installed as ROOT/bin/ollama (a link), it stands in for an era-B Ollama (0.12.4-0.24):
//   ollama serve       one `ollama runner --ollama-engine` per ROOT/lib/ollama/cuda_v* dir, each with
//                      OLLAMA_LIBRARY_PATH=lib:dir and LD_LIBRARY_PATH=lib:dir:<inherited>, in turn
//   ollama runner ...  runs $VGPU_TEST_RUNNER (ggml-runner) on lib and the dir, as the real runner
//                      loads ggml in-process
//   loop N             N times: fork, exec "hello", wait, sleep 50 ms; then "loop done" (to attach to)
// With VGPU_TEST_ERA=A, `ollama serve` stands in for an era-A Ollama (<= 0.12.3) instead: discovery in
// the server itself, which globs libcuda.so* in ROOT/lib/ollama, then each LD_LIBRARY_PATH dir, then
// $VGPU_TEST_DRIVER_DIR (default /usr/lib/x86_64-linux-gnu), dlopens the real file of the first match and logs "inference compute".
//   dlopen-loop N PATH N times: dlopen PATH, dlclose it, sleep 50 ms; then "dlopen-loop done: K of N"
//   churn N PATH       (to attach to and detach from while it changes) N rounds of 20 ms: a fork whose
//                      child dlopens PATH and exits 0, waited for; all the while four chains of threads,
//                      each making the next, dlopening and dlclosing PATH, then ending. A thread or
//                      child the tracer missed, or left with its breakpoint, dies of SIGTRAP (so does
//                      the process); "churn done: K of N" counts the children that exited 0
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char* self;

static void* worker(void* arg) {
  long n = (long)arg;
  for (int i = 0; i < 20000; ++i) syscall(SYS_getppid);
  printf("thread %ld done\n", n);
  return NULL;
}

// An i386 system call through int $0x80 (from a 64-bit build too): ebx, ecx and edx are 0; esi and edi
// (rsi and rdi, an x86-64 call's first two arguments) are `si` and `di`.
static long int80(long nr, long si, long di) {
#ifdef __x86_64__
  __asm__ volatile("int $0x80" : "+a"(nr) : "b"(0L), "c"(0L), "d"(0L), "S"(si), "D"(di) : "memory", "cc", "r8", "r9", "r10", "r11");
#else
  __asm__ volatile("int $0x80" : "+a"(nr) : "b"(0L), "c"(0L), "d"(0L), "S"(si), "D"(di) : "memory", "cc");
#endif
  return nr;
}

static int late_ms = 100;
static const char* late_lib;
static void* late_thread(void* arg) {
  (void)arg;
  usleep((useconds_t)late_ms * 1000);
  if (late_lib && *late_lib && !dlopen(late_lib, RTLD_NOW)) fprintf(stderr, "%s\n", dlerror());
  puts("thread done");
  fflush(stdout);
  return NULL;  // the last thread: the process exits with status 0
}

// churn's thread chain: each link makes the next (detached), loads and unloads the library, and ends.
static const char* churn_lib;
static volatile int churn_stop;
static pthread_mutex_t churn_dl = PTHREAD_MUTEX_INITIALIZER;  // no fork while a thread is in dlopen
static void* churn_link(void* arg) {
  (void)arg;
  if (churn_stop) return NULL;
  pthread_t next;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_mutex_lock(&churn_dl);
  void* h = dlopen(churn_lib, RTLD_NOW | RTLD_LOCAL);
  if (h) dlclose(h);
  pthread_mutex_unlock(&churn_dl);
  usleep(100);
  if (pthread_create(&next, &attr, churn_link, NULL) != 0) abort();
  return NULL;
}

static int vfork_ms;
static void* vfork_waiter(void* arg) {
  (void)arg;
  if (vfork() == 0) {
    usleep((useconds_t)vfork_ms * 2000);
    _exit(0);
  }
  return NULL;
}

static void* exec_from_thread(void* arg) {
  (void)arg;
  char* argv[] = {self, "hello", NULL};
  execv(self, argv);
  perror("execv");
  exit(126);
}

static volatile sig_atomic_t handled;
static void on_usr1(int sig) { (void)sig; handled = 1; }

typedef int (*cu_int_fn)(unsigned);
typedef int (*cu_count_fn)(int*);
typedef int (*cu_name_fn)(char*, int, int);

// Era A's discovery, as `ollama serve` did it in-process: the first libcuda.so* of the glob dirs.
static int era_a_serve(const char* lib) {
  char dirs[16384];
  const char* llp = getenv("LD_LIBRARY_PATH");
  const char* system = getenv("VGPU_TEST_DRIVER_DIR");  // the distribution's driver dir (a test points it elsewhere)
  snprintf(dirs, sizeof dirs, "%s:%s:%s", lib, llp ? llp : "", system ? system : "/usr/lib/x86_64-linux-gnu");
  char found[8192] = "";
  for (char* save = NULL, *d = strtok_r(dirs, ":", &save); d && !found[0]; d = strtok_r(NULL, ":", &save)) {
    DIR* dir = opendir(d);
    if (!dir) continue;
    for (struct dirent* e; (e = readdir(dir));)
      if (!strncmp(e->d_name, "libcuda.so", 10)) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", d, e->d_name);
        if (realpath(path, found)) break;
      }
    closedir(dir);
  }
  void* h = found[0] ? dlopen(found, RTLD_LAZY) : NULL;
  cu_int_fn init = h ? (cu_int_fn)dlsym(h, "cuInit") : NULL;
  cu_count_fn count = h ? (cu_count_fn)dlsym(h, "cuDeviceGetCount") : NULL;
  cu_name_fn name = h ? (cu_name_fn)dlsym(h, "cuDeviceGetName") : NULL;
  int n = 0;
  char dev[256] = "";
  if (init && count && name && init(0) == 0 && count(&n) == 0 && n > 0 && name(dev, sizeof dev, 0) == 0) {
    fprintf(stderr, "level=INFO source=types.go:131 msg=\"inference compute\" id=GPU-0 library=cuda variant=v12 name=\"%s\"\n", dev);
  } else {
    if (found[0] && !h) fprintf(stderr, "level=DEBUG source=gpu.go:623 msg=\"skipping %s: %s\"\n", found, dlerror());
    fputs("level=INFO source=gpu.go:377 msg=\"no compatible GPUs were discovered\"\n", stderr);
    fputs("level=INFO source=types.go:131 msg=\"inference compute\" id=0 library=cpu variant=\"\" compute=\"\" driver=0.0\n", stderr);
  }
  puts("serve: discovery done");
  return 0;
}

static int ollama(int argc, char** argv) {
  char lib[4096];
  snprintf(lib, sizeof lib, "%s", self);
  char* slash = strrchr(lib, '/');
  if (!slash) return 2;
  snprintf(slash, sizeof lib - (size_t)(slash - lib), "/../lib/ollama");
  const char* era = getenv("VGPU_TEST_ERA");
  if (argc > 1 && !strcmp(argv[1], "serve") && era && !strcmp(era, "A")) return era_a_serve(lib);
  if (argc > 1 && !strcmp(argv[1], "serve")) {
    for (int v = 11; v <= 14; ++v) {
      char dir[4200], olp[8500], llp[16000];
      snprintf(dir, sizeof dir, "%s/cuda_v%d", lib, v);
      if (access(dir, F_OK) != 0) continue;
      const char* inherited = getenv("LD_LIBRARY_PATH");
      snprintf(olp, sizeof olp, "%s:%s", lib, dir);
      snprintf(llp, sizeof llp, "%s:%s%s%s", lib, dir, inherited ? ":" : "", inherited ? inherited : "");
      pid_t pid = fork();
      if (pid == 0) {
        setenv("OLLAMA_LIBRARY_PATH", olp, 1);
        setenv("LD_LIBRARY_PATH", llp, 1);
        char* args[] = {self, "runner", "--ollama-engine", "--port", "0", NULL};
        execv(self, args);
        _exit(127);
      }
      int st = 0;
      waitpid(pid, &st, 0);
    }
    puts("serve: discovery done");
    return 0;
  }
  if (argc > 1 && !strcmp(argv[1], "runner")) {
    const char* runner = getenv("VGPU_TEST_RUNNER");
    const char* olp = getenv("OLLAMA_LIBRARY_PATH");
    if (!runner || !olp || !strchr(olp, ':')) return 2;
    pid_t pid = fork();
    if (pid == 0) {
      char* args[] = {(char*)runner, lib, strrchr(olp, ':') + 1, NULL};
      execv(runner, args);
      _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
  }
  return 2;
}

int main(int argc, char** argv) {
  self = argv[0];
  setvbuf(stdout, NULL, _IONBF, 0);
  const char* base = strrchr(self, '/') ? strrchr(self, '/') + 1 : self;
  if (!strcmp(base, "ollama")) return ollama(argc, argv);
  if (argc < 2) return 2;
  const char* mode = argv[1];
  if (!strcmp(mode, "loop")) {
    int n = argc > 2 ? atoi(argv[2]) : 10, ok = 0;
    for (int i = 0; i < n; ++i) {
      pid_t pid = fork();
      if (pid == 0) {
        char* args[] = {self, "hello", NULL};
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        execv(self, args);
        _exit(127);
      }
      int st = 0;
      waitpid(pid, &st, 0);
      ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
      usleep(50000);
    }
    printf("loop done: %d of %d\n", ok, n);
    return ok == n ? 0 : 1;
  }
  if (!strcmp(mode, "int80-loop")) {
    int n = argc > 2 ? atoi(argv[2]) : 1;
    static const char path[] = "/nonexistent/libx.so";
    for (int i = 0; i < n; ++i) {
      int80(257, (long)path, -100);
      usleep(20000);
    }
    printf("int80-loop done: %d\n", n);
    return 0;
  }
  if (!strcmp(mode, "clone-process")) {
    pid_t pid = (pid_t)syscall(SYS_clone, 0L, NULL, NULL, NULL, 0L);  // no CLONE_VM: a copy, as fork
    if (pid == 0) {
      char* args[] = {self, "hello", NULL};
      execv(self, args);
      _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, __WALL) != pid) return 1;  // __WALL: it sends no SIGCHLD
    printf("clone child exited %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
  }
  if (!strcmp(mode, "partials")) {
    static const struct { int fd; const char* text; } parts[] = {{1, "a"}, {2, "b"}, {1, "c\n"}, {2, "d\ne"}};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; ++i)
      if (write(parts[i].fd, parts[i].text, strlen(parts[i].text)) < 0) return 1;
    return 0;
  }
  if (!strcmp(mode, "int80")) {
    long ret = int80(20, 0, 0);  // i386 __NR_getpid
    printf("int80 getpid: %s\n", ret == getpid() ? "same" : "differs");
    return ret == getpid() ? 0 : 1;
  }
  if (!strcmp(mode, "hello")) {
    puts("hello");
    return 0;
  }
  if (!strcmp(mode, "chain")) {
    int n = argc > 2 ? atoi(argv[2]) : 0;
    printf("chain %d\n", n);
    if (n == 0) return 0;
    pid_t pid = fork();
    if (pid == 0) {
      char buf[16];
      snprintf(buf, sizeof buf, "%d", n - 1);
      char* args[] = {self, "chain", buf, NULL};
      execv(self, args);
      _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) + 1 : 99;
  }
  if (!strcmp(mode, "timed-threads")) {
    int n = argc > 2 ? atoi(argv[2]) : 4;
    if (n > 64) n = 64;
    usleep(300000);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_t t[64];
    for (long i = 0; i < n; ++i) pthread_create(&t[i], NULL, worker, (void*)i);
    for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("elapsed_us %ld\n", (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000);
    return 0;
  }
  if (!strcmp(mode, "threads")) {
    int n = argc > 2 ? atoi(argv[2]) : 4;
    pthread_t t[64];
    if (n > 64) n = 64;
    for (long i = 0; i < n; ++i) pthread_create(&t[i], NULL, worker, (void*)i);
    for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
    puts("threads joined");
    return 0;
  }
  if (!strcmp(mode, "signal")) {
    signal(SIGUSR1, on_usr1);
    raise(SIGUSR1);
    puts(handled ? "handled" : "not handled");
    return handled ? 0 : 1;
  }
  if (!strcmp(mode, "killed")) {
    pid_t pid = fork();
    if (pid == 0) {
      kill(getpid(), SIGKILL);
      _exit(0);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("child killed by signal %d\n", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    kill(getpid(), SIGTERM);  // and this process dies of a signal too
    return 0;
  }
  if (!strcmp(mode, "exec-thread")) {
    pthread_t t;
    pthread_create(&t, NULL, exec_from_thread, NULL);
    pthread_join(t, NULL);
    return 125;  // never reached: the exec replaces every thread
  }
  if (!strcmp(mode, "vfork")) {
    pid_t pid = vfork();
    if (pid == 0) {
      char* args[] = {"/bin/true", NULL};
      execv(args[0], args);
      _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    printf("vfork child exited %d\n", WEXITSTATUS(st));
    return 0;
  }
  if (!strcmp(mode, "orphan")) {
    if (fork() == 0) {
      usleep(200000);
      puts("orphan done");
      return 0;
    }
    puts("parent done");
    return 0;
  }
  if (!strcmp(mode, "vfork-exec") && argc > 2) {
    vfork_ms = atoi(argv[2]);
    pthread_t t;
    if (pthread_create(&t, NULL, vfork_waiter, NULL) != 0) return 2;
    usleep((useconds_t)vfork_ms * 1000);
    char* args[] = {self, "hello", NULL};
    execv(self, args);
    perror("execv");
    return 126;
  }
  if (!strcmp(mode, "leader-exit")) {
    if (argc > 2) late_ms = atoi(argv[2]);
    if (argc > 3) late_lib = argv[3];
    pthread_t t;
    pthread_create(&t, NULL, late_thread, NULL);
    if (argc > 4) usleep((useconds_t)atoi(argv[4]) * 1000);
    pthread_exit(NULL);
  }
  if (!strcmp(mode, "die-in-open") && argc > 2) {
    unlink(argv[2]);
    if (mkfifo(argv[2], 0600) != 0) return 1;
    pid_t pid = fork();
    if (pid == 0) {
      open(argv[2], O_RDONLY);  // blocks: no writer
      _exit(0);
    }
    // Kill it only once it blocks in the open (openat is 257), however slow a loaded machine is.
    char path[64], buf[32] = "";
    snprintf(path, sizeof path, "/proc/%d/syscall", (int)pid);
    for (int i = 0; i < 1000 && strncmp(buf, "257 ", 4) != 0; ++i) {
      usleep(10000);
      FILE* f = fopen(path, "r");
      if (f) {
        if (!fgets(buf, sizeof buf, f)) buf[0] = 0;
        fclose(f);
      }
    }
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    unlink(argv[2]);
    printf("child %s in open\n", WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? "killed" : "not killed");
    return 0;
  }
  if (!strcmp(mode, "listdir") && argc > 2) {
    int names[3] = {0, 0, 0};
    char buf[4096];
    for (int pass = 0, fd = -1; pass < 3; ++pass) {
      if (pass != 1) fd = open(argv[2], O_RDONLY | O_CLOEXEC);  // the second pass: a rewind instead
      else lseek(fd, 0, SEEK_SET);
      if (fd < 0) return 1;
      for (long n; (n = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0;)
        for (long off = 0; off < n;) {
          unsigned short reclen;
          memcpy(&reclen, buf + off + 16, 2);
          const char* name = buf + off + 19;
          names[pass] += strcmp(name, ".") && strcmp(name, "..");
          off += reclen;
        }
      if (pass != 0) close(fd);
    }
    printf("%d names, %d after a rewind, %d on a new descriptor\n", names[0], names[1], names[2]);
    return 0;
  }
  if (!strcmp(mode, "create") && argc > 2) {
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) return 1;
    close(fd);
    puts("created");
    return 0;
  }
  if (!strcmp(mode, "exec-missing") && argc > 2) {
    char* args[] = {argv[2], NULL};
    execv(argv[2], args);
    printf("exec failed: %s\n", strerror(errno));
    return 3;
  }
  if (!strcmp(mode, "openat2") && argc > 2) {
    struct { unsigned long long flags, mode, resolve; } how = {O_RDONLY | O_CLOEXEC, 0, 0};
    long fd = syscall(SYS_openat2, AT_FDCWD, argv[2], &how, sizeof how);
    puts(fd >= 0 ? "opened" : "openat2 failed");
    return fd >= 0 ? 0 : 1;
  }
  if (!strcmp(mode, "dlopen-loop")) {
    int n = argc > 2 ? atoi(argv[2]) : 10, ok = 0;
    for (int i = 0; i < n && argc > 3; ++i) {
      void* h = dlopen(argv[3], RTLD_NOW | RTLD_LOCAL);
      if (h) ok += dlclose(h) == 0;
      usleep(50000);
    }
    printf("dlopen-loop done: %d of %d\n", ok, n);
    return ok == n ? 0 : 1;
  }
  if (!strcmp(mode, "churn") && argc > 3) {
    int n = atoi(argv[2]), ok = 0;
    churn_lib = argv[3];
    for (int c = 0; c < 4; ++c) {  // four chains
      pthread_t first;
      if (pthread_create(&first, NULL, churn_link, NULL) != 0) return 2;
      pthread_detach(first);
    }
    for (int i = 0; i < n; ++i) {
      pthread_mutex_lock(&churn_dl);  // (a child forked while ld.so's lock is held would hang)
      pid_t pid = fork();
      if (pid == 0) _exit(dlopen(churn_lib, RTLD_NOW | RTLD_LOCAL) ? 0 : 1);
      pthread_mutex_unlock(&churn_dl);
      int status = 0;
      if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0) ++ok;
      usleep(20000);
    }
    churn_stop = 1;
    printf("churn done: %d of %d\n", ok, n);
    return ok == n ? 0 : 1;
  }
  if (!strcmp(mode, "dlopen-unlink") && argc == 4) {
    void* h = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);
    if (!h) return fprintf(stderr, "dlopen failed: %s\n", dlerror()), 1;
    if (unlink(argv[3]) != 0) return perror("unlink"), 1;
    printf("loaded %s, removed %s\n", argv[2], argv[3]);
    return 0;
  }
  if (!strcmp(mode, "dlopen")) {
    int failed = 0;
    for (int i = 2; i < argc; ++i) {
      void* h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
      if (h) printf("loaded %s\n", argv[i]);
      else fprintf(stderr, "dlopen failed: %s\n", dlerror()), ++failed;
    }
    return failed;
  }
  return 2;
}
