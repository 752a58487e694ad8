package bolt_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bbolt "go.etcd.io/bbolt"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/storetest"
)

func TestConformance(t *testing.T) {
	variants := []struct {
		name string
		opts bolt.Options
	}{
		{"batched", bolt.Options{}}, // the default: concurrent writes share commits
		{"unbatched", bolt.Options{MaxBatchDelay: -1}},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			storetest.Run(t, func(t *testing.T) store.Store {
				s, err := bolt.Open(filepath.Join(t.TempDir(), "escapegate.db"), v.opts)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				return s
			})
		})
	}
}

func TestMigrateFromV1(t *testing.T) {
	storetest.RunMigrationFromV1(t, func(t *testing.T) store.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "escapegate.db"), bolt.Options{})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if err := bolt.MigrateTo(context.Background(), s, 1); err != nil {
			t.Fatalf("migrate to version 1: %v", err)
		}
		return s
	})
}

func TestMigrateFromV3(t *testing.T) {
	var db *bolt.Store
	storetest.RunMigrationFromV3(t, func(t *testing.T) store.Store {
		s, err := bolt.Open(filepath.Join(t.TempDir(), "escapegate.db"), bolt.Options{NoSync: true})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		if err := bolt.MigrateTo(context.Background(), s, 3); err != nil {
			t.Fatalf("migrate to version 3: %v", err)
		}
		db = s
		return s
	}, func(_ store.Store, c store.Caught) error { return bolt.RecordCaughtV3(db, c) })
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "escapegate.db")
	held, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	// flock is per open file, so a second Open in this process contends like another process would.
	_, err = bolt.Open(path, bolt.Options{LockTimeout: 50 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: got %v, want an error wrapping store.ErrLocked", err)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
	if err := held.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	again, err := bolt.Open(path, bolt.Options{LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	if err := again.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
}

// TestReadOnly: a read-only open reads what a writer stored, refuses writes, shares
// the file with other readers and, like a writer, waits for serve's lock.
func TestReadOnly(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "escapegate.db")
	w, err := bolt.Open(path, bolt.Options{NoSync: true})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := w.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	c := store.Caught{Repo: "acme/web", Fingerprint: "fp", Severity: "critical", At: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)}
	if _, err := w.RecordCaught(ctx, c); err != nil {
		t.Fatalf("record: %v", err)
	}
	if _, err := bolt.Open(path, bolt.Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond}); !errors.Is(err, store.ErrLocked) {
		t.Fatalf("read-only open of a file held by a writer: got %v, want store.ErrLocked", err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	r1, err := bolt.Open(path, bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open: %v", err)
	}
	defer r1.Close()
	r2, err := bolt.Open(path, bolt.Options{ReadOnly: true, LockTimeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("second reader: %v", err)
	}
	defer r2.Close()
	w1 := store.Window{From: c.At, To: c.At.Add(time.Hour)}
	if n, err := r1.CountCaught(ctx, "acme/web", w1, "critical"); err != nil || n != 1 {
		t.Errorf("count read-only: %d, %v; want 1", n, err)
	}
	if _, err := r2.RecordCaught(ctx, store.Caught{Repo: "acme/web", Fingerprint: "fp2", Severity: "critical", At: c.At}); err == nil {
		t.Errorf("a write through a read-only store succeeded")
	}
	if _, err := bolt.Open(filepath.Join(t.TempDir(), "missing.db"), bolt.Options{ReadOnly: true}); err == nil {
		t.Errorf("read-only open of a missing file succeeded")
	}
}

func TestNotMigrated(t *testing.T) {
	s, err := bolt.Open(filepath.Join(t.TempDir(), "escapegate.db"), bolt.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	_, err = s.MarkDelivery(context.Background(), "d", time.Now())
	if err == nil || !strings.Contains(err.Error(), "migrate") {
		t.Errorf("use before migrate: got %v, want an error that says to migrate", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "escapegate.db")
	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	e, _, err := s.AddException(ctx, store.Exception{Repo: "acme/web", PR: 1, DeliveryID: "d1", CreatedAt: time.Now()})
	if err != nil {
		t.Fatalf("add: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	s, err = bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != store.SchemaVersion {
		t.Fatalf("schema version after reopen = %d, %v", v, err)
	}
	e2, _, err := s.AddException(ctx, store.Exception{Repo: "acme/web", PR: 1, DeliveryID: "d2", CreatedAt: time.Now()})
	if err != nil {
		t.Fatalf("add after reopen: %v", err)
	}
	if e2.ID <= e.ID {
		t.Errorf("ids must keep increasing across restarts: %d then %d", e.ID, e2.ID)
	}
}

func TestMigrateRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "escapegate.db")
	// Write a file as a future build would.
	db, err := bbolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatalf("bbolt open: %v", err)
	}
	err = db.Update(func(tx *bbolt.Tx) error {
		b, err := tx.CreateBucket([]byte("meta"))
		if err != nil {
			return err
		}
		return b.Put([]byte("schema_version"), []byte("99"))
	})
	if err != nil {
		t.Fatalf("write meta: %v", err)
	}
	db.Close()

	s, err := bolt.Open(path, bolt.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	if v, err := s.SchemaVersion(ctx); err != nil || v != 99 {
		t.Fatalf("schema version = %d, %v; want 99", v, err)
	}
	if err := s.Migrate(ctx); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("migrate a newer file: got %v, want a refusal", err)
	}
}
