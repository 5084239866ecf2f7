// vgpu-trace: runs a command (usually `ollama serve`) under ptrace, follows it and every process it
// starts, and reports which shared objects each one tried, loaded or failed to load, and why: the
// process's own words first (what it wrote to stdout/stderr, explained by rules/log_lines.toml), then
// what the outcome itself says. The command's stdin, stdout and stderr pass through untouched; the
// report goes to stderr or -o FILE when the command ends, and vgpu-trace exits with its status.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <tuple>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "background.h"
#include "elf_file.h"
#include "host_loader.h"
#include "report.h"
#include "rules.h"
#include "tool_paths.h"
#include "tracer.h"

using namespace vgpu;
using namespace vgpu::trace;

namespace {

const char* kUsage =
    "usage: vgpu-trace [-o FILE] [--format text|json|markdown|chrome] [--stacks] [--output-lines N] [--go-no-preempt]\n"
    "                  [--rules-dir DIR] -- CMD [ARGS...]\n"
    "       vgpu-trace -p PID [-o FILE] [--format ...]\n"
    "\n"
    "Runs CMD and every process it starts under ptrace, stopping them only on the system calls that say what\n"
    "they load (a seccomp filter: exec, the open family, getdents64, close, executable mmap, munmap, writes\n"
    "to stdout/stderr) and where ld.so reports a change of its link map (a breakpoint), and reports per\n"
    "process which directories it listed, which shared objects it tried, which it loaded and which failed,\n"
    "and why. Every other system call runs without a stop, but any seccomp filter makes each one a little\n"
    "slower (bench/trace.sh measures this floor). Only x86-64 system calls are followed: a 32-bit program\n"
    "runs unchanged and is followed through fork, exec and exit only (the report says so), and a 64-bit\n"
    "program's calls through int $0x80 go unseen.\n"
    "\n"
    "  -p, --pid PID         attach to a running process (all its threads, and the children it starts from\n"
    "                        then on); Ctrl-C detaches and leaves it running. No filter can be installed\n"
    "                        in a running process, so every system call stops: strace -f's cost (a loop\n"
    "                        of cheap system calls runs about 100x slower; a 32-bit program's calls,\n"
    "                        not followed, do not stop). The loader's view starts from the link map the\n"
    "                        process has when attached; the report counts each process's stops\n"
    "  -o, --output FILE     write the report to FILE (default: stderr, after CMD's own output)\n"
    "  --format FORMAT       text (default), json (schema: docs/trace-schema.md), markdown (for a bug\n"
    "                        ticket) or chrome (a trace-event timeline for ui.perfetto.dev)\n"
    "  --output-lines N      keep the first N and the last N lines each process wrote (default 200)\n"
    "  --rules-dir DIR       the rules that explain log lines (default: the installed share/vgpu/rules)\n"
    "  --stacks              the call stack of every open of a shared object, symbolized (libunwind-ptrace)\n"
    "  --go-no-preempt       run CMD with GODEBUG=asyncpreemptoff=1: a traced Go program (Ollama) then is not\n"
    "                        stopped by its own preemption signal (SIGURG, up to every 10 ms per busy\n"
    "                        goroutine; the report counts them per process); CHANGES ITS SCHEDULING\n"
    "\n"
    "Example: vgpu-trace -o trace.md --format markdown -- ollama serve\n"
    "Exit status: CMD's own (128+N when a signal N killed it); 2 on a usage error (a bad option, a\n"
    "--rules-dir that is not a directory); 125 when vgpu-trace itself failed. A rule file that does not\n"
    "load is read while CMD runs: the report is still written, without the rules, and the exit is 125;\n"
    "with -p it is read first, and nothing is attached.\n";

struct Options {
  bool go_no_preempt = false, stacks = false;
  pid_t attach = 0;
  std::string output, format = "text", rules_dir;
  size_t output_lines = 200;
  std::vector<std::string> command;
};

// 0 ok, 2 usage error, 1 --help.
int parse(int argc, char** argv, Options& o) {
  int i = 1;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const char* name) -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "vgpu-trace: %s needs a value\n", name);
        return nullptr;
      }
      return argv[++i];
    };
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "-h" || a == "--help") return 1;
    if (a == "-p" || a == "--pid") {
      const char* v = value("-p");
      if (!v) return 2;
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (!*v || *end || n <= 0 || n > 4194304) {
        std::fprintf(stderr, "vgpu-trace: -p needs a process id, not '%s'\n", v);
        return 2;
      }
      o.attach = static_cast<pid_t>(n);
      continue;
    }
    if (a == "--stacks") {
      o.stacks = true;
      continue;
    }
    if (a == "--go-no-preempt") {
      o.go_no_preempt = true;
      continue;
    }
    if (a == "-o" || a == "--output") {
      const char* v = value("-o");
      if (!v) return 2;
      o.output = v;
    } else if (a == "--format") {
      const char* v = value("--format");
      if (!v) return 2;
      o.format = v;
      if (o.format != "text" && o.format != "json" && o.format != "markdown" && o.format != "chrome") {
        std::fprintf(stderr, "vgpu-trace: --format must be text, json, markdown or chrome, not '%s'\n", v);
        return 2;
      }
    } else if (a == "--output-lines") {
      const char* v = value("--output-lines");
      if (!v) return 2;
      char* end = nullptr;
      long n = std::strtol(v, &end, 10);
      if (!*v || *end || n < 0 || n > 1000000) {
        std::fprintf(stderr, "vgpu-trace: --output-lines must be a number from 0 to 1000000, not '%s'\n", v);
        return 2;
      }
      o.output_lines = static_cast<size_t>(n);
    } else if (a == "--rules-dir") {
      const char* v = value("--rules-dir");
      if (!v) return 2;
      o.rules_dir = v;
    } else if (!a.empty() && a[0] == '-') {
      std::fprintf(stderr, "vgpu-trace: unknown option '%s' (the command goes after --)\n", a.c_str());
      return 2;
    } else {
      break;  // the command, without --
    }
  }
  for (; i < argc; ++i) o.command.push_back(argv[i]);
  if (o.attach && !o.command.empty()) {
    std::fprintf(stderr, "vgpu-trace: -p PID and a command exclude each other\n");
    return 2;
  }
  if (o.attach && o.go_no_preempt) {
    std::fprintf(stderr, "vgpu-trace: --go-no-preempt applies to a command started by vgpu-trace, not to -p\n");
    return 2;
  }
  if (o.command.empty() && !o.attach) {
    std::fprintf(stderr, "vgpu-trace: no command to run (vgpu-trace [options] -- CMD [ARGS...])\n");
    return 2;
  }
  return 0;
}

std::string base_name(const std::string& p) { return p.substr(p.rfind('/') + 1); }

// ld.so's own link map (the r_debug view) had the object at some point.
bool was_in_link_map(const Process& p, const Library& lib) {
  for (const LinkEvent& ev : p.link_events)
    if (ev.added && (ev.path == lib.path || ev.path == lib.resolved)) return true;
  return false;
}

// (b) in the order of evidence: the loader model re-run in the process's context (its LD_LIBRARY_PATH,
// its cwd, its program) for a library it mapped and then unmapped. A missing dependency or an import a
// provider does not satisfy (per symbol, with its version) is why the dlopen failed; none means the
// load succeeded and a dlclose unmapped it. Empty when the model cannot tell.
struct ModelVerdict {
  bool failed = false;
  std::string reason;
  std::vector<std::string> evidence;
};

// Everything the model's answer for one library depends on: the process's context when it opened it.
struct ModelInput {
  std::string library, ld_library_path, cwd, exe;
  std::vector<std::string> loaded;  // what ld.so had loaded at that moment
  auto operator<=>(const ModelInput&) const = default;
};

// What ld.so had loaded when the process opened `lib` (its link map, replayed from the events of the
// image it was running then): the model starts from these, as the process did.
std::vector<std::string> loaded_before(const Process& p, const Library& lib) {
  double image = -1;
  for (double t : p.image_ms)
    if (t <= lib.first_ms) image = t;
  std::set<std::string> now(p.link_map_at_start.begin(), p.link_map_at_start.end());
  for (const LinkEvent& ev : p.link_events) {
    if (ev.at_ms < image) continue;
    if (ev.at_ms > lib.first_ms) break;
    if (ev.added) now.insert(ev.path);
    else now.erase(ev.path);
  }
  return {now.begin(), now.end()};
}

ModelInput model_input(const Process& p, const Library& lib) {
  auto it = p.env.find("LD_LIBRARY_PATH");
  return {lib.path, it == p.env.end() ? "" : it->second, p.cwd.empty() ? "/" : p.cwd, p.exe, loaded_before(p, lib)};
}

ModelVerdict run_model(const ModelInput& in);

// Each verdict once: the report asks several times, and the tracer has most of them worked out on a
// thread during the trace (Prefetcher), from the same input.
class Verdicts {
 public:
  ModelVerdict get(const ModelInput& in) {
    {
      std::lock_guard lock(mu_);
      if (auto it = done_.find(in); it != done_.end()) return it->second;
    }
    ModelVerdict v = run_model(in);
    std::lock_guard lock(mu_);
    return done_.emplace(in, std::move(v)).first->second;
  }

 private:
  std::mutex mu_;
  std::map<ModelInput, ModelVerdict> done_;
};

Verdicts& verdicts() {
  static Verdicts v;
  return v;
}

// The input of each library the trace saw unmapped, as it was then (by pid, path and when it was opened):
// a process that execs afterwards has another program, environment and link map when the report asks.
using AttemptKey = std::tuple<pid_t, std::string, double>;
AttemptKey attempt_key(const Process& p, const Library& lib) { return {p.pid, lib.path, lib.first_ms}; }
std::map<AttemptKey, ModelInput>& unmapped_inputs() {
  static std::map<AttemptKey, ModelInput> inputs;  // (the tracer's thread only)
  return inputs;
}

ModelVerdict model_verdict(const Process& p, const Library& lib) {
  auto it = unmapped_inputs().find(attempt_key(p, lib));
  return verdicts().get(it != unmapped_inputs().end() ? it->second : model_input(p, lib));
}

ModelVerdict run_model(const ModelInput& in) {
  ModelVerdict v;
  auto model = host_loader(in.ld_library_path, in.cwd);
  if (!model) return v;
  if (!in.exe.empty()) (void)model->preload(in.exe);
  // An object by path (not the vDSO, which has no file); one that cannot be read is left to the search.
  for (const std::string& o : in.loaded)
    if (!o.empty() && o[0] == '/' && o != in.exe) (void)model->preload(o);
  Resolution top = model->load(in.library, nullptr);
  if (!top.found) {
    // The file itself: ld.so skips one of another class or machine and gives up on one that is not
    // ELF (open_verify), after opening it. glibc then says "No such file or directory" for the former.
    for (const SearchStep& t : top.tried)
      if (t.candidate == in.library && (t.outcome.rfind("wrong ", 0) == 0 || t.outcome.rfind("not an ELF file", 0) == 0)) {
        v.failed = true;
        v.reason = "ld.so opened it and rejected it: " + t.outcome;
        v.evidence.push_back("model: " + t.candidate + ": " + t.outcome);
        return v;
      }
    return v;
  }
  for (const auto& o : model->objects())
    for (const Resolution& d : o->deps) {
      if (!d.found) {
        v.failed = true;
        v.reason = d.name + ", needed by " + o->path + ", is found nowhere this process looks";
        for (const SearchStep& t : d.tried)
          if (!t.subdir)
            v.evidence.push_back("model: tried " + t.candidate + " [" + t.source + "]: " + t.outcome);
        return v;
      }
      auto missing = missing_imports(*o->elf, d.name, *d.object->elf, d.name == "libcuda.so.1" ? "cu" : "");
      if (missing.empty()) continue;
      order_for_report(missing);
      const MissingImport& m = missing.front();
      v.failed = true;
      v.reason = o->path + " imports " + m.symbol + (m.version.empty() ? "" : "@" + m.version) + " from " + d.path + ": " +
                 m.reason + (missing.size() > 1 ? " (and " + std::to_string(missing.size() - 1) + " more)" : "");
      v.evidence.push_back("model: " + d.name + " => " + d.path + " [" + d.how + "]");
      return v;
    }
  v.reason = "the loader model loads it in this process's context: it was unloaded by a dlclose, not a failure";
  return v;
}

struct Explained {
  std::string reason;
  std::vector<std::string> evidence;
  bool dlclose = false;  // the model says it loads: unmapped by a dlclose, not a failure
};

// A file that was opened and never mapped: what ld.so makes of the file itself is added to the process's
// words, which can mislead (glibc reports a library of another machine as "No such file or directory").
Explained with_file_verdict(Explained e, const Process& p, const Library& lib) {
  if (lib.outcome != "opened, not mapped") return e;
  ModelVerdict v = model_verdict(p, lib);
  if (!v.failed) return e;
  e.reason += "; but the file is there: " + v.reason;
  e.evidence.insert(e.evidence.end(), v.evidence.begin(), v.evidence.end());
  return e;
}

// Why a library did not load, in order of evidence: the process's own words (a line naming the file,
// explained by a [[log_line]] rule when one matches), then what the outcome itself says.
Explained explain(const Library& lib, const Process& p, const RuleSet* rules) {
  Explained e;
  std::string name = base_name(lib.path);
  for (const std::string& line : p.lines) {
    if (line.find(name) == std::string::npos) continue;
    if (rules)
      for (const LogLine* l : rules->match_log_line(line)) {
        std::map<std::string, std::string> vars;
        l->matches(line, &vars);
        e.reason = expand(l->meaning, vars);
        e.evidence.push_back("pid " + std::to_string(p.pid) + " wrote: " + line + "  (" + l->id + ")");
        return with_file_verdict(e, p, lib);
      }
    e.reason = "the process said: " + line;
    e.evidence.push_back("pid " + std::to_string(p.pid) + " wrote: " + line);
    return with_file_verdict(e, p, lib);
  }
  if (lib.outcome == "not found") e.reason = "no such file";
  else if (lib.outcome == "mapped, then unmapped") {
    // ld.so's own link map: an object that never entered it failed while being mapped (a dependency);
    // one that entered and left was either closed or failed relocation (a symbol, a version), which
    // the loader model run in the process's context tells apart.
    bool in_link_map = p.loader_view && was_in_link_map(p, lib);
    ModelVerdict v = model_verdict(p, lib);
    if (p.loader_view && !in_link_map && !v.failed)
      v.failed = true, v.reason = "ld.so mapped it and gave up before adding it to its link map";
    if (!v.reason.empty()) {
      e.reason = v.reason, e.evidence = v.evidence, e.dlclose = !v.failed;
      return e;
    }
    e.reason = "mapped, then unmapped: a dlopen that failed, or a dlclose; the process printed nothing about it";
  } else if (lib.outcome == "opened, not mapped") {
    ModelVerdict v = model_verdict(p, lib);
    e.reason = v.failed ? v.reason : "opened but never mapped: read, not loaded (or a loader this model does not follow)";
    e.evidence = v.evidence;
  }
  else e.reason = lib.outcome;
  return e;
}

// The file names a process loaded (by any of the paths it tried), once per process: a report asks for
// every library, and a long trace has thousands.
const std::set<std::string>& loaded_names(const Process& p) {
  static std::map<const Process*, std::set<std::string>> cache;
  auto it = cache.find(&p);
  if (it != cache.end()) return it->second;
  std::set<std::string>& names = cache[&p];
  for (const Library& l : p.libraries)
    if (l.outcome == "loaded") names.insert(base_name(l.path));
  return names;
}

// Where a library search ended: a name tried in several directories is one search; it failed only when
// no attempt of the same file name loaded.
bool search_failed(const Process& p, const Library& lib) {
  return lib.outcome != "loaded" && !loaded_names(p).count(base_name(lib.path));
}

// How many libraries from `i` on are "not found" for one file name (without a stack to show): ld.so's
// probes of one DT_NEEDED or dlopen name through the search path.
size_t not_found_run(const std::vector<Library>& libs, size_t i) {
  size_t n = 0;
  while (i + n < libs.size() && libs[i + n].outcome == "not found" && libs[i + n].stack.empty() &&
         base_name(libs[i + n].path) == base_name(libs[i].path))
    ++n;
  return n;
}

// One line for such a run: the name, then the directories searched. ld.so tries each directory's
// glibc-hwcaps, tls and platform subdirectories before the directory itself, so a probe is counted under
// the directory whose own probe came in the run (the JSON report keeps every path).
std::string fold_search(const std::vector<Library>& libs, size_t i, size_t n) {
  std::string name = base_name(libs[i].path);
  std::vector<std::string> dirs;
  std::set<std::string> paths;
  for (size_t k = i; k < i + n; ++k) {
    paths.insert(libs[k].path);
    std::string dir = libs[k].path.substr(0, libs[k].path.size() - name.size() - 1);
    if (std::find(dirs.begin(), dirs.end(), dir) == dirs.end()) dirs.push_back(dir);
  }
  // A directory that is another one's loader subdirectory (glibc-hwcaps/x86-64-v3, tls/x86_64, ...) is
  // part of that one's search; any other (cuda_v13 under lib/ollama) is a search directory of its own.
  auto loader_subdir = [](const std::string& rel) {
    if (rel.rfind("glibc-hwcaps/", 0) == 0) return true;
    static const std::set<std::string> legacy{"tls", "x86_64", "haswell", "xeon_phi", "i386", "i486", "i586", "i686", "aarch64"};
    std::istringstream parts(rel);
    for (std::string part; std::getline(parts, part, '/');)
      if (!legacy.count(part)) return false;
    return true;
  };
  std::vector<std::string> searched;
  for (const std::string& d : dirs)
    if (std::none_of(dirs.begin(), dirs.end(), [&](const std::string& other) {
          return d.size() > other.size() + 1 && d.compare(0, other.size() + 1, other + "/") == 0 &&
                 loader_subdir(d.substr(other.size() + 1));
        }))
      searched.push_back(d);
  std::string line = "not found: " + name + " in " + std::to_string(searched.size()) + " director" +
                     (searched.size() == 1 ? "y" : "ies");
  if (searched.size() != paths.size()) line += " (" + std::to_string(paths.size()) + " paths, with their subdirectories)";
  for (size_t k = 0; k < searched.size(); ++k) line += (k ? ", " : ": ") + searched[k];
  return line;
}

struct Finding {
  std::string severity, message, fix;
  std::vector<std::string> evidence;
  pid_t pid = 0;
};

std::vector<Finding> findings_of(const TraceResult& r, const RuleSet* rules) {
  std::vector<Finding> out;
  for (const Process& p : r.processes) {
    if (rules)
      for (const std::string& line : p.lines)
        for (const LogLine* l : rules->match_log_line(line)) {
          std::map<std::string, std::string> vars;
          l->matches(line, &vars);
          Finding f{severity_name(l->severity), expand(l->meaning, vars), expand(l->fix, vars), {}, p.pid};
          f.evidence.push_back("pid " + std::to_string(p.pid) + " (" + (p.argv.empty() ? p.exe : base_name(p.argv[0])) +
                               ") wrote: " + line + "  (" + l->id + ")");
          for (const std::string& c : l->causes) f.evidence.push_back("typical cause: " + expand(c, vars));
          out.push_back(std::move(f));
        }
    std::set<std::string> reported;
    for (const Library& first : p.libraries) {
      std::string name = base_name(first.path);
      if (!search_failed(p, first) || !reported.insert(name).second) continue;
      // Only backends and GPU libraries are worth a finding; a probe for an optional file is not.
      bool gpu = name.find("ggml") != std::string::npos || name.find("cuda") != std::string::npos ||
                 name.find("cublas") != std::string::npos || name.find("nvidia-ml") != std::string::npos;
      if (!gpu) continue;
      // The attempt that got furthest speaks for the search: one that was mapped, else the last.
      const Library* lib = &first;
      for (const Library& o : p.libraries)
        if (base_name(o.path) == name && (o.outcome == "mapped, then unmapped" || lib->outcome != "mapped, then unmapped")) lib = &o;
      Explained e = explain(*lib, p, rules);
      if (e.dlclose) continue;
      // Unmapped and unexplained is as likely a dlclose as a failure: not a finding without evidence.
      if (lib->outcome == "mapped, then unmapped" && e.evidence.empty()) continue;
      Finding f{lib->outcome == "not found" ? "warning" : "error", name + " did not load in pid " + std::to_string(p.pid) + ": " + e.reason, "", e.evidence, p.pid};
      std::vector<Library> tried;
      for (const Library& other : p.libraries)
        if (base_name(other.path) == name) tried.push_back(other);
      for (size_t i = 0; i < tried.size(); ++i)
        if (size_t n = not_found_run(tried, i); n > 1) {
          f.evidence.push_back("searched: " + fold_search(tried, i, n));
          i += n - 1;
        } else {
          f.evidence.push_back("tried " + tried[i].path + ": " + tried[i].outcome);
        }
      f.fix = "vgpu-doctor check  # the whole installation, with a fix for each cause";
      out.push_back(std::move(f));
    }
  }
  return out;
}

std::string signal_name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? std::string("SIG") + abbrev : "signal " + std::to_string(sig);
}

std::string describe_end(const Process& p) {
  if (!p.exited) return "still running at the end of the trace";
  if (p.exit_signal) return std::string("killed by signal ") + strsignal(p.exit_signal);
  return "exited with status " + std::to_string(p.exit_code);
}

std::string command_line(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Children in the order they appeared, under their parents.
void walk(const TraceResult& r, pid_t parent, int depth, const std::function<void(const Process&, int)>& f) {
  for (const Process& p : r.processes)
    if (p.ppid == parent) {
      f(p, depth);
      walk(r, p.pid, depth + 1, f);
    }
}

pid_t root_parent(const TraceResult& r) { return r.processes.empty() ? 0 : r.processes.front().ppid; }

std::string verdict(const Process& p) {
  int loaded = 0, closed = 0, failed = 0;
  std::string failed_names;
  // Per file name, in order of first appearance: loaded by some path, or unloaded by a dlclose.
  std::vector<std::string> order;
  std::map<std::string, std::pair<bool, bool>> by_name;
  for (const Library& l : p.libraries) {
    std::string n = base_name(l.path);
    auto [it, fresh] = by_name.try_emplace(n, false, false);
    if (fresh) order.push_back(n);
    it->second.first |= l.outcome == "loaded";
    if (l.outcome == "mapped, then unmapped" && !it->second.second) it->second.second = explain(l, p, nullptr).dlclose;
  }
  for (const std::string& n : order) {
    auto [any_loaded, any_closed] = by_name[n];
    if (any_loaded) ++loaded;
    else if (any_closed) ++closed;
    else ++failed, failed_names += (failed_names.empty() ? "" : ", ") + n;
  }
  std::string v = std::to_string(loaded) + " loaded";
  if (closed) v += ", " + std::to_string(closed) + " loaded then closed";
  if (failed) v += ", " + std::to_string(failed) + " failed (" + failed_names + ")";
  if (p.ran_elf32) v += "; a 32-bit image, not followed";
  return v;
}

// ---- the discovery subprocesses, era by era (rules/eras.toml, ../shared/research/ollama-discovery.md) ----
struct Discovery {
  const Process* p = nullptr;
  std::string era, role, backend_dir;
  std::string backend, backend_outcome, devices, conclusion;
};

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string e; std::getline(in, e, ':');)
    if (!e.empty()) out.push_back(e);
  return out;
}

// A backend dir: a directory whose name is Ollama's (cuda_v12, cuda_v13, rocm, vulkan, ...).
bool is_backend_dir(const std::string& dir) {
  std::string b = base_name(dir);
  return b.rfind("cuda_", 0) == 0 || b.rfind("rocm", 0) == 0 || b.rfind("vulkan", 0) == 0 || b.rfind("cpu", 0) == 0;
}

void subtree(const TraceResult& r, const Process& p, std::vector<const Process*>& out) {
  out.push_back(&p);
  for (const Process& c : r.processes)
    if (c.ppid == p.pid && &c != &p) subtree(r, c, out);
}

// The SONAME of a file the process opened ("" when it is not a readable ELF object).
std::string soname_of(const Library& l) {
  auto elf = host_elf_cache()->read(l.resolved.empty() ? l.path : l.resolved);
  return elf ? elf.value()->soname : "";
}

bool is_ollama_serve(const Process& p) {
  return std::any_of(p.images.begin(), p.images.end(), [](const std::vector<std::string>& a) {
    return a.size() > 1 && a[1] == "serve" && base_name(a[0]).find("ollama") != std::string::npos;
  });
}

// Era A (<= 0.12.3): `ollama serve` discovers GPUs itself. It globs libcuda.so* (its lib dir, each
// LD_LIBRARY_PATH dir, then the distributions' driver dirs), dlopens the real file of a match (a shim
// shows under its own name: recognised by its SONAME), falls back to libcudart.so*, and logs
// "inference compute" per device, or with library=cpu when there is none. Recognised as such when it
// started no era-B/C discovery process and either opened a CUDA driver or runtime or logged that line.
std::optional<Discovery> era_a_discovery(const TraceResult& r, const Process& p, const RuleSet* rules) {
  if (!is_ollama_serve(p)) return std::nullopt;
  std::vector<const Process*> tree;
  subtree(r, p, tree);
  for (const Process* q : tree)
    for (const auto& argv : q->images)
      if (!argv.empty() && ((argv.size() > 1 && (argv[1] == "runner" || argv[1] == "gpu-discover")) || base_name(argv[0]) == "llama-server"))
        return std::nullopt;  // era B or C: its discovery processes conclude for themselves
  Discovery d;
  d.p = &p;
  d.era = "A";
  d.role = "ollama serve (discovery in the server)";
  // What speaks for the search: the driver loaded, else the runtime fallback loaded, else the driver's
  // attempt, else the runtime's.
  const Library* cuda = nullptr;
  std::string cuda_soname;
  int best = 0;
  for (const Library& l : p.libraries) {
    if (l.outcome == "not found" || l.outcome.rfind("open failed", 0) == 0) continue;
    std::string so = soname_of(l);
    bool driver = so.rfind("libcuda.so", 0) == 0, runtime = so.rfind("libcudart.so", 0) == 0;
    if (!driver && !runtime) continue;
    int rank = search_failed(p, l) ? (driver ? 2 : 1) : (driver ? 4 : 3);
    if (rank > best) best = rank, cuda = &l, cuda_soname = so;
  }
  // Its "inference compute" lines: one per GPU, or one with library=cpu when it found none.
  std::string gpus, cpu;
  for (const std::string& line : p.lines) {
    if (line.find("inference compute") == std::string::npos) continue;
    size_t id = line.find(" id=");
    std::string logged = "inference compute " + (id == std::string::npos ? line : line.substr(id + 1));
    if (line.find("library=cpu") != std::string::npos) cpu = logged;
    else gpus += (gpus.empty() ? "" : "; ") + logged;
  }
  d.devices = !gpus.empty() ? gpus : !cpu.empty() ? "none (it logged: " + cpu + ")" : "";
  if (!cuda && d.devices.empty()) return std::nullopt;
  std::string who = d.role + " (pid " + std::to_string(p.pid) + ", era A)";
  if (cuda) {
    d.backend = cuda_soname + " (" + cuda->path + ")";
    d.backend_outcome = search_failed(p, *cuda) ? "did not load: " + explain(*cuda, p, rules).reason : "loaded";
  }
  std::string listed;
  for (const DirListing& l : p.dirs_listed) listed += (listed.empty() ? "" : ", ") + l.path;
  if (!cuda)
    d.conclusion = who + ": no GPU: it opened no libcuda.so* (nor libcudart.so*)" +
                   (listed.empty() ? "" : "; it listed " + listed) + "; devices: " + d.devices;
  else if (d.backend_outcome != "loaded") d.conclusion = who + ": no GPU: " + d.backend + " " + d.backend_outcome;
  else if (d.devices.empty()) d.conclusion = who + ": " + d.backend + " loaded; it logged no \"inference compute\" line";
  else if (gpus.empty()) d.conclusion = who + ": " + d.backend + " loaded, but no GPU: it logged: " + cpu;
  else d.conclusion = who + ": " + d.backend + " loaded; " + d.devices;
  return d;
}

std::vector<Discovery> discoveries(const TraceResult& r, const RuleSet* rules) {
  std::vector<Discovery> out;
  for (const Process& p : r.processes) {
    Discovery d;
    d.p = &p;
    for (const auto& argv : p.images) {
      if (argv.empty()) continue;
      std::string prog = base_name(argv[0]);
      if (argv.size() > 1 && argv[1] == "runner" && prog.find("ollama") != std::string::npos) d.era = "B", d.role = "ollama runner";
      else if (prog == "llama-server") d.era = "C", d.role = "llama-server";
      else if (argv.size() > 1 && argv[1] == "gpu-discover") d.era = "C", d.role = "native probe (ollama gpu-discover)";
      for (size_t i = 0; i + 1 < argv.size(); ++i)
        if (argv[i] == "--lib-dir") d.backend_dir = argv[i + 1];
    }
    if (d.role.empty()) {
      if (auto a = era_a_discovery(r, p, rules)) out.push_back(std::move(*a));
      continue;
    }
    for (const char* var : {"OLLAMA_LIBRARY_PATH", "LD_LIBRARY_PATH", "GGML_BACKEND_PATH"})
      if (auto it = p.env.find(var); d.backend_dir.empty() && it != p.env.end())
        for (const std::string& e : split_list(it->second))
          if (is_backend_dir(e)) {
            d.backend_dir = e;
            break;
          }
    if (auto it = p.env.find("CUDA_VISIBLE_DEVICES"); it != p.env.end() && it->second.rfind("GPU-", 0) == 0)
      d.role += ", device check for " + it->second;
    // What it (and what it started) loaded: the GPU backend, and what it said about devices.
    std::vector<const Process*> tree;
    subtree(r, p, tree);
    for (const Process* q : tree) {
      for (const Library& l : q->libraries) {
        std::string n = base_name(l.path);
        if (n.rfind("libggml-", 0) != 0 || n.rfind("libggml-cpu", 0) == 0 || n.rfind("libggml-base", 0) == 0 || n == "libggml.so") continue;
        d.backend = n;
        if (!search_failed(*q, l)) d.backend_outcome = "loaded";
        else if (d.backend_outcome != "loaded") d.backend_outcome = "did not load: " + explain(l, *q, rules).reason;
      }
      for (const std::string& line : q->lines) {
        size_t at = line.find("ggml_cuda_init: found ");
        if (at != std::string::npos) {
          d.devices = line.substr(at + std::strlen("ggml_cuda_init: "));
          while (!d.devices.empty() && (d.devices.back() == ':' || d.devices.back() == ' ')) d.devices.pop_back();
        }
        else if (line.find("ggml_cuda_init: failed to initialize CUDA") != std::string::npos) d.devices = line;
      }
    }
    std::string who = d.role + (d.backend_dir.empty() ? "" : " for " + base_name(d.backend_dir)) + " (pid " + std::to_string(p.pid) + ", era " + d.era + ")";
    if (d.backend.empty()) d.conclusion = who + ": opened no GPU backend library";
    else if (d.backend_outcome != "loaded") d.conclusion = who + ": no GPU: " + d.backend + " " + d.backend_outcome;
    else if (d.devices.empty()) d.conclusion = who + ": " + d.backend + " loaded; it printed no device line (OLLAMA_DEBUG=2 shows them)";
    else if (d.devices.find("failed") != std::string::npos) d.conclusion = who + ": " + d.backend + " loaded, but " + d.devices;
    else d.conclusion = who + ": " + d.backend + " loaded, ggml_cuda_init " + d.devices;
    out.push_back(std::move(d));
  }
  return out;
}

// One process's details as lines, for either rendering: what it was (argv, exe, cwd, environment changes,
// directories, failed execs, signals), ld.so's link map as it changed, and the libraries it tried.
struct Details {
  std::vector<std::string> about, loader;
  struct Lib {
    std::string outcome, path, file, stack;  // stack: outermost caller first
    bool folded = false;                     // an ld.so search folded into one line (outcome says it all)
  };
  std::vector<Lib> libraries;
};

// ld.so's link map changes: an object added and later removed again (a dlopen, then a dlclose or a failed
// relocation) on one line; where the process ran more than one image, each image's changes under its name.
std::vector<std::string> loader_lines(const Process& p) {
  const std::vector<LinkEvent>& ev = p.link_events;
  auto image_of = [&](double at) {
    long k = -1;
    for (size_t i = 0; i < p.image_ms.size(); ++i)
      if (p.image_ms[i] <= at) k = static_cast<long>(i);
    return k;
  };
  auto ms = [](double t) { return std::to_string(static_cast<long>(t)); };
  std::vector<std::string> out;
  std::vector<bool> used(ev.size());
  // Named by image where the changes span more than one (a forked child's first exec included).
  bool by_image = !ev.empty() && image_of(ev.front().at_ms) != image_of(ev.back().at_ms);
  long image = -2;
  for (size_t i = 0; i < ev.size(); ++i) {
    if (used[i]) continue;
    long k = image_of(ev[i].at_ms);
    if (by_image && k != image) {
      out.push_back(k < 0 ? std::string("before its first exec:")
                          : "image " + std::to_string(k + 1) + " of " + std::to_string(p.images.size()) + ", from " +
                                ms(p.image_ms[static_cast<size_t>(k)]) + " ms: " + command_line(p.images[static_cast<size_t>(k)]).substr(0, 160));
    }
    image = k;
    std::string line = std::string("ld.so ") + (ev[i].added ? "added" : "removed") + ": " + ev[i].path + "  (" + ms(ev[i].at_ms) + " ms)";
    if (ev[i].added)
      for (size_t j = i + 1; j < ev.size() && image_of(ev[j].at_ms) == k; ++j) {
        if (ev[j].path != ev[i].path) continue;
        if (!ev[j].added) {
          used[j] = true;
          line = "ld.so added, then removed: " + ev[i].path + "  (" + ms(ev[i].at_ms) + "-" + ms(ev[j].at_ms) + " ms)";
        }
        break;
      }
    out.push_back(line);
  }
  return out;
}

Details details_of(const Process& p) {
  Details d;
  d.about.push_back("argv: " + command_line(p.argv));
  d.about.push_back("exe: " + p.exe);
  d.about.push_back("cwd: " + p.cwd);
  if (p.ran_elf32)
    d.about.push_back(std::string(p.elf32 ? "a" : "an earlier image was a") + " 32-bit program: its system calls are not "
                      "followed and ld.so's link map is not read, so what that image opened, loaded and wrote is not "
                      "seen (its fork, exec and exit are)");
  for (const auto& [k, v] : p.env_changed) d.about.push_back("env changed: " + k + "=" + v + (v.empty() ? "  (removed or empty)" : ""));
  for (const std::string& dir : p.dirs_opened)
    if (std::none_of(p.dirs_listed.begin(), p.dirs_listed.end(), [&](const DirListing& l) { return l.path == dir; }))
      d.about.push_back("opened directory: " + dir);
  for (const DirListing& l : p.dirs_listed) {
    std::string line = "listed: " + l.path + " (" + std::to_string(l.count) + " names" +
                       (l.passes > 1 ? ", read " + std::to_string(l.passes) + " times" : "") + ")";
    for (size_t i = 0; i < l.entries.size() && i < 12; ++i) line += (i ? ", " : ": ") + l.entries[i];
    d.about.push_back(line + (l.count > 12 ? ", ..." : ""));
  }
  // A PATH search (execvp, Go's exec.LookPath does it with stat) fails in each directory before the
  // one that has the program: one line for those, every other failure as it is.
  std::map<std::string, size_t> searched;
  for (const ExecFailure& e : p.exec_failures) {
    std::string name = base_name(e.path);
    bool found_later = std::any_of(p.images.begin(), p.images.end(), [&](const std::vector<std::string>& a) {
      return !a.empty() && base_name(a[0]) == name;
    }) || base_name(p.exe) == name;
    if (e.error == ENOENT && found_later) ++searched[name];
    else d.about.push_back("exec failed: " + e.path + ": " + std::strerror(e.error) + "  (" + std::to_string(static_cast<long>(e.at_ms)) + " ms)");
  }
  for (const auto& [name, n] : searched)
    d.about.push_back("exec of " + name + ": not in the first " + std::to_string(n) + " place" + (n > 1 ? "s" : "") + " searched (a PATH search)");
  // What the trace cost it, in pauses: under -p every system call's entry and exit.
  if (p.stops) d.about.push_back("stopped for the tracer: " + std::to_string(p.stops) + " time" + (p.stops > 1 ? "s" : ""));
  if (!p.signals.empty()) {
    std::string line = "signals received:";
    for (const auto& [sig, n] : p.signals) line += " " + signal_name(sig) + " x" + std::to_string(n);
    d.about.push_back(line);
  }
  d.loader = loader_lines(p);
  for (size_t i = 0; i < p.libraries.size(); ++i) {
    const Library& l = p.libraries[i];
    // ld.so's search for one name: a run of not-founds, folded into the directories searched.
    if (size_t n = not_found_run(p.libraries, i); n > 1) {
      d.libraries.push_back({fold_search(p.libraries, i, n), l.path, "", "", true});
      i += n - 1;
      continue;
    }
    std::string chain;  // outermost caller first, as one reads it: main -> ggml_backend_load_best -> dlopen
    // ... up to the dlopen: below it are the loader's own frames, named after whatever libc exports nearby.
    auto first_dlopen = std::find_if(l.stack.rbegin(), l.stack.rend(), [](const std::string& f) {
      return f.rfind("dlopen", 0) == 0 || f.rfind("dlmopen", 0) == 0 || f.rfind("__libc_dlopen", 0) == 0;
    });
    auto last = first_dlopen == l.stack.rend() ? l.stack.rend() : first_dlopen + 1;
    for (auto f = l.stack.rbegin(); f != last; ++f) chain += (chain.empty() ? "" : " -> ") + f->substr(0, f->find('+'));
    d.libraries.push_back({l.outcome, l.path, l.resolved == l.path ? "" : l.resolved, chain, false});
  }
  return d;
}

const auto md_code = markdown_code;
const auto md_cell = markdown_cell;

std::string render_text(const TraceResult& r, const std::vector<Finding>& findings, const std::vector<Discovery>& disc,
                        bool markdown) {
  std::ostringstream o;
  std::string h1 = markdown ? "## " : "== ", h2 = markdown ? "### " : "-- ";
  o << (markdown ? "# " : "") << "vgpu-trace: " << command_line(r.command) << " -> exit status " << r.exit_status << "\n\n";
  if (!r.error.empty()) o << "tracing failed: " << r.error << "\n\n";
  o << h1 << "processes\n";
  if (markdown) o << "\n```\n";
  walk(r, root_parent(r), 0, [&](const Process& p, int depth) {
    o << std::string(static_cast<size_t>(depth) * 2, ' ') << p.pid << " " << (p.argv.empty() ? p.exe : command_line(p.argv)).substr(0, 160)
      << "  [" << describe_end(p) << "; libraries: " << verdict(p) << "]\n";
  });
  if (markdown) o << "```\n";
  if (!disc.empty()) {
    o << "\n" << h1 << "discovery (one conclusion per process that looked for GPUs)\n";
    for (const Discovery& d : disc) o << (markdown ? "- " : "") << d.conclusion << "\n";
  }
  o << "\n" << h1 << "findings (" << findings.size() << ")\n";
  for (const Finding& f : findings) {
    o << (markdown ? "- **" : "") << f.severity << (markdown ? "**" : "") << ": " << f.message << "\n";
    for (const std::string& e : f.evidence) o << (markdown ? "  - " : "    ") << e << "\n";
    if (!f.fix.empty()) o << (markdown ? "  - fix: `" : "  fix: ") << f.fix << (markdown ? "`" : "") << "\n";
  }
  o << "\n" << h1 << "details\n";
  for (const Process& p : r.processes) {
    o << "\n" << h2 << "pid " << p.pid << " (parent " << p.ppid << "): " << describe_end(p) << ", "
      << static_cast<long>(p.start_ms) << "-" << static_cast<long>(p.end_ms) << " ms\n";
    Details d = details_of(p);
    if (!markdown) {
      for (const auto* lines : {&d.about, &d.loader})
        for (const std::string& l : *lines) o << "  " << l << "\n";
      for (const Details::Lib& l : d.libraries) {
        o << "  " << (l.folded ? l.outcome : l.outcome + ": " + l.path + (l.file.empty() ? "" : " -> " + l.file)) << "\n";
        if (!l.stack.empty()) o << "      stack: " << l.stack << "\n";
      }
      continue;
    }
    // Markdown, for a ticket: the facts as a list, ld.so's changes folded away, the libraries a table.
    o << "\n";
    for (const std::string& l : d.about) {
      size_t colon = l.find(": ");
      o << "- " << (colon == std::string::npos ? md_code(l) : md_cell(l.substr(0, colon)) + ": " + md_code(l.substr(colon + 2))) << "\n";
    }
    if (!d.loader.empty()) {
      o << "\n<details><summary>ld.so's link map: " << d.loader.size() << " line" << (d.loader.size() == 1 ? "" : "s")
        << "</summary>\n\n```\n";
      for (const std::string& l : d.loader) o << l << "\n";
      o << "```\n\n</details>\n";
    }
    if (!d.libraries.empty()) {
      o << "\n| library | outcome | file |\n| --- | --- | --- |\n";
      for (const Details::Lib& l : d.libraries)
        o << "| " << md_code(md_cell(l.folded ? base_name(l.path) : l.path)) << " | " << md_cell(l.outcome)
          << (l.stack.empty() ? "" : md_cell("; stack: " + l.stack)) << " | " << (l.file.empty() ? "" : md_code(md_cell(l.file))) << " |\n";
    }
  }
  return o.str();
}

std::string render_json(const TraceResult& r, const std::vector<Finding>& findings, const std::vector<Discovery>& disc) {
  using nlohmann::json;
  json j;
  j["tool"] = "vgpu-trace";
  j["command"] = r.command;
  j["exit_status"] = r.exit_status;
  if (!r.error.empty()) j["error"] = r.error;
  j["processes"] = json::array();
  for (const Process& p : r.processes) {
    json jp{{"pid", p.pid}, {"ppid", p.ppid}, {"argv", p.argv}, {"exe", p.exe}, {"cwd", p.cwd}, {"env", p.env},
            {"env_changed", p.env_changed}, {"dirs_opened", p.dirs_opened}, {"execs", p.execs},
            {"start_ms", p.start_ms}, {"end_ms", p.end_ms}, {"output_lines", p.lines}, {"output_lines_first", p.lines_first}, {"output_lines_dropped", p.lines_dropped},
            {"loader_view", p.loader_view}, {"link_map", p.link_map}, {"elf32", p.ran_elf32}};
    jp["dirs_listed"] = json::array();
    for (const DirListing& l : p.dirs_listed)
      jp["dirs_listed"].push_back({{"path", l.path}, {"entries", l.entries}, {"count", l.count}, {"passes", l.passes}, {"at_ms", l.at_ms}});
    jp["exec_failures"] = json::array();
    for (const ExecFailure& e : p.exec_failures)
      jp["exec_failures"].push_back({{"path", e.path}, {"errno", e.error}, {"error", std::strerror(e.error)}, {"at_ms", e.at_ms}});
    jp["stops"] = p.stops;
    jp["signals"] = json::object();
    for (const auto& [sig, n] : p.signals) jp["signals"][signal_name(sig)] = n;
    jp["fds"] = json::object();
    for (const auto& [fd, path] : p.fds) jp["fds"][std::to_string(fd)] = path;
    jp["link_events"] = json::array();
    for (const LinkEvent& ev : p.link_events)
      jp["link_events"].push_back({{"path", ev.path}, {"event", ev.added ? "added" : "removed"}, {"at_ms", ev.at_ms}});
    jp["exit"] = p.exited ? json{{"code", p.exit_code >= 0 ? json(p.exit_code) : json(nullptr)},
                                 {"signal", p.exit_signal ? json(p.exit_signal) : json(nullptr)}}
                          : json(nullptr);
    jp["libraries"] = json::array();
    for (const Library& l : p.libraries) {
      json jl{{"path", l.path}, {"resolved", l.resolved}, {"outcome", l.outcome}, {"at_ms", l.first_ms}};
      if (!l.stack.empty()) jl["stack"] = l.stack;
      if (l.error) jl["errno"] = l.error;
      if (search_failed(p, l)) jl["reason"] = explain(l, p, nullptr).reason;
      jp["libraries"].push_back(jl);
    }
    j["processes"].push_back(jp);
  }
  j["discovery"] = json::array();
  for (const Discovery& d : disc)
    j["discovery"].push_back({{"pid", d.p->pid}, {"era", d.era}, {"role", d.role}, {"backend_dir", d.backend_dir},
                              {"backend", d.backend}, {"backend_outcome", d.backend_outcome}, {"devices", d.devices},
                              {"conclusion", d.conclusion}});
  j["findings"] = json::array();
  for (const Finding& f : findings)
    j["findings"].push_back({{"severity", f.severity}, {"pid", f.pid}, {"message", f.message}, {"evidence", f.evidence}, {"fix", f.fix}});
  return j.dump(2) + "\n";
}

// Chrome/Perfetto trace events: a track per process (its lifetime), an instant per library attempt.
std::string render_chrome(const TraceResult& r) {
  using nlohmann::json;
  json events = json::array();
  for (const Process& p : r.processes) {
    std::string name = p.argv.empty() ? p.exe : command_line(p.argv).substr(0, 120);
    events.push_back({{"ph", "M"}, {"name", "process_name"}, {"pid", p.pid}, {"tid", p.pid}, {"args", {{"name", name}}}});
    double end = p.end_ms >= 0 ? p.end_ms : p.start_ms;
    events.push_back({{"ph", "X"}, {"name", base_name(p.argv.empty() ? p.exe : p.argv[0])}, {"cat", "process"},
                      {"pid", p.pid}, {"tid", p.pid}, {"ts", p.start_ms * 1000}, {"dur", (end - p.start_ms) * 1000},
                      {"args", {{"argv", p.argv}, {"end", describe_end(p)}, {"ppid", p.ppid}}}});
    for (const Library& l : p.libraries)
      events.push_back({{"ph", "i"}, {"s", "t"}, {"name", base_name(l.path) + ": " + l.outcome}, {"cat", "library"},
                        {"pid", p.pid}, {"tid", p.pid}, {"ts", l.first_ms * 1000}, {"args", {{"path", l.path}, {"resolved", l.resolved}}}});
  }
  return json{{"traceEvents", events}, {"displayTimeUnit", "ms"}}.dump() + "\n";
}

}  // namespace

// Works out the loader model's verdict for each library the trace saw unmapped (what the report will
// ask), on a thread of its own at low priority while the trace goes on, each input once and in the order
// asked; finish() does what is left and ends the thread. The ELF files each model reads stay in the
// run's shared cache (host_elf_cache) for the report.
class Prefetcher {
 public:
  ~Prefetcher() { finish(); }
  void add(ModelInput in) {
    if (!asked_.insert(in).second) return;
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(in));
    }
    cv_.notify_one();
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  void finish() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    run_in_background();
    while (true) {
      ModelInput in;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        in = std::move(queue_.front());
        queue_.pop_front();
      }
      (void)verdicts().get(in);
    }
  }
  std::set<ModelInput> asked_;  // (the tracer's thread only)
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ModelInput> queue_;
  bool done_ = false;
  std::thread thread_;
};

int main(int argc, char** argv) {
  Options o;
  int rc = parse(argc, argv, o);
  if (rc == 1) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (rc) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  RuleSet rules;
  auto found = find_rules_dir(o.rules_dir, executable_dir(argv[0]), VGPU_SOURCE_RULES_DIR);
  if (!found) {
    std::fprintf(stderr, "vgpu-trace: %s\n", found.error().message.c_str());
    return 2;
  }
  std::string rules_dir = found.value();
  bool have_rules = !rules_dir.empty();
  // The rules are for the report. Launched, they are read on a thread at low priority from the moment
  // the command is let go (TraceOptions::on_started), beside the trace. Measured against reading them
  // first (41 alternating runs, 2 CPUs): /bin/true 5.0 -> 4.3 ms; the ggml runner 2.51x -> 2.22x and
  // 2.12x -> 1.86x of bare; 16 threads 1.46x -> 1.38x and 1.44x -> 1.41x; a fork/exec chain unchanged
  // (2.29x, 2.32x; 2.49x, 2.52x). Started before the fork, the same thread made the trace bimodal and
  // slower: where the scheduler puts the command then changes every stop after. With -p they are read
  // before attaching.
  std::optional<Result<RuleSet>> loaded;
  auto read_rules = [&loaded, &rules_dir] {
    try {  // on the reader thread, an exception would end the tool (and with it the traced command)
      loaded = load_rules(rules_dir, RuleLoadOptions{.log_lines_only = true});  // all the trace uses
    } catch (const std::exception& e) {
      loaded = Error{std::string("cannot read the rules in ") + rules_dir + ": " + e.what()};
    }
  };
  std::thread reader;
  if (have_rules && o.attach) read_rules();
  auto rules_failed = [&loaded] {
    std::fprintf(stderr, "vgpu-trace: rules: %s\n", loaded->error().message.c_str());
  };
  if (loaded && !*loaded) {
    rules_failed();
    return 125;
  }
  // The terminal's Ctrl-C reaches the command itself (same process group); the tracer waits for it to
  // end and then reports. SIGTERM or SIGHUP sent to the tracer alone is forwarded to the command.
  // The command gets these four as the tracer found them (ignored under nohup or in a shell's background
  // job, else the default), not as the tracer sets them for itself.
  TraceOptions topts;
  struct sigaction ignore {}, forward {}, found_as {};
  ignore.sa_handler = SIG_IGN;
  forward.sa_handler = forward_to_command;
  sigemptyset(&forward.sa_mask);
  forward.sa_flags = SA_RESTART;
  for (auto [sig, action] : {std::pair{SIGINT, &ignore}, {SIGQUIT, &ignore}, {SIGTERM, &forward}, {SIGHUP, &forward}}) {
    sigaction(sig, action, &found_as);
    topts.command_signals.emplace_back(sig, found_as.sa_handler == SIG_IGN);
  }
  // The loader model explains a library that was mapped and then unmapped. From the first such unmapping
  // on, the facts it needs (a run of ld.so, the cache) come in on a thread, and its verdict on each is
  // worked out on another while the trace goes on: the report then only looks them up.
  Prefetcher prefetch;
  if (o.format != "chrome")  // the timeline explains nothing
    topts.on_unmap = [&prefetch](const Process& p, const Library& library) {
      prefetch_host_loader_facts();
      ModelInput in = model_input(p, library);
      unmapped_inputs()[attempt_key(p, library)] = in;
      prefetch.add(std::move(in));
    };
  if (have_rules && !o.attach)
    topts.on_started = [&reader, &read_rules] {
      reader = std::thread([&read_rules] {
        run_in_background();
        read_rules();
      });
    };
  topts.output_lines = o.output_lines;
  topts.go_no_preempt = o.go_no_preempt;
  topts.stacks = o.stacks;
  static volatile sig_atomic_t stop = 0;
  if (o.attach) {  // Ctrl-C ends the trace: detach, report, leave the process running
    struct sigaction detach {};
    detach.sa_handler = [](int) { stop = 1; };
    sigemptyset(&detach.sa_mask);  // no SA_RESTART: waitpid returns EINTR and the loop sees `stop`
    sigaction(SIGINT, &detach, nullptr);
    sigaction(SIGTERM, &detach, nullptr);
    sigaction(SIGHUP, &detach, nullptr);
  }
  TraceResult r = o.attach ? attach_traced(o.attach, topts, &stop) : run_traced(o.command, topts);
  if (reader.joinable()) reader.join();
  bool rules_error = loaded && !*loaded;  // launched: the command has run, so the report is still made
  if (rules_error) rules_failed();
  if (loaded && *loaded) rules = std::move(loaded->value());
  have_rules = loaded && *loaded;
  if (!r.error.empty() && r.processes.size() <= 1 && r.processes.empty()) {
    std::fprintf(stderr, "vgpu-trace: %s\n", r.error.c_str());
    return 125;
  }
  prefetch.finish();
  std::string text;
  if (o.format == "chrome") {
    text = render_chrome(r);
  } else {
    auto findings = findings_of(r, have_rules ? &rules : nullptr);
    auto disc = discoveries(r, have_rules ? &rules : nullptr);
    text = o.format == "json" ? render_json(r, findings, disc) : render_text(r, findings, disc, o.format == "markdown");
  }
  if (!write_report(text, o.output, stderr)) {
    std::fprintf(stderr, "vgpu-trace: cannot write %s\n", o.output.empty() ? "the report" : o.output.c_str());
    return 125;
  }
  if (!r.error.empty()) std::fprintf(stderr, "vgpu-trace: %s\n", r.error.c_str());
  if (rules_error) {
    std::fprintf(stderr, "vgpu-trace: the report was made without the rules: no log line is explained\n");
    return 125;
  }
  return r.error.empty() || !r.processes.empty() ? r.exit_status : 125;
}
