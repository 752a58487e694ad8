// Package output writes the findings of `escapegate scan` as text for a
// terminal, as JSON for scripts, and as SARIF 2.1.0 for GitHub code scanning.
// Like the check run, it only ever sees redacted secret values.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/escapegate/escapegate/checks"
)

// jsonReport is the documented `scan --format json` shape; checks.Finding's
// JSON tags give exactly the keys rule, category, severity, path, line,
// message and fingerprint, in that order.
type jsonReport struct {
	Findings []checks.Finding `json:"findings"`
}

// JSON writes {"findings":[...]}, with an empty array when there are none.
func JSON(w io.Writer, findings []checks.Finding) error {
	if findings == nil {
		findings = []checks.Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // messages quote config like `a && b`; keep them readable
	if err := enc.Encode(jsonReport{Findings: findings}); err != nil {
		return fmt.Errorf("write JSON findings: %w", err)
	}
	return nil
}

// Text writes one block per finding, in the given order, then a count:
//
//	config/.env.production:2: critical github-pat (secret): GitHub personal access token ghp_… (32–63 chars)
//	    fix: Revoke the token now ...
func Text(w io.Writer, findings []checks.Finding) error {
	var b strings.Builder
	bySev := map[checks.Severity]int{}
	for _, f := range findings {
		bySev[f.Severity]++
		loc := fmt.Sprintf("%s:%d", f.Path, f.Line)
		if f.EndLine > f.Line {
			loc = fmt.Sprintf("%s-%d", loc, f.EndLine)
		}
		kind := string(f.Category)
		if len(f.OWASP) > 0 {
			kind += ", OWASP " + strings.Join(f.OWASP, ", ")
		}
		msg := f.Message
		if f.Redacted != "" {
			msg += " " + f.Redacted
		}
		fmt.Fprintf(&b, "%s: %s %s (%s): %s", terminalSafe(loc), f.Severity, terminalSafe(f.Rule), terminalSafe(kind), terminalSafe(msg))
		switch {
		case f.Existing:
			b.WriteString(" [already on the base branch]")
		case f.Suppressed:
			b.WriteString(" [inline suppression]")
		}
		b.WriteByte('\n')
		if f.Fix != "" {
			fmt.Fprintf(&b, "    fix: %s\n", terminalSafe(f.Fix))
		}
	}
	if len(findings) == 0 {
		b.WriteString("No secrets or overbroad agent permissions found.\n")
	} else {
		var parts []string
		for _, s := range []checks.Severity{checks.SeverityCritical, checks.SeverityHigh, checks.SeverityMedium, checks.SeverityLow} {
			if bySev[s] > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", bySev[s], s))
			}
		}
		noun := "findings"
		if len(findings) == 1 {
			noun = "finding"
		}
		fmt.Fprintf(&b, "\n%d %s: %s\n", len(findings), noun, strings.Join(parts, ", "))
	}
	if _, err := io.WriteString(w, b.String()); err != nil {
		return fmt.Errorf("write text findings: %w", err)
	}
	return nil
}

// terminalSafe keeps scanned file content from driving the terminal: control
// characters (escape sequences, carriage returns) become spaces.
func terminalSafe(s string) string {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
