package checks

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"ghp_0123456789abcdefghijklmnopqrstuvwxyz", "ghp_… (40 chars)"},
		{"short", "… (5 chars)"},
		{"12345678", "… (8 chars)"},
		{"123456789", "1234… (9 chars)"},
	} {
		if got := Redact(tc.in); got != tc.want {
			t.Errorf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if len(tc.in) > 8 && strings.Contains(Redact(tc.in), tc.in) {
			t.Errorf("Redact(%q) holds the value", tc.in)
		}
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
