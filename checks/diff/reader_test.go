package diff

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/escapegate/escapegate/internal/testenv"
)

// refParse is Parse as it was before Reader: the whole diff in one loop, every file
// kept. The streaming Reader must return exactly what it returns.
func refParse(r io.Reader) ([]File, error) {
	lr := lineReader{r: r}
	var files []File
	var cur *File
	var p hunkParser
	flush := func() {
		if cur != nil {
			files = append(files, *cur)
		}
		cur = nil
	}
	n := 0
	for {
		raw, ok := lr.next()
		if !ok {
			if lr.err != nil {
				return nil, fmt.Errorf("reading diff: %w", lr.err)
			}
			break
		}
		n++
		switch {
		case strings.HasPrefix(raw, "diff --git "):
			flush()
			cur = &File{Status: "modified"}
			a, b := splitGitHeader(raw[len("diff --git "):])
			cur.OldPath, cur.Path = a, b
			p = hunkParser{file: cur}
			continue
		case p.inHunk():
		case strings.HasPrefix(raw, "--- "):
			if cur == nil || p.started {
				flush()
				cur = &File{Status: "modified"}
				p = hunkParser{file: cur}
			}
			if name := headerPath(raw[4:]); name == "" {
				cur.Status = "added"
			} else {
				cur.OldPath = name
			}
			continue
		case strings.HasPrefix(raw, "+++ ") && cur != nil:
			if name := headerPath(raw[4:]); name == "" {
				cur.Status, cur.Path = "removed", ""
			} else {
				cur.Path = name
			}
			continue
		case cur != nil && !p.started:
			switch {
			case strings.HasPrefix(raw, "new file mode"):
				cur.Status = "added"
			case strings.HasPrefix(raw, "deleted file mode"):
				cur.Status = "removed"
			case strings.HasPrefix(raw, "rename from "):
				cur.Status, cur.OldPath = "renamed", raw[len("rename from "):]
			case strings.HasPrefix(raw, "rename to "):
				cur.Path = raw[len("rename to "):]
			case strings.HasPrefix(raw, "Binary files ") || strings.HasPrefix(raw, "GIT binary patch"):
				cur.Binary = true
			}
		}
		if cur == nil {
			continue
		}
		if err := p.line(raw); err != nil {
			return nil, fmt.Errorf("diff line %d: %w", n, err)
		}
	}
	flush()
	for i := range files {
		if files[i].Status == "removed" {
			files[i].Path = ""
		}
	}
	return files, nil
}

// sameParse fails t when Parse (over Reader) and refParse disagree on in.
func sameParse(t *testing.T, name, in string) {
	t.Helper()
	got, gerr := Parse(iotest.HalfReader(strings.NewReader(in)))
	want, werr := refParse(strings.NewReader(in))
	if fmt.Sprint(gerr) != fmt.Sprint(werr) {
		t.Fatalf("%s: err %v, reference %v", name, gerr, werr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: %d files, reference %d (or their contents differ)", name, len(got), len(want))
	}
	// Files share slabs of lines: appending to one file's lines must not touch the next
	// file's.
	for i := 0; i+1 < len(got); i++ {
		next := slices.Clone(got[i+1].Added)
		_ = append(got[i].Added, Line{No: -1, Text: "appended"})
		if !slices.Equal(next, got[i+1].Added) {
			t.Fatalf("%s: appending to file %d's lines changed file %d's", name, i, i+1)
		}
	}
}

var diffPieces = []string{
	"diff --git a/x.go b/x.go\n", "diff --git a/a b c/d b/a b c/d\n", "diff --git \"a/q\\tx\" \"b/q\\tx\"\n",
	"index 1111111..2222222 100644\n", "new file mode 100644\n", "deleted file mode 100644\n",
	"rename from old.go\n", "rename to new.go\n", "similarity index 90%\n", "Binary files a/i.png and b/i.png differ\n",
	"GIT binary patch\n", "--- a/x.go\n", "+++ b/x.go\n", "--- /dev/null\n", "+++ /dev/null\n", "--- a.txt\t2024-01-01\n",
	"@@ -1,2 +1,3 @@\n", "@@ -0,0 +1 @@\n", "@@ -1 +0,0 @@\n", "@@ -3,2 +3,2 @@ func f() {\n", "@@ junk\n",
	" ctx\n", "+added\n", "-removed\n", "+--- a/fake\n", "-+++ b/fake\n", "\\ No newline at end of file\n", "\n", "\r\n",
	"+AWS=AKIAZ3MSJV4WWNKWW5FG\r\n", "From 1234 Mon Sep 17 00:00:00 2001\n", "Subject: x\n", "?\n", "+no newline",
}

// TestReaderAsBefore compares the streaming parse with the one it replaced on random
// splices of diff pieces (valid diffs, broken hunks, preambles, CRLF), on the test
// diffs of this package and, when ../shared holds the benchmark corpus's generator's
// output, on it.
func TestReaderAsBefore(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 2))
	for i := range 5000 {
		var b strings.Builder
		for range 1 + r.IntN(30) {
			b.WriteString(diffPieces[r.IntN(len(diffPieces))])
		}
		sameParse(t, fmt.Sprintf("random %d", i), b.String())
	}
	// Well-formed multi-file diffs, so that most cases get past the first hunk.
	for i := range 300 {
		var b strings.Builder
		for f := range 1 + r.IntN(8) {
			fmt.Fprintf(&b, "diff --git a/f%d b/f%d\n--- a/f%d\n+++ b/f%d\n", f, f, f, f)
			n := 1 + r.IntN(20)
			fmt.Fprintf(&b, "@@ -1,%d +1,%d @@\n", n, n)
			for range n {
				switch r.IntN(3) {
				case 0:
					b.WriteString(" c\n")
				default:
					b.WriteString("-r\n+a\n")
				}
			}
		}
		sameParse(t, fmt.Sprintf("files %d", i), b.String())
	}
	for _, p := range []string{"testdata", filepath.Join(testenv.SharedDir(), "fixtures")} {
		_ = filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".patch") || strings.HasSuffix(path, ".diff")) {
				if b, err := os.ReadFile(path); err == nil {
					sameParse(t, path, string(b))
				}
			}
			return nil
		})
	}
	if dir := os.Getenv("ESCAPEGATE_BENCH_CORPUS"); dir != "" {
		ps, _ := filepath.Glob(filepath.Join(dir, "diffs", "*.patch"))
		for _, p := range ps {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			sameParse(t, p, string(b))
		}
		t.Logf("%d corpus patches compared", len(ps))
	}
}

// TestReaderCopiesPaths: a file's paths do not point into the input's chunks, which
// would keep every chunk holding a finding's path alive.
func TestReaderCopiesPaths(t *testing.T) {
	d := NewReader(strings.NewReader("diff --git a/x.go b/x.go\n--- a/x.go\n+++ b/x.go\n@@ -0,0 +1 @@\n+a\n"))
	f, err := d.Next()
	if err != nil || f.Path != "x.go" || f.OldPath != "x.go" {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("after the last file: %v, want io.EOF", err)
	}
	if _, err := d.Next(); err != io.EOF {
		t.Fatalf("again: %v, want io.EOF", err)
	}
}
