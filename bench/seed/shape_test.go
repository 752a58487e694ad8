package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

func small(workers int) shape {
	return shape{Account: "acme", InstallationID: 1, Repos: 3, CaughtPerRepo: 50, EscapeEvery: 10, MissedPerRepo: 2,
		OtherInstallations: 2, OtherRepos: 2, OtherCaught: 5, Span: 30 * 24 * time.Hour,
		End: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), Batch: 7, Workers: workers}
}

// TestSeed: the totals follow the shape, and the records do not depend on how
// many writers wrote them (only store-assigned ids may).
func TestSeed(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		sh   shape
		want totals
	}{
		{"one writer", small(1), totals{Installations: 3, Repos: 7, Caught: 3*50 + 4*5, Escapes: 3*(5+2) + 4*(1+1), Exceptions: 3*3 + 4*1}},
		{"three writers", small(3), totals{Installations: 3, Repos: 7, Caught: 3*50 + 4*5, Escapes: 3*(5+2) + 4*(1+1), Exceptions: 3*3 + 4*1}},
	}
	var dumps []string
	for _, c := range cases {
		st := memstore.New()
		got, err := seed(ctx, st, c.sh)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s: totals %+v, want %+v", c.name, got, c.want)
		}
		dumps = append(dumps, dump(t, st))
	}
	if dumps[0] != dumps[1] {
		t.Errorf("the records depend on the number of writers")
	}
}

// dump lists every repository's caught findings and escapes, without ids.
func dump(t *testing.T, st store.Store) string {
	t.Helper()
	ctx := context.Background()
	all := store.Window{From: time.Time{}, To: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}
	var b strings.Builder
	insts, err := st.ListInstallations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range insts {
		repos, err := st.ListRepositories(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range repos {
			caught, err := st.ListCaught(ctx, r.FullName, all)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range caught {
				b.WriteString(c.Repo + " " + c.Fingerprint + " " + c.Severity + " " + c.At.String() + "\n")
			}
			escapes, err := st.ListEscapes(ctx, r.FullName, all)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range escapes {
				b.WriteString(e.Repo + " " + e.Fingerprint + " " + e.Kind + " " + e.Approver + " " + e.DetectedAt.String() + "\n")
			}
		}
	}
	return b.String()
}
