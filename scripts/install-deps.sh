#!/usr/bin/env bash
# Installs what building and testing vgpu needs on Debian 12, from Debian's packages only.
# Idempotent; uses sudo when not root. Called by scripts/run.sh and scripts/test.sh.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config python3   # build; python3 generates entry points
  libelf-dev libunwind-dev libseccomp-dev                  # core library and tools
  libcli11-dev nlohmann-json3-dev libtomlplusplus-dev catch2
  clang-14 libclang-rt-14-dev                              # libFuzzer for the fuzz test (tests/fuzz)
  binutils                                                 # readelf/nm for the ABI tests
  gcc-multilib                                             # cc -m32: the 32-bit fixture of vgpu-trace's tests
  nodejs npm                                               # npm pack: the real ggml builds the tests run
  ca-certificates
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm may come from elsewhere (nodesource, nvm): any working npm will do.
if command -v npm >/dev/null; then
  missing=("${missing[@]/npm}")
  missing=("${missing[@]/nodejs}")
fi
read -r -a missing <<<"${missing[*]}"
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  echo "install-deps: installing ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
