package agents

import (
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/checks/diff"
)

var testFP = checks.NewFingerprinter([]byte("agents-test"))

func rulesOf(fs []checks.Finding) map[string]bool {
	m := map[string]bool{}
	for _, f := range fs {
		m[f.Rule] = true
	}
	return m
}

// Every rule's documented example must fail with that rule.
func TestRuleExamplesFail(t *testing.T) {
	for _, r := range catalog {
		t.Run(r.id, func(t *testing.T) {
			got := Evaluate(testFP, r.examplePath, []byte(r.example), nil)
			if !rulesOf(got)[r.id] {
				t.Fatalf("example for %s at %s does not raise it; got %+v", r.id, r.examplePath, got)
			}
		})
	}
}

// Each rule both ways: a failing file and its least-privilege counterpart.
func TestRulesBothWays(t *testing.T) {
	cases := []struct {
		rule, path, bad, good string
		line                  int // line of the offending value in bad
	}{
		{ruleParse, ".mcp.json", "{\n  \"mcpServers\": {\n    \"a\": { \"url\": \"https://x\" }\n  \n", "// comments are fine\n{ \"mcpServers\": {}, }\n", 5},
		{ruleParse, ".codex/config.toml", "a = 1\na = 2\n", "a = 1\n", 2},
		{ruleParse, ".github/workflows/x.yml", "on: push\njobs:\n  a: [\n", "on: push\n", 3},
		{ruleCC1, ".claude/settings.json", "{\n  \"permissions\": {\n    \"allow\": [\n      \"Read\",\n      \"Bash(npm:*)\"\n    ]\n  }\n}\n", "{\"permissions\": {\"allow\": [\"Bash(npm run test:*)\", \"Edit(./src/**)\", \"mcp__github__get_issue\"]}}\n", 5},
		{ruleCC2, ".claude/settings.json", "{\n  \"skipDangerousModePermissionPrompt\": true\n}\n", "{\"permissions\": {\"defaultMode\": \"acceptEdits\", \"disableBypassPermissionsMode\": \"disable\"}}\n", 2},
		{ruleCC3, ".claude/settings.json", "{\"permissions\": {\n\"additionalDirectories\": [\"../lib\", \"$HOME\"]}}\n", "{\"permissions\": {\"additionalDirectories\": [\"../shared-lib\"]}}\n", 2},
		{ruleCC4, ".claude/settings.json", "{\"enableAllProjectMcpServers\": true}\n", "{\"enableAllProjectMcpServers\": false, \"enabledMcpjsonServers\": [\"github\"]}\n", 1},
		{ruleCC5, ".claude/settings.local.json", "{}\n", "", 1},
		{ruleMCP1, ".mcp.json", "{\"mcpServers\": {\"ops\": {\"command\": \"docker\", \"args\": [\"run\", \"-i\",\n \"--privileged\", \"acme/ops@sha256:00\"]}}}\n", "{\"mcpServers\": {\"ops\": {\"command\": \"docker\", \"args\": [\"run\", \"-i\", \"--rm\", \"acme/ops:1.2.0\"]}}}\n", 2},
		{ruleMCP2, ".cursor/mcp.json", "{\"mcpServers\": {\"fs\": {\"command\": \"npx\", \"args\": [\"@modelcontextprotocol/server-filesystem@1.0.0\",\n \"~\"]}}}\n", "{\"mcpServers\": {\"fs\": {\"command\": \"npx\", \"args\": [\"@modelcontextprotocol/server-filesystem@1.0.0\", \"./docs\"]}}}\n", 2},
		{ruleMCP3, ".vscode/mcp.json", "{\"servers\": {\"api\": {\"type\": \"http\", \"url\": \"https://x.example\",\n \"headers\": {\"Authorization\": \"Bearer 3f9c2b7e8d1a4c6f9e0b5a7d2c4e6f81a9b3c5d7\"}}}}\n", "{\"servers\": {\"api\": {\"type\": \"http\", \"url\": \"https://x.example\", \"headers\": {\"Authorization\": \"Bearer ${input:tok}\"}}}}\n", 2},
		{ruleMCP4, ".mcp.json", "{\"mcpServers\": {\"x\": {\"command\": \"uvx\", \"args\": [\"mcp-server-git\"]}}}\n", "{\"mcpServers\": {\"x\": {\"command\": \"uvx\", \"args\": [\"mcp-server-git==0.6.2\"]}}}\n", 1},
		{ruleMCP5, "cline_mcp_settings.json", "{\"mcpServers\": {\"gh\": {\"command\": \"gh-mcp\",\n \"autoApprove\": [\"get_issue\", \"merge_pull_request\"]}}}\n", "{\"mcpServers\": {\"gh\": {\"command\": \"gh-mcp\", \"autoApprove\": [\"get_issue\"]}}}\n", 2},
		{ruleCX1, ".codex/config.toml", "profile = \"ci\"\n[profiles.ci]\napproval_policy = \"never\"\nsandbox_mode = \"danger-full-access\"\n", "[profiles.ci]\napproval_policy = \"never\"\nsandbox_mode = \"read-only\"\n", 4},
		{ruleCX2, ".codex/config.toml", "[sandbox_workspace_write]\nwritable_roots = [\n  \"./out\",\n  \"~/.aws\",\n]\n", "[sandbox_workspace_write]\nwritable_roots = [\"./out\"]\nnetwork_access = true\n", 4},
		{ruleGM1, ".gemini/settings.json", "{\"tools\": {\"allowed\": [\"run_shell_command(git status)\",\n \"run_shell_command(curl)\"]}}\n", "{\"tools\": {\"allowed\": [\"run_shell_command(git status)\"]}}\n", 2},
		{ruleGM2, ".gemini/policies/x.toml", "[[rule]]\ntoolName = \"run_shell_command\"\ndecision = \"allow\"\n", "[[rule]]\ntoolName = \"run_shell_command\"\ncommandPrefix = \"git status\"\ndecision = \"allow\"\n", 2},
		{ruleGM3, ".gemini/settings.json", "{\"general\": {\n \"defaultApprovalMode\": \"yolo\"}}\n", "{\"general\": {\"defaultApprovalMode\": \"auto_edit\"}}\n", 2},
		{ruleCU1, ".cursor/permissions.json", "{\"terminalAllowlist\": [\"npm test\",\n \"*\"]}\n", "{\"terminalAllowlist\": [\"npm test\", \"git status\"]}\n", 2},
		{ruleCP1, ".github/agents/ops.agent.md", "---\nname: ops\nmcp-servers:\n  gh:\n    type: local\n---\nDo ops.\n", "---\nname: ops\ntools: [\"read\"]\nmcp-servers:\n  gh:\n    type: local\n---\nDo ops.\n", 3},
		{ruleCP2, ".github/workflows/x.md", "---\non: issues\npermissions:\n  contents: write\n---\nFix it.\n", "---\non: issues\npermissions:\n  contents: read\nsafe-outputs:\n  create-pull-request: {}\n---\nFix it.\n", 4},
		{ruleAQ1, ".kiro/agents/a.json", "{\"allowedTools\": [\"fs_read\",\n \"@github\"]}\n", "{\"allowedTools\": [\"fs_read\", \"@github/get_issue\"]}\n", 2},
		{ruleAD1, ".aider.conf.yml", "model: x\nyes-always: true\n", "yes-always: false\n", 2},
		{ruleGS1, ".config/goose/config.yml", "GOOSE_MODE: auto\n", "GOOSE_MODE: smart_approve\n", 1},
		{ruleGHA1, ".github/workflows/a.yml", "on: pull_request\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: claude -p \"review\"\n", "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: claude -p \"review\"\n", 3},
		{ruleGHA2, ".github/workflows/a.yml", "on: workflow_run\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v5\n        with:\n          ref: ${{ github.event.workflow_run.head_sha }}\n      - run: codex exec \"fix\"\n", "on: workflow_run\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: actions/checkout@v5\n        with:\n          ref: ${{ github.event.workflow_run.head_sha }}\n          path: pr\n      - run: codex exec \"fix\"\n", 9},
		{ruleGHA3, ".github/workflows/a.yml", "on: issue_comment\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: openai/codex-action@v1\n        with:\n          allow-users: \"*\"\n", "on: issue_comment\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: openai/codex-action@v1\n        with:\n          allow-users: alice,bob\n", 9},
		{ruleGHA4, ".github/workflows/a.yml", "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          claude -p \"Review ${{ github.event.pull_request.title }}\"\n", "on: pull_request\npermissions: {}\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: |\n          # claude -p \"${{ github.event.pull_request.title }}\" was unsafe\n          claude -p \"Review PR ${{ github.event.pull_request.number }}\"\n", 8},
		{ruleFW1, "app/agent.py", "from autogen_ext.code_executors.local import LocalCommandLineCodeExecutor\n\nex = LocalCommandLineCodeExecutor(work_dir=\"w\")\n", "\"\"\"Do not use LocalCommandLineCodeExecutor() here.\"\"\"\n# ShellTool() is unsafe\nfrom autogen_ext.code_executors.docker import DockerCommandLineCodeExecutor\nex = DockerCommandLineCodeExecutor(image=\"python:3.12-slim\")\n", 3},
		{ruleFW2, "app/agent.py", "from langchain_community.agent_toolkits import FileManagementToolkit\n\ntk = FileManagementToolkit(\n    selected_tools=[\"write_file\"])\n", "from langchain_community.agent_toolkits import FileManagementToolkit\ntk = FileManagementToolkit(root_dir=\"./ws\", selected_tools=[\"read_file\"])\n", 3},
	}
	for _, c := range cases {
		t.Run(c.rule+" "+c.path, func(t *testing.T) {
			bad := Evaluate(testFP, c.path, []byte(c.bad), nil)
			var hit *checks.Finding
			for i := range bad {
				if bad[i].Rule == c.rule {
					hit = &bad[i]
					break
				}
			}
			if hit == nil {
				t.Fatalf("bad file does not raise %s: %+v", c.rule, bad)
			}
			if hit.Line != c.line {
				t.Errorf("%s on line %d, want %d", c.rule, hit.Line, c.line)
			}
			if hit.Category != checks.CategoryAgentPermission || hit.Fix == "" || hit.Path != c.path || hit.Existing {
				t.Errorf("incomplete finding %+v", *hit)
			}
			if c.good == "" {
				return
			}
			if good := Evaluate(testFP, c.path, []byte(c.good), nil); rulesOf(good)[c.rule] {
				t.Errorf("least-privilege file raises %s: %+v", c.rule, good)
			}
		})
	}
}

func TestNoSecretInOutput(t *testing.T) {
	tok := "ghp_" + strings.Repeat("aB3", 12)
	got := Evaluate(testFP, ".mcp.json", []byte(`{"mcpServers": {"g": {"command": "gh-mcp", "env": {"T": "`+tok+`"}}}}`), nil)
	if !rulesOf(got)[ruleMCP3] {
		t.Fatalf("no MCP-3: %+v", got)
	}
	for _, f := range got {
		if strings.Contains(f.Message, tok[4:]) || strings.Contains(f.Fingerprint, tok) {
			t.Errorf("secret leaked in %+v", f)
		}
	}
}

// PR semantics: only new or widened settings fail; narrowed and unchanged ones are existing.
func TestBaseComparison(t *testing.T) {
	const p = ".claude/settings.json"
	cases := []struct {
		name, base, head string
		wantNew          []string // settings (allow entries) that must be non-existing findings
		wantExisting     int
	}{
		{"narrowed", `{"permissions": {"allow": ["Bash(*)", "Read"]}}`, `{"permissions": {"allow": ["Bash(npm test)", "Read"]}}`, nil, 0},
		{"added", `{"permissions": {"allow": ["Read"]}}`, "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\"]\n  }\n}", []string{"Bash(*)"}, 0},
		{"new file", "", `{"permissions": {"allow": ["Bash"]}}`, []string{"Bash"}, 0},
		{"unchanged, moved lines", `{"permissions": {"allow": ["Bash"]}}`, "{\n\n\n\"permissions\": {\"allow\": [\n\"Read\",\n\"Bash\"]}}", nil, 1},
		{"narrowed but still risky", `{"permissions": {"allow": ["Bash"]}}`, `{"permissions": {"allow": ["Bash(curl:*)"]}}`, nil, 1},
		{"widened prefix to all", `{"permissions": {"allow": ["Bash(curl:*)"]}}`, `{"permissions": {"allow": ["Bash(*)"]}}`, []string{"Bash(*)"}, 0},
		{"different risky prefix", `{"permissions": {"allow": ["Bash(curl:*)"]}}`, `{"permissions": {"allow": ["Bash(python3 *)"]}}`, []string{"Bash(python3 *)"}, 0},
		{"moved from ask to allow", `{"permissions": {"ask": ["Bash"]}}`, `{"permissions": {"allow": ["Bash"]}}`, []string{"Bash"}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var base []byte
			if c.base != "" {
				base = []byte(c.base)
			}
			got := Evaluate(testFP, p, []byte(c.head), base)
			existing := 0
			var fresh []string
			for _, f := range got {
				if f.Existing {
					existing++
				} else {
					fresh = append(fresh, f.Message)
				}
			}
			if existing != c.wantExisting || len(fresh) != len(c.wantNew) {
				t.Fatalf("existing=%d new=%v, want existing=%d new=%v", existing, fresh, c.wantExisting, c.wantNew)
			}
			for i, w := range c.wantNew {
				if !strings.Contains(fresh[i], "`"+w+"`") {
					t.Errorf("new finding %q does not name %s", fresh[i], w)
				}
			}
		})
	}
	t.Run("added line", func(t *testing.T) {
		got := Evaluate(testFP, p, []byte("{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\"]\n  }\n}"), []byte(`{"permissions": {"allow": ["Read"]}}`))
		if len(got) != 1 || got[0].Line != 3 || got[0].Rule != ruleCC1 || got[0].Severity != checks.SeverityHigh {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestFingerprintStableAcrossLineMoves(t *testing.T) {
	a := Evaluate(testFP, ".mcp.json", []byte(`{"mcpServers": {"x": {"command": "npx", "args": ["pkg"]}}}`), nil)
	b := Evaluate(testFP, ".mcp.json", []byte("{\n\n\"mcpServers\": {\n\"x\": {\n\"command\": \"npx\",\n\"args\": [\n\"pkg\"]}}}"), nil)
	if len(a) != 1 || len(b) != 1 || a[0].Fingerprint != b[0].Fingerprint || a[0].Line == b[0].Line {
		t.Fatalf("a=%+v b=%+v", a, b)
	}
	c := Evaluate(testFP, ".cursor/mcp.json", []byte(`{"mcpServers": {"x": {"command": "npx", "args": ["pkg"]}}}`), nil)
	if c[0].Fingerprint == a[0].Fingerprint {
		t.Error("fingerprint ignores the path")
	}
}

func TestParseErrors(t *testing.T) {
	bad := []byte("{\n  \"permissions\": {\n    \"allow\": [\"Bash\"\n}\n")
	t.Run("new", func(t *testing.T) {
		got := Evaluate(testFP, ".claude/settings.json", bad, nil)
		if len(got) != 1 || got[0].Rule != ruleParse || got[0].Severity != checks.SeverityHigh || got[0].Line != 4 || got[0].Existing {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("base broken the same way", func(t *testing.T) {
		got := Evaluate(testFP, ".claude/settings.json", bad, bad)
		if len(got) != 1 || !got[0].Existing {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("base fine", func(t *testing.T) {
		got := Evaluate(testFP, ".claude/settings.json", bad, []byte(`{}`))
		if len(got) != 1 || got[0].Existing {
			t.Fatalf("got %+v", got)
		}
	})
	for _, p := range []string{".gemini/policies/a.toml", ".github/agents/a.md", ".aider.conf.yml", ".github/workflows/a.yml"} {
		t.Run(p, func(t *testing.T) {
			got := Evaluate(testFP, p, []byte("---\n[[[: \"\n\x00{"), nil)
			if len(got) != 1 || got[0].Rule != ruleParse {
				t.Fatalf("got %+v", got)
			}
		})
	}
}

func TestWants(t *testing.T) {
	cases := []struct {
		path  string
		added []string
		want  bool
	}{
		{".claude/settings.json", nil, true},
		{"sub/.claude/settings.local.json", nil, true},
		{".mcp.json", nil, true},
		{".vscode/mcp.json", nil, true},
		{".vscode/settings.json", nil, false},
		{".codex/config.toml", nil, true},
		{"dot_codex/config.toml", nil, true},
		{"home/dot_gemini/settings.json", nil, true},
		{"mcp.json", nil, true},
		{"docs/examples/mcp.json", nil, false},
		{".gemini/policies/a.toml", nil, true},
		{".github/workflows/ci.yml", nil, true},
		{".github/agents/r.agent.md", nil, true},
		{"docs/README.md", nil, false},
		{"main.go", nil, false},
		{"agent/tools.py", []string{"from langchain_community.tools import ShellTool"}, true},
		{"agent/math.py", []string{"import numpy as np"}, false},
	}
	for _, c := range cases {
		var added []diff.Line
		for i, a := range c.added {
			added = append(added, diff.Line{No: i + 1, Text: a})
		}
		if got := Wants(c.path, added); got != c.want {
			t.Errorf("Wants(%q) = %v, want %v", c.path, got, c.want)
		}
	}
}

func TestRulesCatalog(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.ID] || r.Description == "" || r.Example == "" || r.Severity.Rank() == 0 || r.Category != checks.CategoryAgentPermission {
			t.Errorf("bad rule %+v", r)
		}
		if r.ID != ruleParse && len(r.OWASP) == 0 {
			t.Errorf("%s has no OWASP ids", r.ID)
		}
		seen[r.ID] = true
	}
}
