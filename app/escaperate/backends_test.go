package escaperate_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate"
	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/memstore"
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
)

// TestBackendsEqualMemory: the report and the monthly summary computed on bbolt
// and PostgreSQL, which count caught findings from daily counts and part-day
// scans in one call per repository, equal those computed on the memory store,
// which counts every record of every window. The data and the instants are off
// midnight, so that windows and installation dates cut days.
func TestBackendsEqualMemory(t *testing.T) {
	ctx := context.Background()
	end := time.Date(2026, 11, 27, 15, 4, 5, 0, time.UTC)
	shape := escaperatetest.OrgShape{InstallationID: 3, Account: "acme", Repos: 4, CaughtPerRepo: 300, EscapeEvery: 9,
		MissedPerRepo: 3, Span: 400 * 24 * time.Hour, End: end}
	mem := memstore.New()
	if err := escaperatetest.SeedOrg(ctx, mem, shape); err != nil {
		t.Fatal(err)
	}
	want := results(t, mem, end)

	backends := map[string]func(t *testing.T) store.Store{
		"bolt": func(t *testing.T) store.Store {
			s, err := bolt.Open(filepath.Join(t.TempDir(), "e.db"), bolt.Options{NoSync: true})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"postgres": func(t *testing.T) store.Store {
			s, err := postgres.Open(ctx, pgtest.FreshSchema(t))
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st := open(t)
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if err := escaperatetest.SeedOrg(ctx, st, shape); err != nil {
				t.Fatal(err)
			}
			got := results(t, st, end)
			for what, w := range want {
				if got[what] != w {
					t.Errorf("%s on %s differs from the memory store's:\n got %s\nwant %s", what, name, got[what], w)
				}
			}
		})
	}
}

// results are the JSON of reports and summaries at several instants and windows.
func results(t *testing.T, st store.Store, end time.Time) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	js := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, now := range []time.Time{end, end.Add(-37*24*time.Hour - 5*time.Hour), end.AddDate(0, -10, 0)} {
		for _, window := range []int{7, 30, 90} {
			for _, sev := range []string{"critical", "high"} {
				r, err := escaperate.Compute(ctx, st, "acme/repo-0001", now, window, checks.Severity(sev))
				if err != nil {
					t.Fatal(err)
				}
				out["report "+now.String()+" "+sev+" "+js(window)] = js(r)
			}
		}
		d, err := escaperate.OrgMonth(ctx, st, 3, now, 90, "")
		if err != nil {
			t.Fatal(err)
		}
		out["summary "+now.String()] = js(d)
	}
	return out
}
