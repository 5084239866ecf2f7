#!/usr/bin/env bash
# trace.sh BUILD_DIR [RUNS]: in one run, alternating, each workload bare, under a seccomp filter that
# allows everything (no tracer: the kernel's floor for any filtering tracer, bench/seccomp_floor.c),
# under vgpu-trace, under `strace -f`, and under `strace -f --seccomp-bpf` limited to the calls
# vgpu-trace stops on; prints median wall times (ms) and the ratios to bare.
#   threads: 16 threads making 20000 cheap system calls each (320000 calls), the fixture of the tests
#   exec:    a fork/exec chain of 40 processes
#   ggml:    an Ollama-like runner loading the real ggml registry (node-llama-cpp 3.22.1, shims wired in)
#   output:  seq 1000000, 6.9 MB written to stdout in 4 KiB writes (each one a stop: the lines a
#            process writes are what the report quotes)
# Then attach mode (-p, no filter possible): the threads workload timed by itself, bare, under
# vgpu-trace launched, and with vgpu-trace -p attached before it starts.
# Then, where Go is installed (golang-go), Go's asynchronous preemption: a Go program with more busy
# goroutines than CPUs (bench/go/preempt.go), timed by itself, bare and under vgpu-trace, each with and
# without GODEBUG=asyncpreemptoff=1 (--go-no-preempt), with the SIGURG stops the trace counted.
set -euo pipefail
build=$(realpath "${1:?usage: trace.sh BUILD_DIR [RUNS]}")
runs=${2:-7}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
command -v strace >/dev/null || { echo "strace is not installed (apt-get install strace)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-bench-trace.XXXXXX")
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/seccomp_floor" "$here/bench/seccomp_floor.c"
fixture="$build/tests/trace_fixture"
[[ -x $fixture ]] || { echo "no $fixture: build with -DVGPU_BUILD_TESTS=ON"; exit 1; }
bins=$("$here/tests/fetch_ggml.sh" 3.22.1)
"$here/tests/e2e/make_ollama_layout.sh" "$work/root" "$bins" 13 "$build/lib64"
"$here/tests/make_sysfs_stub.sh" "$work/sysfs"
lib="$work/root/lib/ollama"
export VGPU_SYSFS_ROOT="$work/sysfs"
calls=execve,execveat,open,openat,openat2,getdents64,close,mmap,munmap,write
trace=("$build/bin/vgpu-trace" -o "$work/report" --)
echo "median of $runs alternating runs, milliseconds; ratio to bare in brackets"
printf '  %-8s %9s %18s %18s %18s %24s\n' workload bare "filter floor" vgpu-trace "strace -f" "strace -f --seccomp-bpf"
for w in threads exec ggml output; do
  case $w in
    threads) cmd=("$fixture" threads 16) ;;
    exec) cmd=("$fixture" chain 40) ;;
    ggml) cmd=(env LD_LIBRARY_PATH="$lib:$lib/cuda_v13:$work/root/nvidia" "$build/libexec/vgpu/ggml-runner" "$lib" "$lib/cuda_v13") ;;
    output) cmd=(seq 1000000) ;;
  esac
  for f in bare fl vt st sb; do : >"$work/$f"; done
  for ((i = 0; i < runs; i++)); do
    time_us "${cmd[@]}" >>"$work/bare"
    time_us "$work/seccomp_floor" "${cmd[@]}" >>"$work/fl"
    time_us "${trace[@]}" "${cmd[@]}" >>"$work/vt"
    time_us strace -f -o /dev/null "${cmd[@]}" >>"$work/st"
    time_us strace -f --seccomp-bpf -e trace=$calls -o /dev/null "${cmd[@]}" >>"$work/sb"
  done
  b=$(median <"$work/bare") f=$(median <"$work/fl") v=$(median <"$work/vt") s=$(median <"$work/st") p=$(median <"$work/sb")
  r() { awk -v a="$1" -v b="$b" 'BEGIN {printf "%.1f (%.2fx)", a / 1000, a / (b ? b : 1)}'; }
  printf '  %-8s %9.1f %18s %18s %18s %24s\n' "$w" "$(awk -v a="$b" 'BEGIN {print a / 1000}')" "$(r "$f")" "$(r "$v")" "$(r "$s")" "$(r "$p")"
done

echo "threads workload timed by the program itself (no tracer start-up or report), and attach mode (no filter: every system call stops):"
: >"$work/a_bare" && : >"$work/a_floor" && : >"$work/a_launch" && : >"$work/a_attach"
own() { grep -o 'elapsed_us [0-9]*' | awk '{print $2}'; }
for ((i = 0; i < runs; i++)); do
  "$fixture" timed-threads 16 | own >>"$work/a_bare"
  "$work/seccomp_floor" "$fixture" timed-threads 16 | own >>"$work/a_floor"
  "$build/bin/vgpu-trace" -o "$work/report" -- "$fixture" timed-threads 16 | own >>"$work/a_launch"
  "$fixture" timed-threads 16 >"$work/a_out" &
  target=$!
  sleep 0.1
  "$build/bin/vgpu-trace" -p "$target" -o "$work/report" &
  tracer=$!
  wait "$target"
  kill -INT "$tracer" 2>/dev/null || true
  wait "$tracer" || true
  own <"$work/a_out" >>"$work/a_attach"
done
b=$(median <"$work/a_bare") f=$(median <"$work/a_floor") l=$(median <"$work/a_launch") a=$(median <"$work/a_attach")
x() { awk -v x="$1" -v y="$b" 'BEGIN {printf "%.1f ms (%.2fx)", x / 1000, x / y}'; }
printf '  bare %.1f ms   filter floor %s   launched %s (%.2fx the floor)   attached (-p) %s\n' \
  "$(awk -v x="$b" 'BEGIN {print x / 1000}')" "$(x "$f")" "$(x "$l")" "$(awk -v x="$l" -v y="$f" 'BEGIN {print x / y}')" "$(x "$a")"

if ! command -v go >/dev/null; then
  echo "Go preemption: skipped, no Go here (apt-get install golang-go)"
  exit 0
fi
GOCACHE="$work/gocache" GOFLAGS= go build -o "$work/preempt" "$here/bench/go/preempt.go"
echo "Go preemption (bench/go/preempt.go: 8 busy goroutines, then a child), timed by the program itself; SIGURG: stops the trace counted:"
for f in g_bare g_bare_off g_vt g_vt_off g_urg g_urg_off; do : >"$work/$f"; done
urg() { python3 -c "import json,sys; print(sum(p['signals'].get('SIGURG', 0) for p in json.load(open(sys.argv[1]))['processes']))" "$1"; }
for ((i = 0; i < runs; i++)); do
  "$work/preempt" | own >>"$work/g_bare"
  GODEBUG=asyncpreemptoff=1 "$work/preempt" | own >>"$work/g_bare_off"
  "$build/bin/vgpu-trace" --format json -o "$work/gj" -- "$work/preempt" | own >>"$work/g_vt"
  urg "$work/gj" >>"$work/g_urg"
  "$build/bin/vgpu-trace" --go-no-preempt --format json -o "$work/gj" -- "$work/preempt" | own >>"$work/g_vt_off"
  urg "$work/gj" >>"$work/g_urg_off"
done
gb=$(median <"$work/g_bare") gbo=$(median <"$work/g_bare_off") gv=$(median <"$work/g_vt") gvo=$(median <"$work/g_vt_off")
ms() { awk -v x="$1" 'BEGIN {printf "%.1f ms", x / 1000}'; }
ratio() { awk -v x="$1" -v y="$2" 'BEGIN {printf "%.2fx", x / y}'; }
printf '  preemption on:  bare %s   vgpu-trace %s (%s)   SIGURG stops %s\n' "$(ms "$gb")" "$(ms "$gv")" "$(ratio "$gv" "$gb")" "$(median <"$work/g_urg")"
printf '  asyncpreemptoff=1 (--go-no-preempt):  bare %s   vgpu-trace %s (%s)   SIGURG stops %s\n' "$(ms "$gbo")" "$(ms "$gvo")" "$(ratio "$gvo" "$gbo")" "$(median <"$work/g_urg_off")"
