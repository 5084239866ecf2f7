/* ggml_runner: does what an Ollama runner does at discovery, with a real ggml build.
 *
 *   ggml_runner LIBDIR [BACKEND-DIR...]
 *
 * Loads LIBDIR/libggml-base.so and LIBDIR/libggml.so (RTLD_GLOBAL, as Ollama's native code links them),
 * calls ggml_backend_load_all_from_path() on LIBDIR and on each BACKEND-DIR in order (Ollama era B:
 * one call per OLLAMA_LIBRARY_PATH entry), then prints every device ggml registered:
 *   device <i>: <name> | <description> | type <cpu|gpu|igpu|accel> | <total MiB> MiB total, <free MiB> MiB free
 * and last "devices: <n> (gpu: <g>)". Exit 0 on success, 1 if ggml could not be loaded.
 * Plain C and dlsym only, so it needs no ggml headers and runs against any ggml release. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void* dev_t_;

static void* must(void* handle, const char* name) {
  void* p = dlsym(handle, name);
  if (!p) {
    fprintf(stderr, "ggml_runner: %s not found: %s\n", name, dlerror());
    exit(1);
  }
  return p;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: ggml_runner LIBDIR [BACKEND-DIR...]\n");
    return 2;
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/libggml-base.so", argv[1]);
  void* base = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!base) {
    fprintf(stderr, "ggml_runner: %s\n", dlerror());
    return 1;
  }
  snprintf(path, sizeof path, "%s/libggml.so", argv[1]);
  void* ggml = dlopen(path, RTLD_NOW | RTLD_GLOBAL);
  if (!ggml) {
    fprintf(stderr, "ggml_runner: %s\n", dlerror());
    return 1;
  }
  void (*load_all_from_path)(const char*) = (void (*)(const char*))must(ggml, "ggml_backend_load_all_from_path");
  size_t (*dev_count)(void) = (size_t(*)(void))must(ggml, "ggml_backend_dev_count");
  dev_t_ (*dev_get)(size_t) = (dev_t_(*)(size_t))must(ggml, "ggml_backend_dev_get");
  const char* (*dev_name)(dev_t_) = (const char* (*)(dev_t_))must(base, "ggml_backend_dev_name");
  const char* (*dev_description)(dev_t_) = (const char* (*)(dev_t_))must(base, "ggml_backend_dev_description");
  void (*dev_memory)(dev_t_, size_t*, size_t*) = (void (*)(dev_t_, size_t*, size_t*))must(base, "ggml_backend_dev_memory");
  int (*dev_type)(dev_t_) = (int (*)(dev_t_))must(base, "ggml_backend_dev_type");

  for (int i = 1; i < argc; ++i) load_all_from_path(argv[i]);

  /* enum ggml_backend_dev_type: CPU, GPU, then IGPU (added 2025) and ACCEL; older releases have CPU, GPU, ACCEL.
   * Only CPU and GPU are read here, which mean the same in every release. */
  size_t n = dev_count(), gpus = 0;
  for (size_t i = 0; i < n; ++i) {
    dev_t_ d = dev_get(i);
    size_t free_b = 0, total_b = 0;
    dev_memory(d, &free_b, &total_b);
    int t = dev_type(d);
    if (t == 1) ++gpus;
    printf("device %zu: %s | %s | type %s | %zu MiB total, %zu MiB free\n", i, dev_name(d), dev_description(d),
           t == 0 ? "cpu" : t == 1 ? "gpu" : "other", total_b >> 20, free_b >> 20);
  }
  printf("devices: %zu (gpu: %zu)\n", n, gpus);
  return 0;
}
