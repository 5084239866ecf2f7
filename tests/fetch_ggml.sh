#!/usr/bin/env bash
# fetch_ggml.sh VERSION: prints the directory holding the real ggml build of
# @node-llama-cpp/linux-x64-cuda@VERSION (libggml-base.so, libggml*.so, libggml-cuda.so), downloading it
# with `npm pack` into the cache on first use. Cache: $VGPU_TEST_CACHE, else ~/.cache/vgpu-tests.
# Nothing is committed or downloaded at build time: tests call this when they run.
# Exit 0 with the directory on stdout; 77 (CTest's skip code) when npm is missing or the registry cannot
# be reached, with the reason on stderr.
set -euo pipefail
version=${1:?usage: fetch_ggml.sh VERSION}
cache=${VGPU_TEST_CACHE:-$HOME/.cache/vgpu-tests}
dir="$cache/node-llama-cpp-linux-x64-cuda-$version"
bins="$dir/package/bins/linux-x64-cuda"
if [[ -f "$bins/libggml-cuda.so" && -f "$dir/.complete" ]]; then
  echo "$bins"
  exit 0
fi
command -v npm >/dev/null || { echo "fetch_ggml.sh: npm is not installed" >&2; exit 77; }
mkdir -p "$dir"
exec 9>"$dir.lock"
flock 9  # tests run in parallel: one download per version
if [[ ! -f "$dir/.complete" ]]; then
  tmp=$(mktemp -d "$cache/npm.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  if ! (cd "$tmp" && npm pack --silent "@node-llama-cpp/linux-x64-cuda@$version" >/dev/null 2>"$tmp/err"); then
    echo "fetch_ggml.sh: npm pack @node-llama-cpp/linux-x64-cuda@$version failed: $(tail -n 3 "$tmp/err")" >&2
    exit 77
  fi
  rm -rf "$dir/package"
  tar -xzf "$tmp"/*.tgz -C "$dir"
  # v0.5.0 and later name the registry library libggml.<variant>.so; ggml programs load it as libggml.so.
  if [[ ! -e "$bins/libggml.so" ]]; then
    ggml=$(ls "$bins"/libggml.*.so 2>/dev/null | grep -v -e ggml-base -e ggml-cpu -e ggml-cuda | head -n 1 || true)
    [[ -n "$ggml" ]] && ln -s "$(basename "$ggml")" "$bins/libggml.so"
  fi
  touch "$dir/.complete"
fi
echo "$bins"
