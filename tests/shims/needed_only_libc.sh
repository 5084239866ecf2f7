#!/usr/bin/env bash
# needed_only_libc.sh SHIM...: every shim depends on glibc alone, so it loads into any process:
# DT_NEEDED may name only libc.so.6 and ld-linux-x86-64.so.2 (glibc's loader, which every dynamically
# linked program already has as its interpreter). No libstdc++, libgcc_s, libm, libdl or libpthread.
set -euo pipefail
status=0
for lib in "$@"; do
  [[ -n $lib ]] || continue  # a shim target this build does not have
  needed=$(readelf -d "$lib" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | sort | tr '\n' ' ')
  extra=$(tr ' ' '\n' <<<"$needed" | grep -v -e '^libc\.so\.6$' -e '^ld-linux-x86-64\.so\.2$' -e '^$' || true)
  if [[ -n $extra ]]; then
    echo "FAIL: $lib needs $extra"
    status=1
  else
    echo "ok: $(basename "$lib"): $needed"
  fi
done
exit $status
