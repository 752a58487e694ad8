package render

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
)

// MonthlyTitle is the title of an installation's summary issue for a month; the
// monthly job also finds an existing issue by it, so it must stay stable.
func MonthlyTitle(org string, month time.Time) string {
	return fmt.Sprintf("escapegate summary — %s — %s", org, month.UTC().Format("2006-01"))
}

// MonthlySummary renders the monthly summary issue (EXAMPLES §5): the org's rate for
// the month with its trend, one row per repository (rolling window at month end),
// the 12-month chart, exceptions by approver and reason, overdue "fix later"
// exceptions, repositories whose check is not required, and the rules that escaped
// most. Beyond the first rows, lists are summarised so the body stays within MaxChars.
func MonthlySummary(d escaperate.OrgMonthData) (title, body string) {
	title = MonthlyTitle(d.Org, d.Month)
	body = fit(func(lim listLimits) string { return monthlySummary(d, lim) })
	return title, body
}

func monthlySummary(d escaperate.OrgMonthData, lim listLimits) string {
	var b strings.Builder
	what := risks(d.MinSeverity)
	month := d.Month.Format("January 2006")
	prevMonth := d.Month.AddDate(0, -1, 0).Format("January")
	total, prev := d.Total.Rate(), d.Previous.Rate()
	switch {
	case !total.Defined() && prev.Defined():
		fmt.Fprintf(&b, "**%s: no %s were caught or escaped in %s**; %s had %s (%s).\n", shortCell(d.Org), what, month, prevMonth, xOfN(prev), pct(prev))
	case !total.Defined():
		fmt.Fprintf(&b, "**%s: no %s were caught or escaped in %s**, nor in %s.\n", shortCell(d.Org), what, month, prevMonth)
	default:
		fmt.Fprintf(&b, "**%s: %s %s reached production in %s (%s, 95%% CI %s)**",
			shortCell(d.Org), xOfN(total), what, month, pct(total), ci(total))
		switch d.Trend {
		case escaperate.TrendUp:
			fmt.Fprintf(&b, ", up from %s in %s.\n", pct(prev), prevMonth)
		case escaperate.TrendDown:
			fmt.Fprintf(&b, ", down from %s in %s.\n", pct(prev), prevMonth)
		case escaperate.TrendFlat:
			fmt.Fprintf(&b, ", the same as in %s.\n", prevMonth)
		default:
			fmt.Fprintf(&b, "; nothing to compare with in %s.\n", prevMonth)
		}
	}
	writeConcentration(&b, d)
	writeRepoTable(&b, d, lim.repos)

	b.WriteString("\n### Escape rate per month\n\n")
	labels, values := make([]string, len(d.Series)), make([]float64, len(d.Series))
	for i, p := range d.Series {
		labels[i] = p.Month.Format("Jan 2006")
		values[i] = 100 * p.Counts.Rate().Value()
	}
	b.WriteString(chart(fmt.Sprintf("%s: escape rate per month (%%)", d.Org), labels, values))

	b.WriteString("\n### Exceptions created this month\n\n")
	if len(d.ByApprover) == 0 {
		b.WriteString("None.\n")
	} else {
		writeTallies(&b, "approver", d.ByApprover, lim.tallies, func(s string) string { return user(s) })
		b.WriteString("\n")
		writeTallies(&b, "reason", d.ByReason, lim.tallies, reason)
	}

	b.WriteString("\n### Overdue \"fix later\" exceptions\n\n")
	if r := d.Remediated; r.Count > 0 {
		fmt.Fprintf(&b, "Fixed this month: %d (time to remediate: median %.1f days, longest %.1f days; %d after the deadline).\n\n",
			r.Count, r.MedianDays, r.MaxDays, r.Late)
	}
	if len(d.Overdue) == 0 {
		b.WriteString("None: every \"fix later\" merged this far is within its deadline.\n")
	} else {
		b.WriteString("| repository | exception | PR | approver | fix was due |\n|---|---|---|---|---|\n")
		for i, e := range d.Overdue {
			if i == lim.exceptions {
				fmt.Fprintf(&b, "\nand %d more.\n", len(d.Overdue)-i)
				break
			}
			fmt.Fprintf(&b, "| %s | #%d | %s | %s | %s |\n", shortCell(e.Repo), e.ID, pr(e.PR), user(e.Approver), date(e.ExpiresAt))
		}
	}

	fmt.Fprintf(&b, "\n### Repositories where the escapegate check is not required\n\n")
	if cv := d.Coverage; cv.Enforced+len(cv.Advisory) > 0 {
		fmt.Fprintf(&b, "As GitHub's rulesets and branch protection stand: %s.\n\n", cell(Coverage(cv)))
	}
	if len(d.Advisory) == 0 {
		b.WriteString("None had a merge while the check failed.\n")
	} else {
		fmt.Fprintf(&b, "Merges while the check failed in the last %d days; every failing merge there is an escape. Make `escapegate` a required check.\n\n", d.WindowDays)
		writeTallies(&b, "repository", d.Advisory, lim.tallies, cell)
	}

	b.WriteString("\n### Rules that escaped most this month\n\n")
	if len(d.TopRules) == 0 {
		b.WriteString("None.\n")
	} else {
		writeTallies(&b, "rule", d.TopRules, lim.tallies, codeCell)
	}
	return b.String()
}

// writeConcentration says how concentrated the month's escapes are.
func writeConcentration(b *strings.Builder, d escaperate.OrgMonthData) {
	escaped := d.Total.Escaped()
	if escaped == 0 {
		return
	}
	var counts []int
	for _, r := range d.Repos {
		if n := r.Month.Escaped(); n > 0 {
			counts = append(counts, n)
		}
	}
	if len(counts) <= 3 {
		if escaped > 1 {
			fmt.Fprintf(b, "All %d come from %d %s.\n", escaped, len(counts), noun(len(counts), "repository", "repositories"))
		}
		return
	}
	slices.SortFunc(counts, func(a, b int) int { return cmp.Compare(b, a) })
	fmt.Fprintf(b, "3 repositories account for %d of the %d.\n", counts[0]+counts[1]+counts[2], escaped)
}

func writeRepoTable(b *strings.Builder, d escaperate.OrgMonthData, limit int) {
	fmt.Fprintf(b, "\n### Repositories (rolling %d days to %s)\n\n", d.WindowDays, date(d.Month.AddDate(0, 1, -1)))
	if len(d.Repos) == 0 {
		b.WriteString("No repositories were covered this month.\n")
		return
	}
	b.WriteString("| repository | escaped | rate | 95% CI | trend | overridden | advisory | missed |\n|---|---|---|---|---|---|---|---|\n")
	shown := 0
	for _, r := range d.Repos {
		if shown == limit {
			break
		}
		rate := r.Rolling.Rate()
		if !rate.Defined() {
			break // rows are sorted by escapes, then rate: the rest have no data either
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s | %s | %d | %d | %d |\n",
			shortCell(r.Repo), xOfN(rate), pct(rate), ci(rate), trendArrow(r.Trend), r.Rolling.Overridden, r.Rolling.Advisory, r.Rolling.Missed)
		shown++
	}
	if rest := d.Repos[shown:]; len(rest) > 0 {
		var escaped, clean, none, caught int
		for _, r := range rest {
			switch {
			case r.Rolling.Escaped() > 0:
				escaped++
			case r.Rolling.Denominator() > 0:
				clean++
				caught += r.Rolling.Denominator()
			default:
				none++
			}
		}
		fmt.Fprintf(b, "\nand %d more %s: %d with escapes, %d clean (%d caught, none escaped), %d with nothing caught yet. `escapegate report --repo OWNER/NAME` shows one.\n",
			len(rest), noun(len(rest), "repository", "repositories"), escaped, clean, caught, none)
	}
}

func writeTallies(b *strings.Builder, name string, ts []escaperate.Tally, limit int, show func(string) string) {
	fmt.Fprintf(b, "| %s | count |\n|---|---|\n", name)
	rest := 0
	for i, t := range ts {
		if i >= limit {
			rest += t.Count
			continue
		}
		fmt.Fprintf(b, "| %s | %d |\n", show(t.Name), t.Count)
	}
	if rest > 0 {
		fmt.Fprintf(b, "| %d others | %d |\n", len(ts)-limit, rest)
	}
}
