package render

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/store"
)

// Text renders `escapegate report --format text`: the counts, the rate with its 95%
// Wilson interval, the previous window and the two sub-rates, aligned for a terminal.
func Text(r escaperate.Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s, last %d days (%s to %s)\n", r.Repo, risks(r.MinSeverity), r.WindowDays, date(r.Window.From), date(r.Window.To))
	if !r.HasData() {
		fmt.Fprintf(&b, "no %s caught yet (counting since %s)\n", risks(r.MinSeverity), date(r.Since))
	}
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	c := r.Current
	row := func(name string, count any, extra string) { fmt.Fprintf(w, "%s\t%v\t%s\n", name, count, extra) }
	row("caught", c.Caught, "distinct fingerprints raised by PR checks")
	row("overridden", c.Overridden, "accepted by an approver")
	row("advisory", c.Advisory, "merged while the check failed")
	row("missed", c.Missed, "never caught by a PR check")
	ratio := func(name string, q escaperate.Ratio) {
		fmt.Fprintf(w, "%s\t%s\t%s, 95%% CI %s\n", name, xOfN(q), pct(q), ci(q))
	}
	ratio("escape rate", c.Rate())
	ratio("override rate", c.OverrideRate())
	ratio("detection gap", c.DetectionGap())
	prev := r.Previous.Rate()
	fmt.Fprintf(w, "previous %d days\t%s\t%s, trend %s\n", r.WindowDays, xOfN(prev), pct(prev), r.Trend)
	w.Flush()
	if r.Enforcement != nil {
		fmt.Fprintf(&b, "enforcement: %s\n", Enforcement(*r.Enforcement, "escapegate"))
	}
	if len(r.Exceptions) > 0 {
		overdue := 0
		for _, e := range r.Exceptions {
			if e.Overdue {
				overdue++
			}
		}
		fmt.Fprintf(&b, "open exceptions: %d (%d overdue)\n", len(r.Exceptions), overdue)
	}
	return b.String()
}

// jsonRatio is a ratio with its value and interval; value and bounds are null without data.
type jsonRatio struct {
	X      int      `json:"x"`
	N      int      `json:"n"`
	Value  *float64 `json:"value"`
	CILow  *float64 `json:"ci_low"`
	CIHigh *float64 `json:"ci_high"`
}

func toJSONRatio(r escaperate.Ratio) jsonRatio {
	out := jsonRatio{X: r.X, N: r.N}
	if r.Defined() {
		v := r.Value()
		lo, hi := r.Interval()
		out.Value, out.CILow, out.CIHigh = &v, &lo, &hi
	}
	return out
}

type jsonCounts struct {
	From         time.Time `json:"from"`
	To           time.Time `json:"to"`
	Caught       int       `json:"caught"`
	Overridden   int       `json:"overridden"`
	Advisory     int       `json:"advisory"`
	Missed       int       `json:"missed"`
	Escaped      int       `json:"escaped"`
	Rate         jsonRatio `json:"rate"`
	OverrideRate jsonRatio `json:"override_rate"`
	DetectionGap jsonRatio `json:"detection_gap"`
}

func toJSONCounts(w store.Window, c escaperate.Counts) jsonCounts {
	return jsonCounts{
		From: w.From, To: w.To,
		Caught: c.Caught, Overridden: c.Overridden, Advisory: c.Advisory, Missed: c.Missed, Escaped: c.Escaped(),
		Rate: toJSONRatio(c.Rate()), OverrideRate: toJSONRatio(c.OverrideRate()), DetectionGap: toJSONRatio(c.DetectionGap()),
	}
}

type jsonEscape struct {
	DetectedAt time.Time `json:"detected_at"`
	At         time.Time `json:"reached_production_at"`
	Kind       string    `json:"kind"`
	Rule       string    `json:"rule"`
	Severity   string    `json:"severity"`
	Path       string    `json:"path"`
	Redacted   string    `json:"redacted,omitempty"`
	PR         int       `json:"pr,omitempty"`
	Approver   string    `json:"approver,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	// Enforcement, for an advisory escape, is why the failing check did not block the merge.
	Enforcement string `json:"enforcement,omitempty"`
}

type jsonReport struct {
	Repo        string       `json:"repo"`
	WindowDays  int          `json:"window_days"`
	MinSeverity string       `json:"min_severity"`
	Since       time.Time    `json:"since"`
	Current     jsonCounts   `json:"current"`
	Previous    jsonCounts   `json:"previous"`
	Trend       string       `json:"trend"`
	Escapes     []jsonEscape `json:"escapes"`
	Open        int          `json:"open_exceptions"`
	Overdue     int          `json:"overdue_exceptions"`
	// Enforcement is absent until GitHub's rules were read.
	Enforcement *store.Enforcement `json:"enforcement,omitempty"`
}

// JSON renders `escapegate report --format json`. Ratios without data have null
// value and interval rather than a misleading 0.
func JSON(r escaperate.Report) ([]byte, error) {
	out := jsonReport{
		Repo: r.Repo, WindowDays: r.WindowDays, MinSeverity: string(r.MinSeverity), Since: r.Since,
		Current:     toJSONCounts(r.Window, r.Current),
		Previous:    toJSONCounts(r.PreviousWindow, r.Previous),
		Trend:       string(r.Trend),
		Escapes:     make([]jsonEscape, 0, len(r.Escapes)),
		Open:        len(r.Exceptions),
		Enforcement: r.Enforcement,
	}
	for _, e := range r.Escapes {
		out.Escapes = append(out.Escapes, jsonEscape{
			DetectedAt: e.DetectedAt, At: e.At, Kind: e.Kind, Rule: e.Rule, Severity: e.Severity, Path: e.Path,
			Redacted: e.Redacted, PR: e.PR, Approver: e.Approver, Reason: e.Reason, Enforcement: e.Enforcement,
		})
	}
	for _, e := range r.Exceptions {
		if e.Overdue {
			out.Overdue++
		}
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode report of %s: %w", r.Repo, err)
	}
	return append(data, '\n'), nil
}

// ReportAs renders `escapegate report` in a format (text or JSON) with its content type.
func ReportAs(r escaperate.Report, format string) ([]byte, string, error) {
	switch format {
	case "", "text":
		return []byte(Text(r)), "text/plain; charset=utf-8", nil
	case "json":
		b, err := JSON(r)
		if err != nil {
			return nil, "", err
		}
		return b, "application/json", nil
	}
	return nil, "", fmt.Errorf("unknown format %q (want text or json)", format)
}
