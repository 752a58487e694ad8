package dashboard_test

import (
	"context"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
)

// shape2000 is DESIGN §7's org: 2,000 repositories, 100k caught findings (50 each, half
// critical), an escape every 10th, 2 missed per repository, over a year.
var shape2000 = escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 2000, CaughtPerRepo: 50, EscapeEvery: 10, MissedPerRepo: 2,
	Span: 365 * 24 * time.Hour, End: testEnd}

func boltStore(b *testing.B) store.Store {
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return st
}

// benchPage times one page (or export) served over HTTP, signed in, with the org's
// figures already computed (they are refreshed in the background after that).
func benchPage(b *testing.B, st store.Store, path string) {
	e := newEnv(b, shape2000, st)
	c, resp, _ := e.signIn(b, "sec-lead", "/ui/org/acme") // computes the org's figures once
	if resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status)
	}
	b.ResetTimer()
	for b.Loop() {
		if st, _ := get(b, c, e.url+path); st != http.StatusOK {
			b.Fatalf("%s: %d", path, st)
		}
	}
}

func BenchmarkOrgPage2000Bolt(b *testing.B) { benchPage(b, boltStore(b), "/ui/org/acme") }
func BenchmarkOrgSorted2000Bolt(b *testing.B) {
	benchPage(b, boltStore(b), "/ui/org/acme?sort=rate&desc=1&page=3")
}
func BenchmarkRepoPage2000Bolt(b *testing.B) { benchPage(b, boltStore(b), "/ui/repo/acme/repo-0042") }
func BenchmarkOpsPage2000Bolt(b *testing.B)  { benchPage(b, boltStore(b), "/ui/org/acme/ops") }
func BenchmarkReposCSV2000Bolt(b *testing.B) {
	benchPage(b, boltStore(b), "/ui/org/acme/export/repos?format=csv")
}
func BenchmarkOrgPage2000Mem(b *testing.B) { benchPage(b, nil, "/ui/org/acme") }

// BenchmarkRepoPage100kBolt is the page of one repository with 100k caught findings
// and 2,200 escapes over a year (the report's DESIGN §7 shape).
func BenchmarkRepoPage100kBolt(b *testing.B) {
	shape := escaperatetest.OrgShape{InstallationID: 1, Account: "acme", Repos: 1, CaughtPerRepo: 100_000, EscapeEvery: 50, MissedPerRepo: 200,
		Span: 365 * 24 * time.Hour, End: testEnd}
	e := newEnv(b, shape, boltStore(b))
	c, resp, _ := e.signIn(b, "sec-lead", "/ui/org/acme")
	if resp.StatusCode != http.StatusOK {
		b.Fatal(resp.Status)
	}
	b.ResetTimer()
	for b.Loop() {
		if st, _ := get(b, c, e.url+"/ui/repo/acme/repo-0000"); st != http.StatusOK {
			b.Fatal(st)
		}
	}
}
