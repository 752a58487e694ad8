package render

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/verdict"
	"github.com/escapegate/escapegate/checks"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// fp makes a test fingerprint; real ones come from checks.Fingerprinter.
var testFP = checks.NewFingerprinter([]byte("checkrun-test-key"))

func secretFinding(path string, line int, rule, msg, raw string) checks.Finding {
	return checks.Finding{
		Rule: rule, Category: checks.CategorySecret, Severity: checks.SeverityCritical,
		Path: path, Line: line, Message: msg,
		Fingerprint: testFP.Secret("acme/payments", rule, raw),
		Redacted:    checks.RedactPrefix(raw, documentedPrefix(raw)),
		Fix:         "Revoke the token now (it is in the branch history even after you delete the line) and load it from your secret store.",
	}
}

// documentedPrefix is the fixed prefix of the test values' formats (the detectors derive it from their rules).
func documentedPrefix(raw string) string {
	for _, p := range []string{"ghp_", "AKIA", "xoxb-", "sk_live_"} {
		if strings.HasPrefix(raw, p) {
			return p
		}
	}
	return ""
}

func agentFinding(path string, line int, rule string, sev checks.Severity, msg, setting, fix string, owasp ...string) checks.Finding {
	return checks.Finding{
		Rule: rule, Category: checks.CategoryAgentPermission, Severity: sev,
		Path: path, Line: line, Message: msg,
		Fingerprint: testFP.Setting(rule, path, setting),
		Fix:         fix, OWASP: owasp,
	}
}

var (
	ghpRaw   = "ghp_" + strings.Repeat("A1b2C3d4E5", 3) + "f6G7h8I9j0"
	slackRaw = "xoxb-1234567890-0987654321-" + "AbCdEfGhIjKlMnOpQrStUvWx"

	ghp   = secretFinding("config/.env.production", 2, "github-pat", "GitHub personal access token", ghpRaw)
	slack = secretFinding("scripts/notify.py", 14, "slack-bot-token", "Slack bot token", slackRaw)
	bash  = agentFinding(".claude/settings.json", 5, "AGT-CC-1", checks.SeverityCritical,
		"Claude Code may run any shell command (`Bash(*)`)", "Bash(*)",
		"Replace `Bash(*)` with the commands the agent needs, e.g. `Bash(npm run test:*)`.", "NHI5", "ASI02")
	yolo = agentFinding(".aider.conf.yml", 1, "AGT-AD-1", checks.SeverityMedium,
		"Aider answers yes to every confirmation (`yes-always: true`)", "yes-always: true",
		"Set `yes-always: false` so shell commands need confirmation.", "LLM06")

	acmeHelp = OverrideHelp{
		Label:            "escapegate/accept-risk",
		ReasonLabels:     []string{"escapegate/false-positive", "escapegate/used-in-tests", "escapegate/fix-later"},
		Teams:            []string{"acme/security"},
		Permission:       "admin",
		ExpiresAfterDays: 30,
	}
	exception14 = &Exception{
		ID: 14, Approver: "sec-lead", Reason: "fix_later",
		ExpiresAt:    time.Date(2026, 12, 28, 9, 30, 0, 0, time.UTC),
		Fingerprints: []string{ghp.Fingerprint, bash.Fingerprint},
	}
)

func base(fs ...checks.Finding) Input {
	return Input{
		CheckInput: CheckInput{Repo: "acme/payments", PR: 7, HeadSHA: "0123456789abcdef0123456789abcdef01234567", Override: acmeHelp},
		Findings:   fs, FailOn: checks.SeverityHigh, CriticalAt: checks.SeverityCritical,
	}
}

func with(in Input, edit func(*Input)) Input { edit(&in); return in }

func existing(f checks.Finding) checks.Finding { f.Existing = true; return f }

func suppressed(f checks.Finding, onBase bool) checks.Finding {
	f.Suppressed, f.SuppressedOnBase = true, onBase
	return f
}

func manyFindings(n int) []checks.Finding {
	fs := make([]checks.Finding, n)
	for i := range fs {
		raw := fmt.Sprintf("ghp_%036d", i)
		path := fmt.Sprintf("services/service-%04d/config/very/deeply/nested/directory/for/length/.env.production", i)
		if i%5 == 0 {
			fs[i] = agentFinding(path, i+1, "AGT-CC-1", checks.SeverityCritical,
				"Claude Code may run any shell command (`Bash(*)`) — and this message is long on purpose to stress the limits",
				fmt.Sprint("Bash(*)", i), fmt.Sprintf("Replace `Bash(*)` in service %d with the commands the agent needs.", i%40), "NHI5", "ASI02")
			continue
		}
		fs[i] = secretFinding(path, i+1, "github-pat", "GitHub personal access token", raw)
	}
	return fs
}

var goldenCases = []struct {
	name string
	in   Input
}{
	{"clean", base()},
	{"failing", base(ghp, bash, yolo)},
	{"neutral-exception", with(base(ghp, bash), func(in *Input) { in.Exception = exception14 })},
	{"partial-exception", with(base(ghp, bash, slack), func(in *Input) { in.Exception = exception14 })},
	{"existing-only", base(existing(bash), existing(yolo))},
	{"suppressions", base(suppressed(ghp, false), suppressed(slack, true), suppressed(yolo, false))},
	{"suppressions-allowed", with(base(suppressed(ghp, false), suppressed(slack, true)), func(in *Input) { in.AllowInlineSuppressions = true })},
	{"too-many-files", with(base(), func(in *Input) { in.TooManyFiles = true })},
	{"not-scanned", with(base(), func(in *Input) {
		in.NotScanned = []NotScanned{{"assets/logo.png", "binary file"}, {"data/dump.sql", "patch too large"}}
	})},
	{"unscanned-fail", with(base(), func(in *Input) {
		in.Unscanned = []verdict.Unscanned{{Path: "config/huge.env", Why: "12.0 MB, over the 10 MB limit escapegate reads"}}
		in.NotScanned = []NotScanned{{"assets/logo.png", "image (PNG)"}}
	})},
	{"unscanned-neutral", with(base(), func(in *Input) {
		in.Unscanned = []verdict.Unscanned{{Path: "config/huge.env", Why: "not found at the head commit"}}
		in.UnscannedNeutral = true
	})},
	{"policy-errors", with(base(bash), func(in *Input) {
		in.PolicyErrors = []string{"`.github/escapegate.yml` line 12: unknown key `fial_on`"}
		in.PolicyNotes = []string{"`.github/escapegate.yml` sets `override.allow_author: true`; only the organization's policy may loosen it, so it is ignored."}
	})},
	{"changed-policy-errors", with(base(), func(in *Input) {
		in.ChangedPolicyErrors = []string{"`.github/escapegate.yml` line 3: `fail_on` must be critical, high, medium or low, not `hgih`"}
	})},
	{"findings-2000", base(manyFindings(2000)...)},
}

// dump renders a Result as stable text for golden files.
func dump(r Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "conclusion: %s\ntitle: %s\n\n----- summary (%d bytes) -----\n%s\n\n----- text (%d bytes) -----\n%s\n\n----- annotations (%d) -----\n",
		r.Conclusion, r.Title, len(r.Summary), r.Summary, len(r.Text), r.Text, len(r.Annotations))
	for _, a := range r.Annotations {
		fmt.Fprintf(&b, "%s %s:%d-%d %q %q\n", a.Level, a.Path, a.StartLine, a.EndLine, a.Title, a.Message)
	}
	return b.String()
}

func TestGolden(t *testing.T) {
	for _, tc := range goldenCases {
		t.Run(tc.name, func(t *testing.T) {
			got := dump(Render(tc.in))
			path := filepath.Join("testdata", tc.name+".golden")
			if *update {
				if err := os.MkdirAll("testdata", 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run go test -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("%s differs from the golden file; run `go test ./app/render -update` and review the diff.\n--- got ---\n%s", path, clip(got, 4000))
			}
		})
	}
}
