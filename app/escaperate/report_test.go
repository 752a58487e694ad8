package escaperate_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

func day(m time.Month, d int) time.Time { return time.Date(2026, m, d, 9, 0, 0, 0, time.UTC) }

// seedRepo builds acme/payments, added on Jul 1 2026. With now = Nov 28 12:00 and a
// 90-day window, the window is [Aug 30 12:00, Nov 28 12:00) and the previous one
// [Jun 1 12:00, Aug 30 12:00), clamped to [Jul 1, Aug 30 12:00).
func seedRepo(t *testing.T) *memstore.Store {
	t.Helper()
	ctx := context.Background()
	st := memstore.New()
	const repo = "acme/payments"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutRepository(ctx, store.Repository{ID: 1, InstallationID: 7, FullName: repo, AddedAt: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}))
	caught := func(fp, sev string, at time.Time) {
		_, err := st.RecordCaught(ctx, store.Caught{Repo: repo, Fingerprint: fp, Rule: "github-pat", Severity: sev, Path: "a.env", At: at})
		must(err)
	}
	escape := func(fp, kind string, at time.Time) {
		_, _, err := st.AddEscape(ctx, store.Escape{Repo: repo, Fingerprint: fp, Kind: kind, Rule: "github-pat", Severity: "critical", Path: "a.env", DetectedAt: at, At: at.Add(time.Hour)})
		must(err)
	}
	// Before installation: neither counts.
	caught("old", "critical", day(6, 15))
	escape("old", store.EscapeOverridden, day(6, 15))
	// Previous window: 2 caught, 1 overridden: 1 of 2.
	caught("p1", "critical", day(7, 10))
	escape("p1", store.EscapeOverridden, day(7, 10))
	caught("p2", "critical", day(8, 1))
	// Current window.
	caught("a", "critical", day(9, 10))
	escape("a", store.EscapeOverridden, day(9, 10))
	caught("b", "critical", day(10, 1))
	escape("b", store.EscapeAdvisory, day(10, 1))
	caught("c", "high", day(10, 2)) // below the default severity
	for i, fp := range []string{"d1", "d2", "d3", "d4", "d5", "d6"} {
		caught(fp, "critical", day(9, 1+i))
	}
	caught("x", "critical", day(10, 5))
	escape("x", store.EscapeMissed, day(10, 6))   // caught on a PR and missed on a push: counts in both
	escape("e", store.EscapeAdvisory, day(11, 5)) // no caught record: the check still caught it
	escape("m1", store.EscapeMissed, day(11, 20))

	exc := []store.Exception{
		{Approver: "sec-lead", State: store.ExceptionActive, CreatedAt: day(11, 10), ExpiresAt: day(12, 10)},
		{Approver: "sec-lead", State: store.ExceptionActive, CreatedAt: day(10, 10), ExpiresAt: day(11, 9)}, // expired, state not yet flipped
		{Approver: "sec-lead", Reason: "fix_later", State: store.ExceptionMerged, CreatedAt: day(9, 10), ExpiresAt: day(11, 20)},
		{Approver: "bob", Reason: "fix_later", State: store.ExceptionMerged, CreatedAt: day(11, 1), ExpiresAt: day(12, 20)},
		{Approver: "bob", State: store.ExceptionRevoked, CreatedAt: day(11, 2), ExpiresAt: day(12, 2)},
		{Approver: "bob", Reason: "used_in_tests", State: store.ExceptionMerged, CreatedAt: day(11, 3), ExpiresAt: day(11, 4)},
		{Approver: "bob", Reason: "fix_later", State: store.ExceptionMerged, CreatedAt: day(6, 20), ExpiresAt: day(7, 20)}, // before installation
	}
	for _, e := range exc {
		e.Repo = repo
		_, _, err := st.AddException(ctx, e)
		must(err)
	}
	return st
}

func TestCompute(t *testing.T) {
	ctx := context.Background()
	st := seedRepo(t)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name      string
		sev       checks.Severity
		cur, prev escaperate.Counts
		trend     escaperate.Trend
	}{
		// caught records = a, b, d1–d6, x = 9 (c is high, e has none); 1 overridden (a),
		// 2 advisory (b, e), 2 missed (x, m1): 5 of 11. Previous: 1 of 2. 5/11 < 1/2: down.
		{"critical", "", escaperate.Counts{Caught: 9, Overridden: 1, Advisory: 2, Missed: 2}, escaperate.Counts{Caught: 2, Overridden: 1}, escaperate.TrendDown},
		// high also counts c: 5 of 12.
		{"high", checks.SeverityHigh, escaperate.Counts{Caught: 10, Overridden: 1, Advisory: 2, Missed: 2}, escaperate.Counts{Caught: 2, Overridden: 1}, escaperate.TrendDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := escaperate.Compute(ctx, st, "ACME/Payments", now, 0, tt.sev)
			if err != nil {
				t.Fatal(err)
			}
			if r.Current != tt.cur || r.Previous != tt.prev || r.Trend != tt.trend {
				t.Errorf("current %+v previous %+v trend %s, want %+v %+v %s", r.Current, r.Previous, r.Trend, tt.cur, tt.prev, tt.trend)
			}
			if r.WindowDays != 90 || r.Repo != "acme/payments" {
				t.Errorf("window %d repo %q", r.WindowDays, r.Repo)
			}
			wantPrev := store.Window{From: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 8, 30, 12, 0, 0, 0, time.UTC)}
			if r.PreviousWindow != wantPrev {
				t.Errorf("previous window %v, want %v (clamped to installation)", r.PreviousWindow, wantPrev)
			}
		})
	}

	r, err := escaperate.Compute(ctx, st, "acme/payments", now, 90, checks.SeverityCritical)
	if err != nil {
		t.Fatal(err)
	}
	var fps []string
	for _, e := range r.Escapes {
		fps = append(fps, e.Fingerprint)
	}
	if got, want := fmt.Sprint(fps), "[a b x e m1]"; got != want {
		t.Errorf("escapes in window %s, want %s (by detection time)", got, want)
	}

	// Series: six 30-day windows ending at now. The last, [Oct 29 12:00, Nov 28 12:00),
	// holds e (advisory, no caught record: caught is raised from 0 to 1) and m1 (missed).
	// The one before, [Sep 29 12:00, Oct 29 12:00), holds b (caught, advisory) and x
	// (caught, missed). The first, [Jun 1 12:00, Jul 1 12:00), lies before installation.
	if len(r.Series) != 6 {
		t.Fatalf("series has %d windows, want 6", len(r.Series))
	}
	checkPoint := func(i int, want escaperate.Counts) {
		t.Helper()
		if r.Series[i].Counts != want {
			t.Errorf("series[%d] %v = %+v, want %+v", i, r.Series[i].Window, r.Series[i].Counts, want)
		}
	}
	checkPoint(5, escaperate.Counts{Caught: 1, Advisory: 1, Missed: 1})
	checkPoint(4, escaperate.Counts{Caught: 2, Advisory: 1, Missed: 1})
	checkPoint(0, escaperate.Counts{})
	if !r.Series[5].Window.To.Equal(now) {
		t.Errorf("last series window ends %v, want now", r.Series[5].Window.To)
	}

	// Open exceptions: the active one, and both merged "fix later" ones (the first overdue).
	type open struct {
		approver string
		overdue  bool
	}
	var got []open
	for _, e := range r.Exceptions {
		got = append(got, open{e.Approver, e.Overdue})
	}
	want := []open{{"sec-lead", true}, {"bob", false}, {"sec-lead", false}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("open exceptions %v, want %v", got, want)
	}
}

func TestComputeErrors(t *testing.T) {
	st := memstore.New()
	_, err := escaperate.Compute(context.Background(), st, "acme/unknown", time.Now(), 90, "")
	if !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown repository: err = %v, want store.ErrNotFound", err)
	}
}

func TestComputeNoData(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	now := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	if err := st.PutRepository(ctx, store.Repository{FullName: "acme/new", AddedAt: now.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	r, err := escaperate.Compute(ctx, st, "acme/new", now, 90, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.HasData() || r.Current.Rate().Defined() || r.Trend != escaperate.TrendNone {
		t.Errorf("new repository: %+v", r)
	}
}
