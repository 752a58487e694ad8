package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
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
