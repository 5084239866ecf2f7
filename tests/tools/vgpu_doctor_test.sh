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
lacks() {  # lacks ID: the report holds no finding with that id
  python3 -c 'import json,sys; ids=[f["id"] for f in json.load(open(sys.argv[1]))["findings"]]; sys.exit(1 if sys.argv[2] in ids else 0)' \
    "$work/out" "$1" || fail "unexpected finding $1"
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

# ---- which Ollama: `ollama -v` of the binary beside lib/ollama decides the era ----
fake_ollama() {  # fake_ollama VERSION: ROOT/bin/ollama answers -v as Ollama does with no server
  mkdir -p "$work/root/bin"
  printf '#!/bin/sh\necho "Warning: could not connect to a running Ollama instance"\necho "Warning: client version is %s"\n' \
    "$1" >"$work/root/bin/ollama"
  chmod +x "$work/root/bin/ollama"
}
setup
fake_ollama 0.12.3
check 0
has env.ollama_debug.era_a  # an era-A rule: the version, not the layout (A and B look alike), chose A
echo "ok: ollama -v 0.12.3: era A"
setup
fake_ollama 0.33.0
check 1
has install.era_mismatch  # a 0.33 binary over an era-B lib/ollama
echo "ok: ollama -v 0.33.0 over an era-B lib/ollama: install.era_mismatch"

# ---- ELF sanity ----
cudadir="$work/root/lib/ollama/cuda_v$cuda"
setup  # truncated: the first 64 bytes of the shim
head -c 64 "$shims/libvgpu-cublas.so.$cuda" >"$work/libcublas-truncated.so"
ln -sf "$work/libcublas-truncated.so" "$cudadir/libcublas.so.$cuda"
check 1
has elf.bad_candidate
grep -q "not an ELF file" "$work/out" || fail "the truncated file is not named as such"
echo "ok: truncated libcublas.so.$cuda: elf.bad_candidate (not an ELF file)"
setup  # wrong class: a genuine 32-bit i386 shared object (binutils' own i386 emulation, no multilib)
printf '.globl cudaGetDeviceCount\ncudaGetDeviceCount:\n ret\n' >"$work/f32.s"
as --32 -o "$work/f32.o" "$work/f32.s"
ld -m elf_i386 -shared -soname "libcudart.so.$cuda" -o "$work/libcudart32.so" "$work/f32.o"
ln -sf "$work/libcudart32.so" "$cudadir/libcudart.so.$cuda"
check 1
has elf.bad_candidate
grep -q "wrong ELF class" "$work/out" || fail "the 32-bit file is not named as the wrong class"
echo "ok: 32-bit libcudart.so.$cuda: elf.bad_candidate (wrong ELF class)"
setup  # wrong machine: the shim with e_machine patched to AArch64 (183)
cp "$shims/libvgpu-cublas.so.$cuda" "$work/libcublas-arm.so"
printf '\xb7\x00' | dd of="$work/libcublas-arm.so" bs=1 seek=18 conv=notrunc status=none
ln -sf "$work/libcublas-arm.so" "$cudadir/libcublas.so.$cuda"
check 1
has elf.bad_candidate
grep -q "wrong machine (e_machine 183)" "$work/out" || fail "the AArch64 file is not named as the wrong machine"
echo "ok: AArch64 libcublas.so.$cuda: elf.bad_candidate (wrong machine)"
other=$((cuda == 12 ? 13 : 12))
setup  # the other major's runtime installed under this one's name: SONAME and version node both wrong
ln -sf "$shims/libvgpu-cudart.so.$other" "$cudadir/libcudart.so.$cuda"
check 1
has elf.soname_mismatch
has symbols.missing
grep -q "provider has no version node libcudart.so.$cuda" "$work/out" || fail "the missing version node is not named"
echo "ok: libcudart.so.$other installed as libcudart.so.$cuda: elf.soname_mismatch, symbols.missing (no version node)"
setup  # no SONAME at all
printf 'int cublasCreate_v2(void** h) { *h = 0; return 0; }\n' >"$work/blas.c"
cc -shared -fPIC -o "$work/libcublas-nosoname.so" "$work/blas.c"
ln -sf "$work/libcublas-nosoname.so" "$cudadir/libcublas.so.$cuda"
check 1
has elf.no_soname
echo "ok: libcublas.so.$cuda without a SONAME: elf.no_soname"

# ---- environment ----
setup
echo "LD_PRELOAD=$work/nowhere/libvgpu-exec.so" >>"$work/env"
check 1
has env.ld_preload.missing
echo "ok: LD_PRELOAD of a missing file: env.ld_preload.missing"
setup
printf '.globl x\nx:\n ret\n' >"$work/p32.s" && as --32 -o "$work/p32.o" "$work/p32.s"
ld -m elf_i386 -shared -o "$work/libpreload32.so" "$work/p32.o"
echo "LD_PRELOAD=$work/libpreload32.so" >>"$work/env"
check 1
has env.ld_preload.not_elf64
echo "ok: LD_PRELOAD of a 32-bit object: env.ld_preload.not_elf64"
# A real NVIDIA driver where the shim is expected: a stand-in libcuda.so.1 that is not vgpu's.
make_nvidia() {  # make_nvidia DIR: DIR/libcuda.so.1 and libnvidia-ml.so.1 that are not vgpu's (driver 535, API 11.8)
  mkdir -p "$1"
  cc -shared -fPIC -o "$1/libcuda.so.535.104.05" -Wl,-soname,libcuda.so.1 "$here/tools/fake_nvidia/libcuda.c"
  ln -sf libcuda.so.535.104.05 "$1/libcuda.so.1"
  cc -shared -fPIC -o "$1/libnvidia-ml.so.535.104.05" -Wl,-soname,libnvidia-ml.so.1 "$here/tools/fake_nvidia/libnvidia-ml.c"
  ln -sf libnvidia-ml.so.535.104.05 "$1/libnvidia-ml.so.1"
}
setup  # ... first on LD_LIBRARY_PATH, ahead of the shims
make_nvidia "$work/realnv"
printf 'LD_LIBRARY_PATH=%s:%s\nVGPU_SYSFS_ROOT=%s\n' "$work/realnv" "$work/root/nvidia" "$work/sysfs" >"$work/env"
check 1
has env.ld_library_path.real_nvidia
has link.libcuda
echo "ok: NVIDIA's libcuda.so.1 ahead of the shim on LD_LIBRARY_PATH: env.ld_library_path.real_nvidia, link.libcuda"
setup  # ... in place of the shim link itself
make_nvidia "$work/realnv"
ln -sf "$work/realnv/libcuda.so.535.104.05" "$work/root/nvidia/libcuda.so.1"
check 1
has link.libcuda
echo "ok: libcuda.so.1 -> NVIDIA's driver where the shim is expected: link.libcuda"
setup  # NVIDIA's driver and runtime where the shims were: the runtime's floor on the driver API
make_nvidia "$work/realnv"
cc -shared -fPIC -DFAKE_RUNTIME=${cuda}000 -o "$work/libcudart-nv.so" -Wl,-soname,libcudart.so.$cuda \
  "$here/tools/fake_nvidia/libcudart.c" "$work/realnv/libcuda.so.1"
ln -sf "$work/realnv/libcuda.so.1" "$work/root/nvidia/libcuda.so.1"
ln -sf "$work/realnv/libnvidia-ml.so.1" "$work/root/nvidia/libnvidia-ml.so.1"
ln -sf "$work/libcudart-nv.so" "$cudadir/libcudart.so.$cuda"
check 1
has "driver.cuda_v$cuda.api"
grep -q "CUDA driver version is insufficient" "$work/out" || fail "the runtime's own error is not quoted"
echo "ok: NVIDIA's runtime on a driver API 11080: driver.cuda_v$cuda.api, with cudart's own error"
if [[ $cuda == 12 ]]; then
  setup  # era C (>= 0.30.11) drops cuda_v12 devices on an NVIDIA driver below 550 when the bundled runtime is >= 12.4
  fake_ollama 0.33.0
  make_nvidia "$work/realnv"
  ln -sf "$work/realnv/libnvidia-ml.so.1" "$work/root/nvidia/libnvidia-ml.so.1"
  ln -sf "$shims/libvgpu-cudart.so.12" "$cudadir/libcudart.so.12.8.90"
  check 1
  has driver.cuda_v12.nvidia_550
  echo "ok: Ollama 0.33.0, bundled libcudart.so.12.8.90, NVML driver 535: driver.cuda_v12.nvidia_550"
  fake_ollama 0.30.5  # before the filter existed: no finding
  check 1
  lacks driver.cuda_v12.nvidia_550
  echo "ok: the same on Ollama 0.30.5, before cuda_compat.go: no driver floor finding"
fi
setup  # the bundled runtime shadowed: a shim copy on LD_LIBRARY_PATH that Ollama's runners never see
mkdir -p "$work/shadow" && ln -sf "$shims/libvgpu-cudart.so.$cuda" "$work/shadow/libcudart.so.$cuda"
printf 'LD_LIBRARY_PATH=%s:%s\nVGPU_SYSFS_ROOT=%s\n' "$work/shadow" "$work/root/nvidia" "$work/sysfs" >"$work/env"
check 0
has env.ld_library_path.shim_shadowed
echo "ok: a shim on LD_LIBRARY_PATH behind Ollama's bundled dir: env.ld_library_path.shim_shadowed"
setup
echo "CUDA_VISIBLE_DEVICES=1" >>"$work/env"
check 1
has env.cuda_visible_devices.hides_device
echo "ok: CUDA_VISIBLE_DEVICES=1: env.cuda_visible_devices.hides_device"
setup  # a stray libggml-cuda.so at the top of lib/ollama: loaded twice
ln -sf "$(realpath "$cudadir/libggml-cuda.so")" "$work/root/lib/ollama/libggml-cuda.so"
check 1
has link.ggml_cuda_toplevel
echo "ok: stray top-level libggml-cuda.so: link.ggml_cuda_toplevel"

setup
env -i PATH=/usr/bin:/bin "$doctor" check --ollama-dir "$work/root/lib/ollama" --shim-dir "$shims" --env-file "$work/env" \
  --format markdown >"$work/out"
grep -q '^| errors | warnings | notes |' "$work/out" || fail "no Markdown summary table"
rc=0
"$doctor" check --format yaml >"$work/out" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "a bad --format gives exit $rc, not 2"
for sub in check probe fix; do
  rc=0
  "$doctor" $sub --rules-dir "$work/no-rules" >"$work/out" 2>&1 || rc=$?
  [[ $rc == 2 ]] && grep -q "no-rules" "$work/out" || fail "$sub: a --rules-dir that does not exist gives exit $rc, not 2: $(cat "$work/out")"
done
rc=0
"$doctor" check --ollama-dir "$work/nowhere" >"$work/out" 2>&1 || rc=$?
[[ $rc == 3 ]] || fail "a missing --ollama-dir gives exit $rc, not 3"
echo "ok: Markdown report; usage error exit 2; doctor failure exit 3"
