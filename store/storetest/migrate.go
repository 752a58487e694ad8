package storetest

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
)

// RunMigrationFromV1 checks the migration of a store that a schema version 1
// build left: the pending escapes, last releases and release comment ids that
// version 1 kept as settings become records, and those settings are deleted;
// every other setting stays. newV1 returns a new store migrated to version 1
// only; the suite closes it.
func RunMigrationFromV1(t *testing.T, newV1 func(t *testing.T) store.Store) {
	open := func(t *testing.T) store.Store {
		t.Helper()
		s := newV1(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		v, err := s.SchemaVersion(context.Background())
		must(t, err, "schema version")
		equal(t, "schema version of the store to migrate", v, 1)
		return s
	}
	t.Run("MovesSettings", func(t *testing.T) {
		t.Parallel()
		testMigrateMovesSettings(t, open(t))
	})
	t.Run("CorruptSettingChangesNothing", func(t *testing.T) {
		t.Parallel()
		testMigrateCorruptSetting(t, open(t))
	})
}

// v1Release is how version 1 encoded the last release.
func v1Release(tag string, at time.Time) []byte {
	raw, _ := json.Marshal(map[string]any{"tag": tag, "at": at})
	return raw
}

func testMigrateMovesSettings(t *testing.T, s store.Store) {
	ctx := context.Background()
	e1 := pendingEscape("Acme/Web", "fp1", base)
	e2 := pendingEscape("Acme/Web", "fp2", base.Add(time.Second))
	e1Again := e1 // version 1 appended blindly: a redelivered merge doubled its escapes
	e1Again.SHA = "again"
	e3 := pendingEscape("acme/api", "fp1", base)
	webPending, _ := json.Marshal([]store.Escape{e1, e2, e1Again})
	apiPending, _ := json.Marshal([]store.Escape{e3})
	moved := map[string][]byte{
		"pending/acme/web":            webPending,
		"pending/acme/api":            apiPending,
		"release/acme/web":            v1Release("v1.2.0", base.Add(time.Hour)),
		"release-comment/acme/web/12": []byte("4567"),
		"release-comment/acme/web/13": []byte("not an id"), // version 1 ignored it: dropped
	}
	kept := map[string][]byte{
		"fingerprint_key":                        {1, 2, 3},
		"policy/acme/web/.github/escapegate.yml": []byte(`{"etag":"x"}`),
		"summary/1/2026-03":                      []byte("claim"),
		"pending":                                []byte("not under pending/"),
		"releases/acme/web":                      []byte("not under release/"),
	}
	for _, m := range []map[string][]byte{moved, kept} {
		for k, v := range m {
			must(t, s.PutSetting(ctx, k, v), "put version 1 setting "+k)
		}
	}
	for i := range 2 { // a second Migrate changes nothing
		must(t, s.Migrate(ctx), "migrate")
		v, err := s.SchemaVersion(ctx)
		must(t, err, "schema version")
		equal(t, "schema version after migrate", v, store.SchemaVersion)
		if i == 1 {
			break
		}
		for k := range moved {
			_, err := s.GetSetting(ctx, k)
			notFound(t, err, "moved setting "+k)
		}
		rel, err := s.GetLastRelease(ctx, "acme/web")
		must(t, err, "get last release")
		equal(t, "last release", rel, store.Release{Tag: "v1.2.0", At: base.Add(time.Hour)})
		id, err := s.GetReleaseComment(ctx, "acme/web", 12)
		must(t, err, "get release comment")
		equal(t, "release comment id", id, int64(4567))
		_, err = s.GetReleaseComment(ctx, "acme/web", 13)
		notFound(t, err, "an unreadable release comment id")
		// Pending escapes go on, deduplicated: a redelivery of the doubled one adds nothing.
		n, err := s.AddPending(ctx, "acme/web", []store.Escape{e1Again})
		must(t, err, "add a migrated escape again")
		equal(t, "added of a migrated escape", n, 0)
	}
	for k, v := range kept {
		got, err := s.GetSetting(ctx, k)
		must(t, err, "get kept setting "+k)
		equal(t, "kept setting "+k, got, v)
	}
	list, err := s.TakePending(ctx, "ACME/WEB")
	must(t, err, "take pending of acme/web")
	equal(t, "pending of acme/web", list, []store.Escape{e1, e2})
	list, err = s.TakePending(ctx, "acme/api")
	must(t, err, "take pending of acme/api")
	equal(t, "pending of acme/api", list, []store.Escape{e3})
}

// testMigrateCorruptSetting fails the migration on pending escapes it cannot
// decode (dropping them would lose escapes): the store stays at version 1 with
// its settings, to be repaired and migrated again.
func testMigrateCorruptSetting(t *testing.T, s store.Store) {
	ctx := context.Background()
	settings := map[string][]byte{
		"release/acme/api": v1Release("v1", base),
		"pending/acme/web": []byte(`[{"fingerprint":`),
	}
	for k, v := range settings {
		must(t, s.PutSetting(ctx, k, v), "put version 1 setting "+k)
	}
	if err := s.Migrate(ctx); err == nil {
		t.Fatalf("migrate with corrupt pending escapes: want an error")
	}
	v, err := s.SchemaVersion(ctx)
	must(t, err, "schema version")
	equal(t, "schema version after a failed migration", v, 1)
	for k, want := range settings {
		got, err := s.GetSetting(ctx, k)
		must(t, err, "get setting "+k+" after a failed migration")
		equal(t, "setting "+k+" after a failed migration", got, want)
	}

	must(t, s.DeleteSetting(ctx, "pending/acme/web"), "repair")
	must(t, s.Migrate(ctx), "migrate after the repair")
	rel, err := s.GetLastRelease(ctx, "acme/api")
	must(t, err, "get last release")
	equal(t, "last release", rel, store.Release{Tag: "v1", At: base})
}
