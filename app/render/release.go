package render

import (
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/store"
)

// ReleaseMarker opens the release report comment, so the app finds and edits
// its one comment instead of posting a new one on every push.
const ReleaseMarker = "<!-- escapegate:release-report -->"

// listLimits bound the lists of a body; they shrink until the body fits.
type listLimits struct{ escapes, carried, exceptions, repos, tallies int }

var defaultLimits = listLimits{escapes: 100, carried: 20, exceptions: 30, repos: 100, tallies: 10}

func (l listLimits) half() listLimits {
	return listLimits{escapes: l.escapes / 2, carried: l.carried / 2, exceptions: l.exceptions / 2, repos: l.repos / 2, tallies: l.tallies / 2}
}

// fit renders with the default limits, halving them until the body is within MaxChars.
// Rows are bounded in width (cell, code), so this ends quickly; the final cut is a
// guard that is never expected to run.
func fit(render func(listLimits) string) string {
	lim := defaultLimits
	for {
		s := render(lim)
		if len(s) <= MaxChars {
			return s
		}
		if lim == (listLimits{}) {
			const note = "\n\n… (cut to fit GitHub's size limit)\n"
			return s[:MaxChars-len(note)-4] + note
		}
		lim = lim.half()
	}
}

// ReleaseComment renders the release PR comment (EXAMPLES §4): the rate in one sentence,
// the escapes by kind with their owners, the escapes this release carries (merged since
// previousRelease), the exceptions still open, a chart of the last six 30-day windows,
// and every escape of the window in a collapsed table.
func ReleaseComment(r escaperate.Report, carried []store.Escape, previousRelease string) string {
	return fit(func(lim listLimits) string { return releaseComment(r, carried, previousRelease, lim) })
}

func releaseComment(r escaperate.Report, carried []store.Escape, previousRelease string, lim listLimits) string {
	var b strings.Builder
	b.WriteString(ReleaseMarker + "\n")
	fmt.Fprintf(&b, "### Critical risk escape rate — %s\n\n", shortCell(r.Repo))
	what := risks(r.MinSeverity)
	if !r.HasData() {
		fmt.Fprintf(&b, "**No %s caught yet.** escapegate has checked this repository's pull requests since %s and none of them added one, and none was found on a production push.\n",
			what, date(r.Since))
	} else {
		writeRateSentence(&b, r, what)
		writeKinds(&b, r)
	}
	writeEnforcement(&b, r)
	writeCarried(&b, r, carried, previousRelease, lim.carried)
	writeOpenExceptions(&b, r, lim.exceptions)
	if r.HasData() {
		// A trend needs two windows at least: a newly installed repository gets no chart yet.
		if len(r.Series) >= 2 {
			b.WriteString("\n")
			labels, values := make([]string, len(r.Series)), make([]float64, len(r.Series))
			for i, p := range r.Series {
				labels[i] = p.Window.To.AddDate(0, 0, -1).Format("Jan 02")
				values[i] = 100 * p.Counts.Rate().Value()
			}
			b.WriteString(chart("Escape rate per 30 days (%)", labels, values))
		}
		writeEscapeDetails(&b, r, lim.escapes)
	}
	return b.String()
}

func writeRateSentence(b *strings.Builder, r escaperate.Report, what string) {
	cur, prev := r.Current.Rate(), r.Previous.Rate()
	if cur.Defined() {
		fmt.Fprintf(b, "**%s %s reached production in the last %d days (%s, 95%% CI %s)**",
			xOfN(cur), what, r.WindowDays, pct(cur), ci(cur))
	} else {
		fmt.Fprintf(b, "**No %s were caught or found on production in the last %d days**", what, r.WindowDays)
	}
	switch {
	case !prev.Defined() && !r.PreviousWindow.From.Before(r.PreviousWindow.To):
		fmt.Fprintf(b, "; there is no earlier window to compare with (counting since %s).\n", date(r.Since))
	case !prev.Defined():
		fmt.Fprintf(b, "; none in the %d days before either.\n", r.WindowDays)
	case !cur.Defined():
		fmt.Fprintf(b, ", against %s (%s) in the %d days before.\n", xOfN(prev), pct(prev), r.WindowDays)
	default:
		word := map[escaperate.Trend]string{escaperate.TrendUp: "up from", escaperate.TrendDown: "down from", escaperate.TrendFlat: "the same rate as"}[r.Trend]
		fmt.Fprintf(b, ", %s %s (%s) in the %d days before.\n", word, xOfN(prev), pct(prev), r.WindowDays)
	}
}

func writeKinds(b *strings.Builder, r escaperate.Report) {
	c := r.Current
	branch := r.DefaultBranch
	if branch == "" {
		branch = "the default branch"
	} else {
		branch = code(branch)
	}
	b.WriteString("\n| how they escaped | count | owned by |\n|---|---|---|\n")
	fmt.Fprintf(b, "| accepted by an approver | %d | approvers (override rate %s caught, %s) |\n", c.Overridden, xOfN(c.OverrideRate()), pct(c.OverrideRate()))
	fmt.Fprintf(b, "| merged while the check failed (check not required) | %d | repository settings (%s caught, %s) |\n", c.Advisory, xOfN(c.AdvisoryRate()), pct(c.AdvisoryRate()))
	fmt.Fprintf(b, "| never caught by a PR check (found on %s) | %d | tooling (detection gap %s, %s) |\n", branch, c.Missed, xOfN(c.DetectionGap()), pct(c.DetectionGap()))
}

// escapeHow says in a few words how one escape got through.
func escapeHow(e store.Escape, open map[int64]escaperate.OpenException) string {
	switch e.Kind {
	case store.EscapeOverridden:
		s := "accepted by " + user(e.Approver) + ", " + reason(e.Reason)
		if ex, ok := open[e.ExceptionID]; ok && e.ExceptionID != 0 {
			if ex.Overdue {
				s += ", overdue since " + date(ex.ExpiresAt)
			} else if ex.Reason == escaperate.ReasonFixLater {
				s += ", due " + date(ex.ExpiresAt)
			}
		}
		return s
	case store.EscapeAdvisory:
		if e.Enforcement != "" {
			return "not accepted: merged while the check failed (" + shortCell(e.Enforcement) + ")"
		}
		return "not accepted: merged while the check failed"
	case store.EscapeMissed:
		return "never caught by a PR check"
	}
	return shortCell(e.Kind)
}

func writeCarried(b *strings.Builder, r escaperate.Report, carried []store.Escape, previousRelease string, limit int) {
	since := ""
	if previousRelease != "" {
		since = " (merged since " + code(previousRelease) + ")"
	}
	if len(carried) == 0 {
		fmt.Fprintf(b, "\n**This release carries no escaped %s**%s.\n", risks(r.MinSeverity), since)
		return
	}
	open := openByID(r)
	fmt.Fprintf(b, "\n**This release carries %d escaped %s**%s:\n", len(carried), noun(len(carried), "critical risk", "critical risks"), since)
	for i, e := range carried {
		if i == limit {
			fmt.Fprintf(b, "- and %d more: run `escapegate report --repo %s`\n", len(carried)-limit, r.Repo)
			break
		}
		fmt.Fprintf(b, "- %s in %s (%s, %s)\n", code(e.Rule), code(e.Path), pr(e.PR), escapeHow(e, open))
	}
}

func openByID(r escaperate.Report) map[int64]escaperate.OpenException {
	m := make(map[int64]escaperate.OpenException, len(r.Exceptions))
	for _, e := range r.Exceptions {
		m[e.ID] = e
	}
	return m
}

func writeOpenExceptions(b *strings.Builder, r escaperate.Report, limit int) {
	if len(r.Exceptions) == 0 {
		return
	}
	overdue := 0
	for _, e := range r.Exceptions {
		if e.Overdue {
			overdue++
		}
	}
	fmt.Fprintf(b, "\n**%d %s still open**", len(r.Exceptions), noun(len(r.Exceptions), "exception", "exceptions"))
	if overdue > 0 {
		fmt.Fprintf(b, ", %d overdue", overdue)
	}
	b.WriteString(":\n\n| exception | PR | approver | reason | status |\n|---|---|---|---|---|\n")
	for i, e := range r.Exceptions {
		if i == limit {
			fmt.Fprintf(b, "\nand %d more: run `escapegate report --repo %s`\n", len(r.Exceptions)-limit, r.Repo)
			break
		}
		fmt.Fprintf(b, "| #%d | %s | %s | %s | %s |\n", e.ID, pr(e.PR), user(e.Approver), reason(e.Reason), exceptionStatus(e))
	}
}

func exceptionStatus(e escaperate.OpenException) string {
	switch {
	case e.Overdue:
		return "⚠️ merged, fix overdue since " + date(e.ExpiresAt)
	case e.State == store.ExceptionMerged:
		return "merged, fix due " + date(e.ExpiresAt)
	}
	return "active until " + date(e.ExpiresAt)
}

func writeEscapeDetails(b *strings.Builder, r escaperate.Report, limit int) {
	n := len(r.Escapes)
	if n == 0 {
		return
	}
	fmt.Fprintf(b, "\n<details><summary>All %d %s in the window</summary>\n\n", n, noun(n, "escape", "escapes"))
	b.WriteString("| detected | kind | rule | path | value | PR | approver | reason |\n|---|---|---|---|---|---|---|---|\n")
	for i, e := range r.Escapes {
		if i == limit {
			fmt.Fprintf(b, "\nand %d more: run `escapegate report --repo %s`\n", n-limit, r.Repo)
			break
		}
		approver, why := "—", "—"
		if e.Kind == store.EscapeOverridden {
			approver, why = user(e.Approver), reason(e.Reason)
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			date(e.DetectedAt), shortCell(e.Kind), codeCell(e.Rule), codeCell(e.Path), codeCell(e.Redacted), pr(e.PR), approver, why)
	}
	b.WriteString("\n</details>\n")
}
