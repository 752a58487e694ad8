package render

import (
	"fmt"
	"strings"

	"github.com/escapegate/escapegate/checks"
)

// ExceptionRequest is what the "Request exception" comment says.
type ExceptionRequest struct {
	Repo      string
	PR        int
	HeadSHA   string
	Requester string
	Findings  []checks.Finding // the failing findings no exception covers
	Override  OverrideHelp
}

// ExceptionRequestMarker opens the request comment of one head, so that a repeated click
// (or a retried delivery) finds it among escapegate's own comments instead of posting again.
func ExceptionRequestMarker(headSHA string) string {
	return "<!-- escapegate:exception-request head=" + headSHA + " -->"
}

// maxRequestRows bounds the findings a comment or an issue lists; the check run lists them all.
const maxRequestRows = 30

// findingRow is one finding as a comment or an issue lists it: redacted, never its value.
type findingRow struct {
	Severity, Rule, Path, Redacted string
	Line                           int
}

// writeFindingRows writes rows as a table, at most maxRequestRows; the rest are said to be on where.
func writeFindingRows(b *strings.Builder, rows []findingRow, where string) {
	b.WriteString("| severity | rule | file | value |\n|---|---|---|---|\n")
	for i, f := range rows {
		if i == maxRequestRows {
			fmt.Fprintf(b, "\nand %d more, listed on %s.\n", len(rows)-i, where)
			break
		}
		value := f.Redacted
		if value == "" {
			value = "—"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", f.Severity, codeCell(f.Rule), codeCell(fmt.Sprintf("%s:%d", f.Path, f.Line)), codeCell(value))
	}
}

// ExceptionRequestComment renders the comment a click on "Request exception" posts: it
// mentions the approver teams (GitHub notifies them), lists the findings redacted, and
// says how to approve. Only an approver's label decides.
func ExceptionRequestComment(r ExceptionRequest) string {
	label := r.Override.Label
	if label == "" {
		label = DefaultLabel
	}
	var b strings.Builder
	b.WriteString(ExceptionRequestMarker(r.HeadSHA) + "\n")
	fmt.Fprintf(&b, "### Exception requested by @%s\n\n", strings.TrimPrefix(r.Requester, "@"))
	who := make([]string, 0, len(r.Override.Teams))
	for _, t := range r.Override.Teams {
		who = append(who, "@"+strings.TrimPrefix(t, "@")) // a plain mention: GitHub notifies the team
	}
	if len(who) > 0 {
		fmt.Fprintf(&b, "%s: ", strings.Join(who, " "))
	}
	fmt.Fprintf(&b, "the `escapegate` check fails on %s with %s that no exception covers. ", code(short(r.HeadSHA)), riskCountOf(r.Findings))
	fmt.Fprintf(&b, "Please review; an exception may be granted by %s.\n\n", whoMay(r.Repo, r.Override))
	rows := make([]findingRow, len(r.Findings))
	for i, f := range r.Findings {
		rows[i] = findingRow{Severity: string(f.Severity), Rule: f.Rule, Path: f.Path, Line: f.Line, Redacted: f.Redacted}
	}
	writeFindingRows(&b, rows, "the check run")
	fmt.Fprintf(&b, "\n**To approve**, an approver applies the label %s to this pull request", codeSpan(label))
	if len(r.Override.ReasonLabels) > 0 {
		fmt.Fprintf(&b, " together with one reason label (%s)", joinWord(codeSpans(r.Override.ReasonLabels), "or"))
	}
	b.WriteString(". The exception covers these findings at this head only")
	if r.Override.ExpiresAfterDays > 0 {
		fmt.Fprintf(&b, " and expires after %d days unless the pull request merges first", r.Override.ExpiresAfterDays)
	}
	b.WriteString(". Anyone else's label is removed and recorded. To fix instead, remove the values and rotate any secret: it was pushed.\n")
	return b.String()
}

func riskCountOf(fs []checks.Finding) string {
	if len(fs) == 1 {
		return fmt.Sprintf("1 %s risk", fs[0].Severity)
	}
	return fmt.Sprintf("%d risks", len(fs))
}

func codeSpans(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = codeSpan(s)
	}
	return out
}

func short(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
