package checks

import (
	"regexp"
	"strings"
	"testing"
)

var redactedShape = regexp.MustCompile(`^… \((under 8|8–15|16–31|32–63|64\+) chars\)$`)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, prefix, want string }{
		{"ghp_0123456789abcdefghijklmnopqrstuvwxyz", "ghp_", "ghp_… (32–63 chars)"},
		{"AKIAZ3MSJV4WWNKWW5FG", "AKIA", "AKIA… (16–31 chars)"},
		{"xoxb-1234567890-abcdefghijkl", "xoxb-", "xoxb-… (16–31 chars)"},
		{"sk_live_0123456789abcdefABCDEF", "sk_live_", "sk_live_… (16–31 chars)"},
		{"hunter2pass", "", "… (8–15 chars)"}, // a password: nothing of it
		{"ghp_0123456789abcdefghijklmnopqrstuvwxyz", "", "… (32–63 chars)"},
		{"short", "", "… (under 8 chars)"},
		{"sk_live_abc", "sk_live_", "… (8–15 chars)"},       // the prefix would leave too little hidden
		{"AKIAZ3MSJV4WWNKWW5FG", "ghp_", "… (16–31 chars)"}, // not its prefix
		{strings.Repeat("x", 70), "", "… (64+ chars)"},
	} {
		got := RedactPrefix(tc.in, tc.prefix)
		if got != tc.want {
			t.Errorf("RedactPrefix(%q, %q) = %q, want %q", tc.in, tc.prefix, got, tc.want)
		}
		// Nothing beyond the documented prefix: the form is the prefix (or nothing) and a fixed range.
		shown := got[:strings.Index(got, "…")]
		if shown != "" && shown != tc.prefix || !redactedShape.MatchString(got[len(shown):]) {
			t.Errorf("RedactPrefix(%q, %q) = %q: more than the documented prefix and a range", tc.in, tc.prefix, got)
		}
	}
	if Redact("hunter2pass") != "… (8–15 chars)" {
		t.Errorf("Redact shows a prefix: %q", Redact("hunter2pass"))
	}
}

func TestFingerprintStableAndKeyed(t *testing.T) {
	a := NewFingerprinter([]byte("k1"))
	b := NewFingerprinter([]byte("k2"))
	v := "AKIAZ3MSJV4WWNKWW5FG"
	tests := []struct {
		name string
		x, y string
		same bool
	}{
		{"same value quoted differently", a.Secret("o/r", "aws", `"`+v+`"`), a.Secret("o/r", "aws", v), true},
		{"repo case", a.Secret("O/R", "aws", v), a.Secret("o/r", "aws", v), true},
		{"other key", a.Secret("o/r", "aws", v), b.Secret("o/r", "aws", v), false},
		{"other repo", a.Secret("o/r", "aws", v), a.Secret("o/s", "aws", v), false},
		{"other rule", a.Secret("o/r", "aws", v), a.Secret("o/r", "gh", v), false},
		{"setting spacing", a.Setting("AGT-CC-1", ".claude/settings.json", "Bash( * )"), a.Setting("AGT-CC-1", ".claude/settings.json", "Bash(  *  )"), true},
	}
	for _, tc := range tests {
		if (tc.x == tc.y) != tc.same {
			t.Errorf("%s: same=%v, want %v", tc.name, tc.x == tc.y, tc.same)
		}
		if strings.Contains(tc.x, v) {
			t.Errorf("%s: fingerprint holds the value", tc.name)
		}
	}
}

func TestSeverity(t *testing.T) {
	for _, tc := range []struct {
		s, min Severity
		want   bool
	}{
		{SeverityCritical, SeverityHigh, true},
		{SeverityHigh, SeverityHigh, true},
		{SeverityMedium, SeverityHigh, false},
		{Severity("bogus"), SeverityLow, false},
	} {
		if got := tc.s.AtLeast(tc.min); got != tc.want {
			t.Errorf("%s.AtLeast(%s) = %v", tc.s, tc.min, got)
		}
	}
	if _, err := ParseSeverity("HIGH"); err != nil {
		t.Error(err)
	}
	if _, err := ParseSeverity("urgent"); err == nil {
		t.Error("want error for unknown severity")
	}
}
