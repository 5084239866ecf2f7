#!/usr/bin/env bash
# vgpu_trace_test.sh TRACE FIXTURE RUNNER SHIM_DIR WORKDIR
# vgpu-trace on fixture programs built at test time (tests/trace/fixture.c) and on an Ollama-like
# runner loading a real ggml build: the traced program's output and exit status must be exactly what
# it gives untraced, and the JSON report must say what happened.
set -euo pipefail
trace=${1:?} fixture=${2:?} runner=${3:?} shims=$(realpath "${4:?}") work=${5:?}
here=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*"; [[ -f $work/report ]] && head -c 4000 "$work/report"; exit 1; }
# same MODE...: stdout, stderr and exit status traced equal untraced (lines sorted where threads race)
same() {
  local rc_bare=0 rc_traced=0
  "$fixture" "$@" >"$work/bare.out" 2>"$work/bare.err" || rc_bare=$?
  "$trace" -o "$work/report" --format json -- "$fixture" "$@" >"$work/traced.out" 2>"$work/traced.err" || rc_traced=$?
  [[ $rc_bare == "$rc_traced" ]] || fail "$*: exit status $rc_traced traced, $rc_bare untraced"
  cmp -s <(sort "$work/bare.out") <(sort "$work/traced.out") || fail "$*: stdout differs"
  cmp -s "$work/bare.err" "$work/traced.err" || fail "$*: stderr differs"
}
q() { python3 -c "import json,sys; d=json.load(open('$work/report')); sys.exit(0 if ($1) else 1)" || fail "report: $1"; }

same hello
q 'd["exit_status"] == 0 and len(d["processes"]) == 1 and d["processes"][0]["argv"][1] == "hello"'
echo "ok: hello: output and status unchanged, one process"
same chain 3
q 'len(d["processes"]) == 4 and [p["argv"][2] for p in d["processes"]] == ["3", "2", "1", "0"]'
q 'all(d["processes"][i]["ppid"] == d["processes"][i-1]["pid"] for i in range(1, 4))'
q 'd["exit_status"] == 3'
echo "ok: fork/exec chain of 4: every process, its parent, argv; exit status 3 passed through"
same threads 8
q 'len(d["processes"]) == 1 and sum(l.startswith("thread ") for l in d["processes"][0]["output_lines"]) == 8'
echo "ok: 8 threads, 160000 system calls: one process, every line it wrote"
same signal
q 'd["processes"][0]["output_lines"] == ["handled"]'
q 'd["processes"][0]["signals"] == {"SIGUSR1": 1}'
echo "ok: a signal and its handler: delivered unchanged"
same killed
q 'd["exit_status"] == 143 and d["processes"][1]["exit"]["signal"] == 9 and d["processes"][0]["exit"]["signal"] == 15'
echo "ok: a child killed by SIGKILL, the command by SIGTERM: exit status 143, each end recorded"
same exec-thread
q 'len(d["processes"]) == 1 and d["processes"][0]["execs"] == 2 and d["processes"][0]["argv"][1] == "hello"'
echo "ok: exec from a non-leader thread: one process, two images"
same vfork
q 'len(d["processes"]) == 2 and d["processes"][1]["argv"] == ["/bin/true"]'
echo "ok: vfork + exec"
same clone-process
q 'len(d["processes"]) == 2 and d["processes"][1]["argv"][1:] == ["hello"] and d["processes"][1]["ppid"] == d["processes"][0]["pid"]'
q 'd["processes"][1]["exit"]["code"] == 0 and d["processes"][0]["output_lines"] == ["clone child exited 0"]'
echo "ok: a process made by clone with no exit signal (a clone event, not a fork): a process of its own, not a thread"
same leader-exit
q 'len(d["processes"]) == 1 and d["exit_status"] == 0 and d["processes"][0]["output_lines"] == ["thread done"]'
echo "ok: the leader thread ends before the process: followed to the end, exit status 0"
same die-in-open "$work/libfifo.so"
q 'd["processes"][1]["exit"]["signal"] == 9 and any(l["path"] == "'"$work/libfifo.so"'" and l["outcome"].startswith("open did not return") for l in d["processes"][1]["libraries"])'
echo "ok: a tracee killed inside a blocking open of a library: its end and the open that never returned"
# A parent that exits (a zombie until reaped) while its child runs on: the child is followed to its end.
"$fixture" orphan >"$work/bare.out"
for _ in $(seq 100); do grep -q "orphan done" "$work/bare.out" && break; sleep 0.1; done
"$trace" -o "$work/report" --format json -- "$fixture" orphan >"$work/traced.out"  # waits for the child too
cmp -s "$work/bare.out" "$work/traced.out" || fail "orphan: output differs"
q 'len(d["processes"]) == 2 and d["processes"][1]["exit"]["code"] == 0 and d["processes"][0]["end_ms"] < d["processes"][1]["end_ms"]'
echo "ok: a parent that exits before its child: the child followed to its end, output unchanged"

# What a process wrote: its first and its last --output-lines lines, the count between; a last line
# without a newline kept; a program that writes a lot passes its output through unchanged.
"$trace" -o "$work/report" --format json -- seq 100000 >"$work/traced.out" || fail "seq under the trace"
seq 100000 | cmp -s - "$work/traced.out" || fail "seq 100000: output differs"
q 'd["processes"][0]["output_lines"] == [str(i) for i in list(range(1, 201)) + list(range(99801, 100001))]'
q 'd["processes"][0]["output_lines_first"] == 200 and d["processes"][0]["output_lines_dropped"] == 99600'
"$trace" -o "$work/report" --format json --output-lines 2 -- printf 'x\ny\nz' >/dev/null || fail "printf under the trace"
q 'd["processes"][0]["output_lines"] == ["x", "y", "z"] and d["processes"][0]["output_lines_dropped"] == 0'
"$trace" -o "$work/report" --format json --output-lines 2 -- seq 10 >/dev/null || fail "seq 10 under the trace"
q 'd["processes"][0]["output_lines"] == ["1", "2", "9", "10"] and d["processes"][0]["output_lines_dropped"] == 6'
"$trace" -o "$work/report" --format json --output-lines 1000 -- seq 100000 >/dev/null || fail "seq under the trace"
q 'd["processes"][0]["output_lines"] == [str(i) for i in list(range(1, 1001)) + list(range(99001, 100001))] and d["processes"][0]["output_lines_dropped"] == 98000'
same partials
q 'd["processes"][0]["output_lines"] == ["ac", "bd", "e"]'
"$trace" -o "$work/report" --format json --output-lines 0 -- seq 10 >/dev/null || fail "seq 10 under the trace"
q 'd["processes"][0]["output_lines"] == [] and d["processes"][0]["output_lines_dropped"] == 10'
echo "ok: output lines: the first and the last --output-lines kept, the rest counted; 100000 lines passed through unchanged"

# Another system-call ABI is never stopped nor killed: a 64-bit program calling through int $0x80, and
# a 32-bit (i386) build of the fixture (cc -m32: gcc-multilib, which scripts/install-deps.sh installs),
# followed through fork, exec and exit; a 32-bit program that execs a 64-bit one is followed in full
# again from that exec.
same int80
q 'd["exit_status"] == 0 and d["processes"][0]["output_lines"] == ["int80 getpid: same"] and not d["processes"][0]["elf32"]'
same int80-loop 3
q 'not any("libx" in l["path"] for l in d["processes"][0]["libraries"])'
echo "ok: int \$0x80 from a 64-bit program: runs as untraced, and its own calls still followed"
cc -m32 -O2 -pthread -o "$work/fixture32" "$here/trace/fixture.c" -ldl 2>"$work/err" ||
  fail "cc -m32 (a 32-bit build of the fixture) failed: $(head -3 "$work/err"); install gcc-multilib (scripts/install-deps.sh does)"
fixture64=$fixture fixture=$work/fixture32
same int80
same chain 2
q 'd["exit_status"] == 2 and len(d["processes"]) == 3 and all(p["elf32"] and not p["loader_view"] for p in d["processes"])'
same dlopen "$work/no-such-lib.so"
q 'd["exit_status"] == 1 and d["processes"][0]["elf32"]'
same threads 4
q 'len(d["processes"]) == 1 and d["processes"][0]["elf32"] and d["exit_status"] == 0'
same vfork
q 'len(d["processes"]) == 2 and d["processes"][1]["argv"] == ["/bin/true"] and d["processes"][1]["elf32"]'
q 'd["processes"][1]["loader_view"] and any(l["path"].endswith("/libc.so.6") and l["outcome"] == "loaded" for l in d["processes"][1]["libraries"])'
"$trace" -o "$work/report.txt" -- "$fixture" chain 1 >/dev/null 2>&1 || true
grep -q "a 32-bit program: its system calls are not followed" "$work/report.txt" || fail "the text report does not say the 32-bit image was not followed"
fixture=$fixture64
echo "ok: a 32-bit program: output and status as untraced, processes followed through fork and exec, its threads taken for threads; the 64-bit program it execs followed in full"

# Directory listings (getdents64, also on a directory opened without O_DIRECTORY), a failed exec, openat2
mkdir -p "$work/dir" && touch "$work/dir/libggml-a.so" "$work/dir/libggml-b.so" "$work/dir/notes.txt"
same listdir "$work/dir"
q 'd["processes"][0]["dirs_listed"][0]["path"] == "'"$work/dir"'" and sorted(d["processes"][0]["dirs_listed"][0]["entries"]) == ["libggml-a.so", "libggml-b.so", "notes.txt"]'
# (the first read-through's names, once; two descriptors: two passes, the rewind is not a third)
q 'd["processes"][0]["dirs_listed"][0]["count"] == 3 and d["processes"][0]["dirs_listed"][0]["passes"] == 2'
# An open that creates a library file: the path did not exist, and it is not taken for "not found".
rm -f "$work/libnew.so"
"$trace" -o "$work/report" --format json -- "$fixture" create "$work/libnew.so" >"$work/traced.out" || fail "create: traced, it failed"
[[ $(cat "$work/traced.out") == created && -f "$work/libnew.so" ]] || fail "create: not created under the trace"
q '[l["outcome"] for l in d["processes"][0]["libraries"] if l["path"] == "'"$work/libnew.so"'"] == ["opened, not mapped"]'
same exec-missing "$work/no/such/runner"
q 'd["processes"][0]["exec_failures"][0]["path"] == "'"$work/no/such/runner"'" and d["processes"][0]["exec_failures"][0]["errno"] == 2'
"$trace" -o "$work/report.txt" -- "$fixture" exec-missing "$work/no/such/runner" >/dev/null || true
grep -q "exec failed: $work/no/such/runner: No such file or directory" "$work/report.txt" || fail "text report: no failed exec"
# ... and how often the process stopped for the tracer (its exec, ld.so's opens and maps, the failed exec)
grep -Eq "^  stopped for the tracer: [1-9][0-9]* times$" "$work/report.txt" || fail "text report: no stop count"
# A command named without a slash is found on PATH by the tracer (as execvp would: a file that is not
# executable is passed over), so the command's process makes no failed exec before it; a name found
# nowhere fails as execvp fails, every directory it tried listed.
mkdir -p "$work/path1" "$work/path2" && cp "$fixture" "$work/path2/vgpu-fixture" && touch "$work/path1/vgpu-fixture"
out=$(PATH="$work/path0:$work/path1:$work/path2:$PATH" "$trace" -o "$work/report" --format json -- vgpu-fixture hello) || fail "PATH: traced, it failed"
[[ $out == hello ]] || fail "PATH: output $out"
q 'd["processes"][0]["exe"] == "'"$work/path2/vgpu-fixture"'" and d["processes"][0]["argv"] == ["vgpu-fixture", "hello"] and not d["processes"][0]["exec_failures"]'
rc=0 && PATH="$work/path0:$work/path1" "$trace" -o "$work/report" --format json -- vgpu-fixture hello 2>/dev/null || rc=$?
[[ $rc == 127 ]] || fail "PATH: a command found nowhere: exit status $rc"
q '[f["path"] for f in d["processes"][0]["exec_failures"]] == ["'"$work/path0/vgpu-fixture"'", "'"$work/path1/vgpu-fixture"'"] and [f["errno"] for f in d["processes"][0]["exec_failures"]] == [2, 13]'
echo "ok: a command found on PATH: no failed exec before it; one found nowhere: each try and why"
same openat2 "$work/dir/libggml-a.so"
q 'any(l["path"] == "'"$work/dir/libggml-a.so"'" and l["outcome"] == "opened, not mapped" for l in d["processes"][0]["libraries"])'
q 'list(d["processes"][0]["fds"].values()) == ["'"$work/dir/libggml-a.so"'"]'
echo "ok: a directory listed (opened without O_DIRECTORY): its names; a failed exec and why; openat2; the fd table at exit"

# dlopen: success, not found, a dependency missing, a versioned symbol hidden (the seeds' bug)
mkdir -p "$work/libs"
printf 'int dep_fn(void) { return 1; }\n' >"$work/dep.c"
cc -shared -fPIC -o "$work/libs/libdep.so" -Wl,-soname,libdep.so "$work/dep.c"
printf 'int dep_fn(void); int good_fn(void) { return dep_fn(); }\n' >"$work/good.c"
cc -shared -fPIC -o "$work/libs/libggml-good.so" -Wl,-soname,libggml-good.so "$work/good.c" -L"$work/libs" -ldep -Wl,-rpath,'$ORIGIN'
cc -shared -fPIC -o "$work/libs/libggml-nodep.so" -Wl,-soname,libggml-nodep.so "$work/good.c" -L"$work/libs" -ldep
printf 'int cudaGetDeviceCount(int* n) { *n = 0; return 0; }\nint __cudaRegisterFatBinary(void) { return 0; }\n' >"$work/rt.c"
printf 'libcudart.so.12 { global: cudaGetDeviceCount; local: *; };\n' >"$work/rt.map"
mkdir -p "$work/broken"
cc -shared -fPIC -o "$work/broken/libcudart.so.12" -Wl,-soname,libcudart.so.12 -Wl,--version-script,"$work/rt.map" "$work/rt.c"
printf 'libcudart.so.12 { global: *; };\n' >"$work/rt-full.map"
cc -shared -fPIC -o "$work/libs/libcudart.so.12" -Wl,-soname,libcudart.so.12 -Wl,--version-script,"$work/rt-full.map" "$work/rt.c"
printf 'int __cudaRegisterFatBinary(void); int ggml_fn(void) { return __cudaRegisterFatBinary(); }\n' >"$work/be.c"
cc -shared -fPIC -o "$work/libs/libggml-cudafake.so" -Wl,-soname,libggml-cudafake.so "$work/be.c" -L"$work/libs" -l:libcudart.so.12
# libggml-nodep.so first: once libggml-good.so has brought libdep.so in, its SONAME would satisfy it
same dlopen "$work/libs/libggml-nodep.so" "$work/libs/libggml-good.so" "$work/nowhere/libggml-missing.so"
q 'any(l["path"].endswith("libggml-good.so") and l["outcome"] == "loaded" for l in d["processes"][0]["libraries"])'
q 'any(l["path"].endswith("libggml-missing.so") and l["outcome"] == "not found" for l in d["processes"][0]["libraries"])'
q 'any("libggml-nodep.so" in f["message"] and "libdep.so" in f["message"] for f in d["findings"])'
q 'any("libggml-missing.so" in f["message"] and "cannot open shared object file" in f["message"] for f in d["findings"])'
q 'd["processes"][0]["loader_view"] and any(e["path"].endswith("libggml-good.so") and e["event"] == "added" for e in d["processes"][0]["link_events"])'
q 'not any(e["path"].endswith("libggml-nodep.so") for e in d["processes"][0]["link_events"])'
echo "ok: dlopen loaded / not found (its own dlerror quoted) / a dependency missing (named); ld.so's link map agrees"
# The file each library path is: through a linked directory, a relative link, an absolute one, a chain
# of both, "..": each resolved as realpath(1) resolves it.
mkdir -p "$work/links/real/sub" && ln -sfn real "$work/links/dir"
ln -sf ../../../libs/libggml-good.so "$work/links/real/sub/librel.so"
ln -sf "$work/links/dir/sub/librel.so" "$work/links/abs.so"
ln -sf abs.so "$work/links/chain.so"
same dlopen "$work/links/dir/sub/librel.so" "$work/links/abs.so" "$work/links/chain.so" "$work/links/dir/../real/sub/librel.so"
good=$(realpath "$work/libs/libggml-good.so")
# (its libdep.so is searched for in $ORIGIN as the path named it, not as resolved: not found there)
q '[l["resolved"] for l in d["processes"][0]["libraries"] if "/links/" in l["path"] and l["outcome"] != "not found"] == ["'"$good"'"] * 4'
# A library whose file is gone by the end (the link dangles): resolved as realpath fails, to its own path.
cp "$work/libs/libdep.so" "$work/links/real/libgone.so" && ln -sf real/libgone.so "$work/links/gone.so"
"$trace" -o "$work/report" --format json -- "$fixture" dlopen-unlink "$work/links/gone.so" "$work/links/real/libgone.so" >/dev/null ||
  fail "dlopen-unlink: traced, it failed"
q '[l["resolved"] for l in d["processes"][0]["libraries"] if l["path"] == "'"$work/links/gone.so"'"] == ["'"$work/links/gone.so"'"]'
echo "ok: a library behind linked directories and chains of relative and absolute links: the file it is; one removed since: its own path"
# The backend loads its runtime from LD_LIBRARY_PATH: the hidden symbol, found by the model in the
# process's own environment (the fixture prints the dlerror; the model names the cause too).
LD_LIBRARY_PATH="$work/broken:$work/libs" same dlopen "$work/libs/libggml-cudafake.so"
q 'any("__cudaRegisterFatBinary" in f["message"] for f in d["findings"])'
echo "ok: a runtime that keeps __cudaRegisterFatBinary local: named"
# Files ld.so opens and rejects before mapping: not an ELF object; built for another machine (e_machine
# patched to AArch64, 183).
echo "not a library" >"$work/libs/libggml-text.so"
cp "$work/libs/libggml-good.so" "$work/libs/libggml-arm.so"
printf '\xb7\x00' | dd of="$work/libs/libggml-arm.so" bs=1 seek=18 conv=notrunc status=none
same dlopen "$work/libs/libggml-text.so" "$work/libs/libggml-arm.so"
q 'all(any(l["path"].endswith(n) and l["outcome"] == "opened, not mapped" for l in d["processes"][0]["libraries"]) for n in ("libggml-text.so", "libggml-arm.so"))'
q 'any("libggml-text.so" in f["message"] and "file too short" in f["message"] and "not an ELF file" in f["message"] for f in d["findings"])'
# glibc says "No such file or directory" for a file of another machine; the trace adds what it is.
q 'any("libggml-arm.so" in f["message"] and "No such file" in f["message"] and "wrong machine (e_machine 183)" in f["message"] for f in d["findings"])'
echo "ok: a file that is not ELF and one for another machine: opened, not mapped; the process's words, and what the file is (glibc calls the latter missing)"
# The text report folds ld.so's search for one name into the directories searched (two on
# LD_LIBRARY_PATH, one nested in the other: each its own; hwcaps and tls probes counted under theirs);
# JSON keeps each path.
mkdir -p "$work/search/sub"
LD_LIBRARY_PATH="$work/search:$work/search/sub" "$trace" -o "$work/report.txt" -- "$fixture" dlopen libnothere.so >/dev/null 2>&1 || true
# (then the system's directories, as many as this host's ld.so has)
grep -q "^  not found: libnothere.so in [0-9]* directories.*: $work/search, $work/search/sub, /" "$work/report.txt" ||
  fail "text report: the search for libnothere.so not folded: $(grep libnothere "$work/report.txt")"
! grep -q "^  not found: $work/search" "$work/report.txt" || fail "text report: a search path left unfolded"
LD_LIBRARY_PATH="$work/search:$work/search/sub" "$trace" -o "$work/report" --format json -- "$fixture" dlopen libnothere.so >/dev/null 2>&1 || true
q '{l["path"] for l in d["processes"][0]["libraries"] if l["outcome"] == "not found"} >= {"'"$work/search/libnothere.so"'", "'"$work/search/sub/libnothere.so"'"}'
echo "ok: text: a search folded into the directories searched; JSON: every path"
# ld.so's link map in the text report: an object added and removed again on one line; a process that
# ran two images, each image's changes under its own name.
"$trace" -o "$work/report.txt" -- "$fixture" dlopen-loop 2 "$work/libs/libggml-good.so" >/dev/null 2>&1
[[ $(grep -c "^  ld.so added, then removed: $work/libs/libggml-good.so  ([0-9]*-[0-9]* ms)" "$work/report.txt") == 2 ]] ||
  fail "text report: dlopen and dlclose not one line each: $(grep libggml-good "$work/report.txt")"
"$trace" -o "$work/report.txt" -- "$fixture" exec-thread >/dev/null 2>&1
grep -q "^  image 1 of 2, from [0-9]* ms: $fixture exec-thread" "$work/report.txt" && grep -q "^  image 2 of 2, from [0-9]* ms: .* hello" "$work/report.txt" ||
  fail "text report: the images of an exec not named: $(grep -n "image\|ld.so" "$work/report.txt")"
# Markdown for a ticket: facts as a list, ld.so's changes folded away (<details>), the libraries a table
# whose cells escape '|'.
"$trace" --format markdown -o "$work/report.md" -- "$fixture" dlopen "$work/libs/libggml-good.so" "$work/no/lib|pipe.so" >/dev/null 2>&1 || true
grep -q '^- argv: `' "$work/report.md" && grep -q "^<details><summary>ld.so's link map: [0-9]* lines</summary>" "$work/report.md" ||
  fail "markdown: no facts list or no folded link map"
grep -q '^| library | outcome | file |$' "$work/report.md" && grep -q "^| \`$work/libs/libggml-good.so\` | loaded | " "$work/report.md" ||
  fail "markdown: no libraries table"
grep -qF "| \`$work/no/lib\\|pipe.so\` | not found |" "$work/report.md" || fail "markdown: a '|' in a path not escaped: $(grep pipe "$work/report.md")"
echo "ok: text: ld.so's changes folded and named by image; markdown: a facts list, the link map folded away, a libraries table"

# An Ollama-like runner loading the real ggml registry (node-llama-cpp 3.22.1, CUDA 13).
bins=$("$here/fetch_ggml.sh" 3.22.1) || exit $?
"$here/e2e/make_ollama_layout.sh" "$work/root" "$bins" 13 "$shims"
"$here/make_sysfs_stub.sh" "$work/sysfs"
lib="$work/root/lib/ollama"
export VGPU_SYSFS_ROOT="$work/sysfs" LD_LIBRARY_PATH="$lib:$lib/cuda_v13:$work/root/nvidia"
runner_same() {
  local rc_bare=0 rc_traced=0
  "$runner" "$lib" "$lib/cuda_v13" >"$work/bare.out" 2>"$work/bare.err" || rc_bare=$?
  "$trace" -o "$work/report" --format json -- "$runner" "$lib" "$lib/cuda_v13" >"$work/traced.out" 2>"$work/traced.err" || rc_traced=$?
  [[ $rc_bare == "$rc_traced" ]] || fail "runner: exit status $rc_traced traced, $rc_bare untraced"
  cmp -s "$work/bare.out" "$work/traced.out" || fail "runner: stdout differs"
}
runner_same
grep -q "NVIDIA H100" "$work/traced.out" || fail "the traced runner does not see the H100"
q 'any(l["path"].endswith("cuda_v13/libggml-cuda.so") and l["outcome"] == "loaded" for l in d["processes"][0]["libraries"])'
q 'not any(f["severity"] == "error" for f in d["findings"])'
# ggml's backend scan: it lists the lib dir (once per backend kind) and sees its own files there.
q 'any(l["path"] == "'"$lib"'" and "libggml-base.so" in l["entries"] and l["passes"] >= 2 for l in d["processes"][0]["dirs_listed"])'
echo "ok: real ggml (3.22.1) with the shims: libggml-cuda.so loaded, the H100 found, its backend dir listings seen, output unchanged"
"$trace" --stacks -o "$work/report" --format json -- "$runner" "$lib" "$lib/cuda_v13" >/dev/null 2>&1
q 'any(l["path"].endswith("libggml-cuda.so") and any(f.startswith("ggml_backend_load_best") for f in l.get("stack", [])) and any(f.startswith("dlopen") for f in l.get("stack", [])) for l in d["processes"][0]["libraries"])'
echo "ok: --stacks: the open of libggml-cuda.so comes from ggml_backend_load_best -> dlopen"
ln -sf "$work/broken/libcudart.so.12" "$lib/cuda_v13/libcudart.so.13"  # a runtime of the wrong major, symbols hidden
runner_same
grep -q "gpu: 0" "$work/traced.out" || fail "the broken runtime still gives a GPU"
q 'any("libggml-cuda.so did not load" in f["message"] and "libcudart.so.13" in f["message"] for f in d["findings"])'
echo "ok: real ggml with a broken libcudart.so.13: ggml says nothing, vgpu-trace names why libggml-cuda.so did not load"

# An era-B Ollama stand-in (the fixture as bin/ollama): `ollama serve` starts an `ollama runner` per
# backend dir; the trace concludes per discovery runner, healthy and with the broken runtime.
mkdir -p "$work/root/bin" && ln -sf "$fixture" "$work/root/bin/ollama"
ln -sf "$shims/libvgpu-cudart.so.13" "$lib/cuda_v13/libcudart.so.13"
VGPU_TEST_RUNNER="$runner" LD_LIBRARY_PATH="$work/root/nvidia" "$trace" -o "$work/report" --format json -- "$work/root/bin/ollama" serve >/dev/null 2>&1
q 'len(d["discovery"]) == 1 and d["discovery"][0]["era"] == "B" and d["discovery"][0]["backend_dir"].endswith("cuda_v13")'
q 'd["discovery"][0]["backend_outcome"] == "loaded" and d["discovery"][0]["devices"].startswith("found 1 CUDA devices")'
ln -sf "$work/broken/libcudart.so.12" "$lib/cuda_v13/libcudart.so.13"
VGPU_TEST_RUNNER="$runner" LD_LIBRARY_PATH="$work/root/nvidia" "$trace" -o "$work/report" --format json -- "$work/root/bin/ollama" serve >/dev/null 2>&1
q 'd["discovery"][0]["backend_outcome"].startswith("did not load") and "libcudart.so.13" in d["discovery"][0]["conclusion"]'
echo "ok: era-B discovery runner per backend dir: GPU found with the shims; with a broken runtime, no GPU and why"

# An era-A stand-in (VGPU_TEST_ERA=A): discovery inside `ollama serve`, which globs libcuda.so* and
# dlopens the real file (the shim, under its own name). With the shim's dir on LD_LIBRARY_PATH: found;
# without: no libcuda anywhere it looked, and the directories it listed are named.
VGPU_TEST_ERA=A LD_LIBRARY_PATH="$work/root/nvidia" "$trace" -o "$work/report" --format json -- "$work/root/bin/ollama" serve >/dev/null 2>&1
q 'len(d["discovery"]) == 1 and d["discovery"][0]["era"] == "A" and d["discovery"][0]["backend"].startswith("libcuda.so.1 (")'
q 'd["discovery"][0]["backend_outcome"] == "loaded" and "NVIDIA H100" in d["discovery"][0]["devices"]'
VGPU_TEST_ERA=A VGPU_TEST_DRIVER_DIR="$work/no-driver" LD_LIBRARY_PATH= "$trace" -o "$work/report" --format json -- "$work/root/bin/ollama" serve >/dev/null 2>&1
q 'd["discovery"][0]["era"] == "A" and d["discovery"][0]["conclusion"].find("no GPU: it opened no libcuda.so*") > 0'
q '"lib/ollama" in d["discovery"][0]["conclusion"] and "library=cpu" in d["discovery"][0]["devices"]'
echo "ok: era-A discovery in the server: the shim found through its glob (by SONAME) and the GPU named; without it, no GPU and where it looked"

# A signal sent to the tracer alone reaches the command; the report is still written.
"$trace" -o "$work/report" --format json -- sleep 30 &
tracer=$!
for _ in $(seq 50); do [[ -n $(pgrep -P "$tracer") ]] && break; sleep 0.1; done
kill -TERM "$tracer"
rc=0; wait "$tracer" || rc=$?
[[ $rc == 143 ]] || fail "SIGTERM to the tracer: exit $rc, not 143"
q 'd["processes"][0]["exit"]["signal"] == 15'
echo "ok: SIGTERM to vgpu-trace is forwarded to the command; exit 143, report written"
# The signals vgpu-trace ignores or handles for itself reach the command as they reached vgpu-trace:
# with their default action from a terminal, ignored under nohup (SIGHUP), in a background job (SIGINT,
# SIGQUIT) or where all four were ignored.
# sigs dfl|ign CMD...: CMD with SIGINT and SIGQUIT at their default action (dfl), or SIGINT, SIGQUIT,
# SIGTERM and SIGHUP ignored (ign), in a process group of its own as a terminal's foreground job is
# (this script's background jobs start with SIGINT and SIGQUIT ignored).
sigs=(python3 -c 'import os, signal, sys
ign = sys.argv[1] == "ign"
for s in (signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGHUP):
    if ign or s in (signal.SIGINT, signal.SIGQUIT): signal.signal(s, signal.SIG_IGN if ign else signal.SIG_DFL)
os.setpgid(0, 0)
os.execvp(sys.argv[2], sys.argv[2:])')
dfl() { "${sigs[@]}" dfl "$@"; }
ign() { "${sigs[@]}" ign "$@"; }
background() { "$@" & wait $!; }
for wrap in dfl ign nohup background; do
  $wrap grep -E '^Sig(Ign|Blk)' /proc/self/status >"$work/bare.out" 2>/dev/null
  $wrap "$trace" -o "$work/report" -- grep -E '^Sig(Ign|Blk)' /proc/self/status >"$work/traced.out" 2>/dev/null
  cmp -s "$work/bare.out" "$work/traced.out" ||
    fail "$wrap: the command's ignored and blocked signals: $(paste -s "$work/traced.out") traced, $(paste -s "$work/bare.out") untraced"
done
# Ctrl-C: the terminal sends SIGINT to the whole foreground group; the command dies of it, and the
# tracer (which ignores it for itself) reports and exits 128 + 2.
"${sigs[@]}" dfl "$trace" -o "$work/report" --format json -- sleep 30 &
tracer=$!
# (the command itself running: the group made, the tracer started, sleep exec'd)
for _ in $(seq 100); do pgrep -P "$tracer" -x sleep >/dev/null && break; sleep 0.05; done
kill -INT -- "-$tracer"
rc=0; wait "$tracer" || rc=$?
[[ $rc == 130 ]] || fail "Ctrl-C (SIGINT to the group): exit $rc, not 130"
q 'd["processes"][0]["exit"]["signal"] == 2'
echo "ok: the command starts with SIGINT, SIGQUIT, SIGTERM, SIGHUP as vgpu-trace found them (default, all ignored, nohup, background job); Ctrl-C ends it, exit 130, report written"
# Group-stops. Ctrl-Z as a terminal sends it (SIGTSTP to the whole group) stops the tracer and the
# command, and fg (SIGCONT to the group) resumes both. A SIGSTOP to the command alone keeps it stopped,
# as untraced, until its SIGCONT, while the tracer waits: the line it writes after its sleep comes only
# then.
state() { awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
tracer_of() { awk '/^TracerPid:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
"${sigs[@]}" dfl "$trace" -o "$work/report" --format json -- sh -c 'sleep 1; echo finished' >"$work/out" &
tracer=$!
for _ in $(seq 100); do sleeper=$(pgrep -g "$tracer" -x sleep) && break; sleep 0.05; done
shell=$(pgrep -g "$tracer" -x sh)
kill -TSTP -- "-$tracer"
for _ in $(seq 40); do [[ $(state "$tracer") == T ]] && break; sleep 0.05; done
[[ $(state "$tracer") == T && $(state "$shell") == [tT] && $(state "$sleeper") == [tT] ]] ||
  fail "Ctrl-Z: states $(state "$tracer") (vgpu-trace), $(state "$shell") (sh), $(state "$sleeper") (sleep)"
kill -CONT -- "-$tracer"
rc=0; wait "$tracer" || rc=$?
[[ $rc == 0 && $(cat "$work/out") == finished ]] || fail "Ctrl-Z, then fg: exit $rc, '$(cat "$work/out")'"
q 'd["processes"][0]["signals"].get("SIGTSTP") == 1 and d["processes"][0]["signals"].get("SIGCONT") == 1'
"$trace" -o "$work/report" --format json -- sh -c 'sleep 0.5; echo finished' >"$work/out" &
tracer=$!
for _ in $(seq 100); do shell=$(pgrep -P "$tracer" -x sh) && break; sleep 0.05; done
kill -STOP "$shell"
sleep 1.2  # the sleep has ended; sh, stopped, has not gone on
[[ $(state "$shell") == [tT] && ! -s "$work/out" ]] || fail "SIGSTOP to the command: state $(state "$shell"), output '$(cat "$work/out")'"
kill -CONT "$shell"
rc=0; wait "$tracer" || rc=$?
[[ $rc == 0 && $(cat "$work/out") == finished ]] || fail "SIGSTOP, then SIGCONT: exit $rc, '$(cat "$work/out")'"
echo "ok: group-stops: Ctrl-Z stops the tracer and the command, fg resumes both; a stopped command stays stopped until SIGCONT"
# The Chrome/Perfetto timeline, and the opt-in Go preemption switch.
"$trace" --format chrome -o "$work/report" -- "$fixture" chain 2 >/dev/null || true  # chain N exits N
q 'sum(e["ph"] == "X" for e in d["traceEvents"]) == 3 and any(e["ph"] == "i" for e in d["traceEvents"])'
GODEBUG=madvdontneed=1 "$trace" --go-no-preempt -o "$work/report" -- sh -c 'echo "$GODEBUG"' >"$work/out"
[[ $(cat "$work/out") == "madvdontneed=1,asyncpreemptoff=1" ]] || fail "--go-no-preempt: GODEBUG is $(cat "$work/out")"
echo "ok: --format chrome (a process track each, library instants); --go-no-preempt appends to GODEBUG"

# If the tracer dies, its tracees die with it (PTRACE_O_EXITKILL): none is left running unfiltered, or
# stopped forever.
"$trace" -o "$work/report" -- "$fixture" loop 100 >/dev/null &
tracer=$!
for _ in $(seq 50); do target=$(pgrep -P "$tracer" || true); [[ -n $target ]] && break; sleep 0.1; done
[[ -n $target ]] || fail "the traced command did not start"
sleep 0.3
kill -KILL "$tracer"
wait "$tracer" 2>/dev/null || true
# (a zombie counts as dead: its new parent may be slow to reap it)
running() { local st; st=$(state "$1"); [[ -n $st && $st != Z ]]; }
for _ in $(seq 50); do running "$target" || break; sleep 0.1; done
! running "$target" || fail "the command outlived a killed tracer"
echo "ok: the tracer killed: the command is killed with it"

# attached EXPECTED FIXTURE_ARGS...: runs the fixture, attaches 0.3 s in, Ctrl-C 0.8 s later; the tracer
# must exit 0, and the fixture must still be running, then finish with exactly EXPECTED and status 0.
attached() {
  local expected=$1 rc=0 tracer target
  shift
  "$fixture" "$@" >"$work/loop.out" &
  target=$!
  sleep 0.3
  "$trace" -p "$target" -o "$work/report" --format json &
  tracer=$!
  # attached (TracerPid set) before the 0.8 s of tracing start, however slow the machine
  for _ in $(seq 100); do [[ $(tracer_of "$target") == "$tracer" ]] && break; sleep 0.05; done
  sleep 0.8
  kill -INT "$tracer"
  wait "$tracer" || rc=$?
  [[ $rc == 0 ]] || fail "vgpu-trace -p ($*): exit $rc after Ctrl-C"
  kill -0 "$target" 2>/dev/null || fail "($*): the attached process did not survive the detach"
  rc=0; wait "$target" || rc=$?
  [[ $rc == 0 && $(cat "$work/loop.out") == "$expected" ]] || fail "after detach ($*): exit $rc, '$(cat "$work/loop.out")'"
  attached_pid=$target
}

# Attach to a running process, follow the children it starts, detach on Ctrl-C: it goes on, correct.
attached "loop done: 60 of 60" loop 60
q 'd["processes"][0]["pid"] == '"$attached_pid"' and d["processes"][0]["exit"] is None'
q 'sum(p["argv"][1:] == ["hello"] for p in d["processes"]) >= 3'
# Every call stops under -p: each round's fork, wait4 and usleep, at entry and at exit, besides events.
q 'd["processes"][0]["stops"] >= 6 * sum(p["argv"][1:] == ["hello"] for p in d["processes"])'
echo "ok: -p attaches, follows the children started meanwhile, detaches on Ctrl-C; the process finishes correctly"

# Attach mode has the loader's view too: the breakpoint set in the running process, the link map it
# already had, then each dlopen and dlclose as ld.so reports it; the breakpoint is gone after detach
# (the process dlopens on, 60 of 60, after it).
attached "dlopen-loop done: 60 of 60" dlopen-loop 60 "$work/libs/libggml-good.so"
q 'd["processes"][0]["loader_view"] and any(m.endswith("/libc.so.6") for m in d["processes"][0]["link_map"])'
q 'not any(e["path"].endswith("/libc.so.6") for e in d["processes"][0]["link_events"])'
q 'sum(e["path"].endswith("/libggml-good.so") and e["event"] == "added" for e in d["processes"][0]["link_events"]) >= 3'
q 'sum(e["path"].endswith("/libggml-good.so") and e["event"] == "removed" for e in d["processes"][0]["link_events"]) >= 3'
q 'any(l["path"].endswith("/libggml-good.so") and l["outcome"] == "mapped, then unmapped" for l in d["processes"][0]["libraries"])'
q 'not any(f["message"].startswith("libggml-good.so") for f in d["findings"])'
echo "ok: -p: the loader view in a running process (its link map at attach, then each dlopen and dlclose), a dlclose not taken for a failure; it runs on correctly after detach"

# Attach and detach while the process makes threads and children without pause, each of which goes
# through ld.so's breakpoint: a thread made while the attach lists the threads, or a child forked while
# the detach restores the breakpoint, would die of SIGTRAP. Three rounds, each attach at another moment.
for round in 1 2 3; do
  attached "churn done: 80 of 80" churn 80 "$work/libs/libggml-good.so"
  q 'd["processes"][0]["loader_view"] and len(d["processes"]) >= 2'
done
echo "ok: -p on a process that makes threads and children all the time: every one traced, none left with the breakpoint"

# The same process attached to and detached from again and again, each time for a few ms: the races of
# attach and detach are each hit now and then (about one cycle in 200 on a loaded 2-core machine, before
# they were fixed): a thread that ended between the listing and its seize, its new thread untraced; a
# thread interrupted after it ran the int3 but before it took the SIGTRAP, detached with it queued.
# Either kills the process (SIGTRAP), or its child. Until the process ends (about 20 s), then its output
# must be whole.
"$fixture" churn 1000 "$work/libs/libggml-good.so" >"$work/cycles.out" &
target=$!
cycles=0 viewed=0 ran_on=0
sleep 0.2
while running "$target"; do
  "$trace" -p "$target" -o "$work/cycles.report" --format json 2>"$work/cycles.err" &
  tracer=$!
  for _ in $(seq 400); do [[ $(tracer_of "$target") == "$tracer" ]] && break; sleep 0.005; done
  hold=$((RANDOM % 9 + 1))
  sleep "0.0$hold"
  kill -INT "$tracer" 2>/dev/null || true  # (gone already if the process ended)
  rc=0; wait "$tracer" || rc=$?
  # 0 also when the process ends during this trace, as it should (its exit status). Not when it ended
  # before the attach ("no process"), or died: its output says which, below.
  [[ $rc == 0 ]] || ! running "$target" || fail "cycle $cycles: vgpu-trace -p exit $rc: $(cat "$work/cycles.err")"
  cycles=$((cycles + 1))
  # the loader breakpoint set in the cycles of 50 ms or more that the process ran through (not in every
  # one: on a loaded machine Ctrl-C can come before each thread has stopped once)
  if [[ $rc == 0 ]] && ((hold >= 5)) && running "$target"; then
    ran_on=$((ran_on + 1))
    grep -q '"loader_view": true' "$work/cycles.report" && viewed=$((viewed + 1))
  fi
done
rc=0; wait "$target" || rc=$?
[[ $rc == 0 && $(cat "$work/cycles.out") == "churn done: 1000 of 1000" ]] || fail "after $cycles attach-detach cycles: exit $rc, '$(cat "$work/cycles.out")'"
(( cycles >= 50 )) || fail "only $cycles attach-detach cycles before the process ended"
(( viewed * 10 >= ran_on * 8 )) || fail "the loader breakpoint was set in only $viewed of $ran_on attach-detach cycles of 50 ms or more"
echo "ok: -p attached and detached $cycles times on a process that makes threads and children all the time: it ends whole; the breakpoint set in $viewed of $ran_on cycles of 50 ms or more"

# -p, then an exec while a thread waits in vfork (an interrupt does not stop it, so the breakpoint waits
# for it; the exec ends it): the breakpoint goes into the new image once, not twice (a second setting
# took our own int3 for ld.so's code, forgot it, and the process died of SIGTRAP in ld.so's start).
"$fixture" vfork-exec 2000 >"$work/vexec.out" &
target=$!
sleep 0.3
rc=0; "$trace" -p "$target" -o "$work/report" --format json || rc=$?
[[ $rc == 0 ]] || fail "-p across an exec while a thread waits in vfork: exit $rc"
rc=0; wait "$target" || rc=$?
[[ $rc == 0 && $(cat "$work/vexec.out") == hello ]] || fail "vfork-exec under -p: exit $rc, '$(cat "$work/vexec.out")'"
q 'd["processes"][0]["execs"] == 1 and d["processes"][0]["argv"][1:] == ["hello"] and d["processes"][0]["loader_view"]'
q 'd["processes"][0]["exit"] == {"code": 0, "signal": None}'
echo "ok: -p across an exec while a thread waits in vfork: the new image gets the breakpoint once, runs, exits 0"

# -p on a process whose main thread has ended (pthread_exit): its leader is a zombie, which cannot be
# seized. The other thread is traced, the image read through it, its dlopen seen by the loader view,
# and its end (the last thread's) is the process's.
"$fixture" leader-exit 1500 "$work/libs/libggml-good.so" >"$work/leader.out" &
target=$!
for _ in $(seq 100); do [[ $(state "$target") == Z ]] && break; sleep 0.02; done
[[ $(state "$target") == Z ]] || fail "leader-exit: the main thread has not ended"
rc=0; "$trace" -p "$target" -o "$work/report" --format json || rc=$?
[[ $rc == 0 ]] || fail "-p on a process whose main thread has ended: exit $rc"
wait "$target"
[[ $(cat "$work/leader.out") == "thread done" ]] || fail "leader-exit under -p: '$(cat "$work/leader.out")'"
q 'd["processes"][0]["pid"] == '"$target"' and d["processes"][0]["argv"][1:] == ["leader-exit", "1500", "'"$work/libs/libggml-good.so"'"]'
q 'd["processes"][0]["exit"] == {"code": 0, "signal": None} and d["processes"][0]["loader_view"]'
q 'any(l["path"].endswith("/libggml-good.so") and l["outcome"] == "loaded" for l in d["processes"][0]["libraries"])'
q 'any(e["path"].endswith("/libggml-good.so") and e["event"] == "added" for e in d["processes"][0]["link_events"])'
echo "ok: -p on a process whose main thread has ended: the other threads traced, its dlopen seen, its end reported"

# The main thread ends while traced: a zombie until the other thread ends, it will not stop, and Ctrl-C
# must not wait for it (it waited until the process ended, 2.5 s later here).
"$fixture" leader-exit 4000 "" 1500 >"$work/leader.out" &
target=$!
sleep 0.1
"$trace" -p "$target" -o "$work/report" --format json &
tracer=$!
for _ in $(seq 100); do [[ $(tracer_of "$target") == "$tracer" ]] && break; sleep 0.02; done
for _ in $(seq 150); do [[ $(state "$target") == Z ]] && break; sleep 0.02; done
# it ended traced (not before the attach, the case above), and Ctrl-C comes once the handler is set
[[ $(state "$target") == Z && $(tracer_of "$target") == "$tracer" ]] || fail "leader-exit 4000: the main thread has not ended traced"
kill -INT "$tracer"
for _ in $(seq 40); do kill -0 "$tracer" 2>/dev/null || break; sleep 0.05; done
! kill -0 "$tracer" 2>/dev/null || fail "-p: Ctrl-C after the main thread ended: vgpu-trace still waits 2 s later"
rc=0; wait "$tracer" || rc=$?
[[ $rc == 0 ]] || fail "-p: Ctrl-C after the main thread ended: exit $rc"
rc=0; wait "$target" || rc=$?  # (its state is Z while it runs: the leader's)
[[ $rc == 0 && $(cat "$work/leader.out") == "thread done" ]] || fail "leader-exit after detach: exit $rc, '$(cat "$work/leader.out")'"
echo "ok: -p: Ctrl-C after the main thread ended while traced detaches at once; the process runs on to its end"

# -p on a 32-bit program: its calls are not taken for x86-64 ones, nor stopped at, and it runs on
# correctly after the detach.
fixture=$work/fixture32
attached "loop done: 40 of 40" loop 40
q 'd["processes"][0]["pid"] == '"$attached_pid"' and d["processes"][0]["elf32"] and not d["processes"][0]["loader_view"]'
q 'sum(p["argv"][1:] == ["hello"] and p["elf32"] for p in d["processes"]) >= 3 and not any(p["libraries"] for p in d["processes"])'
q 'd["processes"][0]["fds"] == {}'
# ... and its calls, not decoded, do not stop it: each round, its fork event and the SIGCHLD only.
q 'd["processes"][0]["stops"] <= 3 * sum(p["argv"][1:] == ["hello"] for p in d["processes"]) + 4'
# An i386 call 257 carrying an x86-64 openat's registers is not an open: in a 32-bit program (whose
# calls do not stop), and in a 64-bit one through int $0x80 (whose calls all stop under -p). (200
# rounds of 20 ms: still running at the detach, 1.1 s in, also under the sanitizers on a loaded machine.)
attached "int80-loop done: 200" int80-loop 200
q 'd["processes"][0]["elf32"] and not any("libx" in l["path"] for p in d["processes"] for l in p["libraries"])'
fixture=$fixture64
attached "int80-loop done: 200" int80-loop 200
q 'not d["processes"][0]["elf32"] and not any("libx" in l["path"] for p in d["processes"] for l in p["libraries"])'
echo "ok: -p on a 32-bit program: followed through its children, not stopped at its calls, detached, it finishes correctly; an i386 call is not decoded as an x86-64 one (32- and 64-bit)"

# Usage
rc=0; "$trace" >/dev/null 2>&1 || rc=$?; [[ $rc == 2 ]] || fail "no command: exit $rc, not 2"
rc=0; "$trace" --format yaml -- true >/dev/null 2>&1 || rc=$?; [[ $rc == 2 ]] || fail "bad --format: exit $rc, not 2"
rc=0; "$trace" --rules-dir "$work/no-rules" -- true >/dev/null 2>"$work/err" || rc=$?
[[ $rc == 2 ]] && grep -q "no such directory" "$work/err" || fail "--rules-dir that does not exist: exit $rc, $(cat "$work/err")"
# A rule file that does not load: said with its place, exit 125. Launched, it is read while the command
# runs, which runs as ever, and the report is made without the rules; with -p, nothing is attached.
rm -rf "$work/bad-rules" && cp -r "$(dirname "$0")/../../rules" "$work/bad-rules"
echo 'this is = = not toml' >>"$work/bad-rules/log_lines.toml"
rm -f "$work/report"
rc=0; "$trace" --rules-dir "$work/bad-rules" -o "$work/report" --format json -- "$fixture" hello >"$work/out" 2>"$work/err" || rc=$?
[[ $rc == 125 && $(cat "$work/out") == hello ]] && grep -q "rules: .*log_lines.toml:[0-9]*:[0-9]*: " "$work/err" &&
  grep -q "without the rules" "$work/err" || fail "a broken rule file: exit $rc, $(cat "$work/err")"
q 'd["processes"][0]["argv"][1] == "hello" and d["exit_status"] == 0'
sleep 5 &
target=$!
rm -f "$work/report"  # (attaching writes one, if only of the process as it was)
rc=0; "$trace" --rules-dir "$work/bad-rules" -o "$work/report" -p "$target" 2>"$work/err" || rc=$?
[[ $rc == 125 && ! -e "$work/report" ]] && grep -q "rules: .*log_lines.toml:[0-9]*:[0-9]*: " "$work/err" ||
  fail "-p with a broken rule file: exit $rc, $(cat "$work/err")"
kill "$target"; wait "$target" 2>/dev/null || true
"$trace" --help | grep -q "usage: vgpu-trace" || fail "--help"
rc=0; "$trace" -- "$work/no-such-program" 2>"$work/err" || rc=$?
[[ $rc == 127 ]] || fail "a missing program: exit $rc, not 127"
echo "ok: usage errors exit 2; a broken rule file exits 125 (the report still written; -p attaches nothing); --help; a missing program exits 127"
