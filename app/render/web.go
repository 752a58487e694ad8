package render

import (
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
)

// The dashboard (app/dashboard) shows the same figures as the reports and summaries, in
// HTML; these exports keep one wording of a rate, an interval, a date, a reason.

// Percent renders a ratio as a percentage with one decimal, "n/a" without data.
func Percent(r escaperate.Ratio) string { return pct(r) }

// Interval renders the 95% Wilson interval as "2.5–19.4%", "n/a" without data.
func Interval(r escaperate.Ratio) string { return ci(r) }

// XOfN renders "3 of 41".
func XOfN(r escaperate.Ratio) string { return xOfN(r) }

// Date renders a day in ISO form, "—" for the zero time.
func Date(t time.Time) string { return date(t) }

// Reason renders an exception reason label value ("fix later", "no reason given").
func Reason(r string) string { return reason(r) }

// PR renders a pull request reference, "—" for none (a direct push).
func PR(n int) string { return pr(n) }

// TrendArrow is the compact trend of a table row (▲ ▼ = –).
func TrendArrow(t escaperate.Trend) string { return trendArrow(t) }
