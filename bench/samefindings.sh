#!/usr/bin/env bash
# Checks that a speed-up changed no finding: runs two escapegate binaries (before and
# after) over the same diff and tree with the same fingerprint key and compares their
# JSON byte for byte, printing the findings per rule of each when they differ.
# Usage: bench/samefindings.sh OLD_BIN NEW_BIN DIFF [TREE ...]
set -euo pipefail
old=${1:?usage: samefindings.sh OLD_BIN NEW_BIN DIFF [TREE ...]} new=${2:?} diff=${3:?}
shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
status=0
compare() { # NAME ARGS...: both binaries on ARGS
  local name=$1
  shift
  "$old" scan --format json --fingerprint-key same "$@" >"$tmp/old.json" || [ $? -eq 1 ]
  "$new" scan --format json --fingerprint-key same "$@" >"$tmp/new.json" || [ $? -eq 1 ]
  if cmp -s "$tmp/old.json" "$tmp/new.json"; then
    python3 - "$tmp/new.json" "$name" <<'PY'
import collections, json, sys
f = json.load(open(sys.argv[1]))["findings"]
c = collections.Counter(x["rule"] for x in f)
print(f"{sys.argv[2]}: identical, {len(f)} findings, {len(c)} rules: " + ", ".join(f"{r} {n}" for r, n in sorted(c.items())))
PY
  else
    status=1
    python3 - "$tmp/old.json" "$tmp/new.json" "$name" <<'PY'
import collections, json, sys
a, b = (collections.Counter(x["rule"] for x in json.load(open(p))["findings"]) for p in sys.argv[1:3])
print(f"{sys.argv[3]}: DIFFERENT")
for r in sorted(set(a) | set(b)):
    if a[r] != b[r]:
        print(f"  {r}: {a[r]} before, {b[r]} after")
PY
  fi
}
compare "diff $diff" --diff "$diff"
for t in "$@"; do
  compare "tree $t" "$t"
done
exit $status
