package output

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

var (
	fper   = checks.NewFingerprinter([]byte("output-test-key"))
	ghpRaw = "ghp_" + strings.Repeat("Zq9Xw8Vu7T", 3) + "s6R5p4O3n2"

	ghp = checks.Finding{
		Rule: "github-pat", Category: checks.CategorySecret, Severity: checks.SeverityCritical,
		Path: "config/.env.production", Line: 2, Message: "GitHub personal access token",
		Fingerprint: fper.Secret("acme/payments", "github-pat", ghpRaw), Redacted: checks.RedactPrefix(ghpRaw, "ghp_"),
		Fix: "Revoke the token now and load it from your secret store.",
	}
	bash = checks.Finding{
		Rule: "AGT-CC-1", Category: checks.CategoryAgentPermission, Severity: checks.SeverityCritical,
		Path: ".claude/settings.json", Line: 5, Message: "Claude Code may run any shell command (`Bash(*)`) && <more>",
		Fingerprint: fper.Setting("AGT-CC-1", ".claude/settings.json", "Bash(*)"),
		Fix:         "Replace `Bash(*)` with the commands the agent needs.", OWASP: []string{"NHI5", "ASI02"},
	}
	key = checks.Finding{
		Rule: "private-key", Category: checks.CategorySecret, Severity: checks.SeverityHigh,
		Path: "deploy/keys/id rsa:prod.pem", Line: 10, EndLine: 14, Message: "Private key",
		Fingerprint: "0123456789abcdef0123456789abcdef", Redacted: "… (64+ chars)",
		Suppressed: true, SuppressedOnBase: true,
	}
	yolo = checks.Finding{
		Rule: "AGT-AD-1", Category: checks.CategoryAgentPermission, Severity: checks.SeverityMedium,
		Path: ".aider.conf.yml", Line: 1, Message: "Aider answers yes to every confirmation\x1b[31m",
		Fingerprint: fper.Setting("AGT-AD-1", ".aider.conf.yml", "yes-always: true"), Existing: true,
	}
	low = checks.Finding{
		Rule: "generic-api-key", Category: checks.CategorySecret, Severity: checks.SeverityLow,
		Path: "README.md", Line: 3, Message: "Generic API key", Fingerprint: "ffff", Redacted: "… (under 8 chars)",
	}
	all = []checks.Finding{ghp, bash, key, yolo, low}

	rules = []checks.RuleInfo{
		{ID: "github-pat", Category: checks.CategorySecret, Severity: checks.SeverityCritical,
			Description: "GitHub personal access token. Grants API access as its owner.", Source: "gitleaks",
			Example: "ghp_" + strings.Repeat("x", 36)},
		{ID: "AGT-CC-1", Category: checks.CategoryAgentPermission, Severity: checks.SeverityCritical,
			Description: "Claude Code allows every shell command without asking.", OWASP: []string{"NHI5", "ASI02"}},
		{ID: "AGT-AD-1", Category: checks.CategoryAgentPermission, Severity: checks.SeverityMedium,
			Description: "Aider confirms every prompt by itself.", OWASP: []string{"LLM06"}},
		{ID: "github-pat", Description: "duplicate entries are ignored"},
	}
)

func TestJSON(t *testing.T) {
	cases := []struct {
		name     string
		findings []checks.Finding
		want     string
	}{
		{"nil", nil, `{"findings":[]}` + "\n"},
		{"empty", []checks.Finding{}, `{"findings":[]}` + "\n"},
		{"one", []checks.Finding{bash},
			`{"findings":[{"rule":"AGT-CC-1","category":"agent-permission","severity":"critical","path":".claude/settings.json","line":5,` +
				`"message":"Claude Code may run any shell command (` + "`Bash(*)`" + `) && <more>","fingerprint":"` + bash.Fingerprint + `"}]}` + "\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := JSON(&b, tc.findings); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("JSON =\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}

// TestJSONKeys decodes every finding and checks it has exactly the seven documented keys, in order.
func TestJSONKeys(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, all); err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(&b)
	var keys []string
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		switch v := tok.(type) {
		case json.Delim:
			if v == '{' || v == '[' {
				depth++
			} else {
				depth--
			}
		case string:
			// Keys of a finding object sit at depth 3 ({ findings [ {); values alternate with keys.
			if depth == 3 && dec.More() {
				keys = append(keys, v)
				if _, err := dec.Token(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	want := strings.Repeat("rule category severity path line message fingerprint ", len(all))
	if got := strings.Join(keys, " ") + " "; got != want {
		t.Errorf("keys = %s\nwant   %s", got, want)
	}
	if strings.Contains(b.String(), ghpRaw) {
		t.Error("JSON holds a raw secret")
	}
}

func TestText(t *testing.T) {
	cases := []struct {
		name     string
		findings []checks.Finding
		want     []string
	}{
		{"none", nil, []string{"No secrets or overbroad agent permissions found.\n"}},
		{"all", all, []string{
			"config/.env.production:2: critical github-pat (secret): GitHub personal access token ghp_… (32–63 chars)\n    fix: Revoke the token now and load it from your secret store.\n",
			".claude/settings.json:5: critical AGT-CC-1 (agent-permission, OWASP NHI5, ASI02): Claude Code may run",
			"deploy/keys/id rsa:prod.pem:10-14: high private-key (secret): Private key … (64+ chars) [inline suppression]\n",
			".aider.conf.yml:1: medium AGT-AD-1 (agent-permission): Aider answers yes to every confirmation [31m [already on the base branch]\n",
			"\n5 findings: 2 critical, 1 high, 1 medium, 1 low\n",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Text(&b, tc.findings); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("text output lacks %q:\n%s", w, b.String())
				}
			}
			if strings.ContainsRune(b.String(), '\x1b') {
				t.Error("text output passes an escape character to the terminal")
			}
			if strings.Contains(b.String(), ghpRaw) {
				t.Error("text output holds a raw secret")
			}
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (run go test -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; run `go test ./checks/output -update` and review the diff.\n--- got ---\n%s", path, got)
	}
}

func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, all); err != nil {
		t.Fatal(err)
	}
	golden(t, "all.txt", b.Bytes())
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, os.ErrClosed }

func TestWriteErrors(t *testing.T) {
	for name, fn := range map[string]func() error{
		"json":  func() error { return JSON(failWriter{}, all) },
		"text":  func() error { return Text(failWriter{}, all) },
		"sarif": func() error { return SARIF(failWriter{}, all, rules, "1.0.0") },
	} {
		if err := fn(); err == nil {
			t.Errorf("%s: no error from a failing writer", name)
		}
	}
}
