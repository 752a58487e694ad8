package escaperate

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// Defaults of the policy's escape_rate block (DESIGN §4).
const (
	DefaultWindowDays = 90
	DefaultSeverity   = checks.SeverityCritical
	// SeriesWindows and SeriesDays shape the chart: the rate per 30 days over six windows.
	SeriesWindows = 6
	SeriesDays    = 30
)

// ReasonFixLater is the exception reason whose deadline can become overdue.
const ReasonFixLater = "fix_later"

// Report is one repository's escape rate as of Now.
type Report struct {
	Repo          string          `json:"repo"`
	DefaultBranch string          `json:"default_branch"`
	Now           time.Time       `json:"now"`
	WindowDays    int             `json:"window_days"`
	MinSeverity   checks.Severity `json:"min_severity"`
	// Since is when the repository was added to the installation; nothing earlier counts.
	Since time.Time `json:"since"`
	// Enforcement is whether the check is required on its production branches, as last
	// read from GitHub; nil when not read yet.
	Enforcement *store.Enforcement `json:"enforcement,omitempty"`

	Window         store.Window `json:"window"`          // [Now-window, Now), clamped to Since
	PreviousWindow store.Window `json:"previous_window"` // the window before, clamped to Since
	Current        Counts       `json:"current"`
	Previous       Counts       `json:"previous"`
	Trend          Trend        `json:"trend"`

	// Series is the rate per 30-day window over the last six windows, oldest first.
	Series []Point `json:"series"`
	// Escapes are the escapes detected in Window, oldest first.
	Escapes []store.Escape `json:"escapes"`
	// Exceptions are those still open (active) or owed (merged "fix later"), oldest first.
	Exceptions []OpenException `json:"exceptions"`
}

// Point is one window of the series.
type Point struct {
	Window store.Window `json:"window"`
	Counts Counts       `json:"counts"`
}

// OpenException is an exception that still needs someone's attention.
type OpenException struct {
	store.Exception
	// Overdue: a merged "fix later" exception whose deadline (ExpiresAt) has passed.
	Overdue bool `json:"overdue"`
}

// HasData reports whether anything critical was ever caught or escaped in the window.
func (r Report) HasData() bool { return r.Current.Denominator() > 0 || r.Previous.Denominator() > 0 }

// Compute builds the report of repo as of now over a window of windowDays
// (DefaultWindowDays when ≤ 0), counting risks at or above minSeverity
// (DefaultSeverity when empty). Everything is placed in time by detection.
func Compute(ctx context.Context, st store.Store, repo string, now time.Time, windowDays int, minSeverity checks.Severity) (Report, error) {
	if windowDays <= 0 {
		windowDays = DefaultWindowDays
	}
	if minSeverity == "" {
		minSeverity = DefaultSeverity
	}
	rp, err := st.GetRepository(ctx, repo)
	if err != nil {
		return Report{}, fmt.Errorf("escape rate of %s: %w", repo, err)
	}
	now = now.UTC()
	since := rp.AddedAt.UTC()
	r := Report{
		Repo:           rp.FullName,
		DefaultBranch:  rp.DefaultBranch,
		Now:            now,
		WindowDays:     windowDays,
		MinSeverity:    minSeverity,
		Since:          since,
		Enforcement:    rp.Enforcement,
		Window:         clamp(store.Window{From: now.Add(-days(windowDays)), To: now}, since),
		PreviousWindow: clamp(store.Window{From: now.Add(-days(2 * windowDays)), To: now.Add(-days(windowDays))}, since),
	}
	spanFrom := now.Add(-days(max(2*windowDays, SeriesWindows*SeriesDays)))
	windows := []store.Window{r.Window, r.PreviousWindow}
	for i := SeriesWindows - 1; i >= 0; i-- {
		w := store.Window{From: now.Add(-days((i + 1) * SeriesDays)), To: now.Add(-days(i * SeriesDays))}
		if !since.IsZero() && !w.To.After(since) {
			continue // the repository was not installed yet: no bar rather than an empty one
		}
		windows = append(windows, clamp(w, since))
	}
	q := ledgerQuery(repo, clamp(store.Window{From: spanFrom, To: now}, since), store.Window{From: since, To: now}, windows)
	l, err := readLedger(ctx, st, q, minSeverity)
	if err != nil {
		return Report{}, err
	}
	counts := l.counts()
	r.Current, r.Previous = counts[0], counts[1]
	r.Trend = TrendOf(r.Current.Rate(), r.Previous.Rate())
	for i, w := range windows[2:] {
		r.Series = append(r.Series, Point{Window: w, Counts: counts[2+i]})
	}
	r.Escapes = slices.Clone(l.escapesIn(r.Window))
	r.Exceptions = openExceptions(l.exceptions, now)
	return r, nil
}

// openExceptions keeps the exceptions that need attention as of now: active ones not yet
// expired, and merged "fix later" ones (overdue once their deadline passed). The store
// records the fix when the exception's tracking issue is closed (RemediatedAt): until
// then a merged "fix later" exception stays owed.
func openExceptions(all []store.Exception, now time.Time) []OpenException {
	var out []OpenException
	for _, e := range all {
		switch {
		case e.State == store.ExceptionActive && now.Before(e.ExpiresAt):
			out = append(out, OpenException{Exception: e})
		case e.State == store.ExceptionMerged && e.Reason == ReasonFixLater && (e.RemediatedAt.IsZero() || e.RemediatedAt.After(now)):
			out = append(out, OpenException{Exception: e, Overdue: !now.Before(e.ExpiresAt)})
		}
	}
	slices.SortStableFunc(out, func(a, b OpenException) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	return out
}
