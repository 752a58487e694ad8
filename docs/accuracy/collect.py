#!/usr/bin/env python3
"""Re-collect the accuracy corpus from the provenance in this folder.
  collect.py --git-base BASE OUT_DIR      # clones BASE/<owner>/<name> (bare, blobless) into OUT_DIR/.git-cache
  collect.py --mirrors DIR OUT_DIR        # or reads local bare mirrors DIR/<owner>+<name>/repo
Writes OUT_DIR/agents/<owner>__<name>/<path> for every row of agents.jsonl (at its commit) and
OUT_DIR/trees/<owner>__<name>/ for every row of trees.jsonl (text files only, at its commit)."""
import argparse, json, os, subprocess, sys, tarfile, io
here = os.path.dirname(os.path.abspath(__file__))
ap = argparse.ArgumentParser()
ap.add_argument("--git-base"); ap.add_argument("--mirrors"); ap.add_argument("out")
a = ap.parse_args()
if not (a.git_base or a.mirrors):
    sys.exit("give --git-base or --mirrors")
def gitdir(repo):
    if a.mirrors:
        return os.path.join(a.mirrors, repo.replace("/", "+", 1), "repo")
    d = os.path.join(a.out, ".git-cache", repo.replace("/", "__", 1) + ".git")
    if not os.path.isdir(d):
        subprocess.run(["git", "clone", "--bare", "--filter=blob:none", f"{a.git_base.rstrip('/')}/{repo}", d], check=True)
    return d
def show(repo, commit, path):
    g = gitdir(repo)
    p = subprocess.run(["git", "--git-dir", g, "show", f"{commit}:{path}"], capture_output=True)
    if p.returncode:
        subprocess.run(["git", "--git-dir", g, "fetch", "origin", commit], capture_output=True)
        p = subprocess.run(["git", "--git-dir", g, "show", f"{commit}:{path}"], capture_output=True, check=True)
    return p.stdout
n = 0
for l in open(os.path.join(here, "agents.jsonl")):
    r = json.loads(l)
    dst = os.path.join(a.out, "agents", r["repo"].replace("/", "__", 1), r["path"])
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    open(dst, "wb").write(show(r["repo"], r["commit"], r["path"])); n += 1
print(f"agents: {n} files")
for l in open(os.path.join(here, "trees.jsonl")):
    r = json.loads(l)
    g = gitdir(r["repo"])
    tree = r["commit"] + (":" + r["subdir"] if r["subdir"] else "")
    data = subprocess.run(["git", "--git-dir", g, "archive", "--format=tar", tree], capture_output=True, check=True).stdout
    dst = os.path.join(a.out, "trees", r["repo"].replace("/", "__", 1))
    k = 0
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        for m in t.getmembers():
            if not m.isfile(): continue
            b = t.extractfile(m).read()
            if b and b"\0" in b[:8000]: continue      # text files only, as measured
            p = os.path.join(dst, m.name); os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "wb").write(b); k += 1
    print(f"tree {r['repo']}: {k} files (recorded {r['files']})")
