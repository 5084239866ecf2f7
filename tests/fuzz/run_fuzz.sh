#!/usr/bin/env bash
# run_fuzz.sh SOURCE_DIR WORKDIR SECONDS: builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,
# undefined) and runs each for SECONDS over a seed corpus of real files: ELF libraries of this system and
# of this build, and this system's /etc/ld.so.cache. Prints the inputs tried; fails on any crash.
# Skipped (77) where clang or its libFuzzer runtime is missing.
set -euo pipefail
src=${1:?} work=${2:?} budget=${3:-30}
clangxx=$(command -v clang++ || command -v clang++-14 || true)
[[ -n $clangxx ]] || { echo "skipped: clang++ is not installed"; exit 77; }
mkdir -p "$work"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
  "$clangxx" -x c++ -fsanitize=fuzzer - -o "$work/probe" 2>/dev/null; then
  echo "skipped: clang's libFuzzer runtime is missing (Debian: libclang-rt-14-dev)"
  exit 77
fi
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$src/core")
status=0
run_target() {
  local name=$1 corpus=$2
  shift 2
  "$clangxx" "${flags[@]}" "$src/tests/fuzz/$name.cc" "$@" -o "$work/$name"
  mkdir -p "$work/$name.new"
  local log="$work/$name.log"
  if "$work/$name" -max_total_time="$budget" -rss_limit_mb=2048 -max_len=1048576 -print_final_stats=1 \
      "$work/$name.new" "$corpus" >"$log" 2>&1; then
    echo "ok: $name: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}') inputs in ${budget}s, 0 crashes"
  else
    echo "FAIL: $name crashed:"
    grep -E 'ERROR|SUMMARY|==[0-9]+==' "$log" | head -20
    status=1
  fi
}
# Seed corpora: real files, small enough to mutate quickly.
mkdir -p "$work/elf-seeds" "$work/cache-seeds"
for f in /lib/x86_64-linux-gnu/libdl.so.2 /lib/x86_64-linux-gnu/libpthread.so.0 /lib/x86_64-linux-gnu/librt.so.1 \
         /lib/x86_64-linux-gnu/libutil.so.1 "$src"/tests/core/fixtures/*.c; do
  [[ -f $f ]] && cp "$f" "$work/elf-seeds/" || true
done
find "$work/../fixtures" -name '*.so*' -type f -exec cp {} "$work/elf-seeds/" \; 2>/dev/null || true
cp /etc/ld.so.cache "$work/cache-seeds/system.cache" 2>/dev/null || true
run_target fuzz_elf "$work/elf-seeds" "$src/core/elf_file.cc" -lelf
run_target fuzz_ld_cache "$work/cache-seeds" "$src/core/ld_cache.cc"
exit $status
