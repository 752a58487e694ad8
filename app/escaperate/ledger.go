package escaperate

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// ledger is one repository's critical escapes over a span with the store's
// counts of caught fingerprints per window, read in one store call
// (store.ReadLedgers) that counts caught findings without decoding them.
type ledger struct {
	repo        string
	minSeverity checks.Severity
	escapes     []store.Escape // critical escapes, sorted by DetectedAt
	exceptions  []store.Exception
	windows     []store.Window
	caught      []int // the store's count for each of windows
}

// ledgerQuery asks for a repository's escapes detected in span, its exceptions
// created in excW and its caught counts in each of windows.
func ledgerQuery(repo string, span, excW store.Window, windows []store.Window) store.LedgerQuery {
	return store.LedgerQuery{Repo: repo, Escapes: span, Exceptions: excW, Caught: windows}
}

// newLedger keeps the store's answer to q: the escapes in q's span at or above
// minSeverity, one per fingerprint.
func newLedger(q store.LedgerQuery, res store.Ledger, minSeverity checks.Severity) (ledger, error) {
	if len(res.Caught) != len(q.Caught) {
		return ledger{}, fmt.Errorf("count caught in %s: %d counts for %d windows", q.Repo, len(res.Caught), len(q.Caught))
	}
	l := ledger{repo: q.Repo, minSeverity: minSeverity, exceptions: res.Exceptions, windows: q.Caught, caught: res.Caught}
	span := q.Escapes
	seen := make(map[string]bool, len(res.Escapes))
	for _, e := range res.Escapes {
		if !span.Contains(e.DetectedAt) || !checks.Severity(e.Severity).AtLeast(minSeverity) || seen[e.Fingerprint] {
			continue
		}
		seen[e.Fingerprint] = true
		l.escapes = append(l.escapes, e)
	}
	slices.SortStableFunc(l.escapes, func(a, b store.Escape) int { return a.DetectedAt.Compare(b.DetectedAt) })
	return l, nil
}

// readLedger reads one repository's ledger.
func readLedger(ctx context.Context, st store.Store, q store.LedgerQuery, minSeverity checks.Severity) (ledger, error) {
	res, err := st.ReadLedgers(ctx, []store.LedgerQuery{q}, string(minSeverity))
	if err != nil {
		return ledger{}, fmt.Errorf("read the ledger of %s: %w", q.Repo, err)
	}
	if len(res) != 1 {
		return ledger{}, fmt.Errorf("read the ledger of %s: %d answers", q.Repo, len(res))
	}
	return newLedger(q, res[0], minSeverity)
}

// counts tallies each of the ledger's windows [w.From, w.To). Caught is the
// store's count of distinct critical fingerprints first raised by a PR check in
// the window. An overridden or advisory escape was raised by a PR check by
// definition, so caught is never less than their number: a missing caught record
// cannot push the rate above 100%.
func (l ledger) counts() []Counts {
	out := make([]Counts, len(l.windows))
	for i, w := range l.windows {
		if !w.From.Before(w.To) {
			continue
		}
		c := &out[i]
		c.Caught = l.caught[i]
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
	return out
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
