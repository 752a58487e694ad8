package escaperate_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/store/bolt"
)

// boltWith opens a fresh bbolt store (no fsync: a benchmark, not a durability test)
// and seeds it with the given organisation.
func boltWith(b *testing.B, o escaperatetest.OrgShape) *bolt.Store {
	b.Helper()
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := escaperatetest.SeedOrg(ctx, st, o); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkCompute100kBolt is BenchmarkCompute100k against the bbolt backend.
func BenchmarkCompute100kBolt(b *testing.B) {
	ctx := context.Background()
	end := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	st := boltWith(b, escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 1,
		CaughtPerRepo: 100_000, EscapeEvery: 50, MissedPerRepo: 200, Span: 365 * 24 * time.Hour, End: end})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := escaperate.Compute(ctx, st, "acme/repo-0000", end, 90, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOrgMonth2000Bolt is BenchmarkOrgMonth2000 against the bbolt backend.
func BenchmarkOrgMonth2000Bolt(b *testing.B) {
	ctx := context.Background()
	end := time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC)
	st := boltWith(b, escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 2000,
		CaughtPerRepo: 50, EscapeEvery: 10, MissedPerRepo: 2, Span: 365 * 24 * time.Hour, End: end})
	b.ReportAllocs()
	for b.Loop() {
		d, err := escaperate.OrgMonth(ctx, st, 1, end, 90, "")
		if err != nil {
			b.Fatal(err)
		}
		if len(d.Repos) != 2000 {
			b.Fatalf("%d repositories", len(d.Repos))
		}
	}
}
