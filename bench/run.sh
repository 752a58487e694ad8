#!/usr/bin/env bash
# Scanning benchmarks, as a user runs them: whole processes, side by side with gitleaks
# v8.30.1 built as its releases are (RE2 engine, ../shared/bench/gitleaks_baseline.sh),
# on the same input in one run.
#
#   1. diff:   escapegate scan --diff all.patch --format json   vs  gitleaks dir CORPUS/added
#              (all.patch is every patch of the corpus concatenated; added/ holds exactly
#              their added lines, at their line numbers)
#   2. tree:   escapegate scan --format json TREE                vs  gitleaks dir TREE
#   3. engine: bench/scanbench (the secret engine alone over the same patches)
#
# Each pair runs RUNS times, gitleaks and escapegate alternately; the table gives the
# medians of wall clock, CPU seconds (user + system) and peak RSS (/usr/bin/time), the
# ratios pair by pair (median, min-max), and the injected secrets each tool found.
#
# Usage: bench/run.sh [OUT_DIR]   (default bench/out, gitignored)
# env:   RUNS=5, TARGET_MB=20 (and FILES, RATE, SEED: passed to gen_diffs.py),
#        TREE=$(go env GOROOT)/src, SKIP_TREE=1, GITLEAKS_BIN, ESCAPEGATE_SHARED
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ESCAPEGATE_SHARED:-$root/../shared}
out=${1:-$root/bench/out}
runs=${RUNS:-5}
export TARGET_MB=${TARGET_MB:-20}
corpus=$out/corpus$TARGET_MB
tree=${TREE:-$(go env GOROOT)/src}
[ -f "$shared/bench/gen_diffs.py" ] || { echo "run.sh: $shared/bench is absent" >&2; exit 2; }
mkdir -p "$out"
# The corpus holds Go sources: a go.mod makes OUT its own module, outside ./... of this one.
[ -f "$out/go.mod" ] || echo "module escapegate-bench-out" >"$out/go.mod"

if [ ! -f "$corpus/truth.jsonl" ]; then
  echo "# building corpus in $corpus (TARGET_MB=$TARGET_MB)" >&2
  python3 "$shared/bench/gen_diffs.py" "$corpus" >&2
fi
[ -f "$corpus/all.patch" ] || cat "$corpus"/diffs/*.patch >"$corpus/all.patch"

echo "# gitleaks baseline (gitleaks_baseline.sh, also installs gitleaks-re2 if absent)" >&2
gl_json=$(bash "$shared/bench/gitleaks_baseline.sh" "$corpus")
gl=${GITLEAKS_BIN:-$(go env GOPATH)/gitleaks-re2/gitleaks}

echo "# building escapegate and scanbench" >&2
(cd "$root" && go build -o "$out/escapegate" ./cmd/escapegate && go build -o "$out/scanbench" ./bench/scanbench)
eg=$out/escapegate

# timed NAME CMD...: runs CMD under /usr/bin/time, appending "wall user sys rss_kb" to $out/NAME.times.
timed() {
  local name=$1
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$out/$name.time1" "$@" >/dev/null 2>"$out/$name.stderr" || true
  tail -n 1 "$out/$name.time1" >>"$out/$name.times"
}

rm -f "$out"/*.times
# The diff is scanned as a diff alone (no repository to read whole files or a base from),
# as gitleaks sees only the added lines: --dir names an empty folder outside any repository.
nodir=$(mktemp -d)
trap 'rmdir "$nodir"' EXIT
echo "# diff: $runs pairs (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
for _ in $(seq "$runs"); do
  timed gl-diff "$gl" dir "$corpus/added" --no-banner --exit-code 0 --log-level error \
    --report-format json --report-path "$out/gl-diff.json"
  timed eg-diff sh -c 'exec "$1" scan --diff "$2" --dir "$4" --format json --fingerprint-key bench >"$3"' _ "$eg" "$corpus/all.patch" "$out/eg-diff.json" "$nodir"
done
if [ -z "${SKIP_TREE:-}" ]; then
  echo "# tree $tree: $runs pairs (load: $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  for _ in $(seq "$runs"); do
    timed gl-tree "$gl" dir "$tree" --no-banner --exit-code 0 --log-level error \
      --report-format json --report-path "$out/gl-tree.json"
    timed eg-tree sh -c 'exec "$1" scan --format json --fingerprint-key bench "$2" >"$3"' _ "$eg" "$tree" "$out/eg-tree.json"
  done
fi
echo "# engine only (bench/scanbench), $runs runs" >&2
for _ in $(seq "$runs"); do
  timed engine sh -c 'exec "$1" -corpus "$2" -gitleaks-report "$3" >"$4"' _ "$out/scanbench" "$corpus" "$out/gl-diff.json" "$out/engine.json"
done

python3 - "$out" "$corpus" "$gl_json" "$runs" "$tree" <<'PY'
import json, os, statistics, sys
out, corpus, gl_json, runs, tree = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), int(sys.argv[4]), sys.argv[5]

def times(name):
    p = os.path.join(out, name + ".times")
    if not os.path.exists(p):
        return None
    rows = []
    for line in open(p):
        w, u, s, m = line.split()
        rows.append({"wall": float(w), "cpu": float(u) + float(s), "rss": int(m) / 1024})
    return rows

def med(rows, k):
    return statistics.median(r[k] for r in rows)

def size(path):
    if os.path.isfile(path):
        return os.path.getsize(path)
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs
               if os.path.isfile(os.path.join(d, f)))

truth = [json.loads(l) for l in open(os.path.join(corpus, "truth.jsonl"))]
# all.patch keeps each file's path (unique across patches); added/ prefixes it with the patch's name.
want = {(r["path"], r["line"]) for r in truth}
gl_found = {(os.path.relpath(x["File"], os.path.join(corpus, "added")).split("/", 1)[1], x["StartLine"])
            for x in json.load(open(os.path.join(out, "gl-diff.json")))}
eg_diff = json.load(open(os.path.join(out, "eg-diff.json")))["findings"]
eg_found = {(f["path"], f["line"]) for f in eg_diff}
gl_inj, eg_inj = want & gl_found, want & eg_found
missed = sorted(gl_inj - eg_inj)

added_mb = size(os.path.join(corpus, "added")) / 1048576
diff_mb = size(os.path.join(corpus, "all.patch")) / 1048576
print(f"machine: {os.cpu_count()} CPUs, load at the end {open('/proc/loadavg').read().split()[:3]}, {runs} runs per command")
print(f"corpus: {diff_mb:.1f} MB diff (all.patch), {added_mb:.1f} MB of added lines (added/), {len(truth)} injected secrets")
print(json.dumps(gl_json))

def pairs(a, b):
    n = min(len(a), len(b))
    return [(b[i]["wall"] / a[i]["wall"], b[i]["cpu"] / a[i]["cpu"]) for i in range(n)]

def table(title, eg, gl, mb, eg_inj=None, gl_inj=None):
    print(f"\n{title}")
    print(f"{'':26}{'gitleaks 8.30.1 re2':>22}{'escapegate':>14}")
    print(f"{'wall s (median)':26}{med(gl, 'wall'):>22.2f}{med(eg, 'wall'):>14.2f}")
    print(f"{'CPU s (median)':26}{med(gl, 'cpu'):>22.2f}{med(eg, 'cpu'):>14.2f}")
    print(f"{'MB/s wall':26}{mb / med(gl, 'wall'):>22.1f}{mb / med(eg, 'wall'):>14.1f}")
    print(f"{'MB per CPU-second':26}{mb / med(gl, 'cpu'):>22.1f}{mb / med(eg, 'cpu'):>14.1f}")
    print(f"{'peak RSS MB (median)':26}{med(gl, 'rss'):>22.0f}{med(eg, 'rss'):>14.0f}")
    if eg_inj is not None:
        print(f"{'injected found':26}{gl_inj:>22}{eg_inj:>14}")
    pr = pairs(eg, gl)
    w = sorted(p[0] for p in pr)
    c = sorted(p[1] for p in pr)
    print(f"ratio gitleaks/escapegate, pair by pair: wall {statistics.median(w):.1f}x ({w[0]:.1f}-{w[-1]:.1f}), "
          f"CPU {statistics.median(c):.1f}x ({c[0]:.1f}-{c[-1]:.1f})")

table("diff: escapegate scan --diff all.patch (all detectors) vs gitleaks dir added/",
      times("eg-diff"), times("gl-diff"), added_mb, f"{len(eg_inj)}/{len(truth)}", f"{len(gl_inj)}/{len(truth)}")
print(f"findings: gitleaks {len(gl_found)} lines, escapegate {len(eg_found)} lines ({len(eg_diff)} findings)")
print(f"injected secrets gitleaks found and escapegate missed: {len(missed)}")
for m in missed:
    print("  ", m)
if times("eg-tree"):
    tree_mb = size(tree) / 1048576
    table(f"tree: escapegate scan {tree} vs gitleaks dir (same tree, {tree_mb:.0f} MB)",
          times("eg-tree"), times("gl-tree"), tree_mb)
    glt = json.load(open(os.path.join(out, "gl-tree.json")))
    egt = json.load(open(os.path.join(out, "eg-tree.json")))["findings"]
    print(f"findings: gitleaks {len(glt)}, escapegate {len(egt)}")
eng = json.load(open(os.path.join(out, "engine.json")))
e = times("engine")
print(f"\nengine only (bench/scanbench, secrets engine over the same patches): wall {med(e, 'wall'):.2f} s, "
      f"CPU {med(e, 'cpu'):.2f} s, {added_mb / med(e, 'wall'):.1f} MB/s, peak {med(e, 'rss'):.0f} MB, "
      f"injected {eng['injected_found']}/{eng['injected']}; vs gitleaks (median pairs of this run): "
      f"{med(times('gl-diff'), 'wall') / med(e, 'wall'):.1f}x wall")
PY
