#!/usr/bin/env python3
"""Writes one unified diff that adds every sample of ../shared/corpus as a new file, for
comparing the findings of two escapegate builds (bench/samefindings.sh).

Usage: samples_diff.py SHARED_DIR OUT.patch

gitleaks' and trufflehog's samples (tp and fp) become samples/<source>/<rule>/<n>.txt
(or their own path, under that folder, when the sample names one); the agent corpus
cases keep their path under agents/<id>/, so the file kind (.claude/settings.json, a
workflow, a Python file) is what it was.
"""
import json, os, sys

shared, out = sys.argv[1], sys.argv[2]


def files():
    for src in ("gitleaks", "trufflehog"):
        for n, line in enumerate(open(os.path.join(shared, "corpus", "secrets", f"{src}-samples.jsonl"))):
            s = json.loads(line)
            rule = s.get("rule_id") or s.get("detector") or "x"
            name = s.get("path") or f"{n}.txt"
            yield f"samples/{src}/{rule}/{s['label']}{n}/{name.lstrip('/')}", s["text"]
    for line in open(os.path.join(shared, "corpus", "agents", "cases.jsonl")):
        c = json.loads(line)
        yield f"agents/{c['id']}/{c['path'].lstrip('/')}", c["content"]


with open(out, "w", encoding="utf-8", newline="\n") as w:
    for path, text in files():
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        if not lines:
            continue
        w.write(f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n")
        w.write(f"@@ -0,0 +1,{len(lines)} @@\n")
        for l in lines:
            w.write("+" + l + "\n")
