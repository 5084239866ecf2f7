#!/usr/bin/env python3
"""Refresh shims/cuda/entry_points.tsv from a CUDA toolkit's headers and driver stub.

Maintenance tool, not part of the build: it needs a CUDA toolkit, which the build machines do not have.
Facts used (CUDA 13.0 toolkit):
  - include/cudaTypedefs.h and cudaProfilerTypedefs.h declare one `PFN_<name>_v<version>[_ptds|_ptsz]` typedef for every
    (name, version, per-thread) triple that cuGetProcAddress can be asked for;
  - lib/stubs/libcuda.so exports the symbol that implements each triple. The i-th plain version of a
    name is exported as <name> (i = 0) or <name>_v<i+1>; a per-thread variant is the symbol of the newest
    plain variant at or below its version, plus _ptds/_ptsz.
Rows already in the list keep their `status` column; new rows start as `unsupported`.

usage: import_cuda_typedefs.py CUDA_ROOT shims/cuda/entry_points.tsv
"""
import re
import subprocess
import sys


def main() -> int:
    root, out = sys.argv[1], sys.argv[2]
    text = "".join(open(f"{root}/include/{h}").read() for h in ("cudaTypedefs.h", "cudaProfilerTypedefs.h"))
    exported = set(
        line.split()[-1]
        for line in subprocess.run(["nm", "-D", "--defined-only", f"{root}/lib/stubs/libcuda.so"],
                                   capture_output=True, text=True, check=True).stdout.splitlines())
    triples = sorted(set(re.findall(r"\*PFN_(cu\w+?)_v(\d+)(_ptds|_ptsz)?\)", text)))
    plain: dict[str, list[int]] = {}
    for name, ver, pt in triples:
        if not pt:
            plain.setdefault(name, []).append(int(ver))
    old_status = {}
    try:
        for line in open(out):
            if line.strip() and not line.startswith("#"):
                f = line.split()
                old_status[(f[0], f[1], f[2])] = f[4]
    except FileNotFoundError:
        pass
    rows, missing = [], []
    for name, ver, pt in triples:
        v = int(ver)
        versions = sorted(plain.get(name, []))
        if pt:
            below = [x for x in versions if x <= v] or versions[:1]
            i = versions.index(below[-1]) if below else 0
            base = name if i == 0 else f"{name}_v{i + 1}"
            sym = f"{base}{pt}"
        else:
            i = versions.index(v)
            sym = name if i == 0 else f"{name}_v{i + 1}"
        if sym not in exported:
            missing.append(f"{name} v{v}{pt} -> {sym}")
            continue
        variant = pt[1:] if pt else "-"
        rows.append((name, str(v), variant, sym, old_status.get((name, str(v), variant), "unsupported")))
    rows.sort(key=lambda r: (r[0], int(r[1]), r[2]))
    with open(out, "w") as f:
        f.write("# CUDA driver API entry points of libvgpu-cuda.so (installed as libcuda.so.1).\n"
                "# One row per (name, version, per-thread variant) that cuGetProcAddress answers; the symbol\n"
                "# column is the exported function. status: impl = implemented in shims/cuda/*.cc;\n"
                "# unsupported = generated stub that logs once and returns CUDA_ERROR_NOT_SUPPORTED.\n"
                "# Generated rows come from shims/gen/import_cuda_typedefs.py (CUDA 13.0 cudaTypedefs.h and\n"
                "# the driver stub's exports); the status column is edited by hand.\n"
                "# name\tversion\tvariant\tsymbol\tstatus\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    for m in missing:
        print("no exported symbol for", m, file=sys.stderr)
    print(f"{len(rows)} rows, {len(missing)} unmatched", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
