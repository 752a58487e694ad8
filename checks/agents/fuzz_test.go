package agents

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/internal/testenv"
)

// fuzzPaths is one path per format the detector parses. AGENTS_FUZZ_FORMAT=json|yaml|toml|md|py
// narrows a fuzzing run to one format.
var fuzzPaths = map[string][]string{
	"json": {".claude/settings.json", ".mcp.json", ".vscode/mcp.json", ".gemini/settings.json", ".cursor/cli.json", ".amazonq/cli-agents/a.json", ".claude.json"},
	"yaml": {".github/workflows/a.yml", ".continue/mcpServers/a.yaml", ".aider.conf.yml", ".goose/config.yaml"},
	"toml": {".codex/config.toml", ".gemini/policies/a.toml"},
	"md":   {".github/agents/a.agent.md", ".github/workflows/a.md"},
	"py":   {"agent/a.py"},
}

func fuzzPathList() []string {
	if f := os.Getenv("AGENTS_FUZZ_FORMAT"); f != "" {
		return fuzzPaths[f]
	}
	var all []string
	for _, f := range []string{"json", "yaml", "toml", "md", "py"} {
		all = append(all, fuzzPaths[f]...)
	}
	return all
}

// pathIndex finds a seed's path in the list (or a path of the same format).
func pathIndex(paths []string, p string) (uint8, bool) {
	k := classify(p)
	for i, q := range paths {
		if q == p {
			return uint8(i), true
		}
	}
	for i, q := range paths {
		if classify(q) == k {
			return uint8(i), true
		}
	}
	return 0, false
}

// FuzzEvaluate: Evaluate never panics or hangs, every finding is complete and leaks no
// credential, and a file compared with itself has only existing findings.
func FuzzEvaluate(f *testing.F) {
	paths := fuzzPathList()
	// Without -fuzz the seeds are the whole run: the default run's sample is every
	// 8th seed (and both hostile ones below).
	all, n := fuzzing(), 0
	seed := func(p, content string) {
		if i, ok := pathIndex(paths, p); ok {
			if n++; all || everyNth(n-1, 8) {
				f.Add(i, []byte(content))
			}
		}
	}
	for _, c := range freshCases() {
		seed(c.path, c.content)
	}
	for _, r := range catalog {
		seed(r.examplePath, r.example)
	}
	if fh, err := os.Open(testenv.Shared(f, "corpus/agents/cases.jsonl")); err == nil {
		sc := bufio.NewScanner(fh)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var c corpusCase
			if json.Unmarshal(sc.Bytes(), &c) == nil {
				seed(c.Path, c.Content)
			}
		}
		fh.Close()
	}
	noteSample(f)
	all = true
	seed(".github/workflows/a.yml", "a: &a [*a, *a]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n")
	seed(".claude/settings.json", strings.Repeat("[", 600))
	f.Fuzz(func(t *testing.T, sel uint8, content []byte) {
		p := paths[int(sel)%len(paths)]
		start := time.Now()
		hits := scan(classify(p), p, content) // unguarded: a panic here is a bug even though Evaluate recovers
		got := Evaluate(testFP, p, content, content)
		if d := time.Since(start); d > 2*time.Second && len(content) < 1<<16 {
			t.Fatalf("%s: %d bytes took %v", p, len(content), d)
		}
		if len(got) != len(hits) {
			t.Fatalf("Evaluate returned %d findings, scan %d", len(got), len(hits))
		}
		for _, g := range got {
			if g.Line < 1 || g.Rule == "" || g.Message == "" || (g.Rule != ruleParse && (g.Fix == "" || len(g.OWASP) == 0)) {
				t.Fatalf("incomplete finding %+v", g)
			}
			if !g.Existing {
				t.Fatalf("finding not existing against an identical base: %+v", g)
			}
			if m, ok := literalCredential(g.Message); ok {
				t.Fatalf("message quotes credential %q: %s", m, g.Message)
			}
			if g.Category != checks.CategoryAgentPermission {
				t.Fatalf("category %q", g.Category)
			}
		}
		if lines := bytes.Count(content, []byte("\n")) + 1; len(content) > 0 {
			for _, g := range got {
				if g.Line > lines+1 {
					t.Fatalf("%s line %d beyond the file's %d lines", g.Rule, g.Line, lines)
				}
			}
		}
	})
}

// Large and hostile inputs stay fast: alias bombs, deep nesting, long lines, many servers.
// The default run's sample builds the slow ones at a sixteenth of their size.
func TestHugeInputs(t *testing.T) {
	size := func(full int) int { return sweepSize(full, full/16) }
	noteSample(t)
	var servers strings.Builder
	servers.WriteString(`{"mcpServers": {`)
	for i := 0; i < size(5000); i++ {
		if i > 0 {
			servers.WriteString(",")
		}
		servers.WriteString(`"s` + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + `` + strings.Repeat("y", i%5) + `": {"command": "npx", "args": ["-y", "pkg@1.2.3"], "env": {"K": "v"}}`)
	}
	servers.WriteString("}}")
	bomb := "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		bomb += n + ": &" + n + " [" + strings.Repeat("*"+prev+", ", 9) + "*" + prev + "]\n"
		prev = n
	}
	// The tool goes into a tools list: an instance nothing uses is no longer a finding.
	py := strings.Repeat(`"""doc"""`+"\nx = 1\n", size(50000)) + "from langchain_community.tools import ShellTool\ntools = [ShellTool()]\n"
	cases := []struct {
		name, path, content, want string
	}{
		{"many servers", ".mcp.json", servers.String(), ""},
		{"alias bomb in workflow", ".github/workflows/a.yml", bomb, ""},
		{"alias bomb in aider", ".aider.conf.yml", bomb, ""},
		{"deep json", ".claude/settings.json", strings.Repeat("[", 1<<20) + strings.Repeat("]", 1<<20), ruleParse},
		{"deep toml", ".codex/config.toml", "a = " + strings.Repeat("[", 1<<16) + strings.Repeat("]", 1<<16) + "\n", ruleParse},
		{"long line", ".claude/settings.json", `{"permissions": {"allow": ["Bash(` + strings.Repeat("a", size(1<<20)) + `)", "Bash"]}}`, ruleCC1},
		{"many docstrings", "agent/big.py", py, ruleFW1},
		{"huge prompt", ".github/workflows/b.yml", "on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n" + strings.Repeat("          echo hi\n", size(100000)) + "          claude -p \"${{ github.event.issue.body }}\"\n", ruleGHA4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			got := Evaluate(testFP, c.path, []byte(c.content), []byte(c.content))
			if d := time.Since(start); d > 20*time.Second { // generous: catches blow-ups, not load
				t.Errorf("took %v", d)
			}
			if c.want == "" {
				for _, g := range got {
					t.Errorf("unexpected %s line %d: %s", g.Rule, g.Line, g.Message)
				}
			} else if !rulesOf(got)[c.want] {
				t.Errorf("want %s, got %+v", c.want, got)
			}
		})
	}
}
