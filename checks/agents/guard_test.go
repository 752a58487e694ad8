package agents

import (
	"math/rand/v2"
	"strings"
	"testing"
)

// guardedPatterns are every guarded regex of the Python evaluator.
func guardedPatterns() []*guardedRE {
	gs := []*guardedRE{fileToolkit, toolDecorator, shellCall, argvCall, shellToolCall, shellToolImport, localShellTool}
	for _, p := range pyPatterns {
		gs = append(gs, p.re)
	}
	return gs
}

// TestGuardLiterals: each guard holds the literals its pattern is known for (a guard
// that required nothing would still be correct, only slow), and none is case-folded.
func TestGuardLiterals(t *testing.T) {
	want := map[string][]string{
		`\bPython(Ast)?REPLTool\s*\(`:           {"REPLTool"},
		`\bFileManagementToolkit\s*\(`:          {"FileManagementToolkit"},
		`\b(BashProcess|LLMBashChain)\b\s*[.(]`: {"BashProcess", "LLMBashChain"},
	}
	for _, g := range guardedPatterns() {
		if w, ok := want[g.String()]; ok && strings.Join(g.lits, "|") != strings.Join(w, "|") {
			t.Errorf("%s: literals %q, want %q", g, g.lits, w)
		}
		if g.lits == nil && g != shellCall && g != toolDecorator {
			t.Errorf("%s: no literal required", g)
		}
	}
}

// TestGuardNeverHidesAMatch: wherever a pattern matches (Python agent code of the
// fresh cases and the corpus, and random splices of its pieces), its guard lets it run.
func TestGuardNeverHidesAMatch(t *testing.T) {
	var texts []string
	for _, c := range freshCases() {
		texts = append(texts, c.content)
	}
	pieces := []string{"PythonREPLTool(", "PythonAstREPLTool (", "REPLTool", "allow_dangerous_code = True", "code_execution_mode='unsafe'",
		"LocalCommandLineCodeExecutor(", `"use_docker": False`, "use_docker=False", `additional_authorized_imports=["os"]`,
		`load_tools(["terminal"])`, "allow_dangerous_tools=True", "PythonREPL(", "BashProcess.", "LLMBashChain(", "LocalShellTool(",
		"CodeInterpreterTool(unsafe_mode=True)", "ShellToolMiddleware()", "allow_dangerous_requests=True", "FileManagementToolkit(",
		"@tool\ndef f(x):\n    os.system(x)\n", "@function_tool\nasync def g(cmd):\n    subprocess.run(cmd.split())\n",
		"from langchain_community.tools import ShellTool\n", "class ShellTool:\n", "ShellTool(", " ", "\n", "(", "x", "_"}
	r := rand.New(rand.NewPCG(14, 3))
	for range 3000 {
		var b strings.Builder
		for range 1 + r.IntN(8) {
			p := pieces[r.IntN(len(pieces))]
			if r.IntN(4) == 0 {
				i := r.IntN(len(p) + 1)
				p = p[:i]
			}
			b.WriteString(p)
		}
		texts = append(texts, b.String())
	}
	matched := 0
	for _, s := range texts {
		for _, g := range guardedPatterns() {
			if g.Regexp.MatchString(s) {
				matched++
				if !g.may(s) {
					t.Fatalf("%s matches %q but its guard %q says no", g, trim(s), g.lits)
				}
			}
		}
	}
	if matched < 1000 {
		t.Fatalf("only %d matches: the test no longer exercises the guards", matched)
	}
}
