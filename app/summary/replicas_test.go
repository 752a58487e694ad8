package summary_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
)

// TestReplicasOnOnePostgresStoreCreateOneIssue runs the monthly job in two "replicas"
// that share nothing but the PostgreSQL store (separate connection pools, as two
// processes would have), twice each, at the same time: exactly one issue.
func TestReplicasOnOnePostgresStoreCreateOneIssue(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	ctx := context.Background()
	var stores []store.Store
	for i := 0; i < 2; i++ {
		st, err := postgres.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if err := st.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		stores = append(stores, st)
	}
	if err := escaperatetest.SeedOrg(ctx, stores[0], escaperatetest.OrgShape{InstallationID: inst.ID, Account: inst.Account,
		Repos: 3, CaughtPerRepo: 10, EscapeEvery: 4, MissedPerRepo: 1, Span: 200 * 24 * time.Hour, End: t0}); err != nil {
		t.Fatal(err)
	}
	c := newFake()
	c.delay = 5 * time.Millisecond
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		st := stores[i%2]
		wg.Go(func() {
			_, err := summary.Runner{Now: at(t0)}.Run(ctx, st, c, inst, repo, month, false)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if c.count(repo) != 1 || c.creates != 1 {
		t.Fatalf("%d issues after %d creates, want exactly 1", c.count(repo), c.creates)
	}
}
