/* hot_query SHIM_DIR: the cost of hot runtime queries through vgpu's shims, in ns per call, next to an
 * empty call through a function pointer (the floor any shared-library call has).
 * Needs a stub device: run it via bench/discovery.sh, which sets VGPU_SYSFS_ROOT. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int empty(int* x) { return *x = 0; }

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: hot_query SHIM_DIR\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/libvgpu-cuda.so", argv[1]);
  if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL)) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  snprintf(path, sizeof path, "%s/libvgpu-cudart.so.13", argv[1]);
  void* rt = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!rt) { fprintf(stderr, "%s\n", dlerror()); return 1; }
  int (*get_device)(int*) = (int (*)(int*))dlsym(rt, "cudaGetDevice");
  int (*get_attr)(int*, int, int) = (int (*)(int*, int, int))dlsym(rt, "cudaDeviceGetAttribute");
  int (*mem_info)(size_t*, size_t*) = (int (*)(size_t*, size_t*))dlsym(rt, "cudaMemGetInfo");
  int (*volatile floor_fn)(int*) = empty;
  int d = 0, v = 0;
  size_t f = 0, t = 0;
  if (get_device(&d) || get_attr(&v, 16, 0) || mem_info(&f, &t)) {
    fprintf(stderr, "hot_query: the runtime reports no device (is VGPU_SYSFS_ROOT set?)\n");
    return 1;
  }
  const long n = 2000000;
  struct { const char* name; double ns; } r[4];
  double t0 = now_ns();
  for (long i = 0; i < n; ++i) floor_fn(&d);
  r[0].name = "empty call", r[0].ns = (now_ns() - t0) / n;
  t0 = now_ns();
  for (long i = 0; i < n; ++i) get_device(&d);
  r[1].name = "cudaGetDevice", r[1].ns = (now_ns() - t0) / n;
  t0 = now_ns();
  for (long i = 0; i < n; ++i) get_attr(&v, 16, 0);
  r[2].name = "cudaDeviceGetAttribute(MULTIPROCESSOR_COUNT)", r[2].ns = (now_ns() - t0) / n;
  t0 = now_ns();
  for (long i = 0; i < n / 10; ++i) mem_info(&f, &t);
  r[3].name = "cudaMemGetInfo", r[3].ns = (now_ns() - t0) / (n / 10);
  for (int i = 0; i < 4; ++i) printf("  %-46s %8.1f ns/call\n", r[i].name, r[i].ns);
  return 0;
}
