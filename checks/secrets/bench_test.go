package secrets

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/internal/testenv"
)

// sourceFiles turns Go's own standard library sources into added files (about
// limit bytes), the kind of text a pull request adds: no secrets except injected ones.
func sourceFiles(b *testing.B, limit int) []diff.File {
	b.Helper()
	root := filepath.Join(runtime.GOROOT(), "src")
	var files []diff.File
	total := 0
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.Contains(p, "testdata") || total >= limit {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		f := diff.File{Path: strings.TrimPrefix(p, root+"/"), Status: "added"}
		for i, l := range strings.Split(string(data), "\n") {
			f.Added = append(f.Added, diff.Line{No: i + 1, Text: l})
		}
		total += len(data)
		files = append(files, f)
		return nil
	})
	if err != nil || total == 0 {
		b.Skipf("no Go sources under %s: %v", root, err)
	}
	return files
}

func addedBytes(files []diff.File) int64 {
	var n int64
	for _, f := range files {
		for _, l := range f.Added {
			n += int64(len(l.Text) + 1)
		}
	}
	return n
}

func benchScan(b *testing.B, files []diff.File) {
	e := mustEngine(b, Options{})
	b.SetBytes(addedBytes(files))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, f := range files {
			e.ScanFile(testFP, "org/repo", f.Path, f.Added, f.Removed)
		}
	}
}

// BenchmarkScanGoSource scans ~8 MB of Go source as added lines, one goroutine.
func BenchmarkScanGoSource(b *testing.B) { benchScan(b, sourceFiles(b, 8<<20)) }

// BenchmarkScanSharedCorpus scans the diffs of a corpus made by
// ../shared/bench/gen_diffs.py, named by ESCAPEGATE_BENCH_CORPUS.
func BenchmarkScanSharedCorpus(b *testing.B) {
	dir := os.Getenv("ESCAPEGATE_BENCH_CORPUS")
	if dir == "" {
		testenv.Shared(b, "bench/gen_diffs.py") // skips when ../shared is absent
		b.Skip("ESCAPEGATE_BENCH_CORPUS is not set (bench/run.sh builds a corpus)")
	}
	patches, _ := filepath.Glob(filepath.Join(dir, "diffs", "*.patch"))
	var files []diff.File
	for _, p := range patches {
		f, err := os.Open(p)
		if err != nil {
			b.Fatal(err)
		}
		fs, err := diff.Parse(f)
		f.Close()
		if err != nil {
			b.Fatal(err)
		}
		files = append(files, fs...)
	}
	if len(files) == 0 {
		b.Skipf("no patches under %s", dir)
	}
	benchScan(b, files)
}

// BenchmarkNew compiles every rule (what a process pays once at start).
func BenchmarkNew(b *testing.B) {
	for b.Loop() {
		if _, err := New(Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
