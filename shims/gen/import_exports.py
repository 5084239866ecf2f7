#!/usr/bin/env python3
"""Refresh a versioned library's entry_points.tsv (cudart, cublas) from export lists of the real libraries.

Maintenance tool, not part of the build. Inputs are name lists, one per line ('#' comments):
shims/<lib>/abi12-exports.txt and abi13-exports.txt (how each was obtained is in its header).
A name in both lists gets abis "12,13". Existing rows keep their status; new rows get `unsupported`,
or for cublas `compute` when the function takes a handle first (every v2-API call except the handle,
version and helper functions listed in HANDLELESS below).

usage: import_exports.py cudart|cublas DIR
"""
import sys

HANDLELESS = {
    "cublasCreate_v2", "cublasGetProperty", "cublasGetCudartVersion", "cublasGetStatusName", "cublasGetStatusString",
    "cublasLoggerConfigure", "cublasSetLoggerCallback", "cublasGetLoggerCallback",
    "cublasSetVector", "cublasGetVector", "cublasSetMatrix", "cublasGetMatrix",
    "cublasSetVectorAsync", "cublasGetVectorAsync", "cublasSetMatrixAsync", "cublasGetMatrixAsync",
    "cublasSetVector_64", "cublasGetVector_64", "cublasSetMatrix_64", "cublasGetMatrix_64",
    "cublasSetVectorAsync_64", "cublasGetVectorAsync_64", "cublasSetMatrixAsync_64", "cublasGetMatrixAsync_64",
    "cublasInit", "cublasShutdown", "cublasGetError", "cublasAlloc", "cublasFree", "cublasSetKernelStream",
    "cublasGetVersion", "cublasXerbla",
}


def names(path):
    out = []
    for line in open(path):
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("libcu"):  # the version node's own absolute symbol
            out.append(line)
    return out


def main():
    lib, d = sys.argv[1], sys.argv[2]
    a12, a13 = set(names(f"{d}/abi12-exports.txt")), set(names(f"{d}/abi13-exports.txt"))
    old = {}
    try:
        for line in open(f"{d}/entry_points.tsv"):
            f = line.split("#", 1)[0].split()
            if f:
                old[f[0]] = f[2]
    except FileNotFoundError:
        pass
    every = a12 | a13
    rows = []
    for n in sorted(every):
        abis = ",".join(x for x, s in (("12", a12), ("13", a13)) if n in s)
        status = old.get(n)
        if status is None:
            legacy = n + "_v2" in every  # a v1-API name whose handle form exists
            status = ("compute" if lib == "cublas" and n.startswith("cublas") and not n.startswith("cublasXt")
                      and not legacy and n not in HANDLELESS else "unsupported")
        rows.append((n, abis, status))
    for n in old:
        if n not in every:
            print(f"kept row not in either list: {n}", file=sys.stderr)
    with open(f"{d}/entry_points.tsv", "w") as f:
        f.write(f"# Entry points of libvgpu-{lib}.so.12 and .so.13: every name the real library exports for that ABI\n"
                f"# (abi12-exports.txt, abi13-exports.txt; refresh with shims/gen/import_exports.py), each placed in\n"
                f"# the version node lib{lib}.so.<abi> as NVIDIA's is. status: impl = shims/{lib}/*.cc;\n"
                "# unsupported = generated stub that logs once and returns the API's not-supported code"
                + (";\n# compute = generated, takes the handle first and goes to the execution backend" if lib == "cublas" else "")
                + ".\n# name\tabis\tstatus\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    print(f"{len(rows)} rows", file=sys.stderr)


if __name__ == "__main__":
    main()
