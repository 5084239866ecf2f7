#!/usr/bin/env bash
# exports_match_list.sh LIST KIND ABI LIBRARY [NODE]
# The library exports exactly the entry points its list names for that ABI (entry_points.tsv), each in
# the version node NODE when given (or unversioned), and nothing else but the extras vgpu adds
# (vgpu_* names). A row marked impl whose definition is missing shows up here as a missing export.
set -euo pipefail
list=${1:?} kind=${2:?} abi=${3:?} lib=${4:?} node=${5:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $kind in
  cuda) awk '!/^#/ && NF {print $4}' "$list" ;;
  nvml) awk '!/^#/ && NF {print $1}' "$list" ;;
  *) awk -v abi="$abi" '!/^#/ && NF { n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == abi) print $1 }' "$list" ;;
esac | sort -u >"$tmp/want"
nm -D --defined-only "$lib" | awk '$3 !~ /^libc/ {print $3}' | grep -v '^vgpu_' | sort -u >"$tmp/have.raw"
if [[ -n $node ]]; then
  grep -v "@@$node\$" "$tmp/have.raw" >"$tmp/wrong" || true
  sed "s/@@$node\$//" "$tmp/have.raw" | sort -u >"$tmp/have"
else
  grep '@' "$tmp/have.raw" >"$tmp/wrong" || true
  cp "$tmp/have.raw" "$tmp/have"
fi
status=0
if [[ -s $tmp/wrong ]]; then echo "FAIL: exported outside ${node:-the unversioned set}:"; sed 's/^/  /' "$tmp/wrong"; status=1; fi
missing=$(comm -23 "$tmp/want" "$tmp/have")
extra=$(comm -13 "$tmp/want" "$tmp/have")
[[ -z $missing ]] || { echo "FAIL: listed but not exported:"; sed 's/^/  /' <<<"$missing"; status=1; }
[[ -z $extra ]] || { echo "FAIL: exported but not listed:"; sed 's/^/  /' <<<"$extra"; status=1; }
((status)) || echo "ok: $(basename "$lib") exports the $(wc -l <"$tmp/want") entry points of its list${node:+, all @@$node}"
exit $status
