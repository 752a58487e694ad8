package diff

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

func TestParsePatch(t *testing.T) {
	tests := []struct {
		name    string
		patch   string
		added   []Line
		removed []Line
		wantErr bool
	}{
		{
			name:  "added, removed and context",
			patch: "@@ -1,3 +1,4 @@\n line1\n-old\n+new\n+new2\n line3",
			added: []Line{{2, "new"}, {3, "new2"}}, removed: []Line{{2, "old"}},
		},
		{
			name:  "two hunks",
			patch: "@@ -1,1 +1,1 @@\n-a\n+b\n@@ -10,2 +10,3 @@ func x() {\n ctx\n+add\n ctx2",
			added: []Line{{1, "b"}, {11, "add"}}, removed: []Line{{1, "a"}},
		},
		{
			name:  "lines that look like headers",
			patch: "@@ -1,2 +1,2 @@\n--- removed dashes\n+++ added pluses\n ctx",
			added: []Line{{1, "++ added pluses"}}, removed: []Line{{1, "-- removed dashes"}},
		},
		{
			name:  "new file, no newline marker",
			patch: "@@ -0,0 +1,2 @@\n+a\n+b\n\\ No newline at end of file",
			added: []Line{{1, "a"}, {2, "b"}},
		},
		{name: "bad header", patch: "@@ -x +1 @@\n+a", wantErr: true},
		{name: "garbage in hunk", patch: "@@ -1,1 +1,1 @@\n?", wantErr: true},
		{name: "too many lines", patch: "@@ -1,1 +1,1 @@\n+a\n+b", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, r, err := ParsePatch(tc.patch)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if tc.wantErr {
				return
			}
			if !reflect.DeepEqual(a, tc.added) || !reflect.DeepEqual(r, tc.removed) {
				t.Errorf("added %v removed %v, want %v %v", a, r, tc.added, tc.removed)
			}
		})
	}
}

func TestParseGitDiff(t *testing.T) {
	in := `From 1234 Mon Sep 17 00:00:00 2001
Subject: [PATCH] x

diff --git a/config/app.env b/config/app.env
index 1111111..2222222 100644
--- a/config/app.env
+++ b/config/app.env
@@ -1,2 +1,3 @@
 A=1
+AWS_KEY=AKIAZ3MSJV4WWNKWW5FG
-B=2
+B=3
diff --git a/new file.txt b/new file.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new file.txt
@@ -0,0 +1 @@
+hello
diff --git a/gone.txt b/gone.txt
deleted file mode 100644
--- a/gone.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/img.png b/img.png
Binary files a/img.png and b/img.png differ
diff --git a/old.go b/new.go
similarity index 90%
rename from old.go
rename to new.go
`
	files, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		path, status string
		binary       bool
		added        []Line
	}{
		{"config/app.env", "modified", false, []Line{{2, "AWS_KEY=AKIAZ3MSJV4WWNKWW5FG"}, {3, "B=3"}}},
		{"new file.txt", "added", false, []Line{{1, "hello"}}},
		{"", "removed", false, nil},
		{"img.png", "modified", true, nil},
		{"new.go", "renamed", false, nil},
	}
	if len(files) != len(want) {
		t.Fatalf("got %d files: %+v", len(files), files)
	}
	for i, w := range want {
		f := files[i]
		if f.Path != w.path || f.Status != w.status || f.Binary != w.binary || !reflect.DeepEqual(f.Added, w.added) {
			t.Errorf("file %d = %+v, want %+v", i, f, w)
		}
	}
}

func TestParsePlainDiffU(t *testing.T) {
	in := "--- a.txt\t2024-01-01\n+++ b.txt\t2024-01-02\n@@ -1 +1 @@\n-x\n+y\n--- c.txt\n+++ c.txt\n@@ -1 +1,2 @@\n z\n+w\n"
	files, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 || files[0].Path != "b.txt" || files[1].Path != "c.txt" || files[1].Added[0].No != 2 {
		t.Fatalf("got %+v", files)
	}
}

func TestParseRejectsBadHunk(t *testing.T) {
	if _, err := Parse(strings.NewReader("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ nonsense\n")); err == nil {
		t.Fatal("want error")
	}
}

func TestLinesAndBinary(t *testing.T) {
	if got := Lines([]byte("a\r\nb\n")); !reflect.DeepEqual(got, []Line{{1, "a"}, {2, "b"}}) {
		t.Errorf("Lines = %v", got)
	}
	if !IsBinary([]byte("ab\x00c")) || IsBinary([]byte("abc")) {
		t.Error("IsBinary wrong")
	}
}

// refLines is the split Lines replaced, kept as its reference.
func refLines(content []byte) []Line {
	parts := strings.Split(strings.ReplaceAll(string(content), "\r\n", "\n"), "\n")
	if len(parts) > 0 && parts[len(parts)-1] == "" {
		parts = parts[:len(parts)-1]
	}
	out := make([]Line, len(parts))
	for i, t := range parts {
		out[i] = Line{No: i + 1, Text: t}
	}
	return out
}

// FuzzLines holds Lines to the split it replaced; the seeds are the edge cases.
func FuzzLines(f *testing.F) {
	for _, s := range []string{"", "\n", "a", "a\n", "a\r", "a\r\n", "a\r\r\n", "\r\n\r\n", "a\r\nb", "a\nb\n\n", "\r", "x\r\ny\rz\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if got, want := Lines(b), refLines(b); !reflect.DeepEqual(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("Lines(%q) = %v, want %v", b, got, want)
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n")
	f.Fuzz(func(t *testing.T, s string) {
		files, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, fl := range files {
			for _, l := range fl.Added {
				if l.No < 1 {
					t.Fatalf("line number %d", l.No)
				}
			}
		}
	})
}

// TestParseCutsLongLines: a line longer than MaxLineBytes is cut there and parsing
// goes on; the added line keeps its first MaxLineBytes-1 bytes (after the "+").
func TestParseCutsLongLines(t *testing.T) {
	long := strings.Repeat("x", 2*MaxLineBytes+17)
	for _, tail := range []string{"\n", "\r\n", ""} {
		in := "diff --git a/min.js b/min.js\n--- a/min.js\n+++ b/min.js\n@@ -1,2 +1,3 @@\n ctx\n+" + long + tail
		if tail != "" {
			in += "+after\n-old\n"
		}
		for name, r := range map[string]func() io.Reader{
			"whole":    func() io.Reader { return strings.NewReader(in) },
			"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(in)) },
			"half":     func() io.Reader { return iotest.HalfReader(strings.NewReader(in)) },
		} {
			files, err := Parse(r())
			if err != nil {
				t.Fatalf("%s %q: %v", name, tail, err)
			}
			want := []Line{{2, long[:MaxLineBytes-1]}}
			if tail != "" {
				want = append(want, Line{3, "after"})
			}
			if len(files) != 1 || !reflect.DeepEqual(files[0].Added, want) {
				t.Fatalf("%s %q: got %d files", name, tail, len(files))
			}
			if tail != "" && !reflect.DeepEqual(files[0].Removed, []Line{{2, "old"}}) {
				t.Fatalf("%s %q: removed %v", name, tail, files[0].Removed)
			}
		}
	}
}

// TestParseReaders: the result does not depend on how the reader splits the input
// (chunk boundaries inside lines, CRLF, no final newline).
func TestParseReaders(t *testing.T) {
	var b strings.Builder
	var want []Line
	b.WriteString("diff --git a/big.txt b/big.txt\n--- a/big.txt\n+++ b/big.txt\n")
	const n = 30000
	fmt.Fprintf(&b, "@@ -0,0 +1,%d @@\r\n", n)
	for i := 1; i <= n; i++ {
		text := fmt.Sprintf("line %d %s", i, strings.Repeat("ab", i%50))
		want = append(want, Line{i, text})
		b.WriteString("+" + text)
		if i%7 == 0 {
			b.WriteString("\r")
		}
		if i < n {
			b.WriteString("\n")
		}
	}
	in := b.String()
	for name, r := range map[string]io.Reader{
		"whole":    strings.NewReader(in),
		"one byte": iotest.OneByteReader(strings.NewReader(in)),
		"half":     iotest.HalfReader(strings.NewReader(in)),
		"data err": iotest.DataErrReader(strings.NewReader(in)),
	} {
		files, err := Parse(r)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(files) != 1 || !reflect.DeepEqual(files[0].Added, want) {
			t.Fatalf("%s: added lines differ", name)
		}
	}
	if _, err := Parse(iotest.TimeoutReader(strings.NewReader(in))); err == nil {
		t.Fatal("a read error must be returned")
	}
}

// A patch line over MaxLineBytes is refused, never cut: the caller scans the file whole.
func TestParsePatchRefusesLongLines(t *testing.T) {
	long := "@@ -0,0 +1 @@\n+" + strings.Repeat("x", MaxLineBytes+10)
	if _, _, err := ParsePatch(long); !errors.Is(err, ErrLongLine) {
		t.Fatalf("error %v, want ErrLongLine", err)
	}
	ok := "@@ -0,0 +1 @@\n+" + strings.Repeat("x", MaxLineBytes)
	if added, _, err := ParsePatch(ok); err != nil || len(added) != 1 || len(added[0].Text) != MaxLineBytes {
		t.Fatalf("a line of MaxLineBytes: %v", err)
	}
}

// FuzzParsePatch: a GitHub file patch (no file headers) parses or errors, never panics;
// added and removed lines have positive numbers, increasing, and never hold a newline.
func FuzzParsePatch(f *testing.F) {
	for _, s := range []string{
		"@@ -1,2 +1,3 @@\n ctx\n+added\n-removed\n",
		"@@ -0,0 +1 @@\n+only",
		"@@ -3 +3,2 @@\n a\n+b\n\\ No newline at end of file\n",
		"@@ -1,1 +1,1 @@\r\n-a\r\n+b\r\n",
		"@@ -99999999999999999999,1 +1 @@\n+x\n",
		"+no hunk header\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		added, removed, err := ParsePatch(s)
		if err != nil {
			return
		}
		for _, ls := range [][]Line{added, removed} {
			prev := 0
			for _, l := range ls {
				if l.No < 1 || l.No <= prev {
					t.Fatalf("line numbers %d after %d in %q", l.No, prev, s)
				}
				if strings.ContainsRune(l.Text, '\n') {
					t.Fatalf("a line holds a newline: %q", l.Text)
				}
				prev = l.No
			}
		}
	})
}

// TestFields2 holds fields2 to strings.Fields on texts that have 0 to 4 fields.
func TestFields2(t *testing.T) {
	for _, s := range []string{"", " ", "-1,2 +3,4", " -1,2 +3,4 ", "-1 +2", "a", "a b c", "a  b\tc d", "\u00a0-1\u2003+2\u00a0", "-1,2\v+3", "x\u0085y"} {
		want := strings.Fields(s)
		f, n := fields2(s)
		if len(want) > 2 {
			if n != 3 {
				t.Errorf("%q: %d fields, want more than 2", s, n)
			}
			continue
		}
		if n != len(want) || !slices.Equal(f[:n], want) {
			t.Errorf("%q: %q (%d), want %q", s, f[:n], n, want)
		}
	}
}
