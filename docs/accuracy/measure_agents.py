#!/usr/bin/env python3
"""Run escapegate on each labeled agent file, placed at its real path in its own temporary folder,
and compare with the labels in agents.jsonl.  Usage:
  measure_agents.py ESCAPEGATE_BIN CORPUS_DIR [agents.jsonl]
CORPUS_DIR holds the files as <owner>__<repo>/<path> (re-collect them with collect.py)."""
import json, os, shutil, subprocess, sys, tempfile, collections
SEV = {"low": 1, "medium": 2, "high": 3, "critical": 4}
eg, corpus = sys.argv[1], sys.argv[2]
labels = sys.argv[3] if len(sys.argv) > 3 else os.path.join(os.path.dirname(__file__), "agents.jsonl")
rows = [json.loads(l) for l in open(labels)]
res = []
for r in rows:
    src = os.path.join(corpus, r["repo"].replace("/", "__", 1), r["path"])
    tmp = tempfile.mkdtemp(prefix="egagent")
    dst = os.path.join(tmp, r["path"])
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    shutil.copyfile(src, dst)
    p = subprocess.run([eg, "scan", "--format", "json", "--fingerprint-key", "k", tmp], capture_output=True, text=True)
    shutil.rmtree(tmp)
    try:
        f = json.loads(p.stdout)["findings"] or []
    except Exception:
        f = []
    hi = [x for x in f if SEV.get(x["severity"], 0) >= 3]
    res.append({"id": r["id"], "family": r["family"], "expect": r["expect"], "flagged": bool(hi),
                "rules": sorted({x["rule"] for x in hi}), "all_rules": sorted({f'{x["rule"]}:{x["severity"]}' for x in f}),
                "labeled": r["rules"], "path": r["path"], "repo": r["repo"]})
tp = sum(1 for x in res if x["expect"] == "fail" and x["flagged"])
fp = sum(1 for x in res if x["expect"] == "pass" and x["flagged"])
fn = sum(1 for x in res if x["expect"] == "fail" and not x["flagged"])
tn = sum(1 for x in res if x["expect"] == "pass" and not x["flagged"])
fam = collections.defaultdict(lambda: collections.Counter())
for x in res:
    fam[x["family"]][("tp" if x["flagged"] else "fn") if x["expect"] == "fail" else ("fp" if x["flagged"] else "tn")] += 1
print(json.dumps({"files": len(res), "tp": tp, "fp": fp, "fn": fn, "tn": tn,
                  "precision": round(tp / (tp + fp), 3) if tp + fp else None,
                  "recall": round(tp / (tp + fn), 3) if tp + fn else None}))
for k in sorted(fam):
    print(json.dumps({"family": k, **fam[k]}))
for x in res:
    if x["flagged"] != (x["expect"] == "fail"):
        print(json.dumps({"id": x["id"], "kind": "false-alarm" if x["flagged"] else "miss", "repo": x["repo"], "path": x["path"],
                          "escapegate": x["all_rules"], "labeled": x["labeled"]}))
