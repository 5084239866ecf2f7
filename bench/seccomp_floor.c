// seccomp_floor CMD [ARGS...]: runs CMD under a one-instruction seccomp filter that allows every call,
// with no tracer. What is left is the kernel's price for a task having any seccomp filter (each system
// call takes the slow entry path): the floor under any tracer that filters, vgpu-trace and
// `strace --seccomp-bpf` alike. bench/trace.sh compiles it with cc.
#define _GNU_SOURCE
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 2) {
    fputs("usage: seccomp_floor CMD [ARGS...]\n", stderr);
    return 2;
  }
  struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog prog = {1, allow};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    perror("seccomp_floor: seccomp");
    return 125;
  }
  execvp(argv[1], argv + 1);
  perror("seccomp_floor: exec");
  return 127;
}
