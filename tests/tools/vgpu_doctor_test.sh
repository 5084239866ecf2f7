#!/usr/bin/env bash
# vgpu_doctor_test.sh DOCTOR SHIM_DIR VERSION CUDA WORKDIR
# vgpu-doctor check on an Ollama-like install built from a real ggml build (tests/e2e/make_ollama_layout.sh),
# healthy and then broken one way at a time, each asserting the exact finding id and exit status.
set -euo pipefail
doctor=${1:?} shims=$(realpath "${2:?}") version=${3:?} cuda=${4:?} work=${5:?}
here=$(cd "$(dirname "$0")/.." && pwd)
bins=$("$here/fetch_ggml.sh" "$version") || exit $?
fail() { echo "FAIL: $*"; cat "$work/out"; exit 1; }

setup() {  # a fresh healthy install: layout, shim links, stub, environment with the system shim dir
  rm -rf "$work" && mkdir -p "$work"
  "$here/e2e/make_ollama_layout.sh" "$work/root" "$bins" "$cuda" "$shims"
  "$here/make_sysfs_stub.sh" "$work/sysfs"
  printf 'LD_LIBRARY_PATH=%s\nVGPU_SYSFS_ROOT=%s\n' "$work/root/nvidia" "$work/sysfs" >"$work/env"
}
check() {  # check EXPECTED_EXIT [args]: runs the doctor on the install, JSON report in $work/out
  local want=$1
  shift
  local rc=0
  env -i PATH=/usr/bin:/bin "$doctor" check --ollama-dir "$work/root/lib/ollama" --shim-dir "$shims" \
    --env-file "$work/env" --format json "$@" >"$work/out" 2>"$work/err" || rc=$?
  [[ $rc == "$want" ]] || { cat "$work/err"; fail "exit $rc, expected $want"; }
}
has() {  # has ID: the report holds a finding with that id
  python3 -c 'import json,sys; ids=[f["id"] for f in json.load(open(sys.argv[1]))["findings"]]; sys.exit(0 if sys.argv[2] in ids else 1)' \
    "$work/out" "$1" || fail "no finding $1"
}
errors() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["summary"]["errors"])' "$work/out"; }

setup
check 0
[[ $(errors) == 0 ]] || fail "a healthy install has errors"
echo "ok: healthy install: exit 0, no error"

# probe: the install's own ggml, as the era's runner loads it
probe() { env -i PATH=/usr/bin:/bin "$doctor" probe --ollama-dir "$work/root/lib/ollama" --env-file "$work/env" >"$work/out" 2>&1; }
probe || fail "probe on a healthy install exits $?"
grep -q 'NVIDIA H100' "$work/out" || fail "probe does not print the H100"
echo "ok: probe on a healthy install prints the H100"
# A runtime without the version node ggml imports from: dlopen of the backend fails, and ggml says nothing.
printf 'int cudaGetDeviceCount(int* n) { *n = 0; return 0; }\n' >"$work/rt13.c"
printf 'libcudart.so.99 { global: cudaGetDeviceCount; local: *; };\n' >"$work/rt13.map"
cc -shared -fPIC -o "$work/libcudart-wrong.so" -Wl,-soname,libcudart.so.$cuda -Wl,--version-script,"$work/rt13.map" "$work/rt13.c"
ln -sf "$work/libcudart-wrong.so" "$work/root/lib/ollama/cuda_v$cuda/libcudart.so.$cuda"
if probe; then fail "probe exits 0 with no GPU"; fi
grep -q "cannot load: __cudaRegisterFatBinary@libcudart.so.$cuda" "$work/out" || fail "probe does not say why the backend did not load"
echo "ok: probe with a wrongly versioned libcudart.so.$cuda says why the backend did not load"

setup
rm "$work/root/lib/ollama/cuda_v$cuda/libcudart.so.$cuda"
check 1
has "link.cudart$cuda"
echo "ok: missing libcudart.so.$cuda link: link.cudart$cuda"

setup
ln -sf "libcuda.so.1.580.0" "$work/root/nvidia/libcuda.so.1"  # dangling
check 1
has link.libcuda
echo "ok: dangling libcuda.so.1: link.libcuda"

setup
# The seeds' bug: a runtime that does not export __cudaRegisterFatBinary under libcudart.so.N.
cat >"$work/rt.c" <<C
int cudaGetDeviceCount(int* n) { *n = 0; return 0; }
int __cudaRegisterFatBinary(void) { return 0; }
C
printf 'libcudart.so.%s { global: cudaGetDeviceCount; local: *; };\n' "$cuda" >"$work/rt.map"
cc -shared -fPIC -o "$work/libcudart-broken.so" -Wl,-soname,libcudart.so.$cuda -Wl,--version-script,"$work/rt.map" "$work/rt.c"
ln -sf "$work/libcudart-broken.so" "$work/root/lib/ollama/cuda_v$cuda/libcudart.so.$cuda"
check 1
has symbols.missing
grep -q "__cudaRegisterFatBinary@libcudart.so.$cuda: defined but local" "$work/out" || fail "the hidden symbol is not named as local"
echo "ok: hidden __cudaRegisterFatBinary: symbols.missing names it"

setup
echo "OLLAMA_NUM_GPU=1" >>"$work/env"
check 0
has env.ollama_num_gpu
echo "ok: OLLAMA_NUM_GPU: warning env.ollama_num_gpu"

setup
echo "OLLAMA_LLM_LIBRARY=cuda_v11" >>"$work/env"
check 1
grep -q 'cuda_v11' "$work/out" || fail "the bad OLLAMA_LLM_LIBRARY value is not named"
echo "ok: OLLAMA_LLM_LIBRARY=cuda_v11: error naming it"

setup
rm -rf "$work/sysfs" && mkdir -p "$work/sysfs/bus/pci/devices"
check 1
has stub.missing
has shims.no_device  # vgpu-smi in the runner's environment, in a child process
echo "ok: no stub: stub.missing, and the shims at run time report no device"

# fix: a bare install (Ollama's own NVIDIA runtime as a real file, no system links) becomes a healthy one.
setup
cp -a "$shims" "$work/shims"
rm -f "$work/root/lib/ollama/cuda_v$cuda"/libcudart.so.* "$work/root/lib/ollama/cuda_v$cuda"/libcublas.so.*
printf 'stands in for NVIDIA libcudart' >"$work/root/lib/ollama/cuda_v$cuda/libcudart.so.$cuda.8.90"
ln -s "libcudart.so.$cuda.8.90" "$work/root/lib/ollama/cuda_v$cuda/libcudart.so.$cuda"
printf 'VGPU_SYSFS_ROOT=%s\n' "$work/sysfs" >"$work/env"
fixit() { env -i PATH=/usr/bin:/bin "$doctor" fix --ollama-dir "$work/root/lib/ollama" --shim-dir "$work/shims" \
  --dropin-dir "$work/dropin" "$@" >"$work/out" 2>&1; }
fixit --dry-run || fail "fix --dry-run exits $?"
grep -q "^ln -sfn $work/shims/libvgpu-cudart.so.$cuda $work/root/lib/ollama/cuda_v$cuda/libcudart.so.$cuda\$" "$work/out" ||
  fail "--dry-run does not print the link command"
[[ ! -e $work/dropin/vgpu.conf ]] || fail "--dry-run wrote the drop-in"
fixit || fail "fix exits $?"
[[ -f $work/root/lib/ollama/cuda_v$cuda/libcudart.so.$cuda.8.90.vgpu-orig ]] || fail "the replaced real file was not kept"
grep -q "LD_LIBRARY_PATH=$work/shims" "$work/dropin/vgpu.conf" || fail "no drop-in"
fixit || fail "a second fix exits $?"
grep -q '^nothing to do' "$work/out" || fail "fix is not idempotent"
env -i PATH=/usr/bin:/bin "$doctor" check --ollama-dir "$work/root/lib/ollama" --shim-dir "$work/shims" \
  --env-file "$work/dropin/vgpu.conf" --sysfs-root "$work/sysfs" --format json >"$work/out" 2>&1 || fail "check after fix exits $?"
echo "ok: fix turns a bare install into a healthy one (dry run prints, backup kept, idempotent)"

setup
env -i PATH=/usr/bin:/bin "$doctor" check --ollama-dir "$work/root/lib/ollama" --shim-dir "$shims" --env-file "$work/env" \
  --format markdown >"$work/out"
grep -q '^| errors | warnings | notes |' "$work/out" || fail "no Markdown summary table"
rc=0
"$doctor" check --format yaml >"$work/out" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "a bad --format gives exit $rc, not 2"
rc=0
"$doctor" check --ollama-dir "$work/nowhere" >"$work/out" 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "a missing --ollama-dir gives exit $rc, not 3"
echo "ok: Markdown report; usage error exit 2; doctor failure exit 3"
