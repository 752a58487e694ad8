package dashboard

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/store/bolt"
)

// BenchmarkOrgFigures2000Bolt times what the first view of an org waits for, and what
// each background refresh costs: the summary's data and 2,000 repositories' reports
// (100k caught findings).
func BenchmarkOrgFigures2000Bolt(b *testing.B) {
	ctx := context.Background()
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	shape := escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 2000, CaughtPerRepo: 50, EscapeEvery: 10, MissedPerRepo: 2,
		Span: 365 * 24 * time.Hour, End: end}
	if err := escaperatetest.SeedOrg(ctx, st, shape); err != nil {
		b.Fatal(err)
	}
	inst, err := st.GetInstallation(ctx, 1)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		d, err := build(ctx, st, inst, end)
		if err != nil || len(d.Reports) != 2000 {
			b.Fatalf("%v, %d reports", err, len(d.Reports))
		}
	}
}
