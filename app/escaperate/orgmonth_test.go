package escaperate_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

func TestOrgMonth(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutInstallation(ctx, store.Installation{ID: 7, Account: "acme"}))
	repos := []store.Repository{
		{InstallationID: 7, FullName: "acme/payments", AddedAt: day(1, 1)},
		{InstallationID: 7, FullName: "acme/web", AddedAt: day(11, 10)},
		{InstallationID: 7, FullName: "acme/old", AddedAt: day(1, 1), RemovedAt: day(9, 1)},
		{InstallationID: 7, FullName: "acme/future", AddedAt: time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)},
		{InstallationID: 8, FullName: "other/repo", AddedAt: day(1, 1)},
	}
	for _, r := range repos {
		must(st.PutRepository(ctx, r))
	}
	caught := func(repo, fp string, at time.Time) {
		_, err := st.RecordCaught(ctx, store.Caught{Repo: repo, Fingerprint: fp, Rule: "r", Severity: "critical", At: at})
		must(err)
	}
	escape := func(repo, fp, kind, rule string, at time.Time) {
		_, _, err := st.AddEscape(ctx, store.Escape{Repo: repo, Fingerprint: fp, Kind: kind, Rule: rule, Severity: "critical", DetectedAt: at})
		must(err)
	}
	// payments, November: 3 caught, 1 overridden, 1 missed. October: 2 caught, 1 advisory.
	caught("acme/payments", "n1", day(11, 2))
	caught("acme/payments", "n2", day(11, 3))
	caught("acme/payments", "n3", day(11, 4))
	escape("acme/payments", "n1", store.EscapeOverridden, "github-pat", day(11, 2))
	escape("acme/payments", "m1", store.EscapeMissed, "aws-access-key", day(11, 25))
	caught("acme/payments", "o1", day(10, 2))
	caught("acme/payments", "o2", day(10, 3))
	escape("acme/payments", "o1", store.EscapeAdvisory, "slack-bot-token", day(10, 2))
	// web: one caught in November after it was added, one before (does not count).
	caught("acme/web", "w0", day(11, 5))
	caught("acme/web", "w1", day(11, 12))
	// Excluded repositories carry data that must not show.
	caught("acme/old", "x", day(11, 2))
	escape("other/repo", "y", store.EscapeMissed, "github-pat", day(11, 2))

	for _, e := range []store.Exception{
		{Repo: "acme/payments", Approver: "sec-lead", Reason: "fix_later", State: store.ExceptionMerged, CreatedAt: day(11, 3), ExpiresAt: day(11, 20)},
		{Repo: "acme/payments", Approver: "alice", State: store.ExceptionActive, CreatedAt: day(11, 4), ExpiresAt: day(12, 4)},
		{Repo: "acme/payments", Approver: "bob", Reason: "false_positive", State: store.ExceptionMerged, CreatedAt: day(10, 1), ExpiresAt: day(10, 30)},
	} {
		_, _, err := st.AddException(ctx, e)
		must(err)
	}

	d, err := escaperate.OrgMonth(ctx, st, 7, day(11, 15), 90, "")
	if err != nil {
		t.Fatal(err)
	}
	if !d.Month.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || d.Org != "acme" {
		t.Errorf("month %v org %q", d.Month, d.Org)
	}
	// November: payments 3 caught + O1 + M1, web 1 caught: 2 of 5. October: 1 of 2. Down.
	if want := (escaperate.Counts{Caught: 4, Overridden: 1, Missed: 1}); d.Total != want {
		t.Errorf("total %+v, want %+v", d.Total, want)
	}
	if want := (escaperate.Counts{Caught: 2, Advisory: 1}); d.Previous != want {
		t.Errorf("previous %+v, want %+v", d.Previous, want)
	}
	if d.Trend != escaperate.TrendDown {
		t.Errorf("trend %s, want down", d.Trend)
	}
	if len(d.Repos) != 2 || d.Repos[0].Repo != "acme/payments" || d.Repos[1].Repo != "acme/web" {
		t.Fatalf("repos %+v, want payments then web", d.Repos)
	}
	// Rolling 90 days to Dec 1 is [Sep 2, Dec 1): payments 5 caught, one of each kind: 3 of 6.
	if want := (escaperate.Counts{Caught: 5, Overridden: 1, Advisory: 1, Missed: 1}); d.Repos[0].Rolling != want {
		t.Errorf("payments rolling %+v, want %+v", d.Repos[0].Rolling, want)
	}
	if want := (escaperate.Counts{Caught: 1}); d.Repos[1].Rolling != want {
		t.Errorf("web rolling %+v, want %+v", d.Repos[1].Rolling, want)
	}
	if len(d.Series) != 12 || d.Series[11].Counts != d.Total || d.Series[10].Counts != d.Previous ||
		!d.Series[0].Month.Equal(time.Date(2025, 12, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("series %+v", d.Series)
	}
	check := func(name string, got []escaperate.Tally, want string) {
		t.Helper()
		if fmt.Sprint(got) != want {
			t.Errorf("%s = %v, want %s", name, got, want)
		}
	}
	check("by approver", d.ByApprover, "[{alice 1} {sec-lead 1}]")
	check("by reason", d.ByReason, "[{fix_later 1} {none given 1}]")
	check("advisory", d.Advisory, "[{acme/payments 1}]")
	check("top rules", d.TopRules, "[{aws-access-key 1} {github-pat 1}]")
	if len(d.Overdue) != 1 || d.Overdue[0].Approver != "sec-lead" {
		t.Errorf("overdue %+v, want sec-lead's fix-later", d.Overdue)
	}
}

// benchEnd ends the year of findings the benchmarks seed.
var benchEnd = time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)

// shape100k and shape2000 are the organisations of the Compute100k and OrgMonth2000
// benchmarks, against either backend.
var (
	shape100k = escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 1,
		CaughtPerRepo: 100_000, EscapeEvery: 50, MissedPerRepo: 200, Span: 365 * 24 * time.Hour, End: benchEnd}
	shape2000 = escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 2000,
		CaughtPerRepo: 50, EscapeEvery: 10, MissedPerRepo: 2, Span: 365 * 24 * time.Hour, End: benchEnd}
)

// memWith returns an in-memory store seeded with the given organisation.
func memWith(b *testing.B, o escaperatetest.OrgShape) store.Store {
	b.Helper()
	st := memstore.New()
	if err := escaperatetest.SeedOrg(context.Background(), st, o); err != nil {
		b.Fatal(err)
	}
	return st
}

// benchCompute100k times Compute on shape100k's repository, seeded in st.
func benchCompute100k(b *testing.B, st store.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := escaperate.Compute(ctx, st, "acme/repo-0000", benchEnd, 90, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// benchOrgMonth2000 times OrgMonth on shape2000's organisation, seeded in st.
func benchOrgMonth2000(b *testing.B, st store.Store) {
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		d, err := escaperate.OrgMonth(ctx, st, 1, benchEnd, 90, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Repos) != 2000 {
			b.Fatalf("%d repositories", len(d.Repos))
		}
	}
}

// BenchmarkCompute100k: one repository with 100,000 caught findings over a year
// (DESIGN §7: ≤ 50 ms excluding GitHub), against the in-memory store.
func BenchmarkCompute100k(b *testing.B) {
	benchCompute100k(b, memWith(b, shape100k))
}

// BenchmarkOrgMonth2000: the monthly summary data of 2,000 repositories with 50 caught
// findings each over a year (DESIGN §7: ≤ 5 s excluding GitHub).
func BenchmarkOrgMonth2000(b *testing.B) {
	benchOrgMonth2000(b, memWith(b, shape2000))
}

// TestOrgMonthBatches: an organisation larger than one read batch gets each
// repository's own numbers, whichever batch it was read in.
func TestOrgMonthBatches(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	if err := st.PutInstallation(ctx, store.Installation{ID: 7, Account: "acme"}); err != nil {
		t.Fatal(err)
	}
	const repos = 450
	for r := range repos {
		name := fmt.Sprintf("acme/r-%03d", r)
		if err := st.PutRepository(ctx, store.Repository{InstallationID: 7, FullName: name, AddedAt: day(1, 1)}); err != nil {
			t.Fatal(err)
		}
		for i := range r%5 + 1 {
			if _, err := st.RecordCaught(ctx, store.Caught{Repo: name, Fingerprint: fmt.Sprint(i), Severity: "critical", At: day(11, 2+i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	d, err := escaperate.OrgMonth(ctx, st, 7, day(11, 15), 90, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Repos) != repos {
		t.Fatalf("%d rows, want %d", len(d.Repos), repos)
	}
	total := 0
	for _, row := range d.Repos {
		var r int
		if _, err := fmt.Sscanf(row.Repo, "acme/r-%03d", &r); err != nil {
			t.Fatal(err)
		}
		if row.Month.Caught != r%5+1 {
			t.Errorf("%s: %d caught in the month, want %d", row.Repo, row.Month.Caught, r%5+1)
		}
		total += r%5 + 1
	}
	if d.Total.Caught != total {
		t.Errorf("total caught %d, want %d", d.Total.Caught, total)
	}
}
