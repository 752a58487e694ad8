#!/usr/bin/env bash
# Secret-scanning benchmark: escapegate's engine against gitleaks v8.30.1 (RE2 build) on
# the same added lines. Builds the corpus with ../shared/bench/gen_diffs.py, runs
# ../shared/bench/gitleaks_baseline.sh and bench/scanbench, prints both and the ratio.
# Usage: bench/run.sh [OUT_DIR]   (default bench/out, gitignored; env TARGET_MB etc. go to gen_diffs.py)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ESCAPEGATE_SHARED:-$root/../shared}
out=${1:-$root/bench/out}
corpus=$out/corpus
[ -f "$shared/bench/gen_diffs.py" ] || { echo "run.sh: $shared/bench is absent" >&2; exit 2; }
mkdir -p "$out"
# The corpus holds Go sources: a go.mod makes OUT its own module, outside ./... of this one.
[ -f "$out/go.mod" ] || echo "module escapegate-bench-out" >"$out/go.mod"

if [ ! -f "$corpus/truth.jsonl" ]; then
  echo "# building corpus in $corpus" >&2
  python3 "$shared/bench/gen_diffs.py" "$corpus" >&2
fi

echo "# gitleaks baseline (gitleaks_baseline.sh)" >&2
gl_json=$(bash "$shared/bench/gitleaks_baseline.sh" "$corpus")

# gitleaks once more, keeping its report, so scanbench can list any injected secret
# that gitleaks finds and escapegate does not; CPU seconds come from this run.
gl_bin=${GITLEAKS_BIN:-$(go env GOPATH)/gitleaks-re2/gitleaks}
gl_report=$out/gitleaks-report.json
/usr/bin/time -f '{"cpu_s": %U+%S, "wall_s": %e, "rss_kb": %M}' -o "$out/gitleaks.time" \
  "$gl_bin" dir "$corpus/added" --no-banner --exit-code 0 --log-level error \
  --report-format json --report-path "$gl_report" >/dev/null 2>&1

echo "# escapegate (bench/scanbench)" >&2
(cd "$root" && go build -o "$out/scanbench" ./bench/scanbench)
/usr/bin/time -f '{"cpu_s": %U+%S, "wall_s": %e, "rss_kb": %M}' -o "$out/escapegate.time" \
  "$out/scanbench" -corpus "$corpus" -gitleaks-report "$gl_report" \
  -added-mb "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["added_MB"])' "$gl_json")" >"$out/escapegate.json"
eg_json=$(cat "$out/escapegate.json")

python3 - "$gl_json" "$eg_json" "$out/gitleaks.time" "$out/escapegate.time" <<'PY'
import json, sys
gl, eg = json.loads(sys.argv[1]), json.loads(sys.argv[2])
def cpu(path):
    t = open(path).read().strip().splitlines()[-1]
    d = json.loads(t.replace('"cpu_s": ', '"cpu_s": "').replace(', "wall_s"', '", "wall_s"'))
    return sum(float(x) for x in d["cpu_s"].split("+")), d["wall_s"], d["rss_kb"] // 1024
gl_cpu, gl_wall, gl_rss = cpu(sys.argv[3])
eg_cpu, eg_wall, eg_rss = cpu(sys.argv[4])
mb = gl["added_MB"]
print(json.dumps(gl))
print(json.dumps(eg))
print(f"added lines scanned: {mb} MB (the same files for both)")
print(f"{'':28}{'gitleaks 8.30.1 re2':>22}{'escapegate':>14}")
print(f"{'MB/s (wall, process)':28}{gl['MB_per_s']:>22}{eg['MB_per_s']:>14}")
print(f"{'MB per CPU-second':28}{mb/gl_cpu:>22.1f}{mb/eg_cpu:>14.1f}")
print(f"{'peak RSS MB':28}{gl['peak_rss_MB']:>22}{eg['peak_rss_MB']:>14}")
print(f"{'injected found':28}{str(gl['injected_found'])+'/'+str(gl['injected']):>22}{str(eg['injected_found'])+'/'+str(eg['injected']):>14}")
print(f"ratio (wall MB/s): {eg['MB_per_s']/gl['MB_per_s']:.1f}x   ratio (MB per CPU-second): {(mb/eg_cpu)/(mb/gl_cpu):.1f}x")
missed = eg.get("missed_that_gitleaks_found") or []
print(f"injected secrets gitleaks found and escapegate missed: {len(missed)}")
for m in missed:
    print("  ", m)
PY
