package escaperate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// ledger is one repository's critical risks over a span, loaded once and then
// counted per window by binary search, so a report over 100k findings and
// eight windows costs one pass over the data.
type ledger struct {
	caught  []time.Time    // detection time of each distinct caught fingerprint, sorted
	escapes []store.Escape // critical escapes, sorted by DetectedAt
}

// loadLedger reads a repository's caught fingerprints and escapes detected in span,
// keeping those at or above minSeverity. The rules that make the counts consistent:
//   - a fingerprint counts once, at its earliest detection;
//   - an overridden or advisory escape was raised by a PR check, so its fingerprint
//     counts as caught even if the caught record is missing (keeps rate ≤ 100%);
//   - a missed escape was never seen on a PR check, so its fingerprint is not
//     also counted as caught (each risk is in the denominator once).
func loadLedger(ctx context.Context, st store.Store, repo string, span store.Window, minSeverity checks.Severity) (ledger, error) {
	caught, err := st.ListCaught(ctx, repo, span)
	if err != nil {
		return ledger{}, fmt.Errorf("list caught findings of %s: %w", repo, err)
	}
	escapes, err := st.ListEscapes(ctx, repo, span)
	if err != nil {
		return ledger{}, fmt.Errorf("list escapes of %s: %w", repo, err)
	}
	first := make(map[string]time.Time, len(caught))
	for _, c := range caught {
		if !span.Contains(c.At) || !checks.Severity(c.Severity).AtLeast(minSeverity) {
			continue
		}
		if t, ok := first[c.Fingerprint]; !ok || c.At.Before(t) {
			first[c.Fingerprint] = c.At
		}
	}
	var l ledger
	seen := make(map[string]bool, len(escapes))
	for _, e := range escapes {
		if !span.Contains(e.DetectedAt) || !checks.Severity(e.Severity).AtLeast(minSeverity) || seen[e.Fingerprint] {
			continue
		}
		seen[e.Fingerprint] = true
		l.escapes = append(l.escapes, e)
		if e.Kind == store.EscapeMissed {
			delete(first, e.Fingerprint)
		} else if _, ok := first[e.Fingerprint]; !ok {
			first[e.Fingerprint] = e.DetectedAt
		}
	}
	l.caught = make([]time.Time, 0, len(first))
	for _, t := range first {
		l.caught = append(l.caught, t)
	}
	slices.SortFunc(l.caught, time.Time.Compare)
	slices.SortStableFunc(l.escapes, func(a, b store.Escape) int { return a.DetectedAt.Compare(b.DetectedAt) })
	return l, nil
}

// counts tallies the window [w.From, w.To).
func (l ledger) counts(w store.Window) Counts {
	lo, hi := timeRange(l.caught, func(t time.Time) time.Time { return t }, w)
	c := Counts{Caught: hi - lo}
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
	return c
}

// escapesIn returns the escapes detected in w, oldest first (a view, not a copy).
func (l ledger) escapesIn(w store.Window) []store.Escape {
	lo, hi := timeRange(l.escapes, func(e store.Escape) time.Time { return e.DetectedAt }, w)
	return l.escapes[lo:hi]
}

// timeRange finds the index range of the sorted items whose time falls in w.
func timeRange[T any](items []T, at func(T) time.Time, w store.Window) (lo, hi int) {
	lo, _ = slices.BinarySearchFunc(items, w.From, func(it T, t time.Time) int {
		if at(it).Before(t) {
			return -1
		}
		return 1
	})
	hi, _ = slices.BinarySearchFunc(items, w.To, func(it T, t time.Time) int {
		if at(it).Before(t) {
			return -1
		}
		return 1
	})
	return lo, max(lo, hi)
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
