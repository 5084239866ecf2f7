// The pure half of libvgpu-exec.so (exec_hook.c): what the hook records from the process's initial
// environment, and how it repairs the environment a program hands to exec or posix_spawn. No global
// state, no allocation, no locks: both functions write into a buffer the caller provides and return the
// bytes they need, so the hook can size the buffer first and the unit tests can drive them directly.
#pragma once

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

// What the process started with, copied out of its environment by vgpu_exec_record. Every string lives
// in the record's buffer, so later setenv/clearenv or a program overwriting its initial environment
// block (setproctitle does) cannot change it.
struct vgpu_exec_recorded {
  const char* const* preload;  // LD_PRELOAD entries, in order, no duplicates, the hook's own path included
  size_t n_preload;
  const char* shim_dir;        // the directory kept first in LD_LIBRARY_PATH; NULL: leave it alone
  const char* const* vars;     // "VGPU_NAME=value", first occurrence of each name, VGPU_EXEC_DISABLE excluded
  size_t n_vars;
  int log_enabled;             // VGPU_LOG was info or debug
  int log_debug;               // VGPU_LOG was debug
  const char* log_file;        // VGPU_LOG_FILE, NULL: stderr
};

// Records envp (the process's initial environment). self_path is the hook as the loader named it
// (dladdr's dli_fname): it joins the preload list unless LD_PRELOAD already names it, by that path or,
// for a bare file name, by its base name. self_dir (the realpath'd directory of self_path, may be NULL)
// is the shim directory unless VGPU_SHIM_DIR is set and not empty. Returns the bytes needed; fills *out
// and buf only when that is <= cap. buf must be aligned for a pointer.
size_t vgpu_exec_record(char* const* envp, const char* self_path, const char* self_dir, void* buf, size_t cap,
                        struct vgpu_exec_recorded* out);

// What a repair changed, for the log line. The new_* strings point into the output environment.
struct vgpu_exec_changes {
  const char* old_preload;       // the caller's LD_PRELOAD entry ("LD_PRELOAD=..."), NULL: it had none
  const char* new_preload;       // the entry that replaces or adds it, NULL: unchanged
  const char* old_library_path;  // likewise for LD_LIBRARY_PATH
  const char* new_library_path;
  size_t vars_added;             // the added VGPU_* variables are the last vars_added entries of the output
};

// Repairs envp (NULL reads as empty, as the kernel reads it) against rec:
//   LD_PRELOAD holds every recorded entry: the caller's entries first, in its order, then the missing
//     ones; duplicates dropped; joined with ':' (ld.so splits on spaces and colons);
//   LD_LIBRARY_PATH starts with rec->shim_dir: moved to the front, other entries kept in order (empty ones
//     too: ld.so reads them as the working directory), other copies of it dropped; ':' and ';' both
//     separate, as for ld.so;
//   every recorded VGPU_* variable envp lacks is appended (a value the caller set wins).
// Where envp holds a variable twice, the last LD_PRELOAD and LD_LIBRARY_PATH are the ones repaired,
// because those are the ones ld.so uses (glibc elf/rtld.c, process_envvars). Every other entry keeps
// its place and its string; replaced entries stay where they were, added ones go at the end.
// Returns 0 when envp needs no repair. Otherwise returns the bytes the repaired environment needs and,
// when that is <= cap, builds it in buf (aligned for a pointer): the NULL-terminated pointer array
// first, then the new LD_PRELOAD and LD_LIBRARY_PATH strings; other pointers point into envp and rec.
// *changes is filled either way, its new_* fields only when buf was built.
size_t vgpu_exec_repair_env(char* const* envp, const struct vgpu_exec_recorded* rec, void* buf, size_t cap,
                            struct vgpu_exec_changes* changes);

#ifdef __cplusplus
}
#endif
