package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
)

// Benchmark sizes (DESIGN §7).
const (
	ReportCaught   = 100_000 // caught findings of the one repository, over a year
	ReportEscapes  = 1_000   // escapes of that repository, over the same year
	SummaryRepos   = 2_000   // repositories in the monthly summary
	SummaryInsts   = 20      // installations they belong to
	SummaryCaught  = 50      // caught findings per repository, over two windows
	SummaryEscapes = 2       // escapes per repository
	loadWorkers    = 16
)

var severities = []string{"critical", "high", "medium", "low"}

// benchNow is the report's "now"; data spans the year before it.
var benchNow = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

const day = 24 * time.Hour

// load runs fn(0..n-1) on a few workers: stores are built for concurrent writers.
func load(b *testing.B, n int, fn func(i int) error) {
	b.Helper()
	var wg sync.WaitGroup
	next := make(chan int)
	errs := make(chan error, loadWorkers)
	for range loadWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		select {
		case next <- i:
		case err := <-errs:
			close(next)
			wg.Wait()
			b.Fatalf("load: %v", err)
		}
	}
	close(next)
	wg.Wait()
	close(errs)
	for err := range errs {
		b.Fatalf("load: %v", err)
	}
}

// BenchEscapeReport loads one repository with ReportCaught caught findings and
// ReportEscapes escapes spread over a year, then measures the store work of one
// escape-rate report: the 90-day window and the previous one, either listing
// the caught records or counting them. s must be migrated and empty; afterLoad,
// when not nil, runs between loading and measuring (a backend's maintenance,
// such as PostgreSQL's ANALYZE that autovacuum would run after a bulk load).
func BenchEscapeReport(b *testing.B, s store.Store, afterLoad func(b *testing.B)) {
	ctx := context.Background()
	const repo = "acme/monolith"
	year := 365 * day
	load(b, ReportCaught, func(i int) error {
		at := benchNow.Add(-year + time.Duration(i)*(year/ReportCaught))
		_, err := s.RecordCaught(ctx, store.Caught{Repo: repo, Fingerprint: fmt.Sprintf("%064x", i),
			Rule: "aws-access-key", Severity: severities[i%len(severities)], Path: fmt.Sprintf("svc/%d/config.go", i%500),
			PR: i/20 + 1, SHA: fmt.Sprintf("%040x", i/20), At: at})
		return err
	})
	load(b, ReportEscapes, func(i int) error {
		at := benchNow.Add(-year + time.Duration(i)*(year/ReportEscapes))
		_, _, err := s.AddEscape(ctx, store.Escape{Repo: repo, Fingerprint: fmt.Sprintf("%064x", i*100),
			Kind: []string{store.EscapeOverridden, store.EscapeAdvisory, store.EscapeMissed}[i%3],
			Rule: "aws-access-key", Severity: "critical", Path: "svc/config.go", Redacted: "AKIA…(20)",
			PR: i + 1, SHA: fmt.Sprintf("%040x", i), Approver: "alice", Reason: "fix_later", DetectedAt: at, At: at.Add(time.Hour)})
		return err
	})
	if afterLoad != nil {
		afterLoad(b)
	}
	cur := store.Window{From: benchNow.Add(-90 * day), To: benchNow}
	prev := store.Window{From: cur.From.Add(-90 * day), To: cur.From}

	b.Run("ListCaught+ListEscapes", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n = 0
			for _, w := range []store.Window{cur, prev} {
				c, err := s.ListCaught(ctx, repo, w)
				if err != nil {
					b.Fatal(err)
				}
				e, err := s.ListEscapes(ctx, repo, w)
				if err != nil {
					b.Fatal(err)
				}
				n += len(c) + len(e)
			}
		}
		b.ReportMetric(float64(n), "records/op")
	})
	b.Run("CountCaught+ListEscapes", func(b *testing.B) {
		b.ReportAllocs()
		n := 0
		for b.Loop() {
			n = 0
			for _, w := range []store.Window{cur, prev} {
				c, err := s.CountCaught(ctx, repo, w, "critical")
				if err != nil {
					b.Fatal(err)
				}
				e, err := s.ListEscapes(ctx, repo, w)
				if err != nil {
					b.Fatal(err)
				}
				n += c + len(e)
			}
		}
		b.ReportMetric(float64(n), "records/op")
	})
}

// BenchMonthlySummary loads SummaryRepos repositories in SummaryInsts
// installations, each with SummaryCaught caught findings and SummaryEscapes
// escapes over the last two 90-day windows, then measures the store work of one
// monthly summary run: every installation's repositories, and per repository
// the critical caught count and the escapes of both windows and the month's
// exceptions. s must be migrated and empty; afterLoad is as for BenchEscapeReport.
func BenchMonthlySummary(b *testing.B, s store.Store, afterLoad func(b *testing.B)) {
	ctx := context.Background()
	span := 180 * day
	for i := range SummaryInsts {
		if err := s.PutInstallation(ctx, store.Installation{ID: int64(i + 1), Account: fmt.Sprintf("org%d", i),
			AccountType: "Organization", CreatedAt: benchNow.Add(-2 * span)}); err != nil {
			b.Fatal(err)
		}
	}
	repoName := func(r int) string { return fmt.Sprintf("org%d/Repo-%d", r%SummaryInsts, r) }
	load(b, SummaryRepos, func(r int) error {
		return s.PutRepository(ctx, store.Repository{ID: int64(r + 1), InstallationID: int64(r%SummaryInsts + 1),
			FullName: repoName(r), DefaultBranch: "main", AddedAt: benchNow.Add(-2 * span)})
	})
	load(b, SummaryRepos*SummaryCaught, func(i int) error {
		r, k := i/SummaryCaught, i%SummaryCaught
		_, err := s.RecordCaught(ctx, store.Caught{Repo: repoName(r), Fingerprint: fmt.Sprintf("%064x", k),
			Rule: "github-pat", Severity: severities[k%len(severities)], Path: "main.go", PR: k + 1,
			SHA: fmt.Sprintf("%040x", k), At: benchNow.Add(-span + time.Duration(k)*(span/SummaryCaught))})
		return err
	})
	load(b, SummaryRepos*SummaryEscapes, func(i int) error {
		r, k := i/SummaryEscapes, i%SummaryEscapes
		at := benchNow.Add(-span + time.Duration(k)*(span/SummaryEscapes))
		_, _, err := s.AddEscape(ctx, store.Escape{Repo: repoName(r), Fingerprint: fmt.Sprintf("%064x", k),
			Kind: store.EscapeOverridden, Rule: "github-pat", Severity: "critical", Path: "main.go",
			PR: k + 1, SHA: fmt.Sprintf("%040x", k), DetectedAt: at, At: at})
		return err
	})
	if afterLoad != nil {
		afterLoad(b)
	}
	cur := store.Window{From: benchNow.Add(-90 * day), To: benchNow}
	prev := store.Window{From: cur.From.Add(-90 * day), To: cur.From}
	month := store.Window{From: benchNow.AddDate(0, -1, 0), To: benchNow}

	b.Run("AllRepositories", func(b *testing.B) {
		b.ReportAllocs()
		repos := 0
		for b.Loop() {
			repos = 0
			insts, err := s.ListInstallations(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, in := range insts {
				rs, err := s.ListRepositories(ctx, in.ID)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range rs {
					repos++
					for _, w := range []store.Window{cur, prev} {
						if _, err := s.CountCaught(ctx, r.FullName, w, "critical"); err != nil {
							b.Fatal(err)
						}
						if _, err := s.ListEscapes(ctx, r.FullName, w); err != nil {
							b.Fatal(err)
						}
					}
					if _, err := s.ListExceptions(ctx, r.FullName, 0, month); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
		if repos != SummaryRepos {
			b.Fatalf("summary saw %d repositories, want %d", repos, SummaryRepos)
		}
		b.ReportMetric(float64(repos), "repos/op")
	})
	// The same reads through ReadLedgers, 200 repositories a call, as the summary does.
	b.Run("ReadLedgers", func(b *testing.B) {
		b.ReportAllocs()
		repos := 0
		for b.Loop() {
			repos = 0
			insts, err := s.ListInstallations(ctx)
			if err != nil {
				b.Fatal(err)
			}
			for _, in := range insts {
				rs, err := s.ListRepositories(ctx, in.ID)
				if err != nil {
					b.Fatal(err)
				}
				for lo := 0; lo < len(rs); lo += 200 {
					var qs []store.LedgerQuery
					for _, r := range rs[lo:min(lo+200, len(rs))] {
						qs = append(qs, store.LedgerQuery{Repo: r.FullName, Escapes: store.Window{From: prev.From, To: cur.To},
							Exceptions: month, Caught: []store.Window{cur, prev}})
					}
					if _, err := s.ReadLedgers(ctx, qs, "critical"); err != nil {
						b.Fatal(err)
					}
					repos += len(qs)
				}
			}
		}
		if repos != SummaryRepos {
			b.Fatalf("summary saw %d repositories, want %d", repos, SummaryRepos)
		}
		b.ReportMetric(float64(repos), "repos/op")
	})
}
