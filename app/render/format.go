package render

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/checks"
)

// pct renders a ratio as a percentage with one decimal, "n/a" without data.
func pct(r escaperate.Ratio) string {
	if !r.Defined() {
		return "n/a"
	}
	return percent(r.Value())
}

func percent(v float64) string { return fmt.Sprintf("%.1f%%", 100*v) }

// ci renders the 95% Wilson interval as "2.5–19.4%", "n/a" without data.
func ci(r escaperate.Ratio) string {
	if !r.Defined() {
		return "n/a"
	}
	lo, hi := r.Interval()
	return fmt.Sprintf("%.1f–%.1f%%", 100*lo, 100*hi)
}

// xOfN renders "3 of 41".
func xOfN(r escaperate.Ratio) string { return fmt.Sprintf("%d of %d", r.X, r.N) }

// risks names what is counted: "critical risks", or "risks of high severity or above".
func risks(sev checks.Severity) string {
	if sev == "" || sev == checks.SeverityCritical {
		return "critical risks"
	}
	return fmt.Sprintf("risks of %s severity or above", sev)
}

// date renders a day in ISO form.
func date(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02")
}

// user renders a GitHub login as a mention-free handle: summaries must not ping
// dozens of people every month, so the @ is kept inside a code span.
func user(login string) string {
	if login == "" {
		return "—"
	}
	return code("@" + login)
}

// reason renders an exception reason label value.
func reason(r string) string {
	switch r {
	case "":
		return "no reason given"
	case "false_positive":
		return "false positive"
	case "used_in_tests":
		return "used in tests"
	case "fix_later":
		return "fix later"
	}
	return strings.ReplaceAll(r, "_", " ")
}

// pr renders a pull request reference, "—" when there is none (a direct push).
func pr(n int) string {
	if n <= 0 {
		return "—"
	}
	return fmt.Sprintf("#%d", n)
}

// trendArrow is the compact trend of a table row.
func trendArrow(t escaperate.Trend) string {
	switch t {
	case escaperate.TrendUp:
		return "▲"
	case escaperate.TrendDown:
		return "▼"
	case escaperate.TrendFlat:
		return "="
	}
	return "–"
}

// chart renders a Mermaid xychart-beta bar chart of percentages.
func chart(title string, labels []string, values []float64) string {
	var b strings.Builder
	top := 5.0
	for _, v := range values {
		for top < v && top < 100 {
			top = nextTop(top)
		}
	}
	b.WriteString("```mermaid\nxychart-beta\n")
	fmt.Fprintf(&b, "  title %q\n", title)
	quoted := make([]string, len(labels))
	for i, l := range labels {
		quoted[i] = fmt.Sprintf("%q", l)
	}
	fmt.Fprintf(&b, "  x-axis [%s]\n", strings.Join(quoted, ", "))
	fmt.Fprintf(&b, "  y-axis \"%%\" 0 --> %g\n", top)
	nums := make([]string, len(values))
	for i, v := range values {
		nums[i] = fmt.Sprintf("%.1f", math.Round(v*10)/10)
	}
	fmt.Fprintf(&b, "  bar [%s]\n```\n", strings.Join(nums, ", "))
	return b.String()
}

// nextTop steps the chart's y-axis through readable maxima.
func nextTop(t float64) float64 {
	for _, s := range []float64{5, 10, 20, 25, 50, 100} {
		if s > t {
			return s
		}
	}
	return 100
}
