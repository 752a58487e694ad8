package render_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

func TestReleaseSentence(t *testing.T) {
	firstWindow := base()
	firstWindow.Current = escaperate.Counts{Caught: 4, Missed: 1}
	firstWindow.Since = now.AddDate(0, 0, -20)
	firstWindow.PreviousWindow = store.Window{From: firstWindow.Since, To: firstWindow.Since} // clamped away

	quietNow := base()
	quietNow.Previous = escaperate.Counts{Caught: 4, Advisory: 1}

	quietBefore := base()
	quietBefore.Current = escaperate.Counts{Caught: 2, Overridden: 1}

	highSeverity := base()
	highSeverity.MinSeverity = "high"
	highSeverity.Current = escaperate.Counts{Caught: 9, Overridden: 1}

	tests := []struct {
		name string
		r    escaperate.Report
		want string
	}{
		{"first window", firstWindow, "**1 of 5 critical risks reached production in the last 90 days (20.0%, 95% CI 3.6–62.4%)**; there is no earlier window to compare with (counting since 2026-11-08)."},
		{"nothing now", quietNow, "**No critical risks were caught or found on production in the last 90 days**, against 1 of 4 (25.0%) in the 90 days before."},
		{"nothing before", quietBefore, "(50.0%, 95% CI 9.5–90.5%)**; none in the 90 days before either."},
		{"severity", highSeverity, "**1 of 9 risks of high severity or above reached production"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := render.ReleaseComment(tt.r, nil, ""); !strings.Contains(got, tt.want) {
				t.Errorf("comment lacks %q:\n%s", tt.want, got)
			}
		})
	}
}

func TestMonthlySentence(t *testing.T) {
	month := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		total, prev escaperate.Counts
		want        string
	}{
		{"quiet org", escaperate.Counts{}, escaperate.Counts{}, "**acme: no critical risks were caught or escaped in November 2026**, nor in October."},
		{"quiet month", escaperate.Counts{}, escaperate.Counts{Caught: 3, Missed: 1}, "**acme: no critical risks were caught or escaped in November 2026**; October had 1 of 4 (25.0%)."},
		{"first month", escaperate.Counts{Caught: 1}, escaperate.Counts{}, "(0.0%, 95% CI 0.0–79.3%)**; nothing to compare with in October."},
		{"flat", escaperate.Counts{Caught: 1, Missed: 1}, escaperate.Counts{Caught: 3, Missed: 1, Overridden: 1}, "(50.0%, 95% CI 9.5–90.5%)**, the same as in October."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := escaperate.OrgMonthData{Org: "acme", Month: month, WindowDays: 90, Total: tt.total, Previous: tt.prev,
				Trend: escaperate.TrendOf(tt.total.Rate(), tt.prev.Rate())}
			_, body := render.MonthlySummary(d)
			if !strings.Contains(body, tt.want) {
				t.Errorf("summary lacks %q:\n%s", tt.want, body)
			}
		})
	}
}

// TestComputeThenRender runs the store-to-comment path on one seeded repository.
func TestComputeThenRender(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	end := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	// 60 caught over 90 days, half critical; every 10th escapes (overridden, advisory alternating); 1 missed.
	err := escaperatetest.SeedOrg(ctx, st, escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 1,
		CaughtPerRepo: 60, EscapeEvery: 10, MissedPerRepo: 1, Span: 90 * 24 * time.Hour, End: end})
	if err != nil {
		t.Fatal(err)
	}
	r, err := escaperate.Compute(ctx, st, "acme/repo-0000", end, 90, "")
	if err != nil {
		t.Fatal(err)
	}
	// Critical caught: the 30 even indexes. Escapes at 0, 10, ..., 50 (all even, so critical):
	// 0, 20, 40 overridden; 10, 30, 50 advisory; plus 1 missed: 7 of 31.
	got := render.ReleaseComment(r, nil, "")
	for _, want := range []string{"**7 of 31 critical risks reached production in the last 90 days (22.6%",
		"| accepted by an approver | 3 |", "| merged while the check failed (check not required) | 3 |", "All 7 escapes in the window"} {
		if !strings.Contains(got, want) {
			t.Errorf("comment lacks %q:\n%s", want, got)
		}
	}
}
