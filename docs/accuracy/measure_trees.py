#!/usr/bin/env python3
"""Scan each tree with escapegate and gitleaks and join the findings with tree-findings.jsonl.
  measure_trees.py ESCAPEGATE_BIN GITLEAKS_BIN TREES_DIR
Prints, per tree and tool: findings, labeled value / not-a-value, and findings with no label yet."""
import json, os, subprocess, sys, tempfile, collections
eg, gl, trees = sys.argv[1:4]
here = os.path.dirname(os.path.abspath(__file__))
lab = {}
for l in open(os.path.join(here, "tree-findings.jsonl")):
    r = json.loads(l); lab[(r["tool"], r["repo"], r["path"], r["line"], r["rule"])] = r["label"]
for l in open(os.path.join(here, "trees.jsonl")):
    t = json.loads(l); d = t["repo"].replace("/", "__", 1)
    got = []
    p = subprocess.run([eg, "scan", "--format", "json", "--fingerprint-key", "k", d], cwd=trees, capture_output=True, text=True)
    for x in json.loads(p.stdout)["findings"] or []:
        got.append(("escapegate", t["repo"], x["path"], x["line"], x["rule"]))
    rep = tempfile.mktemp(suffix=".json")
    subprocess.run([gl, "dir", "--no-banner", "--exit-code", "0", "--log-level", "error", "--report-format", "json", "--report-path", rep, d], cwd=trees, check=True)
    for x in json.load(open(rep)):
        f = x["File"]; f = f[len(d) + 1:] if f.startswith(d + "/") else f
        got.append(("gitleaks", t["repo"], f, x["StartLine"], x["RuleID"]))
    os.remove(rep)
    for tool in ("escapegate", "gitleaks"):
        c = collections.Counter(lab.get(k, "unlabeled") for k in got if k[0] == tool)
        print(json.dumps({"repo": t["repo"], "files": t["files"], "tool": tool, "findings": sum(c.values()),
                          "value": c["value"], "not-a-value": c["not-a-value"], "unlabeled": c["unlabeled"]}))
