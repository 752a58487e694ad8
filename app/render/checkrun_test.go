package render

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/escapegate/escapegate/checks"
)

func TestConclusion(t *testing.T) {
	cases := []struct {
		name string
		in   Input
		want string
	}{
		{"clean", base(), ConclusionSuccess},
		{"failing", base(ghp), ConclusionFailure},
		{"below threshold only", base(yolo), ConclusionSuccess},
		{"existing only", base(existing(ghp), existing(bash)), ConclusionSuccess},
		{"all covered", with(base(ghp, bash, yolo), func(in *Input) { in.Exception = exception14 }), ConclusionNeutral},
		{"one not covered", with(base(ghp, slack), func(in *Input) { in.Exception = exception14 }), ConclusionFailure},
		{"exception without failing findings", with(base(yolo), func(in *Input) { in.Exception = exception14 }), ConclusionSuccess},
		{"too many files", with(base(), func(in *Input) { in.TooManyFiles = true }), ConclusionFailure},
		{"too many files beats an exception", with(base(ghp), func(in *Input) { in.TooManyFiles = true; in.Exception = exception14 }), ConclusionFailure},
		{"changed policy invalid", with(base(), func(in *Input) { in.ChangedPolicyErrors = []string{"bad"} }), ConclusionFailure},
		{"policy errors alone do not fail", with(base(), func(in *Input) { in.PolicyErrors = []string{"bad"} }), ConclusionSuccess},
		{"not scanned alone does not fail", with(base(), func(in *Input) { in.NotScanned = []NotScanned{{"a.bin", "binary"}} }), ConclusionSuccess},
		{"finding without fingerprint is never covered", with(base(func() checks.Finding { f := ghp; f.Fingerprint = ""; return f }()), func(in *Input) {
			in.Exception = &Exception{ID: 1, Fingerprints: []string{""}}
		}), ConclusionFailure},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Render(tc.in).Conclusion; got != tc.want {
				t.Errorf("conclusion = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTitleCounts(t *testing.T) {
	high := slack
	high.Severity = checks.SeverityHigh
	cases := []struct {
		name string
		in   Input
		want string
	}{
		{"mixed categories", base(ghp, bash), "2 critical risks: 1 secret, 1 agent permission"},
		{"mixed severities", base(ghp, high), "2 risks (1 critical, 1 high): 2 secrets"},
		{"one", base(bash), "1 critical risk: 1 agent permission"},
		{"neutral", with(base(ghp, bash), func(in *Input) { in.Exception = exception14 }),
			"2 critical risks accepted by @sec-lead (exception #14, fix later, expires 2026-12-28)"},
		{"partial", with(base(ghp, bash, slack), func(in *Input) { in.Exception = exception14 }),
			"1 critical risk: 1 secret (2 more accepted in exception #14)"},
		{"clean", base(), "No secrets or overbroad agent permissions added"},
		{"many", base(manyFindings(2000)...), "2,000 critical risks: 1,600 secrets, 400 agent permissions"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Render(tc.in).Title; got != tc.want {
				t.Errorf("title = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestNoRawSecret checks that a finding's raw value never reaches what is posted:
// only its Redacted form does, in the summary and the annotations.
func TestNoRawSecret(t *testing.T) {
	raws := []string{ghpRaw, slackRaw}
	for _, in := range []Input{
		base(ghp, slack),
		with(base(ghp, slack), func(in *Input) { in.Exception = exception14 }),
		base(existing(ghp), suppressed(slack, true)),
		base(suppressed(ghp, false), slack),
	} {
		res := Render(in)
		all := res.Title + res.Summary + res.Text
		for _, a := range res.Annotations {
			all += a.Title + a.Message + a.RawDetails + a.Path
		}
		for _, raw := range raws {
			// Any 8-character window of the value past its public prefix would be a leak.
			for i := 4; i+8 <= len(raw); i++ {
				if strings.Contains(all, raw[i:i+8]) {
					t.Fatalf("output holds part of a raw secret (%q)", checks.RedactPrefix(raw, documentedPrefix(raw)))
				}
			}
			if !strings.Contains(all, checks.RedactPrefix(raw, documentedPrefix(raw))) {
				t.Errorf("output lacks the redacted form %q", checks.RedactPrefix(raw, documentedPrefix(raw)))
			}
		}
	}
}

func TestAnnotations(t *testing.T) {
	multi := ghp
	multi.Rule, multi.Line, multi.EndLine, multi.Fingerprint = "private-key", 10, 14, "fp-key"
	zero := bash
	zero.Line = 0
	res := Render(with(base(ghp, slack, multi, zero, yolo, existing(bash)), func(in *Input) {
		in.Exception = &Exception{ID: 3, Approver: "lead", Fingerprints: []string{slack.Fingerprint}}
	}))
	byKey := map[string]string{}
	for _, a := range res.Annotations {
		if a.StartLine < 1 || a.EndLine < a.StartLine {
			t.Errorf("annotation %s has lines %d-%d", a.Path, a.StartLine, a.EndLine)
		}
		byKey[fmt.Sprintf("%s:%d-%d", a.Path, a.StartLine, a.EndLine)+" "+a.Title] = a.Level
		if !strings.Contains(a.Message, "How to fix:") {
			t.Errorf("annotation %s lacks the fix: %q", a.Path, a.Message)
		}
	}
	want := map[string]string{
		"config/.env.production:2-2 critical secret: github-pat":                            LevelFailure,
		"config/.env.production:10-14 critical secret: private-key":                         LevelFailure,
		".claude/settings.json:1-1 critical agent-permission: AGT-CC-1 (OWASP NHI5, ASI02)": LevelFailure,
		"scripts/notify.py:14-14 critical secret: slack-bot-token":                          LevelWarning,
		".aider.conf.yml:1-1 medium agent-permission: AGT-AD-1 (OWASP LLM06)":               LevelWarning,
		".claude/settings.json:5-5 critical agent-permission: AGT-CC-1 (OWASP NHI5, ASI02)": LevelNotice,
	}
	if !reflect.DeepEqual(byKey, want) {
		t.Errorf("annotations:\n got %v\nwant %v", byKey, want)
	}
}

// TestLimits renders random inputs of every size and checks GitHub's limits hold
// and the title's count stays exact however much is cut from the body.
func TestLimits(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sevs := []checks.Severity{checks.SeverityCritical, checks.SeverityHigh, checks.SeverityMedium, checks.SeverityLow}
	for _, n := range []int{0, 1, 49, 50, 51, 499, 500, 501, 2000, 5000} {
		fs := make([]checks.Finding, n)
		failing := 0
		for i := range fs {
			f := checks.Finding{
				Rule: fmt.Sprintf("rule-%d", rng.IntN(300)), Category: checks.CategorySecret,
				Severity: sevs[rng.IntN(4)], Path: strings.Repeat("dir/", rng.IntN(40)) + fmt.Sprintf("f%d.env", i),
				Line: i + 1, Message: strings.Repeat("long message | with <html> and\nnewlines ", rng.IntN(8)+1),
				Fingerprint: fmt.Sprintf("fp%d", i), Redacted: "… (32–63 chars)",
				Fix: fmt.Sprintf("fix number %d ", rng.IntN(500)) + strings.Repeat("x", rng.IntN(300)),
			}
			f.Existing = rng.IntN(10) == 0
			f.Suppressed = rng.IntN(10) == 0
			if f.Severity.AtLeast(checks.SeverityHigh) && !f.Existing && !(f.Suppressed && f.Severity != checks.SeverityCritical) {
				failing++
			}
			fs[i] = f
		}
		in := with(base(fs...), func(in *Input) {
			for i := range n / 4 {
				in.NotScanned = append(in.NotScanned, NotScanned{Path: fmt.Sprintf("bin/%d.png", i), Why: "binary file"})
				in.PolicyErrors = append(in.PolicyErrors, fmt.Sprintf("line %d: unknown key", i))
			}
		})
		res := Render(in)
		for name, s := range map[string]string{"summary": res.Summary, "text": res.Text} {
			if c := utf8.RuneCountInString(s); c > MaxChars || len(s) > MaxChars {
				t.Errorf("n=%d: %s has %d characters, %d bytes", n, name, c, len(s))
			}
			if !utf8.ValidString(s) {
				t.Errorf("n=%d: %s is not valid UTF-8", n, name)
			}
		}
		if len(res.Annotations) != min(n, MaxAnnotations) {
			t.Errorf("n=%d: %d annotations", n, len(res.Annotations))
		}
		if failing > 0 {
			prefix := plural(failing, "", "")
			if !strings.HasPrefix(res.Title, strings.TrimSpace(prefix)+" ") {
				t.Errorf("n=%d: title %q does not count %d failing findings", n, res.Title, failing)
			}
			if !strings.Contains(res.Summary, "| rule |") {
				t.Errorf("n=%d: summary lost its table", n)
			}
			if !strings.Contains(res.Summary, "**Accepting the risk.**") {
				t.Errorf("n=%d: summary lost the accepting section", n)
			}
		}
		if n > MaxAnnotations && !strings.Contains(res.Summary, "Annotations are capped at 500") {
			t.Errorf("n=%d: summary does not say annotations are capped", n)
		}
	}
}

// TestTableInjection checks that file content in a message cannot break the
// table or inject HTML.
func TestTableInjection(t *testing.T) {
	f := bash
	f.Message = "evil | cell\n| 🔴 critical | fake row | x | y |\n<img src=x onerror=alert(1)>"
	f.Path = "we|ird`path.json"
	res := Render(base(f))
	var rows int
	for _, line := range strings.Split(res.Summary, "\n") {
		if strings.HasPrefix(line, "| 🔴") {
			rows++
		}
	}
	if rows != 1 {
		t.Errorf("table has %d finding rows, want 1:\n%s", rows, res.Summary)
	}
	if strings.Contains(res.Summary, "<img") {
		t.Errorf("summary holds raw HTML:\n%s", res.Summary)
	}
}

func TestCodeSpan(t *testing.T) {
	cases := map[string]string{
		"plain":    "`plain`",
		"a`b":      "``a`b``",
		"`edge":    "`` `edge ``",
		"a|b":      "`a\\|b`",
		"two\nrow": "`two row`",
	}
	for in, want := range cases {
		if got := codeSpan(in); got != want {
			t.Errorf("codeSpan(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRefusalComment(t *testing.T) {
	cases := []struct {
		name         string
		help         OverrideHelp
		why          string
		wantContains []string
	}{
		{"team, no author", OverrideHelp{Teams: []string{"acme/security"}}, "",
			[]string{"@bob, `escapegate/accept-risk` was removed: only active members of `@acme/security` may accept risks in `acme/payments`, and not on their own pull requests. This attempt was recorded."}},
		{"with why and permission", OverrideHelp{Teams: []string{"acme/security", "acme/leads"}, Permission: "admin", AllowAuthor: true}, "not an approver.",
			[]string{"@bob, `escapegate/accept-risk` was removed: only active members of `@acme/security` or `@acme/leads` or users with admin permission on the repository may accept risks in `acme/payments`. This attempt was recorded (not an approver)."}},
		{"label is code, why cannot inject", OverrideHelp{Teams: []string{"acme/security"}}, "x <img src=y>",
			[]string{"This attempt was recorded (x &lt;img src=y&gt;)."}},
		{"nobody configured", OverrideHelp{}, "", []string{"none are configured"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := RefusalComment("bob", "", "acme/payments", tc.help, tc.why)
			for _, w := range tc.wantContains {
				if !strings.Contains(got, w) {
					t.Errorf("comment %q\nlacks %q", got, w)
				}
			}
		})
	}
}

func TestInProgress(t *testing.T) {
	title, summary := InProgress()
	if title == "" || summary == "" || len(summary) > MaxChars {
		t.Errorf("InProgress() = %q, %q", title, summary)
	}
}

func TestRenderDoesNotReorderInput(t *testing.T) {
	fs := []checks.Finding{yolo, ghp, bash}
	orig := append([]checks.Finding(nil), fs...)
	Render(base(fs...))
	if !reflect.DeepEqual(fs, orig) {
		t.Error("Render changed its input slice")
	}
}

func BenchmarkRender2000(b *testing.B) {
	in := base(manyFindings(2000)...)
	b.ReportAllocs()
	for b.Loop() {
		Render(in)
	}
}

func TestCell(t *testing.T) {
	cases := map[string]string{
		"plain text":                   "plain text",
		"a | b":                        `a \| b`,
		"<b>bold</b>":                  "&lt;b&gt;bold&lt;/b&gt;",
		"run (`rm -rf <dir> | x`) now": "run (`rm -rf <dir> \\| x`) now",
		"unmatched ` <x>":              "unmatched ` &lt;x&gt;",
		"``a ` b`` <i>":                "``a ` b`` &lt;i&gt;",
		"two\nlines":                   "two lines",
	}
	for in, want := range cases {
		if got := cell(in); got != want {
			t.Errorf("cell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNeutralEscapeCount checks the neutral summary counts only critical risks as future escapes.
func TestNeutralEscapeCount(t *testing.T) {
	high := slack
	high.Severity = checks.SeverityHigh
	cases := []struct {
		name string
		fs   []checks.Finding
		want string
	}{
		{"critical and high", []checks.Finding{ghp, high}, "If this merges, 1 critical risk reaches production and counts as escaped."},
		{"high only", []checks.Finding{high}, "None of them is at or above `critical`, so none counts as an escape."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fps []string
			for _, f := range tc.fs {
				fps = append(fps, f.Fingerprint)
			}
			res := Render(with(base(tc.fs...), func(in *Input) { in.Exception = &Exception{ID: 9, Approver: "lead", Fingerprints: fps} }))
			if res.Conclusion != ConclusionNeutral || !strings.Contains(res.Summary, tc.want) {
				t.Errorf("%s: summary lacks %q:\n%s", res.Conclusion, tc.want, res.Summary)
			}
		})
	}
}
