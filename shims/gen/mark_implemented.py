#!/usr/bin/env python3
"""Set status `impl` in a shim's entry_points.tsv for every entry point its sources define with
VGPU_EXPORT (or a VGPU_EXPORT_* defining macro), and back to the generated status for rows whose definition is gone. Maintenance tool run
after adding or removing an implementation; the build then checks the result (a row marked impl that is
not defined is missing from the library, which tests/abi/exports_match_list.sh reports).

usage: mark_implemented.py LIST_TSV SOURCE...
"""
import re
import sys


def main():
    tsv, sources = sys.argv[1], sys.argv[2:]
    defined = set()
    for s in sources:
        text = open(s).read()
        defined |= set(re.findall(r"VGPU_EXPORT\s+[\w\s\*]*?\b(\w+)\s*\(", text))
        # Entry points defined through a macro named VGPU_EXPORT_<what>(name, ...).
        defined |= set(re.findall(r"^VGPU_EXPORT_[A-Z_]+\((\w+)", text, re.M))
    lines = open(tsv).read().splitlines()
    out, seen = [], set()
    for line in lines:
        f = line.split("\t")
        if line.startswith("#") or not line.strip() or len(f) < 2:
            out.append(line)
            continue
        name = f[0] if len(f) != 5 else f[3]
        seen.add(name)
        if name in defined:
            f[-1] = "impl"
        elif f[-1] == "impl":
            f[-1] = "unsupported"
        out.append("\t".join(f))
    open(tsv, "w").write("\n".join(out) + "\n")
    for n in sorted(defined - seen):
        print(f"defined but not in {tsv}: {n}", file=sys.stderr)


if __name__ == "__main__":
    main()
