package agents

import (
	"bufio"
	"encoding/json"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks/diff"
	"github.com/escapegate/escapegate/internal/testenv"
)

// The regexes the mention sets replace: the straightforward, obviously right form,
// kept as the reference the one-pass sets are compared with.
var (
	refFrameworkMention  = regexp.MustCompile(`langchain|crewai|autogen|smolagents|from agents import|function_tool|ShellTool|PythonREPLTool|PythonAstREPLTool|CommandLineCodeExecutor|allow_dangerous_code|allow_dangerous_requests|code_execution|FileManagementToolkit|use_docker|additional_authorized_imports|executor_type|PythonREPL|load_tools|allow_dangerous_tools|unsafe_mode|BashProcess|LLMBashChain|@tool\b`)
	refClaudeRuleMention = regexp.MustCompile(`claude-code-settings\.json|"(Bash|Edit|Write|MultiEdit|WebFetch|Read|NotebookEdit)(\(|")|"mcp__\w`)
)

// sameMention fails t when a set and its reference regex disagree on s.
func sameMention(t *testing.T, s string) {
	t.Helper()
	if got, want := frameworkMentions.in(s), refFrameworkMention.MatchString(s); got != want {
		t.Errorf("frameworkMentions.in(%q) = %v, regexp says %v", trim(s), got, want)
	}
	if got, want := frameworkMentions.inBytes([]byte(s)), refFrameworkMention.MatchString(s); got != want {
		t.Errorf("frameworkMentions.inBytes(%q) = %v, regexp says %v", trim(s), got, want)
	}
	if got, want := claudeRuleMentions.in(s), refClaudeRuleMention.MatchString(s); got != want {
		t.Errorf("claudeRuleMentions.in(%q) = %v, regexp says %v", trim(s), got, want)
	}
	if got, want := claudeRuleMentions.inBytes([]byte(s)), refClaudeRuleMention.MatchString(s); got != want {
		t.Errorf("claudeRuleMentions.inBytes(%q) = %v, regexp says %v", trim(s), got, want)
	}
}

// samePair checks two texts walked at once, s beside partners shorter, longer,
// matching or not.
func samePair(t *testing.T, s string) {
	t.Helper()
	for _, other := range []string{"", "x", "import os, sys  # nothing to see in this longer line at all", "from langchain import x", s + s} {
		for _, pair := range [][2]string{{s, other}, {other, s}} {
			if got, want := frameworkMentions.inEither(pair[0], pair[1]), refFrameworkMention.MatchString(pair[0]) || refFrameworkMention.MatchString(pair[1]); got != want {
				t.Errorf("frameworkMentions.inEither(%q, %q) = %v, regexp says %v", trim(pair[0]), trim(pair[1]), got, want)
			}
			if got, want := claudeRuleMentions.inEither(pair[0], pair[1]), refClaudeRuleMention.MatchString(pair[0]) || refClaudeRuleMention.MatchString(pair[1]); got != want {
				t.Errorf("claudeRuleMentions.inEither(%q, %q) = %v, regexp says %v", trim(pair[0]), trim(pair[1]), got, want)
			}
		}
	}
}

func trim(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// mentionLiterals lists the literals of both references, the material edge cases are made of.
var mentionLiterals = []string{
	"langchain", "crewai", "autogen", "smolagents", "from agents import", "function_tool", "ShellTool",
	"PythonREPLTool", "PythonAstREPLTool", "CommandLineCodeExecutor", "allow_dangerous_code",
	"allow_dangerous_requests", "code_execution", "FileManagementToolkit", "use_docker",
	"additional_authorized_imports", "executor_type", "PythonREPL", "load_tools", "allow_dangerous_tools",
	"unsafe_mode", "BashProcess", "LLMBashChain", "@tool", "claude-code-settings.json", `"mcp__`,
	`"Bash(`, `"Bash"`, `"Edit(`, `"Edit"`, `"Write(`, `"Write"`, `"MultiEdit(`, `"MultiEdit"`,
	`"WebFetch(`, `"WebFetch"`, `"Read(`, `"Read"`, `"NotebookEdit(`, `"NotebookEdit"`,
}

func TestMentionSetsEdgeCases(t *testing.T) {
	cases := []string{"", "@", "@tool", "@tools", "@tool_x", "@tool(", "@tool\u00e9", "x@tool\n", "@tools @tool", "@toolz@tool",
		`"mcp__`, `"mcp__x`, `"mcp__-`, `"mcp___`, `"mcp__"mcp__a`, "claude-code-settingsXjson", "claude-code-settings.json",
		`"Bash`, `"Bash(`, `"Bash"`, `"Bash'`, `"Bash"Read"`, `""Read"`, `"MultiEdit"`, `"Multi"Edit"`, "PythonAstREPL",
		"from agents  import", "from agents import", "allow_dangerous_", "allow_dangerous_toolz", "langchai", "LangChain",
		"\xff@tool", "@tool\xff", "\x00langchain\x00"}
	for _, lit := range mentionLiterals {
		for _, pre := range []string{"", "x", "_", " ", lit[:len(lit)/2], lit[:1], "\xc3"} {
			for _, post := range []string{"", "x", "_", "0", " ", "(", `"`, "\xc3\xa9", lit[:1], lit} {
				cases = append(cases, pre+lit+post, pre+lit[:len(lit)-1]+post, pre+lit[1:]+post)
			}
		}
	}
	for _, s := range cases {
		sameMention(t, s)
		samePair(t, s)
	}
}

// TestMentionSetsRandom splices literals, their fragments and random bytes together.
func TestMentionSetsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 1))
	alphabet := `@toolangchainBashRead"(_-.mcp xyz0é` + "\xff"
	for range 20000 {
		var b strings.Builder
		for range r.IntN(6) {
			switch r.IntN(4) {
			case 0:
				lit := mentionLiterals[r.IntN(len(mentionLiterals))]
				i, j := r.IntN(len(lit)), r.IntN(len(lit)+1)
				if i > j {
					i, j = j, i
				}
				b.WriteString(lit[i:j])
			case 1:
				b.WriteString(mentionLiterals[r.IntN(len(mentionLiterals))])
			default:
				for range r.IntN(4) {
					b.WriteByte(alphabet[r.IntN(len(alphabet))])
				}
			}
		}
		sameMention(t, b.String())
		samePair(t, b.String())
	}
}

// TestMentionSetsOnRealText compares on every line of real text: the agent corpus,
// gitleaks' samples (both when ../shared is present), Go's own sources and Python's
// standard library when they are installed.
func TestMentionSetsOnRealText(t *testing.T) {
	lines := 0
	eachLine := func(s string, whole bool) {
		for l := range strings.SplitSeq(s, "\n") {
			sameMention(t, l)
			lines++
		}
		if whole && !t.Failed() {
			sameMention(t, s) // whole contents too: classifyContent matches a file
		}
	}
	if dir := testenv.SharedDir(); dir != "" {
		for _, name := range []string{"corpus/agents/cases.jsonl", "corpus/secrets/gitleaks-samples.jsonl", "corpus/secrets/trufflehog-samples.jsonl"} {
			f, err := os.Open(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 1<<24)
			for sc.Scan() {
				var row map[string]any
				if err := json.Unmarshal(sc.Bytes(), &row); err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				for _, k := range []string{"content", "text"} {
					if s, ok := row[k].(string); ok {
						eachLine(s, true)
					}
				}
			}
			f.Close()
			if err := sc.Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A slice of Go's sources, each run the same (the walk is sorted): enough real code
	// to be varied, short enough for -race.
	files := 0
	root := filepath.Join(runtime.GOROOT(), "src")
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if files >= 400 {
			return filepath.SkipAll
		}
		if err != nil {
			return nil
		}
		if d.IsDir() || (!strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, ".py") && !strings.HasSuffix(p, ".json")) {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil {
			eachLine(string(b), len(b) < 16<<10)
			files++
		}
		return nil
	})
	if lines == 0 {
		t.Skip("no text to compare on")
	}
	t.Logf("%d lines compared", lines)
}

// BenchmarkFrameworkMentions: one line at a time (in) and two at a time (anyLine, as
// Wants searches a file's added lines) over net/http's sources, which mention no framework.
func BenchmarkFrameworkMentions(b *testing.B) {
	var lines []string
	_ = filepath.WalkDir(filepath.Join(runtime.GOROOT(), "src", "net", "http"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".go") {
			if body, err := os.ReadFile(p); err == nil {
				lines = append(lines, strings.Split(string(body), "\n")...)
			}
		}
		return nil
	})
	n := 0
	for _, l := range lines {
		n += len(l) + 1
	}
	added := make([]diff.Line, len(lines))
	for i, l := range lines {
		added[i] = diff.Line{No: i + 1, Text: l}
	}
	b.Run("one line at a time", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, l := range lines {
				frameworkMentions.in(l)
			}
		}
	})
	b.Run("two lines at a time", func(b *testing.B) {
		b.SetBytes(int64(n))
		for b.Loop() {
			frameworkMentions.anyLine(added)
		}
	})
}
