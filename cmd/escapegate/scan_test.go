package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
)

// TestEachParallelOrder checks that findings come out in index order whatever the
// scheduling, and that the error reported is the lowest index's.
func TestEachParallelOrder(t *testing.T) {
	const n = 200
	got, err := eachParallel(n, func(i int) ([]checks.Finding, error) {
		var fs []checks.Finding
		for k := range i % 3 {
			fs = append(fs, checks.Finding{Path: fmt.Sprint(i), Line: k})
		}
		return fs, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []checks.Finding
	for i := range n {
		for k := range i % 3 {
			want = append(want, checks.Finding{Path: fmt.Sprint(i), Line: k})
		}
	}
	if !slices.EqualFunc(got, want, func(a, b checks.Finding) bool { return a.Path == b.Path && a.Line == b.Line }) {
		t.Fatalf("findings out of order: %d of %d", len(got), len(want))
	}
	_, err = eachParallel(n, func(i int) ([]checks.Finding, error) {
		if i == 17 || i == 150 {
			return nil, fmt.Errorf("file %d", i)
		}
		return nil, nil
	})
	if err == nil || err.Error() != "file 17" {
		t.Fatalf("err = %v, want file 17's", err)
	}
	if fs, err := eachParallel(0, func(int) ([]checks.Finding, error) { return nil, errors.New("called") }); fs != nil || err != nil {
		t.Fatalf("no files: %v %v", fs, err)
	}
}

// TestScanPathManyFiles scans a tree of many files, several holding a key: the output
// is the same on every run (files are scanned in parallel).
func TestScanPathManyFiles(t *testing.T) {
	dir := t.TempDir()
	for i := range 60 {
		body := fmt.Sprintf("x = %d\n", i)
		if i%7 == 0 {
			body += "KEY = '" + awsKey() + "'\n"
		}
		p := filepath.Join(dir, fmt.Sprintf("d%d", i%4), fmt.Sprintf("f%02d.py", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	args := []string{"scan", "--format", "json", "--fingerprint-key", "k", dir}
	code, first, errOut := runCmd(t, "", args...)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for range 5 {
		if _, out, _ := runCmd(t, "", args...); out != first {
			t.Fatalf("output differs between runs:\n%s\n---\n%s", first, out)
		}
	}
}

// TestScanDiffStaysInsideRoot: a diff naming a path outside the scanned root is bad
// input (exit 2), and nothing outside is read, whatever the path's shape.
func TestScanDiffStaysInsideRoot(t *testing.T) {
	outside := t.TempDir()
	if err := os.MkdirAll(filepath.Join(outside, ".claude"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, ".claude", "settings.json"), []byte(`{"permissions":{"allow":["Bash(*)"]}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Symlink(outside, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"../" + filepath.Base(outside) + "/.claude/settings.json", filepath.Join(outside, ".claude/settings.json"), "link/.claude/settings.json"} {
		t.Run(p, func(t *testing.T) {
			d := "--- a/" + p + "\n+++ b/" + p + "\n@@ -1,1 +1,2 @@\n {\n+  \"x\": 1\n"
			code, out, errOut := runCmd(t, d, "scan", "--diff", "-", "--dir", root, "--format", "json")
			if code != 2 {
				t.Fatalf("exit %d, want 2 (bad input)\n%s%s", code, out, errOut)
			}
			if strings.Contains(out, "AGT-CC-1") {
				t.Fatalf("a file outside the root was read: %s", out)
			}
		})
	}
}

func TestScanFlagsNeedTheirMode(t *testing.T) {
	notRepo := t.TempDir()
	cases := [][]string{
		{"scan", "--base", "main", notRepo},
		{"scan", "--diff", "-", "--dir", notRepo, "--base", "main"},
	}
	for _, args := range cases {
		if code, _, errOut := runCmd(t, "", args...); code != 2 || errOut == "" {
			t.Errorf("%v: exit %d (%q), want 2 with a reason", args, code, errOut)
		}
	}
}
