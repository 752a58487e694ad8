// Package checks holds what every detector shares: the finding, its severity,
// the keyed fingerprint and the redacted display form of a secret.
package checks

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Severity orders findings; the policy's fail_on and escape_rate.severity compare against it.
type Severity string

const (
	SeverityCritical Severity = "critical"
	SeverityHigh     Severity = "high"
	SeverityMedium   Severity = "medium"
	SeverityLow      Severity = "low"
)

// Rank is higher for more severe findings; unknown severities rank lowest.
func (s Severity) Rank() int {
	switch s {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// AtLeast reports whether s is as severe as min or more.
func (s Severity) AtLeast(min Severity) bool { return s.Rank() >= min.Rank() && s.Rank() > 0 }

// ParseSeverity accepts the four severities in any case.
func ParseSeverity(v string) (Severity, error) {
	s := Severity(strings.ToLower(strings.TrimSpace(v)))
	if s.Rank() == 0 {
		return "", fmt.Errorf("unknown severity %q (want critical, high, medium or low)", v)
	}
	return s, nil
}

// Category says which detector family produced a finding.
type Category string

const (
	CategorySecret          Category = "secret"
	CategoryAgentPermission Category = "agent-permission"
)

// Finding is one detector hit on a line that a change adds. It never holds a raw
// secret: Redacted is the only display form and Fingerprint the only identity.
type Finding struct {
	Rule        string   `json:"rule"`
	Category    Category `json:"category"`
	Severity    Severity `json:"severity"`
	Path        string   `json:"path"`
	Line        int      `json:"line"`
	Message     string   `json:"message"`
	Fingerprint string   `json:"fingerprint"`

	// EndLine is the last line of a multi-line finding (a private key block); 0 means Line.
	EndLine int `json:"-"`
	// Redacted is the display form of a secret value (its format's documented prefix, if any,
	// an ellipsis and the length as a range: RedactPrefix).
	Redacted string `json:"-"`
	// Fix is a concrete least-privilege or remediation step.
	Fix string `json:"-"`
	// OWASP lists mapped ids (NHI Top 10 2025, LLM Top 10 2025, Agentic Top 10 2026).
	OWASP []string `json:"-"`
	// Existing marks a permission finding already present on the base branch: listed, never failing.
	Existing bool `json:"-"`
	// Suppressed marks an inline suppression (escapegate:allow, gitleaks:allow) on the line;
	// SuppressedOnBase says the same suppressed line was already on the base branch.
	Suppressed       bool `json:"-"`
	SuppressedOnBase bool `json:"-"`
}

// RuleInfo describes one detector rule for `escapegate rules` and the docs.
type RuleInfo struct {
	ID          string   `json:"id"`
	Category    Category `json:"category"`
	Severity    Severity `json:"severity"`
	Description string   `json:"description"`
	OWASP       []string `json:"owasp,omitempty"`
	Source      string   `json:"source,omitempty"` // gitleaks, escapegate, policy
	Example     string   `json:"example,omitempty"`
}

// Fingerprinter computes keyed HMAC-SHA256 identities, so a finding keeps its
// identity across pushes, rebases and moved lines without storing its value.
type Fingerprinter struct{ key []byte }

// NewFingerprinter uses key as the HMAC key; an empty key is a programming error.
func NewFingerprinter(key []byte) Fingerprinter {
	if len(key) == 0 {
		panic("checks: empty fingerprint key")
	}
	return Fingerprinter{key: append([]byte(nil), key...)}
}

// Secret fingerprints a secret finding: repo + rule + normalized value.
func (f Fingerprinter) Secret(repo, rule, value string) string {
	return f.sum("secret", strings.ToLower(repo), rule, NormalizeSecret(value))
}

// Setting fingerprints a permission finding: rule + path + normalized offending setting.
func (f Fingerprinter) Setting(rule, path, setting string) string {
	return f.sum("setting", rule, path, strings.Join(strings.Fields(setting), " "))
}

func (f Fingerprinter) sum(parts ...string) string {
	m := hmac.New(sha256.New, f.key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return hex.EncodeToString(m.Sum(nil))[:32]
}

// NormalizeSecret strips the quoting and line-ending noise that differs between
// files holding the same value, so the fingerprint follows the value.
func NormalizeSecret(v string) string {
	v = strings.TrimSpace(v)
	v = strings.Trim(v, "\"'`")
	v = strings.ReplaceAll(v, "\r", "")
	if strings.Contains(v, "\n") {
		// Multi-line values (key blocks): drop indentation and quoting per line.
		lines := strings.Split(v, "\n")
		for i, l := range lines {
			lines[i] = strings.Trim(strings.TrimSpace(l), "\"'`,+")
		}
		v = strings.Join(lines, "\n")
	}
	return v
}

// Redact is the display form of a secret with no documented prefix (a password, a
// generic or high-entropy value): an ellipsis and its length as a range, never a
// character of the value.
func Redact(value string) string { return RedactPrefix(value, "") }

// MaxShownPrefix is the longest format prefix a redacted form shows, and MinHidden the
// fewest characters it must leave hidden after it.
const (
	MaxShownPrefix = 16
	MinHidden      = 8
)

// RedactPrefix is the only form in which a secret is ever shown: the format's fixed,
// documented prefix (`ghp_`, `AKIA`, `xoxb-`, `sk_live_`) when the value starts with it,
// an ellipsis and the length as a range ("16–31 chars"). The prefix is dropped when it
// is longer than MaxShownPrefix or would leave fewer than MinHidden characters hidden,
// so no character a guess can use is shown.
func RedactPrefix(value, prefix string) string {
	n := utf8.RuneCountInString(value)
	p := utf8.RuneCountInString(prefix)
	if prefix == "" || !strings.HasPrefix(value, prefix) || p > MaxShownPrefix || n-p < MinHidden {
		prefix = ""
	}
	return prefix + "… (" + LengthRange(n) + ")"
}

// LengthRange is a length as one of five ranges: "under 8 chars", "8–15 chars",
// "16–31 chars", "32–63 chars", "64+ chars".
func LengthRange(n int) string {
	switch {
	case n < 8:
		return "under 8 chars"
	case n < 16:
		return "8–15 chars"
	case n < 32:
		return "16–31 chars"
	case n < 64:
		return "32–63 chars"
	}
	return "64+ chars"
}
