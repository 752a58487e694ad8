package escaperate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// ledger is one repository's critical escapes over a span, loaded once, with the
// store counting caught fingerprints per window (store.CountCaught), so a report
// over 100k findings never decodes them: only their count is needed.
type ledger struct {
	st          store.Store
	repo        string
	minSeverity checks.Severity
	escapes     []store.Escape // critical escapes, sorted by DetectedAt
}

// loadLedger reads a repository's escapes detected in span at or above minSeverity,
// one per fingerprint.
func loadLedger(ctx context.Context, st store.Store, repo string, span store.Window, minSeverity checks.Severity) (ledger, error) {
	l := ledger{st: st, repo: repo, minSeverity: minSeverity}
	if !span.From.Before(span.To) {
		return l, nil
	}
	escapes, err := st.ListEscapes(ctx, repo, span)
	if err != nil {
		return ledger{}, fmt.Errorf("list escapes of %s: %w", repo, err)
	}
	seen := make(map[string]bool, len(escapes))
	for _, e := range escapes {
		if !span.Contains(e.DetectedAt) || !checks.Severity(e.Severity).AtLeast(minSeverity) || seen[e.Fingerprint] {
			continue
		}
		seen[e.Fingerprint] = true
		l.escapes = append(l.escapes, e)
	}
	slices.SortStableFunc(l.escapes, func(a, b store.Escape) int { return a.DetectedAt.Compare(b.DetectedAt) })
	return l, nil
}

// counts tallies each window [w.From, w.To), with one store call for all of them
// (store.CountCaughtWindows). Caught is the store's count of distinct critical
// fingerprints first raised by a PR check in the window. An overridden or
// advisory escape was raised by a PR check by definition, so caught is never less
// than their number: a missing caught record cannot push the rate above 100%.
func (l ledger) counts(ctx context.Context, ws ...store.Window) ([]Counts, error) {
	out := make([]Counts, len(ws))
	caught, err := l.st.CountCaughtWindows(ctx, l.repo, ws, string(l.minSeverity))
	if err != nil {
		return nil, fmt.Errorf("count caught in %s: %w", l.repo, err)
	}
	if len(caught) != len(ws) {
		return nil, fmt.Errorf("count caught in %s: %d counts for %d windows", l.repo, len(caught), len(ws))
	}
	for i, w := range ws {
		if !w.From.Before(w.To) {
			continue
		}
		c := &out[i]
		c.Caught = caught[i]
		for _, e := range l.escapesIn(w) {
			switch e.Kind {
			case store.EscapeOverridden:
				c.Overridden++
			case store.EscapeAdvisory:
				c.Advisory++
			case store.EscapeMissed:
				c.Missed++
			}
		}
		c.Caught = max(c.Caught, c.Overridden+c.Advisory)
	}
	return out, nil
}

// escapesIn returns the escapes detected in w, oldest first (a view, not a copy).
func (l ledger) escapesIn(w store.Window) []store.Escape {
	at := func(e store.Escape, t time.Time) int {
		if e.DetectedAt.Before(t) {
			return -1
		}
		return 1
	}
	lo, _ := slices.BinarySearchFunc(l.escapes, w.From, at)
	hi, _ := slices.BinarySearchFunc(l.escapes, w.To, at)
	return l.escapes[lo:max(lo, hi)]
}

// clamp cuts a window so that nothing before since counts (DESIGN §2: findings
// that existed before installation do not count).
func clamp(w store.Window, since time.Time) store.Window {
	if w.From.Before(since) {
		w.From = since
	}
	if w.To.Before(w.From) {
		w.To = w.From
	}
	return w
}

// days is a duration of n days.
func days(n int) time.Duration { return time.Duration(n) * 24 * time.Hour }
