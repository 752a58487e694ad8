package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/escapegate/escapegate/checks"
	"github.com/escapegate/escapegate/store"
)

// The daily counts behind CountCaught (schema version 4) must give exactly what
// counting the listed records gives, for any window: across midnights, on them,
// inside one day, empty, and with repeated fingerprints that count once.

var dailySeverities = []string{"critical", "high", "medium", "low", "bogus"}

// seedDaily records deterministic detections over about 40 days in acme/web and
// its neighbours through record, twice each (the repeat must change nothing).
func seedDaily(t *testing.T, record func(store.Caught) error) {
	t.Helper()
	r := rand.New(rand.NewPCG(4, 2))
	start := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	for i := range 400 {
		repo := []string{"acme/web", "Acme/Web", "acme/web2", "acme/we"}[r.IntN(4)]
		at := start.Add(time.Duration(r.Int64N(int64(40*24*time.Hour))) / time.Microsecond * time.Microsecond)
		if i%25 == 0 {
			at = start.Add(time.Duration(r.IntN(40)) * 24 * time.Hour) // on a midnight
		}
		c := caught(repo, fmt.Sprintf("fp%03d", i), dailySeverities[r.IntN(len(dailySeverities))], at)
		for range 2 {
			if err := record(c); err != nil {
				t.Fatalf("record %s: %v", c.Fingerprint, err)
			}
		}
	}
}

// dailyWindows are the windows checked: fixed edge cases and random ones.
func dailyWindows() []store.Window {
	midnight := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	ws := []store.Window{
		{From: time.Time{}, To: midnight.AddDate(1, 0, 0)},
		{From: midnight, To: midnight.Add(24 * time.Hour)},
		{From: midnight, To: midnight.Add(10 * 24 * time.Hour)},
		{From: midnight.Add(time.Microsecond), To: midnight.Add(48*time.Hour - time.Microsecond)},
		{From: midnight.Add(3 * time.Hour), To: midnight.Add(5 * time.Hour)},
		{From: midnight.Add(-time.Hour), To: midnight.Add(time.Hour)},
		{From: midnight, To: midnight},
		{From: midnight.Add(5 * 24 * time.Hour), To: midnight},
		{From: midnight.AddDate(0, 6, 0), To: midnight.AddDate(0, 7, 0)},
	}
	r := rand.New(rand.NewPCG(7, 7))
	lo := midnight.Add(-15 * 24 * time.Hour)
	for range 60 {
		a := lo.Add(time.Duration(r.Int64N(int64(45*24*time.Hour))) / time.Microsecond * time.Microsecond)
		b := a.Add(time.Duration(r.Int64N(int64(20*24*time.Hour))) / time.Microsecond * time.Microsecond)
		ws = append(ws, store.Window{From: a, To: b})
	}
	return ws
}

// checkDailyCounts compares CountCaught and CountCaughtWindows with the count of
// ListCaught's records at each minimum severity.
func checkDailyCounts(t *testing.T, s store.Store) {
	t.Helper()
	ctx := context.Background()
	ws := dailyWindows()
	for _, min := range []string{"critical", "high", "medium", "low"} {
		got, err := s.CountCaughtWindows(ctx, "ACME/web", ws, min)
		must(t, err, "count windows")
		equal(t, "number of counts", len(got), len(ws))
		for i, w := range ws {
			list, err := s.ListCaught(ctx, "acme/web", w)
			must(t, err, "list")
			want := 0
			for _, c := range list {
				if checks.Severity(c.Severity).AtLeast(checks.Severity(min)) {
					want++
				}
			}
			n, err := s.CountCaught(ctx, "acme/Web", w, min)
			must(t, err, "count")
			if n != want || (i < len(got) && got[i] != want) {
				t.Errorf("window %d [%s, %s) at least %s: CountCaught %d, CountCaughtWindows %d, listed %d", i,
					w.From.Format(time.RFC3339Nano), w.To.Format(time.RFC3339Nano), min, n, got[i], want)
			}
		}
	}
	if n, err := s.CountCaughtWindows(ctx, "acme/web", nil, "critical"); err != nil || len(n) != 0 {
		t.Errorf("no windows: %v, %v", n, err)
	}
	if _, err := s.CountCaughtWindows(ctx, "acme/web", ws, "severe"); err == nil {
		t.Errorf("count with an unknown severity: want an error")
	}
}

func testCountCaughtDaily(t *testing.T, s store.Store) {
	ctx := context.Background()
	half := 0
	seedDaily(t, func(c store.Caught) error {
		half++
		if half%2 == 0 { // half through RecordScan, in batches of one scan each
			_, err := s.RecordScan(ctx, scanOf(c.Repo, "sha-"+c.Fingerprint, c.At, c.Fingerprint), []store.Caught{c, c})
			return err
		}
		_, err := s.RecordCaught(ctx, c)
		return err
	})
	checkDailyCounts(t, s)
}

// RunMigrationFromV3 checks the migration of a store that a schema version 3
// build left with caught records: the daily counts are built from them, and
// detections recorded after the migration add to them. newV3 returns a new store
// migrated to version 3 only (the suite closes it); recordV3 records a detection
// as a version 3 build did.
func RunMigrationFromV3(t *testing.T, newV3 func(t *testing.T) store.Store, recordV3 func(s store.Store, c store.Caught) error) {
	ctx := context.Background()
	s := newV3(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	v, err := s.SchemaVersion(ctx)
	must(t, err, "schema version")
	equal(t, "schema version of the store to migrate", v, 3)
	n := 0
	var later []store.Caught
	seedDaily(t, func(c store.Caught) error {
		n++
		if n%6 == 0 {
			later = append(later, c) // recorded after the migration
			return nil
		}
		return recordV3(s, c)
	})
	must(t, s.Migrate(ctx), "migrate")
	v, err = s.SchemaVersion(ctx)
	must(t, err, "schema version")
	equal(t, "schema version after migrating", v, store.SchemaVersion)
	for _, c := range later {
		_, err := s.RecordCaught(ctx, c)
		must(t, err, "record after migrating")
	}
	checkDailyCounts(t, s)
}

// testReadLedgers: ReadLedgers answers each query exactly as ListEscapes,
// ListExceptions and CountCaughtWindows do, for repositories with and without
// records, repeated queries, names in another case and empty windows.
func testReadLedgers(t *testing.T, s store.Store) {
	ctx := context.Background()
	seedDaily(t, func(c store.Caught) error {
		_, err := s.RecordCaught(ctx, c)
		return err
	})
	start := time.Date(2026, 2, 20, 0, 0, 0, 0, time.UTC)
	for i := range 60 {
		repo := []string{"acme/web", "acme/web2", "acme/we"}[i%3]
		at := start.Add(time.Duration(i) * 17 * time.Hour)
		_, _, err := s.AddEscape(ctx, store.Escape{Repo: repo, Fingerprint: fmt.Sprintf("e%d", i), Kind: store.EscapeMissed,
			Severity: "critical", DetectedAt: at, At: at})
		must(t, err, "add escape")
		_, _, err = s.AddException(ctx, store.Exception{Repo: repo, PR: i, Approver: "lead", Fingerprints: []string{"x"},
			CreatedAt: at, ExpiresAt: at.Add(time.Hour), DeliveryID: fmt.Sprintf("d%d", i)})
		must(t, err, "add exception")
	}
	// Records with every field set, so that a field a backend's batched read forgets shows.
	var full store.Escape
	fill(t, &full)
	full.Repo, full.DetectedAt = "acme/web", start.Add(time.Hour)
	_, _, err := s.AddEscape(ctx, full)
	must(t, err, "add a full escape")
	var fullExc store.Exception
	fill(t, &fullExc)
	fullExc.Repo, fullExc.CreatedAt = "acme/web", start.Add(time.Hour)
	_, _, err = s.AddException(ctx, fullExc)
	must(t, err, "add a full exception")
	ws := dailyWindows()
	ws[0] = store.Window{From: start, To: start.AddDate(0, 2, 0)} // holds the full records
	var qs []store.LedgerQuery
	for i, repo := range []string{"acme/web", "ACME/WEB2", "acme/we", "acme/none", "acme/web"} {
		qs = append(qs, store.LedgerQuery{Repo: repo, Escapes: ws[i%len(ws)], Exceptions: ws[(i+3)%len(ws)], Caught: ws[i:]})
	}
	qs = append(qs, store.LedgerQuery{Repo: "acme/web"})                                    // nothing asked
	qs = append(qs, store.LedgerQuery{Repo: "acme/web", Escapes: ws[0], Exceptions: ws[0]}) // the full records
	for _, min := range []string{"critical", "low"} {
		got, err := s.ReadLedgers(ctx, qs, min)
		must(t, err, "read ledgers")
		equal(t, "number of ledgers", len(got), len(qs))
		for i, q := range qs {
			esc, err := s.ListEscapes(ctx, q.Repo, q.Escapes)
			must(t, err, "list escapes")
			exc, err := s.ListExceptions(ctx, q.Repo, 0, q.Exceptions)
			must(t, err, "list exceptions")
			n, err := s.CountCaughtWindows(ctx, q.Repo, q.Caught, min)
			must(t, err, "count")
			if len(esc)+len(exc) == 0 && i < 3 {
				t.Errorf("query %d reads nothing: the case checks nothing", i)
			}
			equal(t, fmt.Sprintf("escapes of query %d", i), orNilSlice(got[i].Escapes), orNilSlice(esc))
			equal(t, fmt.Sprintf("exceptions of query %d", i), orNilSlice(got[i].Exceptions), orNilSlice(exc))
			equal(t, fmt.Sprintf("counts of query %d at least %s", i, min), got[i].Caught, n)
		}
	}
	if got, err := s.ReadLedgers(ctx, nil, "critical"); err != nil || len(got) != 0 {
		t.Errorf("no queries: %v, %v", got, err)
	}
	if _, err := s.ReadLedgers(ctx, qs, "severe"); err == nil {
		t.Errorf("an unknown severity: want an error")
	}
}

// fill sets every field of *p to a distinct non-zero value (times at microseconds,
// the precision stores keep).
func fill(t *testing.T, p any) {
	t.Helper()
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		switch {
		case f.Kind() == reflect.String:
			f.SetString(fmt.Sprintf("%s-ü-%d", name, i))
		case f.Kind() == reflect.Int || f.Kind() == reflect.Int64:
			f.SetInt(int64(1000 + i))
		case f.Kind() == reflect.Bool:
			f.SetBool(true)
		case f.Type() == reflect.TypeOf([]string(nil)):
			f.Set(reflect.ValueOf([]string{"a", "", "c"}))
		case f.Type() == reflect.TypeOf(time.Time{}):
			f.Set(reflect.ValueOf(time.Date(2026, 3, 1, 12, i, 7, 123456000, time.UTC)))
		default:
			t.Fatalf("field %s of type %s: teach fill (and the backends' batched reads) about it", name, f.Type())
		}
	}
}

// orNilSlice makes an empty slice nil, so that backends may return either.
func orNilSlice[T any](s []T) []T {
	if len(s) == 0 {
		return nil
	}
	return s
}
