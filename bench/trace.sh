#!/usr/bin/env bash
# trace.sh BUILD_DIR [RUNS]: in one run, alternating, each workload bare, under vgpu-trace, under
# `strace -f`, and under `strace -f --seccomp-bpf` limited to the calls vgpu-trace stops on; prints
# median wall times (ms) and the ratios to bare.
#   threads: 16 threads making 20000 cheap system calls each (320000 calls), the fixture of the tests
#   exec:    a fork/exec chain of 40 processes
#   ggml:    an Ollama-like runner loading the real ggml registry (node-llama-cpp 3.22.1, shims wired in)
# Then attach mode (-p, no filter possible): the threads workload timed by itself, bare, under
# vgpu-trace launched, and with vgpu-trace -p attached before it starts.
set -euo pipefail
build=$(realpath "${1:?usage: trace.sh BUILD_DIR [RUNS]}")
runs=${2:-7}
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/bench/lib.sh"
command -v strace >/dev/null || { echo "strace is not installed (apt-get install strace)"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vgpu-bench-trace.XXXXXX")
trap 'rm -rf "$work"' EXIT
fixture="$build/tests/trace_fixture"
[[ -x $fixture ]] || { echo "no $fixture: build with -DVGPU_BUILD_TESTS=ON"; exit 1; }
bins=$("$here/tests/fetch_ggml.sh" 3.22.1)
"$here/tests/e2e/make_ollama_layout.sh" "$work/root" "$bins" 13 "$build/lib64"
"$here/tests/make_sysfs_stub.sh" "$work/sysfs"
lib="$work/root/lib/ollama"
export VGPU_SYSFS_ROOT="$work/sysfs"
calls=execve,execveat,open,openat,mmap,munmap,write
trace=("$build/bin/vgpu-trace" -o "$work/report" --)
echo "median of $runs alternating runs, milliseconds; ratio to bare in brackets"
printf '  %-8s %9s %18s %18s %24s\n' workload bare vgpu-trace "strace -f" "strace -f --seccomp-bpf"
for w in threads exec ggml; do
  case $w in
    threads) cmd=("$fixture" threads 16) ;;
    exec) cmd=("$fixture" chain 40) ;;
    ggml) cmd=(env LD_LIBRARY_PATH="$lib:$lib/cuda_v13:$work/root/nvidia" "$build/libexec/vgpu/ggml-runner" "$lib" "$lib/cuda_v13") ;;
  esac
  for f in bare vt st sb; do : >"$work/$f"; done
  for ((i = 0; i < runs; i++)); do
    time_us "${cmd[@]}" >>"$work/bare"
    time_us "${trace[@]}" "${cmd[@]}" >>"$work/vt"
    time_us strace -f -o /dev/null "${cmd[@]}" >>"$work/st"
    time_us strace -f --seccomp-bpf -e trace=$calls -o /dev/null "${cmd[@]}" >>"$work/sb"
  done
  b=$(median <"$work/bare") v=$(median <"$work/vt") s=$(median <"$work/st") p=$(median <"$work/sb")
  r() { awk -v a="$1" -v b="$b" 'BEGIN {printf "%.1f (%.2fx)", a / 1000, a / (b ? b : 1)}'; }
  printf '  %-8s %9.1f %18s %18s %24s\n' "$w" "$(awk -v a="$b" 'BEGIN {print a / 1000}')" "$(r "$v")" "$(r "$s")" "$(r "$p")"
done

echo "attach mode (no seccomp filter: every system call stops), threads workload timed by the program itself:"
: >"$work/a_bare" && : >"$work/a_launch" && : >"$work/a_attach"
own() { grep -o 'elapsed_us [0-9]*' | awk '{print $2}'; }
for ((i = 0; i < runs; i++)); do
  "$fixture" timed-threads 16 | own >>"$work/a_bare"
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
b=$(median <"$work/a_bare") l=$(median <"$work/a_launch") a=$(median <"$work/a_attach")
printf '  bare %.1f ms   launched (filter) %.1f ms (%.2fx)   attached (-p) %.1f ms (%.2fx)\n' \
  "$(awk -v x="$b" 'BEGIN {print x / 1000}')" "$(awk -v x="$l" 'BEGIN {print x / 1000}')" "$(awk -v x="$l" -v y="$b" 'BEGIN {print x / y}')" \
  "$(awk -v x="$a" 'BEGIN {print x / 1000}')" "$(awk -v x="$a" -v y="$b" 'BEGIN {print x / y}')"
