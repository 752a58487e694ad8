package main

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/checks/scan"
	"github.com/escapegate/escapegate/checks/secrets"
	"github.com/escapegate/escapegate/internal/fakecreds"
)

// scanDiffWhole is scanDiff as it was before the diff was streamed: the whole diff
// parsed first, then its files scanned in parallel. The reference for the streamed one.
func scanDiffWhole(ctx context.Context, s scan.Scanner, src scan.Contents, in string) ([]checks.Finding, error) {
	files, err := diff.Parse(strings.NewReader(in))
	if err != nil {
		return nil, fmt.Errorf("reading diff: %w", err)
	}
	return eachParallel(len(files), func(i int) ([]checks.Finding, error) {
		f := files[i]
		if f.Binary {
			return nil, nil
		}
		return s.Scan(ctx, scan.File{Path: f.Path, PreviousPath: f.OldPath, Status: f.Status, Added: f.Added, Removed: f.Removed}, src)
	})
}

// streamTestDiff is a diff of real source files from Go's tree as added and modified
// files, with secrets, agent settings, a Python agent tool, binary and removed files
// among them.
func streamTestDiff(t *testing.T, files int) string {
	t.Helper()
	var b strings.Builder
	n := 0
	_ = filepath.WalkDir(filepath.Join(runtime.GOROOT(), "src", "net", "http"), func(p string, d fs.DirEntry, err error) error {
		if n >= files {
			return filepath.SkipAll
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") {
			return nil
		}
		body, err := os.ReadFile(p)
		if err != nil {
			return nil
		}
		lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
		if len(lines) > 400 {
			lines = lines[:400]
		}
		name := fmt.Sprintf("src%d/%s", n, filepath.Base(p))
		switch n % 9 {
		case 3:
			lines = append(lines, "const key = \""+fakecreds.FakeAWSKey()+"\"")
		case 5:
			lines = append(lines, "var tok = \""+fakecreds.FakeGitHubPAT()+"\"")
		}
		if n%2 == 0 {
			fmt.Fprintf(&b, "diff --git a/%s b/%s\nnew file mode 100644\n--- /dev/null\n+++ b/%s\n@@ -0,0 +1,%d @@\n", name, name, name, len(lines))
			for _, l := range lines {
				b.WriteString("+" + l + "\n")
			}
		} else {
			// Every other line added, the rest context: line numbers with gaps.
			fmt.Fprintf(&b, "diff --git a/%s b/%s\n--- a/%s\n+++ b/%s\n", name, name, name, name)
			ctx, add := 0, 0
			for i := range lines {
				if i%2 == 0 {
					ctx++
				} else {
					add++
				}
			}
			fmt.Fprintf(&b, "@@ -1,%d +1,%d @@\n", ctx+1, ctx+add)
			b.WriteString("-removed line\n")
			for i, l := range lines {
				if i%2 == 0 {
					b.WriteString(" " + l + "\n")
				} else {
					b.WriteString("+" + l + "\n")
				}
			}
		}
		if n%17 == 0 {
			fmt.Fprintf(&b, "diff --git a/img%d.png b/img%d.png\nBinary files a/img%d.png and b/img%d.png differ\n", n, n, n, n)
			fmt.Fprintf(&b, "diff --git a/gone%d.txt b/gone%d.txt\ndeleted file mode 100644\n--- a/gone%d.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n", n, n, n)
		}
		n++
		return nil
	})
	if n == 0 {
		t.Skip("Go's sources are not installed")
	}
	b.WriteString("diff --git a/.claude/settings.json b/.claude/settings.json\nnew file mode 100644\n--- /dev/null\n+++ b/.claude/settings.json\n@@ -0,0 +1,3 @@\n+{\n+  \"permissions\": {\"allow\": [\"Bash(*)\"], \"defaultMode\": \"bypassPermissions\"}\n+}\n")
	b.WriteString("diff --git a/agent/tools.py b/agent/tools.py\nnew file mode 100644\n--- /dev/null\n+++ b/agent/tools.py\n@@ -0,0 +1,3 @@\n+from langchain_community.tools import ShellTool\n+shell = ShellTool()\n+agent = initialize_agent([shell], llm)\n")
	return b.String()
}

// TestScanDiffStreamedAsWhole: streaming the diff (with a queue small enough that the
// reader waits for the workers, and with the default one) gives exactly the findings,
// in the same order, of parsing it whole first; a diff broken in the middle is an
// error both ways.
func TestScanDiffStreamedAsWhole(t *testing.T) {
	eng, err := secrets.New(secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s := scan.Scanner{Secrets: eng, Fingerprint: checks.NewFingerprinter([]byte("k")), Repo: "o/r"}
	ready := func() (scan.Scanner, error) { return s, nil }
	ctx := context.Background()
	in := streamTestDiff(t, 120)
	want, err := scanDiffWhole(ctx, s, nil, in)
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	agent := false
	for _, f := range want {
		rules[f.Rule] = true
		agent = agent || f.Category == checks.CategoryAgentPermission
	}
	if !rules["aws-access-token"] || !rules["github-pat"] || !agent {
		t.Fatalf("the test diff should raise secrets and agent findings; rules: %v", rules)
	}
	for _, q := range []int{1, 10 << 10, queueBytes} {
		got, err := scanDiffQueue(ctx, ready, strings.NewReader(in), nil, q)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("queue %d: %d findings, %d parsing whole", q, len(got), len(want))
		}
	}
	broken := in[:len(in)/2] + "@@ -1,1 +1,1 @@\n?\n" + in[len(in)/2:]
	_, werr := scanDiffWhole(ctx, s, nil, broken)
	_, gerr := scanDiffQueue(ctx, ready, strings.NewReader(broken), nil, 10<<10)
	if werr == nil || gerr == nil || werr.Error() != gerr.Error() {
		t.Fatalf("broken diff: streamed %v, whole %v", gerr, werr)
	}
	// The rules failing to compile: an error, and the reader goroutine ends.
	_, err = scanDiffQueue(ctx, func() (scan.Scanner, error) { return scan.Scanner{}, fmt.Errorf("rules: bad") }, strings.NewReader(in), nil, 10<<10)
	if err == nil || err.Error() != "rules: bad" {
		t.Fatalf("rules error: %v", err)
	}
}

// TestByteBudget: what is held never passes the bound except for one item alone,
// and close frees a waiting producer.
func TestByteBudget(t *testing.T) {
	b := newByteBudget(10)
	if !b.acquire(4) || !b.acquire(6) {
		t.Fatal("acquire within the bound refused")
	}
	done := make(chan bool)
	go func() { done <- b.acquire(5) }()
	b.release(6)
	if !<-done {
		t.Fatal("acquire after a release refused")
	}
	if b.used != 9 {
		t.Fatalf("used %d, want 9", b.used)
	}
	b.release(9)
	if !b.acquire(100) {
		t.Fatal("an item over the bound must pass when nothing is held")
	}
	go func() { done <- b.acquire(1) }()
	b.close()
	if <-done {
		t.Fatal("acquire after close must report false")
	}
}
