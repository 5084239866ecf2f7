// libvgpu-exec.so: an LD_PRELOAD hook that keeps the vgpu environment alive into child processes.
//
// At load it records, from the process's initial environment, the LD_PRELOAD entries (its own path
// included), the shim directory (VGPU_SHIM_DIR, else the realpath'd directory this library was loaded
// from) and every VGPU_* variable. It interposes libc's exec and spawn functions and hands the child the
// caller's environment repaired (exec_hook.h, vgpu_exec_repair_env): LD_PRELOAD holds every recorded
// entry, LD_LIBRARY_PATH starts with the shim directory, recorded VGPU_* variables are back. Nothing else
// changes; an environment that is already right goes through as the very same pointer.
// VGPU_EXEC_DISABLE=1 in the process's environment at the time of the call turns the repair off.
//
// Why LD_LIBRARY_PATH needs repairing at all: Ollama prepends its bundled CUDA directory
// (lib/ollama/cuda_v12, cuda_v13, ...) to LD_LIBRARY_PATH for the runners it starts, which would put
// NVIDIA's libcudart/libcublas ahead of the shims. A launcher that starts such a program or its runners
// through libc (a Python or C++ wrapper) gets the shim directory put back in front here.
//
// What this hook cannot see: Go programs, Ollama among them, do not start children through libc. Go's
// os/exec ends in syscall.forkExec (src/syscall/exec_linux.go: forkAndExecInChild1 does rawVforkSyscall
// (clone) and then RawSyscall(SYS_EXECVE)), straight to the kernel, so Ollama's runner spawns never pass
// through these functions. There only inheritance counts: put LD_PRELOAD and LD_LIBRARY_PATH in the
// service's environment (a systemd drop-in, Environment=...) or the hook in /etc/ld.so.preload.
// README.md in this directory says more.
//
// Constraints (execve(2) is async-signal-safe and may run after fork() in a multithreaded program, or in
// a vfork() child that shares its parent's memory, as CPython's subprocess does since 3.10):
//   - the call path neither allocates with malloc nor takes a lock: the new environment is built on the
//     stack when small (kStackEnvMax) and in an anonymous mmap otherwise; the real functions are
//     resolved with dlsym (which takes the loader's lock) in the constructor, not at the call;
//   - the stack is preferred because a vfork child shares the parent's address space: a mapping made
//     there and not unmapped (exec succeeded) would stay behind in the parent, once per spawn;
//   - failure to get memory passes the caller's environment through unchanged; an exec that fails
//     returns its error with errno intact;
//   - logging (VGPU_LOG=info|debug, to stderr or appended to VGPU_LOG_FILE) uses open/write/close only.
// Links nothing but libc: dlsym and dladdr are in libc.so.6 since glibc 2.34.
#define _GNU_SOURCE

#include "exec_hook.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define VGPU_EXPORT __attribute__((visibility("default")))

// ---- the pure part: recording and repairing environments (exec_hook.h) ----

static const char kPreloadEq[] = "LD_PRELOAD=";
static const char kLibraryPathEq[] = "LD_LIBRARY_PATH=";
static const char kShimDirEq[] = "VGPU_SHIM_DIR=";
static const char kDisableEq[] = "VGPU_EXEC_DISABLE=";
// ld.so splits LD_PRELOAD on spaces and colons (elf/rtld.c, handle_preload_list) and LD_LIBRARY_PATH
// on colons and semicolons (elf/dl-load.c, _dl_init_paths -> fillin_rpath).
static const char kPreloadSeps[] = " :";
static const char kLibraryPathSeps[] = ":;";

static int has_prefix(const char* s, const char* prefix, size_t len) { return strncmp(s, prefix, len) == 0; }

// The value of the first NAME= entry, as getenv finds it; NULL when absent.
static const char* env_first(char* const* envp, const char* name_eq, size_t len) {
  for (; *envp; envp++)
    if (has_prefix(*envp, name_eq, len)) return *envp + len;
  return NULL;
}

// The index of the last NAME= entry, as ld.so uses it (elf/rtld.c, process_envvars); n when absent.
static size_t env_last(char* const* envp, size_t n, const char* name_eq, size_t len) {
  size_t found = n;
  for (size_t i = 0; i < n; i++)
    if (has_prefix(envp[i], name_eq, len)) found = i;
  return found;
}

// Whether envp holds a variable named like entry ("NAME=value").
static int env_has_name(char* const* envp, const char* entry) {
  size_t name_len = (size_t)(strchr(entry, '=') - entry) + 1;
  return env_first(envp, entry, name_len) != NULL;
}

// Splits a list on any of seps. keep_empty: every piece, empty ones included ("a::b" is three, "" none),
// as ld.so reads LD_LIBRARY_PATH; otherwise empty pieces are skipped, as ld.so reads LD_PRELOAD.
struct tokens {
  const char* next;
  const char* seps;
  int keep_empty;
};

static int next_token(struct tokens* t, const char** tok, size_t* len) {
  while (t->next) {
    const char* p = t->next;
    size_t n = strcspn(p, t->seps);
    t->next = p[n] ? p + n + 1 : NULL;
    if (n == 0 && !t->keep_empty) continue;
    *tok = p;
    *len = n;
    return 1;
  }
  return 0;
}

static struct tokens tokenize(const char* list, const char* seps, int keep_empty) {
  struct tokens t = {list && *list ? list : NULL, seps, keep_empty};
  return t;
}

static int span_eq(const char* a, size_t alen, const char* b, size_t blen) {
  return alen == blen && memcmp(a, b, alen) == 0;
}

// Directory names compare equal up to trailing slashes: "/usr/lib64/" is "/usr/lib64".
static size_t dir_len(const char* d, size_t len) {
  while (len > 1 && d[len - 1] == '/') len--;
  return len;
}

static int dir_eq(const char* a, size_t alen, const char* b, size_t blen) {
  return span_eq(a, dir_len(a, alen), b, dir_len(b, blen));
}

// Whether the token [tok, tok+len) of list also occurs before it.
static int seen_before(const char* list, const char* seps, const char* tok, size_t len) {
  struct tokens t = tokenize(list, seps, 0);
  const char* p;
  size_t n;
  while (next_token(&t, &p, &n) && p < tok)
    if (span_eq(p, n, tok, len)) return 1;
  return 0;
}

static int list_has(const char* list, const char* seps, const char* item) {
  size_t item_len = strlen(item);
  struct tokens t = tokenize(list, seps, 0);
  const char* p;
  size_t n;
  while (next_token(&t, &p, &n))
    if (span_eq(p, n, item, item_len)) return 1;
  return 0;
}

// Writes into dst when it is not NULL, counts either way: each builder runs once to size, once to build.
struct sink {
  char* dst;
  size_t len;
};

static void put(struct sink* s, const char* src, size_t n) {
  if (s->dst) memcpy(s->dst + s->len, src, n);
  s->len += n;
}

static void put_str(struct sink* s, const char* src) { put(s, src, strlen(src)); }

static const char* put_cstr(struct sink* s, const char* src, size_t n) {
  const char* at = s->dst ? s->dst + s->len : NULL;
  put(s, src, n);
  put(s, "", 1);
  return at;
}

// ---- vgpu_exec_record ----

static int is_self(const char* tok, size_t len, const char* self_path) {
  if (span_eq(tok, len, self_path, strlen(self_path))) return 1;
  // A bare file name is found through the library search path; the loader then names it by the path
  // it found (elf/dl-load.c, _dl_map_object), which ends in that name.
  const char* base = strrchr(self_path, '/');
  base = base ? base + 1 : self_path;
  return memchr(tok, '/', len) == NULL && span_eq(tok, len, base, strlen(base));
}

static int log_level_is(const char* value, const char* level) { return value && strcmp(value, level) == 0; }

// One pass of vgpu_exec_record: with strings == NULL it only counts.
static void record_pass(char* const* envp, const char* self_path, const char* self_dir, const char** preload,
                        const char** vars, struct sink* strings, struct vgpu_exec_recorded* out) {
  size_t n = 0;
  while (envp[n]) n++;
  size_t ip = env_last(envp, n, kPreloadEq, sizeof kPreloadEq - 1);
  const char* preload_list = ip < n ? envp[ip] + sizeof kPreloadEq - 1 : NULL;

  out->n_preload = 0;
  int self_listed = 0;
  struct tokens t = tokenize(preload_list, kPreloadSeps, 0);
  const char* tok;
  size_t len;
  while (next_token(&t, &tok, &len)) {
    if (seen_before(preload_list, kPreloadSeps, tok, len)) continue;
    if (self_path && *self_path && is_self(tok, len, self_path)) self_listed = 1;
    const char* copy = put_cstr(strings, tok, len);
    if (preload) preload[out->n_preload] = copy;
    out->n_preload++;
  }
  // Loaded some other way (/etc/ld.so.preload): children still get the hook through LD_PRELOAD.
  if (self_path && *self_path && !self_listed) {
    const char* copy = put_cstr(strings, self_path, strlen(self_path));
    if (preload) preload[out->n_preload] = copy;
    out->n_preload++;
  }

  const char* shim_dir = env_first(envp, kShimDirEq, sizeof kShimDirEq - 1);
  if (!shim_dir || !*shim_dir) shim_dir = self_dir;
  out->shim_dir = shim_dir ? put_cstr(strings, shim_dir, strlen(shim_dir)) : NULL;

  out->n_vars = 0;
  for (size_t i = 0; i < n; i++) {
    const char* e = envp[i];
    const char* eq = strchr(e, '=');
    if (!has_prefix(e, "VGPU_", 5) || !eq) continue;
    size_t name_len = (size_t)(eq - e) + 1;
    // Read at each call, never carried over: a program that removed it wants its children repaired.
    if (span_eq(e, name_len, kDisableEq, sizeof kDisableEq - 1)) continue;
    int dup = 0;
    for (size_t j = 0; j < i && !dup; j++) dup = has_prefix(envp[j], e, name_len);
    if (dup) continue;
    const char* copy = put_cstr(strings, e, strlen(e));
    if (vars) vars[out->n_vars] = copy;
    out->n_vars++;
  }

  const char* level = env_first(envp, "VGPU_LOG=", 9);
  out->log_debug = log_level_is(level, "debug");
  out->log_enabled = out->log_debug || log_level_is(level, "info");
  const char* file = env_first(envp, "VGPU_LOG_FILE=", 14);
  out->log_file = file && *file ? put_cstr(strings, file, strlen(file)) : NULL;
}

size_t vgpu_exec_record(char* const* envp, const char* self_path, const char* self_dir, void* buf, size_t cap,
                        struct vgpu_exec_recorded* out) {
  static char* const empty_env[] = {NULL};
  if (!envp) envp = empty_env;
  struct vgpu_exec_recorded counted;
  struct sink count = {NULL, 0};
  record_pass(envp, self_path, self_dir, NULL, NULL, &count, &counted);
  size_t pointers = (counted.n_preload + counted.n_vars) * sizeof(char*);
  size_t need = pointers + count.len;
  if (!buf || cap < need) return need;

  const char** preload = (const char**)buf;
  const char** vars = preload + counted.n_preload;
  struct sink strings = {(char*)buf + pointers, 0};
  record_pass(envp, self_path, self_dir, preload, vars, &strings, out);
  out->preload = preload;
  out->vars = vars;
  return need;
}

// ---- vgpu_exec_repair_env ----

// "LD_PRELOAD=" + the caller's entries (first copy of each) + the recorded ones it lacks, ':'-joined.
static size_t build_preload(char* dst, const char* list, const struct vgpu_exec_recorded* rec) {
  struct sink s = {dst, 0};
  put_str(&s, kPreloadEq);
  int first = 1;
  struct tokens t = tokenize(list, kPreloadSeps, 0);
  const char* tok;
  size_t len;
  while (next_token(&t, &tok, &len)) {
    if (seen_before(list, kPreloadSeps, tok, len)) continue;
    if (!first) put(&s, ":", 1);
    put(&s, tok, len);
    first = 0;
  }
  for (size_t i = 0; i < rec->n_preload; i++) {
    if (list && list_has(list, kPreloadSeps, rec->preload[i])) continue;
    if (!first) put(&s, ":", 1);
    put_str(&s, rec->preload[i]);
    first = 0;
  }
  put(&s, "", 1);
  return s.len;
}

static int path_starts_with(const char* list, const char* dir) {
  struct tokens t = tokenize(list, kLibraryPathSeps, 1);
  const char* tok;
  size_t len;
  return next_token(&t, &tok, &len) && dir_eq(tok, len, dir, strlen(dir));
}

// "LD_LIBRARY_PATH=" + dir + the caller's other entries in order, every copy of dir dropped.
static size_t build_library_path(char* dst, const char* list, const char* dir) {
  struct sink s = {dst, 0};
  size_t dir_n = strlen(dir);
  put_str(&s, kLibraryPathEq);
  put(&s, dir, dir_n);
  struct tokens t = tokenize(list, kLibraryPathSeps, 1);
  const char* tok;
  size_t len;
  while (next_token(&t, &tok, &len)) {
    if (dir_eq(tok, len, dir, dir_n)) continue;
    put(&s, ":", 1);
    put(&s, tok, len);
  }
  put(&s, "", 1);
  return s.len;
}

size_t vgpu_exec_repair_env(char* const* envp, const struct vgpu_exec_recorded* rec, void* buf, size_t cap,
                            struct vgpu_exec_changes* changes) {
  static char* const empty_env[] = {NULL};
  if (!envp) envp = empty_env;
  size_t n = 0;
  while (envp[n]) n++;
  size_t ip = env_last(envp, n, kPreloadEq, sizeof kPreloadEq - 1);
  size_t il = env_last(envp, n, kLibraryPathEq, sizeof kLibraryPathEq - 1);
  const char* preload_list = ip < n ? envp[ip] + sizeof kPreloadEq - 1 : NULL;
  const char* path_list = il < n ? envp[il] + sizeof kLibraryPathEq - 1 : NULL;

  int fix_preload = 0;
  for (size_t i = 0; i < rec->n_preload && !fix_preload; i++)
    fix_preload = !preload_list || !list_has(preload_list, kPreloadSeps, rec->preload[i]);
  int fix_path = rec->shim_dir && *rec->shim_dir && !path_starts_with(path_list, rec->shim_dir);
  size_t vars_added = 0;
  for (size_t i = 0; i < rec->n_vars; i++) vars_added += !env_has_name(envp, rec->vars[i]);

  changes->old_preload = ip < n ? envp[ip] : NULL;
  changes->old_library_path = il < n ? envp[il] : NULL;
  changes->new_preload = NULL;
  changes->new_library_path = NULL;
  changes->vars_added = vars_added;
  if (!fix_preload && !fix_path && vars_added == 0) return 0;

  size_t preload_len = fix_preload ? build_preload(NULL, preload_list, rec) : 0;
  size_t path_len = fix_path ? build_library_path(NULL, path_list, rec->shim_dir) : 0;
  size_t slots = n + (fix_preload && ip == n) + (fix_path && il == n) + vars_added + 1;
  size_t need = slots * sizeof(char*) + preload_len + path_len;
  if (!buf || cap < need) return need;

  char** out = (char**)buf;
  char* strings = (char*)(out + slots);
  char* new_preload = NULL;
  char* new_path = NULL;
  if (fix_preload) {
    new_preload = strings;
    strings += build_preload(new_preload, preload_list, rec);
  }
  if (fix_path) {
    new_path = strings;
    build_library_path(new_path, path_list, rec->shim_dir);
  }

  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (i == ip && new_preload)
      out[k++] = new_preload;
    else if (i == il && new_path)
      out[k++] = new_path;
    else
      out[k++] = envp[i];
  }
  if (new_preload && ip == n) out[k++] = new_preload;
  if (new_path && il == n) out[k++] = new_path;
  for (size_t i = 0; i < rec->n_vars; i++)
    if (!env_has_name(envp, rec->vars[i])) out[k++] = (char*)rec->vars[i];
  out[k] = NULL;
  changes->new_preload = new_preload;
  changes->new_library_path = new_path;
  return need;
}

// ---- the hook: state recorded at load, the real functions, the repair around each call ----

// Environments up to this size are built on the stack (a vfork child must not leave a mapping behind in
// its parent); glibc builds execl's argument vector on the stack for the same two reasons, signal
// handlers and vfork (posix/execle.c). Larger ones go to an anonymous mapping.
enum { kStackEnvMax = 32 * 1024 };

typedef int (*execve_fn)(const char*, char* const[], char* const[]);
typedef int (*fexecve_fn)(int, char* const[], char* const[]);
typedef int (*execveat_fn)(int, const char*, char* const[], char* const[], int);
typedef int (*posix_spawn_fn)(pid_t*, const char*, const posix_spawn_file_actions_t*,
                              const posix_spawnattr_t*, char* const[], char* const[]);

static struct {
  execve_fn execve;
  execve_fn execvpe;  // same signature: the file is looked up in PATH
  fexecve_fn fexecve;
  execveat_fn execveat;  // glibc 2.34 and later
  posix_spawn_fn posix_spawn;
  posix_spawn_fn posix_spawnp;
} g_real;

static struct vgpu_exec_recorded g_rec;
static int g_ready;  // g_rec holds the initial environment; until then every call passes through

static void* real_fn(void** slot, const char* name) {
  // Resolved in the constructor; this late path only serves a call made before it ran (from another
  // preloaded library's constructor), where taking the loader's lock is still safe.
  if (!*slot) *slot = dlsym(RTLD_NEXT, name);
  return *slot;
}

#define REAL(name) ((__typeof__(g_real.name))real_fn((void**)&g_real.name, #name))

// ---- logging: one write(2) per line, no stdio, no malloc ----

struct line {
  char text[2048];
  size_t len;
  int truncated;
};

static void line_add(struct line* l, const char* s, size_t n) {
  size_t room = sizeof l->text - 5 - l->len;  // keeps space for "...\n"
  if (n > room) {
    n = room;
    l->truncated = 1;
  }
  memcpy(l->text + l->len, s, n);
  l->len += n;
}

static void line_str(struct line* l, const char* s) { line_add(l, s, strlen(s)); }

static void line_uint(struct line* l, unsigned long v) {
  char digits[24];
  size_t i = sizeof digits;
  do digits[--i] = (char)('0' + v % 10);
  while ((v /= 10) != 0);
  line_add(l, digits + i, sizeof digits - i);
}

static void line_begin(struct line* l, const char* level) {
  l->len = 0;
  l->truncated = 0;
  line_str(l, "vgpu[exec ");
  line_uint(l, (unsigned long)getpid());
  line_str(l, "] ");
  line_str(l, level);
  line_str(l, ": ");
}

static void line_emit(struct line* l) {
  if (l->truncated) {
    memcpy(l->text + l->len, "...", 3);
    l->len += 3;
  }
  l->text[l->len++] = '\n';
  int fd = 2;
  if (g_rec.log_file) fd = open(g_rec.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) fd = 2;  // as log.cc does when the file cannot be opened
  ssize_t ignored = write(fd, l->text, l->len);
  (void)ignored;
  if (fd != 2) close(fd);
}

// `NAME: unset -> "new"` or `NAME: "old" -> "new"`, after sep; entries are "NAME=value".
static void line_change(struct line* l, const char* sep, const char* old_entry, const char* new_entry) {
  const char* eq = strchr(new_entry, '=');
  line_str(l, sep);
  line_add(l, new_entry, (size_t)(eq - new_entry));
  line_str(l, ": ");
  if (old_entry) {
    line_str(l, "\"");
    line_str(l, strchr(old_entry, '=') + 1);
    line_str(l, "\"");
  } else {
    line_str(l, "unset");
  }
  line_str(l, " -> \"");
  line_str(l, eq + 1);
  line_str(l, "\"");
}

enum call_kind { CALL_EXECVE, CALL_EXECVPE, CALL_FEXECVE, CALL_EXECVEAT, CALL_SPAWN, CALL_SPAWNP };

// One interposed call: which real function to run, with what, once the environment is settled.
struct call {
  enum call_kind kind;
  const char* fn;    // the function the program called, for the log
  const char* path;  // path or file name; NULL for fexecve
  int fd;            // fexecve, execveat
  int flags;         // execveat
  char* const* argv;
  pid_t* pid;  // posix_spawn, posix_spawnp
  const posix_spawn_file_actions_t* actions;
  const posix_spawnattr_t* attr;
};

static void log_repair(const struct call* c, char* const* out, const struct vgpu_exec_changes* ch) {
  struct line l;
  line_begin(&l, "info");
  line_str(&l, c->fn);
  line_str(&l, " ");
  if (c->path) {
    line_str(&l, c->path);
  } else {
    line_str(&l, "fd ");
    line_uint(&l, (unsigned long)c->fd);
  }
  line_str(&l, ": ");
  if (ch->new_preload) line_change(&l, "", ch->old_preload, ch->new_preload);
  if (ch->new_library_path)
    line_change(&l, ch->new_preload ? "; " : "", ch->old_library_path, ch->new_library_path);
  if (ch->vars_added) {
    size_t n = 0;
    while (out[n]) n++;
    line_str(&l, ch->new_preload || ch->new_library_path ? "; added" : "added");
    for (size_t i = n - ch->vars_added; i < n; i++) {
      line_str(&l, " ");
      line_add(&l, out[i], (size_t)(strchr(out[i], '=') - out[i]));
    }
  }
  line_emit(&l);
}

static int exec_unavailable(const struct call* c) {
  if (c->kind == CALL_SPAWN || c->kind == CALL_SPAWNP) return ENOSYS;
  errno = ENOSYS;
  return -1;
}

static int call_real(const struct call* c, char* const* envp) {
  switch (c->kind) {
    case CALL_EXECVE:
      return REAL(execve) ? g_real.execve(c->path, c->argv, envp) : exec_unavailable(c);
    case CALL_EXECVPE:
      return REAL(execvpe) ? g_real.execvpe(c->path, c->argv, envp) : exec_unavailable(c);
    case CALL_FEXECVE:
      return REAL(fexecve) ? g_real.fexecve(c->fd, c->argv, envp) : exec_unavailable(c);
    case CALL_EXECVEAT:
      return REAL(execveat) ? g_real.execveat(c->fd, c->path, c->argv, envp, c->flags) : exec_unavailable(c);
    case CALL_SPAWN:
      return REAL(posix_spawn) ? g_real.posix_spawn(c->pid, c->path, c->actions, c->attr, c->argv, envp)
                               : exec_unavailable(c);
    case CALL_SPAWNP:
      return REAL(posix_spawnp) ? g_real.posix_spawnp(c->pid, c->path, c->actions, c->attr, c->argv, envp)
                                : exec_unavailable(c);
  }
  return exec_unavailable(c);
}

// VGPU_EXEC_DISABLE=1 in the environment as it is now (getenv's reading, without getenv's name).
static int disabled(void) {
  if (!environ) return 0;
  const char* v = env_first(environ, kDisableEq, sizeof kDisableEq - 1);
  return v && strcmp(v, "1") == 0;
}

static int repair_into(const struct call* c, char* const* envp, void* buf, size_t cap) {
  struct vgpu_exec_changes ch;
  vgpu_exec_repair_env(envp, &g_rec, buf, cap, &ch);
  if (g_rec.log_enabled) log_repair(c, (char* const*)buf, &ch);
  return call_real(c, (char* const*)buf);
}

static int run(const struct call* c, char* const* envp) {
  if (!g_ready || disabled()) return call_real(c, envp);
  struct vgpu_exec_changes ch;
  size_t need = vgpu_exec_repair_env(envp, &g_rec, NULL, 0, &ch);
  if (need == 0) return call_real(c, envp);
  if (need <= kStackEnvMax) {
    void* on_stack[(need + sizeof(void*) - 1) / sizeof(void*)];
    return repair_into(c, envp, on_stack, sizeof on_stack);
  }
  void* mem = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return call_real(c, envp);  // no memory: the caller's environment, as it was
  int r = repair_into(c, envp, mem, need);
  int saved = errno;
  munmap(mem, need);
  errno = saved;
  return r;
}

// ---- load: resolve the real functions, record the initial environment ----

__attribute__((constructor)) static void vgpu_exec_init(void) {
  (void)REAL(execve);
  (void)REAL(execvpe);
  (void)REAL(fexecve);
  (void)REAL(execveat);
  (void)REAL(posix_spawn);
  (void)REAL(posix_spawnp);

  Dl_info self;
  const char* self_path = NULL;
  if (dladdr((void*)&vgpu_exec_init, &self) && self.dli_fname && *self.dli_fname) self_path = self.dli_fname;
  char resolved[PATH_MAX];
  const char* self_dir = NULL;
  if (self_path && realpath(self_path, resolved)) {
    char* slash = strrchr(resolved, '/');
    slash[slash == resolved] = '\0';  // "/lib/x.so" -> "/lib"; "/x.so" -> "/"
    self_dir = resolved;
  }

  struct vgpu_exec_recorded counted;
  size_t need = vgpu_exec_record(environ, self_path, self_dir, NULL, 0, &counted);
  void* mem = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) return;  // the hook stays out of the way
  vgpu_exec_record(environ, self_path, self_dir, mem, need, &g_rec);
  mprotect(mem, need, PROT_READ);
  g_ready = 1;

  if (g_rec.log_debug) {
    struct line l;
    line_begin(&l, "debug");
    line_str(&l, "recorded LD_PRELOAD entries:");
    for (size_t i = 0; i < g_rec.n_preload; i++) {
      line_str(&l, " ");
      line_str(&l, g_rec.preload[i]);
    }
    line_str(&l, "; shim dir: ");
    line_str(&l, g_rec.shim_dir ? g_rec.shim_dir : "none");
    line_str(&l, "; VGPU_* variables: ");
    line_uint(&l, (unsigned long)g_rec.n_vars);
    line_emit(&l);
  }
}

// ---- the interposed functions (libvgpu-exec.map) ----

VGPU_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  struct call c = {.kind = CALL_EXECVE, .fn = "execve", .path = path, .argv = argv};
  return run(&c, envp);
}

VGPU_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  struct call c = {.kind = CALL_EXECVPE, .fn = "execvpe", .path = file, .argv = argv};
  return run(&c, envp);
}

VGPU_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  struct call c = {.kind = CALL_FEXECVE, .fn = "fexecve", .fd = fd, .argv = argv};
  return run(&c, envp);
}

VGPU_EXPORT int execveat(int dirfd, const char* path, char* const argv[], char* const envp[], int flags) {
  struct call c = {.kind = CALL_EXECVEAT, .fn = "execveat", .path = path, .fd = dirfd, .flags = flags,
                   .argv = argv};
  return run(&c, envp);
}

// The environ-taking forms: environ is the explicit environment, so a program that cleared it
// (clearenv, unsetenv("LD_PRELOAD")) still hands its children the vgpu variables.
VGPU_EXPORT int execv(const char* path, char* const argv[]) {
  struct call c = {.kind = CALL_EXECVE, .fn = "execv", .path = path, .argv = argv};
  return run(&c, environ);
}

VGPU_EXPORT int execvp(const char* file, char* const argv[]) {
  struct call c = {.kind = CALL_EXECVPE, .fn = "execvp", .path = file, .argv = argv};
  return run(&c, environ);
}

// The list forms collect their arguments on the stack, as glibc does (posix/execl.c, execle.c,
// execlp.c): no malloc, and E2BIG past INT_MAX arguments.
static ptrdiff_t count_args(va_list* ap) {
  ptrdiff_t argc = 1;
  while (va_arg(*ap, const char*))
    if (argc++ == INT_MAX) return -1;
  return argc;
}

// argv[0] = arg, then the argc - 1 arguments after it and their NULL.
static void collect_args(char** argv, const char* arg, ptrdiff_t argc, va_list* ap) {
  argv[0] = (char*)arg;
  for (ptrdiff_t i = 1; i <= argc; i++) argv[i] = va_arg(*ap, char*);
}

static int too_many_args(void) {
  errno = E2BIG;
  return -1;
}

VGPU_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  ptrdiff_t argc = count_args(&ap);
  va_end(ap);
  if (argc < 0) return too_many_args();
  char* argv[argc + 1];
  va_start(ap, arg);
  collect_args(argv, arg, argc, &ap);
  va_end(ap);
  struct call c = {.kind = CALL_EXECVE, .fn = "execl", .path = path, .argv = argv};
  return run(&c, environ);
}

VGPU_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  ptrdiff_t argc = count_args(&ap);
  va_end(ap);
  if (argc < 0) return too_many_args();
  char* argv[argc + 1];
  va_start(ap, arg);
  collect_args(argv, arg, argc, &ap);
  va_end(ap);
  struct call c = {.kind = CALL_EXECVPE, .fn = "execlp", .path = file, .argv = argv};
  return run(&c, environ);
}

// The environment follows the NULL that ends the arguments.
VGPU_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  ptrdiff_t argc = count_args(&ap);
  va_end(ap);
  if (argc < 0) return too_many_args();
  char* argv[argc + 1];
  va_start(ap, arg);
  collect_args(argv, arg, argc, &ap);
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  struct call c = {.kind = CALL_EXECVE, .fn = "execle", .path = path, .argv = argv};
  return run(&c, envp);
}

VGPU_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* actions,
                            const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  struct call c = {.kind = CALL_SPAWN, .fn = "posix_spawn", .path = path, .argv = argv,
                   .pid = pid, .actions = actions, .attr = attr};
  return run(&c, envp);
}

VGPU_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions,
                             const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  struct call c = {.kind = CALL_SPAWNP, .fn = "posix_spawnp", .path = file, .argv = argv,
                   .pid = pid, .actions = actions, .attr = attr};
  return run(&c, envp);
}
