package escaperate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// SeriesMonths is the length of the monthly summary's chart.
const SeriesMonths = 12

// orgBatch repositories are read in one store call (store.ReadLedgers: on
// PostgreSQL three queries for all of them), and orgConcurrency batches at once:
// enough to keep a network store's cores busy, few enough not to flood its pool.
const (
	orgBatch       = 200
	orgConcurrency = 4
)

// OrgMonthData is everything one monthly summary shows (EXAMPLES §5).
type OrgMonthData struct {
	Installation store.Installation `json:"installation"`
	Org          string             `json:"org"`
	Month        time.Time          `json:"month"` // first instant of the month, UTC
	WindowDays   int                `json:"window_days"`
	MinSeverity  checks.Severity    `json:"min_severity"`

	Total    Counts `json:"total"`    // the month, all repositories
	Previous Counts `json:"previous"` // the month before, all repositories
	Trend    Trend  `json:"trend"`

	// Repos has one row per repository, most escapes in the rolling window first.
	Repos []RepoRow `json:"repos"`
	// Series is the org's counts per calendar month, oldest first, ending with Month.
	Series []MonthPoint `json:"series"`
	// ByApprover and ByReason count the exceptions created in the month.
	ByApprover []Tally `json:"by_approver"`
	ByReason   []Tally `json:"by_reason"`
	// Overdue are merged "fix later" exceptions whose deadline passed before the month's
	// end and that were not remediated by then.
	Overdue []store.Exception `json:"overdue"`
	// Remediated summarizes the "fix later" exceptions remediated in the month.
	Remediated Remediation `json:"remediated"`
	// Advisory counts advisory escapes per repository in the rolling window: there the
	// escapegate check is not required, so every failing merge is an escape.
	Advisory []Tally `json:"advisory"`
	// TopRules counts the month's escapes per rule, most first.
	TopRules []Tally `json:"top_rules"`
	// Coverage is whether the check is required, per repository, as last read.
	Coverage Coverage `json:"coverage"`
}

// RepoRow is one repository's line in the summary.
type RepoRow struct {
	Repo            string `json:"repo"`
	Month           Counts `json:"month"`            // the calendar month
	Rolling         Counts `json:"rolling"`          // WindowDays up to the month's end
	PreviousRolling Counts `json:"previous_rolling"` // the window before that
	Trend           Trend  `json:"trend"`
}

// MonthPoint is one calendar month of the org's series.
type MonthPoint struct {
	Month  time.Time `json:"month"`
	Counts Counts    `json:"counts"`
}

// Tally is a name with a count.
type Tally struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

// MonthStart returns the first instant (UTC) of t's month.
func MonthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// OrgMonth gathers the monthly summary of one installation for the month holding month.
// Repositories are read in batches (orgBatch per store call), a few batches at once.
func OrgMonth(ctx context.Context, st store.Store, installationID int64, month time.Time, windowDays int, minSeverity checks.Severity) (OrgMonthData, error) {
	if windowDays <= 0 {
		windowDays = DefaultWindowDays
	}
	if minSeverity == "" {
		minSeverity = DefaultSeverity
	}
	inst, err := st.GetInstallation(ctx, installationID)
	if err != nil {
		return OrgMonthData{}, fmt.Errorf("monthly summary of installation %d: %w", installationID, err)
	}
	repos, err := st.ListRepositories(ctx, installationID)
	if err != nil {
		return OrgMonthData{}, fmt.Errorf("list repositories of installation %d: %w", installationID, err)
	}
	start := MonthStart(month)
	end := start.AddDate(0, 1, 0)
	d := OrgMonthData{Installation: inst, Org: inst.Account, Month: start, WindowDays: windowDays, MinSeverity: minSeverity,
		Coverage: CoverageOf(repos)}

	var live []store.Repository
	for _, rp := range repos {
		if !rp.AddedAt.Before(end) || (!rp.RemovedAt.IsZero() && rp.RemovedAt.Before(start)) {
			continue // not covered during this month
		}
		live = append(live, rp)
	}
	results, err := loadRepoMonths(ctx, st, live, start, end, windowDays, minSeverity)
	if err != nil {
		return OrgMonthData{}, err
	}

	for i := range SeriesMonths {
		d.Series = append(d.Series, MonthPoint{Month: start.AddDate(0, i-SeriesMonths+1, 0)})
	}
	approvers, reasons, advisory, rules := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	var remediated []store.Exception
	for _, rm := range results {
		d.Repos = append(d.Repos, rm.row)
		for i := range d.Series {
			d.Series[i].Counts = d.Series[i].Counts.Add(rm.series[i])
		}
		d.Total = d.Total.Add(rm.row.Month)
		d.Previous = d.Previous.Add(rm.previousMonth)
		for _, e := range rm.monthExceptions {
			approvers[e.approver]++
			reasons[reasonName(e.reason)]++
		}
		d.Overdue = append(d.Overdue, rm.overdue...)
		remediated = append(remediated, rm.remediated...)
		if rm.row.Rolling.Advisory > 0 {
			advisory[rm.row.Repo] = rm.row.Rolling.Advisory
		}
		for _, rule := range rm.monthRules {
			rules[rule]++
		}
	}
	d.Trend = TrendOf(d.Total.Rate(), d.Previous.Rate())
	d.Remediated = RemediationOf(remediated)
	slices.SortFunc(d.Repos, func(a, b RepoRow) int {
		return cmp.Or(
			-cmp.Compare(a.Rolling.Escaped(), b.Rolling.Escaped()),
			-a.Rolling.Rate().Compare(b.Rolling.Rate()),
			-cmp.Compare(a.Rolling.Denominator(), b.Rolling.Denominator()),
			strings.Compare(strings.ToLower(a.Repo), strings.ToLower(b.Repo)),
		)
	})
	slices.SortFunc(d.Overdue, func(a, b store.Exception) int {
		return cmp.Or(a.ExpiresAt.Compare(b.ExpiresAt), strings.Compare(a.Repo, b.Repo), cmp.Compare(a.ID, b.ID))
	})
	d.ByApprover, d.ByReason, d.Advisory, d.TopRules = tallies(approvers), tallies(reasons), tallies(advisory), tallies(rules)
	return d, nil
}

// repoMonth is what one repository contributes to the summary.
type repoMonth struct {
	row             RepoRow
	previousMonth   Counts
	series          []Counts   // SeriesMonths calendar months, oldest first
	monthExceptions []approval // the month's exceptions, only what the tallies need
	overdue         []store.Exception
	remediated      []store.Exception // fix-later exceptions whose issue was closed in the month
	monthRules      []string          // the rule of each of the month's escapes
}

// repoMonthQuery is what the summary reads of one repository: a span covering the
// series and both rolling windows, its exceptions since it was added, and the
// caught counts of the month, the rolling window, the one before, and each month
// of the series.
func repoMonthQuery(rp store.Repository, start, end time.Time, windowDays int) (q store.LedgerQuery, monthW store.Window) {
	since := rp.AddedAt.UTC()
	spanFrom := start.AddDate(0, 1-SeriesMonths, 0)
	if f := end.Add(-days(2 * windowDays)); f.Before(spanFrom) {
		spanFrom = f
	}
	monthW = clamp(store.Window{From: start, To: end}, since)
	windows := []store.Window{
		monthW,
		clamp(store.Window{From: end.Add(-days(windowDays)), To: end}, since),                            // rolling
		clamp(store.Window{From: end.Add(-days(2 * windowDays)), To: end.Add(-days(windowDays))}, since), // previous rolling
	}
	for i := range SeriesMonths {
		m := start.AddDate(0, i-SeriesMonths+1, 0)
		windows = append(windows, clamp(store.Window{From: m, To: m.AddDate(0, 1, 0)}, since))
	}
	return ledgerQuery(rp.FullName, clamp(store.Window{From: spanFrom, To: end}, since), store.Window{From: since, To: end}, windows), monthW
}

// repoMonthOf is one repository's part of the summary, from the store's answer to its query.
func repoMonthOf(rp store.Repository, q store.LedgerQuery, monthW store.Window, res store.Ledger, end time.Time, minSeverity checks.Severity) (repoMonth, error) {
	l, err := newLedger(q, res, minSeverity)
	if err != nil {
		return repoMonth{}, err
	}
	counts := l.counts()
	rm := repoMonth{
		row:           RepoRow{Repo: rp.FullName, Month: counts[0], Rolling: counts[1], PreviousRolling: counts[2]},
		previousMonth: counts[3+SeriesMonths-2],
		series:        counts[3:],
	}
	// Only what the summary shows is kept: the ledger of 10,000 repositories is not.
	for _, e := range l.escapesIn(monthW) {
		rm.monthRules = append(rm.monthRules, e.Rule)
	}
	rm.row.Trend = TrendOf(rm.row.Rolling.Rate(), rm.row.PreviousRolling.Rate())
	for _, e := range l.exceptions {
		if monthW.Contains(e.CreatedAt) {
			rm.monthExceptions = append(rm.monthExceptions, approval{approver: e.Approver, reason: e.Reason})
		}
		if e.State != store.ExceptionMerged || e.Reason != ReasonFixLater {
			continue
		}
		fixedBy := !e.RemediatedAt.IsZero() && e.RemediatedAt.Before(end)
		if e.ExpiresAt.Before(end) && !fixedBy {
			rm.overdue = append(rm.overdue, e)
		}
		if fixedBy && monthW.Contains(e.RemediatedAt) {
			rm.remediated = append(rm.remediated, e)
		}
	}
	return rm, nil
}

// loadRepoMonths reads the repositories' parts in batches of orgBatch, at most
// orgConcurrency batches at once.
func loadRepoMonths(ctx context.Context, st store.Store, repos []store.Repository, start, end time.Time, windowDays int, minSeverity checks.Severity) ([]repoMonth, error) {
	results := make([]repoMonth, len(repos))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(orgConcurrency)
	for lo := 0; lo < len(repos); lo += orgBatch {
		batch := repos[lo:min(lo+orgBatch, len(repos))]
		g.Go(func() error {
			qs := make([]store.LedgerQuery, len(batch))
			months := make([]store.Window, len(batch))
			for i, rp := range batch {
				qs[i], months[i] = repoMonthQuery(rp, start, end, windowDays)
			}
			res, err := st.ReadLedgers(gctx, qs, string(minSeverity))
			if err != nil {
				return fmt.Errorf("read the ledgers of %d repositories: %w", len(batch), err)
			}
			if len(res) != len(qs) {
				return fmt.Errorf("read the ledgers of %d repositories: %d answers", len(qs), len(res))
			}
			for i, rp := range batch {
				if results[lo+i], err = repoMonthOf(rp, qs[i], months[i], res[i], end, minSeverity); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return results, nil
}

// approval is who accepted a risk, and why.
type approval struct{ approver, reason string }

// reasonName names an exception reason for display; no reason label is "none given".
func reasonName(r string) string {
	if r == "" {
		return "none given"
	}
	return r
}

// tallies sorts counts most first, then by name.
func tallies(m map[string]int) []Tally {
	out := make([]Tally, 0, len(m))
	for k, v := range m {
		out = append(out, Tally{Name: k, Count: v})
	}
	slices.SortFunc(out, func(a, b Tally) int { return cmp.Or(-cmp.Compare(a.Count, b.Count), strings.Compare(a.Name, b.Name)) })
	return out
}

// Remediation is how fast "fix later" exceptions were fixed: from the merge that shipped
// the risks to the closing of their tracking issue.
type Remediation struct {
	Count      int     `json:"count"`
	MedianDays float64 `json:"median_days"`
	MaxDays    float64 `json:"max_days"`
	Late       int     `json:"late"` // fixed after their deadline
}

// RemediationOf summarizes remediated exceptions (EndedAt is the merge, RemediatedAt the fix).
func RemediationOf(es []store.Exception) Remediation {
	r := Remediation{Count: len(es)}
	if len(es) == 0 {
		return r
	}
	ds := make([]float64, 0, len(es))
	for _, e := range es {
		d := e.RemediatedAt.Sub(e.EndedAt).Hours() / 24
		if d < 0 {
			d = 0
		}
		ds = append(ds, d)
		if e.RemediatedAt.After(e.ExpiresAt) {
			r.Late++
		}
	}
	slices.Sort(ds)
	r.MaxDays = ds[len(ds)-1]
	if n := len(ds); n%2 == 1 {
		r.MedianDays = ds[n/2]
	} else {
		r.MedianDays = (ds[n/2-1] + ds[n/2]) / 2
	}
	return r
}
