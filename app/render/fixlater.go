package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/escapegate/escapegate/store"
)

// FixLaterTitle is the title of the issue that tracks a merged "fix later" exception.
func FixLaterTitle(e store.Exception) string {
	return fmt.Sprintf("Fix later: risks accepted in #%d (exception #%d)", e.PR, e.ID)
}

// FixLaterMarker opens that issue's body; the issue events name the exception by it.
func FixLaterMarker(exceptionID int64) string {
	return fmt.Sprintf("<!-- escapegate:fix-later exception=%d -->", exceptionID)
}

// ParseFixLaterMarker reads the exception id from an issue body that starts with the marker.
func ParseFixLaterMarker(body string) (int64, bool) {
	var id int64
	if _, err := fmt.Sscanf(body, "<!-- escapegate:fix-later exception=%d -->", &id); err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}

// FixLaterIssue is what the tracking issue says.
type FixLaterIssue struct {
	Exception store.Exception
	Findings  []store.Finding // those the exception covers, as the check raised them (redacted)
	Assignee  string          // the pull request's author
}

// FixLaterBody renders the tracking issue: the findings (redacted), who accepted them and
// when the fix is due; closing the issue records the remediation.
func FixLaterBody(f FixLaterIssue) string {
	e := f.Exception
	var b strings.Builder
	b.WriteString(FixLaterMarker(e.ID) + "\n")
	fmt.Fprintf(&b, "%s accepted these risks in #%d to be fixed later (exception #%d, %s). ", user(e.Approver), e.PR, e.ID, date(e.CreatedAt))
	if f.Assignee != "" {
		fmt.Fprintf(&b, "@%s, the pull request merged with them: ", strings.TrimPrefix(f.Assignee, "@"))
	} else {
		b.WriteString("The pull request merged with them: ")
	}
	if e.ExpiresAt.IsZero() {
		b.WriteString("please fix them.\n\n")
	} else {
		fmt.Fprintf(&b, "**the fix is due on %s**.\n\n", date(e.ExpiresAt))
	}
	if len(f.Findings) == 0 {
		fmt.Fprintf(&b, "%d findings, listed on the pull request's check run.\n", len(e.Fingerprints))
	} else {
		rows := make([]findingRow, len(f.Findings))
		for i, x := range f.Findings {
			rows[i] = findingRow{Severity: x.Severity, Rule: x.Rule, Path: x.Path, Line: x.Line, Redacted: x.Redacted}
		}
		writeFindingRows(&b, rows, "the pull request's check run")
	}
	b.WriteString("\nA secret that merged is exposed: rotate it, then remove it from the code. **Close this issue when it is fixed**: " +
		"escapegate records the date as the remediation (reopening it undoes that), and the monthly summary reports the time to remediate and what is overdue.\n")
	return b.String()
}

// FixLaterReminder is the one comment on the tracking issue before the fix is due.
func FixLaterReminder(e store.Exception, assignee string, now time.Time) string {
	who := ""
	if assignee != "" {
		who = "@" + strings.TrimPrefix(assignee, "@") + ", "
	}
	days := int(e.ExpiresAt.Sub(now).Hours()/24 + 0.5)
	when := fmt.Sprintf("in %d days", days)
	switch {
	case days <= 0:
		when = "today"
	case days == 1:
		when = "tomorrow"
	}
	return fmt.Sprintf("%sa reminder: the fix for exception #%d (risks accepted in #%d) is due %s, on %s. Close this issue once it is fixed.",
		who, e.ID, e.PR, when, date(e.ExpiresAt))
}
