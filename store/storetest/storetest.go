// Package storetest is the conformance suite that every store.Store backend
// passes: the documented semantics of each method, checked the same way for
// bbolt and PostgreSQL. Run it under -race: several cases are concurrent.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
)

// base is a fixed instant with microsecond precision, the precision stores keep.
var base = time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)

// Run runs the suite. newStore returns a new, empty, not yet migrated store;
// the suite closes it.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	fresh := func(t *testing.T) store.Store {
		t.Helper()
		s := newStore(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatalf("migrate: %v", err)
		}
		return s
	}
	cases := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Deliveries", testDeliveries},
		{"DeliverySeen", testDeliverySeen},
		{"Installations", testInstallations},
		{"Repositories", testRepositories},
		{"Scans", testScans},
		{"Caught", testCaught},
		{"CaughtWindows", testCaughtWindows},
		{"CountCaught", testCountCaught},
		{"CountCaughtDaily", testCountCaughtDaily},
		{"ReadLedgers", testReadLedgers},
		{"RecordScan", testRecordScan},
		{"RecordScanAllOrNothing", testRecordScanAllOrNothing},
		{"RecordScanConcurrent", testRecordScanConcurrent},
		{"Exceptions", testExceptions},
		{"ExceptionWindows", testExceptionWindows},
		{"Refused", testRefused},
		{"Escapes", testEscapes},
		{"Pending", testPending},
		{"PendingConcurrentTake", testPendingConcurrentTake},
		{"PendingConcurrentAdd", testPendingConcurrentAdd},
		{"LastRelease", testLastRelease},
		{"LastReleaseConcurrent", testLastReleaseConcurrent},
		{"ReleaseComments", testReleaseComments},
		{"Settings", testSettings},
		{"ClaimOnceConcurrent", testClaimOnceConcurrent},
		{"ConcurrentUse", testConcurrentUse},
		{"ConcurrentNotFound", testConcurrentNotFound},
		{"CanceledContext", testCanceledContext},
		{"Inbox", testInbox},
		{"InboxConcurrentAdd", testInboxConcurrentAdd},
		{"InboxFinishMany", testInboxFinishMany},
	}
	t.Run("SchemaVersion", func(t *testing.T) {
		t.Parallel()
		testSchema(t, newStore(t))
	})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, fresh(t))
		})
	}
}

func equal[T any](t *testing.T, what string, got, want T) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func notFound(t *testing.T, err error, what string) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: got error %v, want one wrapping store.ErrNotFound", what, err)
	}
}

func testSchema(t *testing.T, s store.Store) {
	defer func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	}()
	ctx := context.Background()
	v, err := s.SchemaVersion(ctx)
	must(t, err, "schema version of a new store")
	equal(t, "schema version of a new store", v, 0)
	for i := range 2 { // Migrate is idempotent
		must(t, s.Migrate(ctx), fmt.Sprintf("migrate #%d", i+1))
		v, err = s.SchemaVersion(ctx)
		must(t, err, "schema version")
		equal(t, "schema version after migrate", v, store.SchemaVersion)
	}
}

func testDeliveries(t *testing.T, s store.Store) {
	ctx := context.Background()
	steps := []struct {
		id   string
		want bool
	}{{"d-1", true}, {"d-1", false}, {"d-2", true}, {"D-1", true}, {"d-2", false}}
	for _, st := range steps {
		got, err := s.MarkDelivery(ctx, st.id, base)
		must(t, err, "mark delivery")
		equal(t, "first for "+st.id, got, st.want)
	}
	must(t, s.ForgetDelivery(ctx, "d-1"), "forget delivery")
	got, err := s.MarkDelivery(ctx, "d-1", base)
	must(t, err, "mark after forget")
	equal(t, "first after forget", got, true)
	must(t, s.ForgetDelivery(ctx, "never-seen"), "forget an unknown delivery")

	// Redeliveries race: exactly one handler may run.
	var wins atomic.Int32
	parallel(t, 16, func(int) error {
		first, err := s.MarkDelivery(ctx, "d-race", base)
		if first {
			wins.Add(1)
		}
		return err
	})
	equal(t, "concurrent first marks", wins.Load(), int32(1))
}

// testDeliverySeen: a delivery is seen from its mark until it is forgotten, ids are
// exact (case and all), and asking changes nothing.
func testDeliverySeen(t *testing.T, s store.Store) {
	ctx := context.Background()
	seen := func(id string, want bool) {
		t.Helper()
		got, err := s.DeliverySeen(ctx, id)
		must(t, err, "delivery seen "+id)
		equal(t, "seen "+id, got, want)
	}
	seen("g-1", false)
	seen("g-1", false) // asking does not mark it
	first, err := s.MarkDelivery(ctx, "g-1", base)
	must(t, err, "mark delivery")
	equal(t, "first mark after asking", first, true)
	seen("g-1", true)
	seen("G-1", false)
	seen("g-2", false)
	must(t, s.ForgetDelivery(ctx, "g-1"), "forget delivery")
	seen("g-1", false)

	// A mark is visible to the next read, whoever else is marking at the same time.
	parallel(t, 8, func(i int) error {
		id := fmt.Sprintf("g-par-%d", i)
		if _, err := s.MarkDelivery(ctx, id, base); err != nil {
			return err
		}
		ok, err := s.DeliverySeen(ctx, id)
		if err == nil && !ok {
			return fmt.Errorf("%s not seen right after its mark", id)
		}
		return err
	})
}

func testInstallations(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetInstallation(ctx, 7)
	notFound(t, err, "get a missing installation")
	list, err := s.ListInstallations(ctx)
	must(t, err, "list installations")
	equal(t, "installations of a new store", len(list), 0)

	a := store.Installation{ID: 7, Account: "acme", AccountType: "Organization", CreatedAt: base}
	b := store.Installation{ID: 3, Account: "octo", AccountType: "User", CreatedAt: base.Add(time.Hour)}
	must(t, s.PutInstallation(ctx, a), "put a")
	must(t, s.PutInstallation(ctx, b), "put b")
	got, err := s.GetInstallation(ctx, 7)
	must(t, err, "get a")
	equal(t, "installation a", got, a)

	a.DeletedAt, a.Suspended = base.Add(48*time.Hour), true
	must(t, s.PutInstallation(ctx, a), "replace a")
	got, err = s.GetInstallation(ctx, 7)
	must(t, err, "get replaced a")
	equal(t, "replaced installation", got, a)

	list, err = s.ListInstallations(ctx)
	must(t, err, "list installations")
	equal(t, "installations by id", list, []store.Installation{b, a})
}

func testRepositories(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetRepository(ctx, "acme/none")
	notFound(t, err, "get a missing repository")

	r1 := store.Repository{ID: 11, InstallationID: 1, FullName: "Acme/Web", DefaultBranch: "main", AddedAt: base}
	r2 := store.Repository{ID: 12, InstallationID: 1, FullName: "acme/api", DefaultBranch: "trunk", AddedAt: base}
	r3 := store.Repository{ID: 13, InstallationID: 2, FullName: "octo/x", DefaultBranch: "main", AddedAt: base}
	for _, r := range []store.Repository{r1, r2, r3} {
		must(t, s.PutRepository(ctx, r), "put "+r.FullName)
	}
	for _, name := range []string{"Acme/Web", "acme/web", "ACME/WEB"} {
		got, err := s.GetRepository(ctx, name)
		must(t, err, "get "+name)
		equal(t, "repository "+name, got, r1)
	}

	list, err := s.ListRepositories(ctx, 1)
	must(t, err, "list installation 1")
	equal(t, "repositories of installation 1 by name", list, []store.Repository{r2, r1})

	// Same repository in another case replaces it; a transfer moves it between installations.
	moved := r1
	moved.FullName, moved.InstallationID, moved.RemovedAt = "acme/WEB", 2, base.Add(time.Hour)
	must(t, s.PutRepository(ctx, moved), "put moved")
	got, err := s.GetRepository(ctx, "Acme/Web")
	must(t, err, "get moved")
	equal(t, "moved repository", got, moved)
	list, err = s.ListRepositories(ctx, 1)
	must(t, err, "list installation 1 after the move")
	equal(t, "repositories of installation 1 after the move", list, []store.Repository{r2})
	list, err = s.ListRepositories(ctx, 2)
	must(t, err, "list installation 2")
	equal(t, "repositories of installation 2", list, []store.Repository{moved, r3})
	list, err = s.ListRepositories(ctx, 99)
	must(t, err, "list an unknown installation")
	equal(t, "repositories of an unknown installation", len(list), 0)
}

func testScans(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetScan(ctx, "acme/web", "abc")
	notFound(t, err, "get a missing scan")

	sc := store.Scan{Repo: "Acme/Web", SHA: "abc", PR: 4, CheckRunID: 99, Conclusion: "failure", At: base,
		Findings: []store.Finding{
			{Fingerprint: "fp1", Rule: "aws-access-key", Category: "secret", Severity: "critical", Path: "a.go", Line: 3, Redacted: "AKIA…(20)", Message: "AWS key"},
			{Fingerprint: "fp2", Rule: "claude-bypass", Category: "agent-permission", Severity: "high", Path: ".claude/settings.json", Line: 1, Existing: true},
		}}
	must(t, s.PutScan(ctx, sc), "put scan")
	got, err := s.GetScan(ctx, "acme/WEB", "abc")
	must(t, err, "get scan in another case")
	equal(t, "scan", got, sc)

	newer := sc
	newer.Conclusion, newer.CheckRunID, newer.At, newer.Findings = "neutral", 100, base.Add(time.Minute), sc.Findings[:1]
	must(t, s.PutScan(ctx, newer), "replace scan")
	got, err = s.GetScan(ctx, "acme/web", "abc")
	must(t, err, "get replaced scan")
	equal(t, "replaced scan", got, newer)

	_, err = s.GetScan(ctx, "acme/web", "ABC")
	notFound(t, err, "SHAs are case-sensitive keys")
	_, err = s.GetScan(ctx, "acme/we", "abc")
	notFound(t, err, "a repository name prefix is another repository")
}

func caught(repo, fp, sev string, at time.Time) store.Caught {
	return store.Caught{Repo: repo, Fingerprint: fp, Rule: "rule-" + fp, Severity: sev, Path: "p/" + fp, PR: 1, SHA: "sha-" + fp, At: at}
}

func testCaught(t *testing.T, s store.Store) {
	ctx := context.Background()
	c := caught("Acme/Web", "fp1", "critical", base)
	first, err := s.RecordCaught(ctx, c)
	must(t, err, "record caught")
	equal(t, "first record", first, true)

	later := c
	later.Repo, later.At, later.PR, later.SHA = "acme/web", base.Add(time.Hour), 9, "other"
	first, err = s.RecordCaught(ctx, later)
	must(t, err, "record again")
	equal(t, "second record", first, false)

	list, err := s.ListCaught(ctx, "ACME/web", store.Window{From: base.Add(-time.Hour), To: base.Add(2 * time.Hour)})
	must(t, err, "list caught")
	equal(t, "the first detection is kept", list, []store.Caught{c})

	checksTable := []struct {
		repo, fp string
		want     bool
	}{{"acme/web", "fp1", true}, {"ACME/WEB", "fp1", true}, {"acme/web", "fp2", false}, {"acme/api", "fp1", false}, {"acme/we", "fp1", false}}
	for _, ct := range checksTable {
		got, err := s.WasCaught(ctx, ct.repo, ct.fp)
		must(t, err, "was caught")
		equal(t, fmt.Sprintf("was caught %s %s", ct.repo, ct.fp), got, ct.want)
	}

	// A time in another zone is the same instant when read back.
	zoned := caught("acme/web", "fp-zone", "high", base.In(time.FixedZone("X", 5*3600)))
	_, err = s.RecordCaught(ctx, zoned)
	must(t, err, "record zoned")
	list, err = s.ListCaught(ctx, "acme/web", store.Window{From: base, To: base.Add(time.Microsecond)})
	must(t, err, "list zoned")
	equal(t, "detections at base", len(list), 2)
	for _, x := range list {
		if !x.At.Equal(base) {
			t.Errorf("caught %s at %v, want the instant %v", x.Fingerprint, x.At, base)
		}
	}
}

func testCaughtWindows(t *testing.T, s store.Store) {
	ctx := context.Background()
	day := 24 * time.Hour
	// One detection per day for 10 days in acme/web, plus neighbours that must never leak in.
	for i := range 10 {
		_, err := s.RecordCaught(ctx, caught("acme/web", fmt.Sprintf("fp%02d", i), "critical", base.Add(time.Duration(i)*day)))
		must(t, err, "record")
	}
	for _, repo := range []string{"acme/web2", "acme/we", "acme/wea"} {
		_, err := s.RecordCaught(ctx, caught(repo, "fp-other", "critical", base.Add(2*day)))
		must(t, err, "record neighbour")
	}
	cases := []struct {
		name     string
		from, to time.Time
		want     []int // days
	}{
		{"whole", base.Add(-day), base.Add(20 * day), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"from is inclusive", base.Add(3 * day), base.Add(5 * day), []int{3, 4}},
		{"to is exclusive", base.Add(3*day + time.Microsecond), base.Add(5*day + time.Microsecond), []int{4, 5}},
		{"empty width", base.Add(3 * day), base.Add(3 * day), nil},
		{"inverted", base.Add(5 * day), base.Add(3 * day), nil},
		{"before all", base.Add(-10 * day), base, nil},
		{"zero from", time.Time{}, base.Add(day), []int{0}},
	}
	for _, c := range cases {
		list, err := s.ListCaught(ctx, "Acme/Web", store.Window{From: c.from, To: c.to})
		must(t, err, c.name)
		var days []int
		for _, x := range list {
			days = append(days, int(x.At.Sub(base)/day))
			if x.Repo != "acme/web" {
				t.Errorf("%s: record of %s leaked into acme/web", c.name, x.Repo)
			}
		}
		equal(t, c.name, days, c.want)
		n, err := s.CountCaught(ctx, "acme/web", store.Window{From: c.from, To: c.to}, "low")
		must(t, err, c.name+" count")
		equal(t, c.name+" count", n, len(c.want))
	}
}

func testCountCaught(t *testing.T, s store.Store) {
	ctx := context.Background()
	for i, sev := range []string{"critical", "critical", "high", "medium", "low", "low", "bogus"} {
		_, err := s.RecordCaught(ctx, caught("acme/web", fmt.Sprintf("fp%d", i), sev, base.Add(time.Duration(i)*time.Minute)))
		must(t, err, "record")
	}
	w := store.Window{From: base, To: base.Add(time.Hour)}
	cases := []struct {
		min  string
		want int
	}{{"critical", 2}, {"high", 3}, {"medium", 4}, {"low", 6}, {"CRITICAL", 2}}
	for _, c := range cases {
		n, err := s.CountCaught(ctx, "ACME/web", w, c.min)
		must(t, err, "count "+c.min)
		equal(t, "count at least "+c.min, n, c.want)
	}
	n, err := s.CountCaught(ctx, "acme/web", store.Window{From: base.Add(time.Minute), To: base.Add(3 * time.Minute)}, "critical")
	must(t, err, "count narrow window")
	equal(t, "critical in [1m, 3m)", n, 1)
	if _, err := s.CountCaught(ctx, "acme/web", w, "severe"); err == nil {
		t.Errorf("count with an unknown severity: want an error")
	}
}

// scanOf is a scan of repo@sha whose findings are the fingerprints fps.
func scanOf(repo, sha string, at time.Time, fps ...string) store.Scan {
	sc := store.Scan{Repo: repo, SHA: sha, PR: 4, CheckRunID: 99, Conclusion: "failure", At: at}
	for i, fp := range fps {
		sc.Findings = append(sc.Findings, store.Finding{Fingerprint: fp, Rule: "rule-" + fp, Category: "secret",
			Severity: "critical", Path: "p/" + fp, Line: i + 1, Redacted: "ghp_…(40)"})
	}
	return sc
}

// testRecordScan checks that RecordScan(s, caught) does what PutScan(s) and
// RecordCaught of each caught in order do, step after step on one store.
func testRecordScan(t *testing.T, s store.Store) {
	ctx := context.Background()
	zone := time.FixedZone("X", -7*3600)
	// Recorded with RecordCaught before any RecordScan: RecordScan must see it.
	_, err := s.RecordCaught(ctx, caught("acme/web", "fp-old", "critical", base.Add(-time.Hour)))
	must(t, err, "record caught")

	type want struct {
		firsts int
		caught []store.Caught // acme/web's first detections after the step, oldest first
	}
	c1 := caught("Acme/Web", "fp1", "critical", base)
	c2 := caught("acme/web", "fp2", "high", base.Add(time.Second))
	c1Later := c1
	c1Later.At, c1Later.PR, c1Later.SHA = base.Add(time.Hour), 9, "later"
	c3 := caught("acme/web", "fp3", "critical", base.Add(2*time.Second))
	c3Dup := c3
	c3Dup.At, c3Dup.SHA = base.Add(3*time.Second), "dup"
	c4Zoned := caught("acme/web", "fp4", "critical", base.Add(4*time.Second).In(zone))
	c4 := c4Zoned
	c4.At = c4Zoned.At.UTC()
	cOld := caught("ACME/WEB", "fp-old", "critical", base.Add(5*time.Second))
	cOther := caught("acme/api", "fp1", "critical", base.Add(6*time.Second))
	old := caught("acme/web", "fp-old", "critical", base.Add(-time.Hour))

	steps := []struct {
		name   string
		scan   store.Scan
		caught []store.Caught
		want   want
	}{
		{"first scan, two new fingerprints", scanOf("Acme/Web", "sha1", base, "fp1", "fp2"), []store.Caught{c1, c2},
			want{2, []store.Caught{old, c1, c2}}},
		{"the same call again changes nothing", scanOf("Acme/Web", "sha1", base, "fp1", "fp2"), []store.Caught{c1, c2},
			want{0, []store.Caught{old, c1, c2}}},
		{"a known fingerprint keeps its first detection", scanOf("acme/web", "sha2", base.Add(time.Hour), "fp1", "fp3"), []store.Caught{c1Later, c3},
			want{1, []store.Caught{old, c1, c2, c3}}},
		{"a fingerprint repeated in one call counts once, as its first occurrence", scanOf("acme/web", "sha3", base, "fp3", "fp4"), []store.Caught{c4Zoned, c4Zoned, c3Dup},
			want{1, []store.Caught{old, c1, c2, c3, c4}}},
		{"a fingerprint from RecordCaught is known, in any case of the name", scanOf("acme/web", "sha4", base), []store.Caught{cOld},
			want{0, []store.Caught{old, c1, c2, c3, c4}}},
		{"each caught record counts in its own repository", scanOf("acme/web", "sha5", base), []store.Caught{cOther},
			want{1, []store.Caught{old, c1, c2, c3, c4}}},
		{"a scan without caught records", scanOf("acme/web", "sha6", base.In(zone)), nil,
			want{0, []store.Caught{old, c1, c2, c3, c4}}},
		{"replacing a scan", scanOf("acme/web", "sha1", base.Add(time.Minute), "fp2"), []store.Caught{c2},
			want{0, []store.Caught{old, c1, c2, c3, c4}}},
	}
	all := store.Window{From: base.Add(-24 * time.Hour), To: base.Add(24 * time.Hour)}
	for _, st := range steps {
		n, err := s.RecordScan(ctx, st.scan, st.caught)
		must(t, err, st.name)
		equal(t, st.name+": first detections", n, st.want.firsts)
		got, err := s.GetScan(ctx, strings.ToUpper(st.scan.Repo), st.scan.SHA)
		must(t, err, st.name+": get scan")
		wantScan := st.scan
		wantScan.At = wantScan.At.UTC()
		equal(t, st.name+": scan", got, wantScan)
		list, err := s.ListCaught(ctx, "acme/web", all)
		must(t, err, st.name+": list caught")
		equal(t, st.name+": caught in acme/web", list, st.want.caught)
	}
	list, err := s.ListCaught(ctx, "acme/api", all)
	must(t, err, "list caught in acme/api")
	equal(t, "caught in acme/api", list, []store.Caught{cOther})
	// And RecordCaught sees what RecordScan kept.
	first, err := s.RecordCaught(ctx, c3Dup)
	must(t, err, "record caught after record scan")
	equal(t, "RecordCaught of a fingerprint RecordScan kept", first, false)
}

// oversized is a fingerprint that no backend indexes (bbolt's key limit is 32 KiB,
// a PostgreSQL btree entry about 2.7 kB), random so that it does not compress.
func oversized(seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 1))
	const hex = "0123456789abcdef"
	b := make([]byte, 40000)
	for i := range b {
		b[i] = hex[r.IntN(16)]
	}
	return string(b)
}

// recordedAll reports whether the scan and every one of fps are stored, and fails
// the test when only part of them is.
func recordedAll(t *testing.T, s store.Store, what, repo, sha string, fps []string) bool {
	t.Helper()
	ctx := context.Background()
	_, err := s.GetScan(ctx, repo, sha)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("%s: get scan: %v", what, err)
	}
	stored, parts := 0, 1+len(fps)
	if err == nil {
		stored++
	}
	for _, fp := range fps {
		found, err := s.WasCaught(ctx, repo, fp)
		must(t, err, what+": was caught")
		if found {
			stored++
		}
	}
	if stored != 0 && stored != parts {
		t.Errorf("%s: %d of the %d parts of one RecordScan are stored: it must be all or none", what, stored, parts)
	}
	return stored == parts
}

// testRecordScanAllOrNothing makes the last write of a RecordScan fail (a key no
// backend takes) and checks that the scan and the earlier records went with it.
func testRecordScanAllOrNothing(t *testing.T, s store.Store) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name    string
		ctx     context.Context
		sha     string
		caught  []store.Caught
		wantErr bool // an error is required; otherwise all-or-nothing is
	}{
		{"oversized last fingerprint", ctx, "sha-big", []store.Caught{
			caught("acme/web", "fp-a", "critical", base), caught("acme/web", "fp-b", "critical", base),
			caught("acme/web", oversized(1), "critical", base)}, false},
		{"canceled context", canceled, "sha-canceled", []store.Caught{caught("acme/web", "fp-c", "critical", base)}, true},
	}
	for _, c := range cases {
		var fps []string
		for _, x := range c.caught {
			fps = append(fps, x.Fingerprint)
		}
		n, err := s.RecordScan(c.ctx, scanOf("acme/web", c.sha, base, fps...), c.caught)
		if c.wantErr && err == nil {
			t.Errorf("%s: want an error", c.name)
		}
		if err != nil {
			t.Logf("%s: %.200v", c.name, err)
			if recordedAll(t, s, c.name, "acme/web", c.sha, fps) {
				t.Errorf("%s: RecordScan failed but stored everything", c.name)
			}
			// Nothing of the failed call counts: recording the valid part now finds every fingerprint new.
			valid := c.caught[:len(c.caught)-1]
			if c.wantErr {
				valid = c.caught
			}
			n, err := s.RecordScan(ctx, scanOf("acme/web", c.sha, base), valid)
			must(t, err, c.name+": record the valid part")
			equal(t, c.name+": first detections after a failed call", n, len(valid))
			continue
		}
		if !recordedAll(t, s, c.name, "acme/web", c.sha, fps) {
			t.Errorf("%s: RecordScan succeeded but did not store everything", c.name)
		}
		equal(t, c.name+": first detections", n, len(c.caught))
	}
}

// testRecordScanConcurrent runs overlapping RecordScan calls, some of which fail
// on a backend with a key size limit (see testRecordScanAllOrNothing): each
// fingerprint is a first detection exactly once, and every call is stored whole
// or not at all.
func testRecordScanConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const workers = 16
	firsts := make([]int, workers)
	failed := make([]bool, workers)
	fpsOf := func(w int) []string {
		// Worker w shares fp-shared-(w/2) with its neighbour and owns two more.
		return []string{fmt.Sprintf("fp-shared-%d", w/2), fmt.Sprintf("fp-own-%d-a", w), fmt.Sprintf("fp-own-%d-b", w)}
	}
	parallel(t, workers, func(w int) error {
		var cs []store.Caught
		for _, fp := range fpsOf(w) {
			cs = append(cs, caught("acme/web", fp, "critical", base))
		}
		if w%4 == 3 {
			cs = append(cs, caught("acme/web", oversized(uint64(w)), "critical", base))
		}
		n, err := s.RecordScan(ctx, scanOf("acme/web", fmt.Sprintf("sha-%d", w), base), cs)
		firsts[w], failed[w] = n, err != nil
		return nil
	})
	total := 0
	distinct := map[string]bool{}
	for w := range workers {
		fps := fpsOf(w)
		stored := recordedAll(t, s, fmt.Sprintf("worker %d", w), "acme/web", fmt.Sprintf("sha-%d", w), fps[1:])
		if stored == failed[w] {
			t.Errorf("worker %d: failed=%v but stored=%v", w, failed[w], stored)
		}
		if failed[w] {
			continue
		}
		total += firsts[w]
		for _, fp := range fps {
			distinct[fp] = true
		}
		if w%4 == 3 { // a backend without the key limit kept the oversized one too
			distinct[oversized(uint64(w))] = true
		}
	}
	equal(t, "first detections over all calls", total, len(distinct))
	n, err := s.CountCaught(ctx, "acme/web", store.Window{From: base, To: base.Add(time.Second)}, "low")
	must(t, err, "count caught")
	equal(t, "caught records", n, len(distinct))
}

func exception(repo string, pr int, delivery string, at time.Time) store.Exception {
	return store.Exception{Repo: repo, PR: pr, HeadSHA: "head", Approver: "alice", Reason: "fix_later",
		Label: "escapegate/accept-risk", Fingerprints: []string{"fp1", "fp2"}, CreatedAt: at,
		ExpiresAt: at.Add(30 * 24 * time.Hour), State: store.ExceptionActive, DeliveryID: delivery}
}

func testExceptions(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetException(ctx, 12345)
	notFound(t, err, "get a missing exception")
	err = s.UpdateException(ctx, store.Exception{ID: 12345, Repo: "acme/web", State: store.ExceptionRevoked})
	notFound(t, err, "update a missing exception")

	e1, first, err := s.AddException(ctx, exception("Acme/Web", 4, "del-1", base))
	must(t, err, "add e1")
	equal(t, "e1 first", first, true)
	if e1.ID <= 0 {
		t.Fatalf("e1 id = %d, want > 0", e1.ID)
	}
	want := exception("Acme/Web", 4, "del-1", base)
	want.ID = e1.ID
	equal(t, "e1 as returned", e1, want)

	again, first, err := s.AddException(ctx, exception("acme/web", 5, "del-1", base.Add(time.Hour)))
	must(t, err, "add again")
	equal(t, "same delivery first", first, false)
	equal(t, "same delivery returns the first exception", again, e1)

	noState := exception("acme/web", 4, "del-2", base.Add(time.Minute))
	noState.State = ""
	e2, first, err := s.AddException(ctx, noState)
	must(t, err, "add e2")
	equal(t, "e2 first", first, true)
	equal(t, "an exception without a state is active", e2.State, store.ExceptionActive)
	if e2.ID <= e1.ID {
		t.Errorf("ids must increase: e1 %d, e2 %d", e1.ID, e2.ID)
	}

	got, err := s.GetException(ctx, e1.ID)
	must(t, err, "get e1")
	equal(t, "e1 read back", got, e1)

	e1.State, e1.RevokedBy, e1.EndedAt = store.ExceptionRevoked, "bob", base.Add(2*time.Hour)
	must(t, s.UpdateException(ctx, e1), "revoke e1")
	got, err = s.GetException(ctx, e1.ID)
	must(t, err, "get revoked e1")
	equal(t, "revoked e1", got, e1)

	list, err := s.ListExceptions(ctx, "acme/web", 4, store.Window{To: base.Add(time.Hour)})
	must(t, err, "list PR 4")
	equal(t, "exceptions of PR 4 after the update", list, []store.Exception{e1, e2})

	// The delivery index survives an update.
	again, first, err = s.AddException(ctx, exception("acme/web", 4, "del-1", base))
	must(t, err, "add after update")
	equal(t, "first after update", first, false)
	equal(t, "returns the updated exception", again, e1)
}

func testExceptionWindows(t *testing.T, s store.Store) {
	ctx := context.Background()
	hour := time.Hour
	var all []store.Exception
	specs := []struct {
		repo string
		pr   int
		at   time.Duration
	}{{"acme/web", 1, 0}, {"acme/web", 2, hour}, {"acme/web", 1, 2 * hour}, {"acme/web", 10, 3 * hour}, {"acme/web2", 1, hour}}
	for i, sp := range specs {
		e, _, err := s.AddException(ctx, exception(sp.repo, sp.pr, fmt.Sprintf("d%d", i), base.Add(sp.at)))
		must(t, err, "add")
		all = append(all, e)
	}
	cases := []struct {
		name string
		repo string
		pr   int
		w    store.Window
		want []int
	}{
		{"repo, whole", "ACME/WEB", 0, store.Window{To: base.Add(10 * hour)}, []int{0, 1, 2, 3}},
		{"repo, [1h, 3h)", "acme/web", 0, store.Window{From: base.Add(hour), To: base.Add(3 * hour)}, []int{1, 2}},
		{"PR 1, whole", "acme/web", 1, store.Window{To: base.Add(10 * hour)}, []int{0, 2}},
		{"PR 1, [1h, 10h)", "acme/web", 1, store.Window{From: base.Add(hour), To: base.Add(10 * hour)}, []int{2}},
		{"PR 10 is not PR 1", "acme/web", 10, store.Window{To: base.Add(10 * hour)}, []int{3}},
		{"other repo", "acme/web2", 1, store.Window{To: base.Add(10 * hour)}, []int{4}},
		{"no such PR", "acme/web", 3, store.Window{To: base.Add(10 * hour)}, nil},
	}
	for _, c := range cases {
		list, err := s.ListExceptions(ctx, c.repo, c.pr, c.w)
		must(t, err, c.name)
		var want []store.Exception
		for _, i := range c.want {
			want = append(want, all[i])
		}
		equal(t, c.name, list, want)
	}
}

func testRefused(t *testing.T, s store.Store) {
	ctx := context.Background()
	r := store.RefusedOverride{Repo: "Acme/Web", PR: 4, Sender: "mallory", Label: "escapegate/accept-risk", Why: "not an approver", At: base, DeliveryID: "r-1"}
	first, err := s.AddRefused(ctx, r)
	must(t, err, "add refused")
	equal(t, "first", first, true)
	dup := r
	dup.Why, dup.At = "changed", base.Add(time.Minute)
	first, err = s.AddRefused(ctx, dup)
	must(t, err, "add refused again")
	equal(t, "repeat delivery", first, false)
	r2 := r
	r2.DeliveryID, r2.At, r2.Sender = "r-2", base.Add(time.Hour), "eve"
	_, err = s.AddRefused(ctx, r2)
	must(t, err, "add r2")

	cases := []struct {
		name string
		w    store.Window
		want []store.RefusedOverride
	}{
		{"whole", store.Window{From: base, To: base.Add(2 * time.Hour)}, []store.RefusedOverride{r, r2}},
		{"to exclusive", store.Window{From: base, To: base.Add(time.Hour)}, []store.RefusedOverride{r}},
		{"after", store.Window{From: base.Add(time.Minute), To: base.Add(2 * time.Hour)}, []store.RefusedOverride{r2}},
	}
	for _, c := range cases {
		list, err := s.ListRefused(ctx, "acme/WEB", c.w)
		must(t, err, c.name)
		equal(t, c.name, list, c.want)
	}
}

func escape(repo, fp, kind string, detected time.Time) store.Escape {
	return store.Escape{Repo: repo, Fingerprint: fp, Kind: kind, Rule: "aws-access-key", Severity: "critical",
		Path: "a.go", Redacted: "AKIA…(20)", PR: 4, SHA: "merge", ExceptionID: 2, Approver: "alice",
		Reason: "fix_later", DetectedAt: detected, At: detected.Add(time.Hour)}
}

func testEscapes(t *testing.T, s store.Store) {
	ctx := context.Background()
	e1, first, err := s.AddEscape(ctx, escape("Acme/Web", "fp1", store.EscapeOverridden, base))
	must(t, err, "add e1")
	equal(t, "e1 first", first, true)
	want := escape("Acme/Web", "fp1", store.EscapeOverridden, base)
	want.ID = e1.ID
	equal(t, "e1", e1, want)

	again, first, err := s.AddEscape(ctx, escape("acme/WEB", "fp1", store.EscapeMissed, base.Add(time.Hour)))
	must(t, err, "add e1 again")
	equal(t, "same (repo, fingerprint) first", first, false)
	equal(t, "same (repo, fingerprint) returns the first", again, e1)

	e2, first, err := s.AddEscape(ctx, escape("acme/web", "fp2", store.EscapeMissed, base.Add(2*time.Hour)))
	must(t, err, "add e2")
	equal(t, "e2 first", first, true)
	e3, first, err := s.AddEscape(ctx, escape("acme/api", "fp1", store.EscapeAdvisory, base.Add(time.Hour)))
	must(t, err, "add same fingerprint elsewhere")
	equal(t, "same fingerprint in another repository is another escape", first, true)
	if !(e1.ID < e2.ID && e2.ID < e3.ID) {
		t.Errorf("ids must increase: %d, %d, %d", e1.ID, e2.ID, e3.ID)
	}

	cases := []struct {
		name string
		repo string
		w    store.Window
		want []store.Escape
	}{
		{"whole", "acme/web", store.Window{From: base, To: base.Add(3 * time.Hour)}, []store.Escape{e1, e2}},
		{"by detection time, to exclusive", "acme/web", store.Window{From: base, To: base.Add(2 * time.Hour)}, []store.Escape{e1}},
		{"from inclusive", "ACME/web", store.Window{From: base.Add(2 * time.Hour), To: base.Add(3 * time.Hour)}, []store.Escape{e2}},
		{"other repo", "acme/api", store.Window{From: base, To: base.Add(3 * time.Hour)}, []store.Escape{e3}},
		{"empty", "acme/web", store.Window{From: base.Add(3 * time.Hour), To: base.Add(4 * time.Hour)}, nil},
	}
	for _, c := range cases {
		list, err := s.ListEscapes(ctx, c.repo, c.w)
		must(t, err, c.name)
		equal(t, c.name, list, c.want)
	}
}

// pendingEscape is an escape of repo that waits for production.
func pendingEscape(repo, fp string, at time.Time) store.Escape {
	e := escape(repo, fp, store.EscapeAdvisory, at)
	e.At = at.Add(time.Minute)
	return e
}

func testPending(t *testing.T, s store.Store) {
	ctx := context.Background()
	list, err := s.TakePending(ctx, "acme/web")
	must(t, err, "take from a new store")
	equal(t, "pending of a new store", len(list), 0)
	n, err := s.AddPending(ctx, "acme/web", nil)
	must(t, err, "add nothing")
	equal(t, "added of nothing", n, 0)

	zone := time.FixedZone("X", 3*3600)
	e1 := pendingEscape("Acme/Web", "fp1", base)
	e2 := pendingEscape("Acme/Web", "fp2", base.Add(time.Second).In(zone))
	e2UTC := e2
	e2UTC.DetectedAt, e2UTC.At = e2.DetectedAt.UTC(), e2.At.UTC()
	e3 := pendingEscape("acme/web", "fp3", base.Add(-time.Hour)) // added after e2, though older
	e1Dup := e1
	e1Dup.Kind, e1Dup.SHA = store.EscapeOverridden, "other"
	e3Dup := e3
	e3Dup.PR = 99

	n, err = s.AddPending(ctx, "Acme/Web", []store.Escape{e1, e2})
	must(t, err, "add e1, e2")
	equal(t, "added e1, e2", n, 2)
	// A redelivered merge, and another that repeats a fingerprint within one call.
	n, err = s.AddPending(ctx, "ACME/WEB", []store.Escape{e1Dup, e2, e3, e3Dup})
	must(t, err, "add again")
	equal(t, "added by a redelivery with one new fingerprint", n, 1)
	// Neighbours never leak in.
	for _, repo := range []string{"acme/web2", "acme/we", "other/web"} {
		n, err := s.AddPending(ctx, repo, []store.Escape{pendingEscape(repo, "fp1", base)})
		must(t, err, "add to "+repo)
		equal(t, "added to "+repo, n, 1)
	}

	list, err = s.TakePending(ctx, "acme/web")
	must(t, err, "take")
	equal(t, "taken, in the order added, each fingerprint's first", list, []store.Escape{e1, e2UTC, e3})
	list, err = s.TakePending(ctx, "acme/web")
	must(t, err, "take again")
	equal(t, "taken twice", len(list), 0)

	// Once taken, a fingerprint may be pending again (the next release ships it).
	n, err = s.AddPending(ctx, "acme/web", []store.Escape{e1Dup})
	must(t, err, "add after take")
	equal(t, "added after take", n, 1)
	list, err = s.TakePending(ctx, "acme/web")
	must(t, err, "take after re-add")
	equal(t, "taken after re-add", list, []store.Escape{e1Dup})

	for _, repo := range []string{"acme/web2", "acme/we", "other/web"} {
		list, err := s.TakePending(ctx, repo)
		must(t, err, "take "+repo)
		equal(t, "taken from "+repo, list, []store.Escape{pendingEscape(repo, "fp1", base)})
	}

	// A canceled take takes nothing.
	_, err = s.AddPending(ctx, "acme/web", []store.Escape{e1})
	must(t, err, "add before a canceled take")
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.TakePending(canceled, "acme/web"); !errors.Is(err, context.Canceled) {
		t.Errorf("take with a canceled context: got %v, want context.Canceled", err)
	}
	if _, err := s.AddPending(canceled, "acme/web", []store.Escape{e3}); !errors.Is(err, context.Canceled) {
		t.Errorf("add with a canceled context: got %v, want context.Canceled", err)
	}
	list, err = s.TakePending(ctx, "acme/web")
	must(t, err, "take after a canceled take")
	equal(t, "taken after a canceled take and add", list, []store.Escape{e1})
}

// testPendingConcurrentTake has several takers (replicas shipping one release)
// race each other and concurrent adders: every escape is taken exactly once.
func testPendingConcurrentTake(t *testing.T, s store.Store) {
	ctx := context.Background()
	const prefilled, adders, each, takers = 40, 4, 10, 8
	var batch []store.Escape
	for i := range prefilled {
		batch = append(batch, pendingEscape("acme/web", fmt.Sprintf("pre-%02d", i), base))
	}
	n, err := s.AddPending(ctx, "acme/web", batch)
	must(t, err, "prefill")
	equal(t, "prefilled", n, prefilled)

	var mu sync.Mutex
	taken := map[string]int{}
	var adding atomic.Int32
	adding.Store(adders)
	take := func() error {
		list, err := s.TakePending(ctx, "acme/web")
		mu.Lock()
		defer mu.Unlock()
		for _, e := range list {
			taken[e.Fingerprint]++
		}
		return err
	}
	parallel(t, adders+takers, func(w int) error {
		if w < adders {
			defer adding.Add(-1)
			for i := range each {
				e := pendingEscape("acme/web", fmt.Sprintf("w%d-%d", w, i), base)
				if _, err := s.AddPending(ctx, "acme/web", []store.Escape{e}); err != nil {
					return err
				}
			}
			return nil
		}
		for adding.Load() > 0 {
			if err := take(); err != nil {
				return err
			}
		}
		return take()
	})
	must(t, take(), "final take")
	equal(t, "distinct escapes taken", len(taken), prefilled+adders*each)
	for fp, k := range taken {
		if k != 1 {
			t.Errorf("escape %s taken %d times, want once", fp, k)
		}
	}
}

// testPendingConcurrentAdd redelivers one merge many times at once: its escapes
// are pending once.
func testPendingConcurrentAdd(t *testing.T, s store.Store) {
	ctx := context.Background()
	var batch []store.Escape
	for i := range 5 {
		batch = append(batch, pendingEscape("acme/web", fmt.Sprintf("fp%d", i), base))
	}
	var added atomic.Int32
	parallel(t, 16, func(w int) error {
		// Each delivery lists the escapes in its own order.
		mine := slices.Clone(batch)
		slices.Reverse(mine[:w%len(mine)])
		n, err := s.AddPending(ctx, "acme/web", mine)
		added.Add(int32(n))
		return err
	})
	equal(t, "added over all deliveries", added.Load(), int32(len(batch)))
	list, err := s.TakePending(ctx, "acme/web")
	must(t, err, "take")
	equal(t, "pending after concurrent redeliveries", len(list), len(batch))
}

func testLastRelease(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetLastRelease(ctx, "acme/web")
	notFound(t, err, "get a missing last release")

	steps := []struct {
		name string
		put  store.Release
		want store.Release
	}{
		{"first", store.Release{Tag: "v1.0.0", At: base}, store.Release{Tag: "v1.0.0", At: base}},
		{"newer", store.Release{Tag: "v1.1.0", At: base.Add(time.Hour)}, store.Release{Tag: "v1.1.0", At: base.Add(time.Hour)}},
		{"an older release arriving late does not move it back", store.Release{Tag: "v1.0.1", At: base.Add(time.Minute)},
			store.Release{Tag: "v1.1.0", At: base.Add(time.Hour)}},
		{"the same instant in another zone replaces it", store.Release{Tag: "v1.1.0-fixed", At: base.Add(time.Hour).In(time.FixedZone("X", -5*3600))},
			store.Release{Tag: "v1.1.0-fixed", At: base.Add(time.Hour)}},
		{"newer again", store.Release{Tag: "v2.0.0", At: base.Add(48 * time.Hour)}, store.Release{Tag: "v2.0.0", At: base.Add(48 * time.Hour)}},
	}
	for _, st := range steps {
		must(t, s.PutLastRelease(ctx, "Acme/Web", st.put), st.name)
		got, err := s.GetLastRelease(ctx, "acme/WEB")
		must(t, err, st.name+": get")
		equal(t, st.name, got, st.want)
	}
	for _, repo := range []string{"acme/we", "acme/web2"} {
		_, err := s.GetLastRelease(ctx, repo)
		notFound(t, err, "last release of "+repo)
	}
}

// testLastReleaseConcurrent publishes releases whose events arrive in any order
// at once: the newest is kept.
func testLastReleaseConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	const n = 16
	parallel(t, n, func(i int) error {
		// Releases 0..n-1, published an hour apart, delivered in a scrambled order.
		k := (i * 7) % n
		return s.PutLastRelease(ctx, "acme/web", store.Release{Tag: fmt.Sprintf("v%d", k), At: base.Add(time.Duration(k) * time.Hour)})
	})
	got, err := s.GetLastRelease(ctx, "acme/web")
	must(t, err, "get")
	equal(t, "last release after concurrent puts", got, store.Release{Tag: fmt.Sprintf("v%d", n-1), At: base.Add((n - 1) * time.Hour)})
}

func testReleaseComments(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetReleaseComment(ctx, "acme/web", 12)
	notFound(t, err, "get a missing release comment")

	must(t, s.PutReleaseComment(ctx, "Acme/Web", 12, 1001), "put")
	must(t, s.PutReleaseComment(ctx, "acme/web", 13, 1002), "put another PR")
	must(t, s.PutReleaseComment(ctx, "acme/api", 12, 1003), "put another repository")
	id, err := s.GetReleaseComment(ctx, "ACME/web", 12)
	must(t, err, "get")
	equal(t, "release comment id", id, int64(1001))

	must(t, s.PutReleaseComment(ctx, "acme/web", 12, 1<<40), "replace")
	cases := []struct {
		repo string
		pr   int
		want int64
	}{{"acme/web", 12, 1 << 40}, {"acme/web", 13, 1002}, {"acme/api", 12, 1003}}
	for _, c := range cases {
		id, err := s.GetReleaseComment(ctx, c.repo, c.pr)
		must(t, err, "get")
		equal(t, fmt.Sprintf("release comment of %s#%d", c.repo, c.pr), id, c.want)
	}
	for _, c := range []struct {
		repo string
		pr   int
	}{{"acme/web", 1}, {"acme/we", 12}, {"acme/api", 13}} {
		_, err := s.GetReleaseComment(ctx, c.repo, c.pr)
		notFound(t, err, fmt.Sprintf("release comment of %s#%d", c.repo, c.pr))
	}
}

func testSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	_, err := s.GetSetting(ctx, "k")
	notFound(t, err, "get a missing setting")
	notFound(t, s.DeleteSetting(ctx, "k"), "delete a missing setting")

	values := [][]byte{[]byte("v1"), {0, 1, 2, 255, 0}, []byte(`{"etag":"W/\"x\""}`)}
	for _, v := range values {
		must(t, s.PutSetting(ctx, "k", v), "put")
		got, err := s.GetSetting(ctx, "k")
		must(t, err, "get")
		equal(t, "setting round trip", got, v)
	}
	must(t, s.PutSetting(ctx, "K", []byte("upper")), "put K")
	got, err := s.GetSetting(ctx, "k")
	must(t, err, "get k")
	equal(t, "setting keys are case-sensitive", got, values[len(values)-1])

	must(t, s.DeleteSetting(ctx, "k"), "delete")
	_, err = s.GetSetting(ctx, "k")
	notFound(t, err, "get a deleted setting")

	won, err := s.ClaimOnce(ctx, "summary/2026-03", []byte("a"))
	must(t, err, "claim")
	equal(t, "first claim", won, true)
	won, err = s.ClaimOnce(ctx, "summary/2026-03", []byte("b"))
	must(t, err, "claim again")
	equal(t, "second claim", won, false)
	got, err = s.GetSetting(ctx, "summary/2026-03")
	must(t, err, "get claimed")
	equal(t, "claimed value is the winner's", got, []byte("a"))
	won, err = s.ClaimOnce(ctx, "K", []byte("x"))
	must(t, err, "claim an existing setting")
	equal(t, "claiming a set key", won, false)
}

func testClaimOnceConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
	for round := range 3 {
		key := fmt.Sprintf("summary/inst-1/2026-0%d", round+1)
		var wins atomic.Int32
		var winner atomic.Int32
		parallel(t, 32, func(i int) error {
			won, err := s.ClaimOnce(ctx, key, []byte(fmt.Sprint(i)))
			if won {
				wins.Add(1)
				winner.Store(int32(i))
			}
			return err
		})
		equal(t, key+" winners", wins.Load(), int32(1))
		got, err := s.GetSetting(ctx, key)
		must(t, err, "get claimed")
		equal(t, key+" value", string(got), fmt.Sprint(winner.Load()))
	}
}

func testConcurrentUse(t *testing.T, s store.Store) {
	ctx := context.Background()
	const workers, each = 8, 10
	ids := make(chan int64, workers*each)
	parallel(t, workers, func(w int) error {
		for i := range each {
			fp := fmt.Sprintf("w%d-%d", w, i)
			if _, err := s.RecordCaught(ctx, caught("acme/web", fp, "critical", base.Add(time.Duration(i)*time.Second))); err != nil {
				return err
			}
			e, first, err := s.AddException(ctx, exception("acme/web", w+1, fp, base))
			if err != nil {
				return err
			}
			if !first {
				return fmt.Errorf("delivery %s seen twice", fp)
			}
			ids <- e.ID
			if _, _, err := s.AddEscape(ctx, escape("acme/web", "shared-fp", store.EscapeMissed, base)); err != nil {
				return err
			}
			if _, err := s.ListCaught(ctx, "acme/web", store.Window{From: base, To: base.Add(time.Hour)}); err != nil {
				return err
			}
		}
		return nil
	})
	close(ids)
	seen := map[int64]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("exception id %d assigned twice", id)
		}
		seen[id] = true
	}
	n, err := s.CountCaught(ctx, "acme/web", store.Window{From: base, To: base.Add(time.Hour)}, "critical")
	must(t, err, "count")
	equal(t, "caught after concurrent records", n, workers*each)
	esc, err := s.ListEscapes(ctx, "acme/web", store.Window{From: base, To: base.Add(time.Hour)})
	must(t, err, "list escapes")
	equal(t, "one escape per (repo, fingerprint) under concurrency", len(esc), 1)
}

// testConcurrentNotFound mixes writes that find nothing to change with writes
// that succeed: each gets its own answer (a backend that shares transactions
// between concurrent writes must not let one's outcome leak into another's).
func testConcurrentNotFound(t *testing.T, s store.Store) {
	ctx := context.Background()
	kinds := []struct {
		name string
		fn   func(i int) error
	}{
		{"delete a missing setting", func(i int) error {
			err := s.DeleteSetting(ctx, fmt.Sprintf("missing-%d", i))
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("delete a missing setting: got %v, want store.ErrNotFound", err)
			}
			return nil
		}},
		{"update a missing exception", func(i int) error {
			err := s.UpdateException(ctx, store.Exception{ID: int64(1000 + i), Repo: "acme/web", CreatedAt: base})
			if !errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("update a missing exception: got %v, want store.ErrNotFound", err)
			}
			return nil
		}},
		{"claim and mark", func(i int) error {
			won, err := s.ClaimOnce(ctx, fmt.Sprintf("claim-%d", i), []byte("v"))
			if err != nil || !won {
				return fmt.Errorf("claim a new key: won=%v, %v", won, err)
			}
			first, err := s.MarkDelivery(ctx, fmt.Sprintf("d-%d", i), base)
			if err != nil || !first {
				return fmt.Errorf("mark a new delivery: first=%v, %v", first, err)
			}
			return nil
		}},
		{"put and delete a setting", func(i int) error {
			key := fmt.Sprintf("tmp-%d", i)
			if err := s.PutSetting(ctx, key, []byte("v")); err != nil {
				return err
			}
			return s.DeleteSetting(ctx, key)
		}},
	}
	const n = 32
	parallel(t, n, func(i int) error { return kinds[i%len(kinds)].fn(i) })
	for i := range n {
		switch kinds[i%len(kinds)].name {
		case "claim and mark":
			_, err := s.GetSetting(ctx, fmt.Sprintf("claim-%d", i))
			must(t, err, "get a claimed setting")
		case "put and delete a setting":
			_, err := s.GetSetting(ctx, fmt.Sprintf("tmp-%d", i))
			notFound(t, err, "get a deleted setting")
		}
	}
}

func testCanceledContext(t *testing.T, s store.Store) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.MarkDelivery(ctx, "d", base); !errors.Is(err, context.Canceled) {
		t.Errorf("mark delivery with a canceled context: got %v, want context.Canceled", err)
	}
	if _, err := s.DeliverySeen(ctx, "d"); !errors.Is(err, context.Canceled) {
		t.Errorf("delivery seen with a canceled context: got %v, want context.Canceled", err)
	}
	if _, err := s.ListCaught(ctx, "acme/web", store.Window{From: base, To: base.Add(time.Hour)}); !errors.Is(err, context.Canceled) {
		t.Errorf("list caught with a canceled context: got %v, want context.Canceled", err)
	}
}

// parallel runs fn(0..n-1) at once and fails the test on any error.
func parallel(t *testing.T, n int, fn func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			if err := fn(i); err != nil {
				errs <- err
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
