package postgres_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
	"github.com/escapegate/escapegate/store/storetest"
)

func open(t testing.TB, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return open(t, pgtest.FreshSchema(t)) })
}

func TestMigrateFromV1(t *testing.T) {
	storetest.RunMigrationFromV1(t, func(t *testing.T) store.Store {
		s := open(t, pgtest.FreshSchema(t))
		if err := postgres.MigrateTo(context.Background(), s, 1); err != nil {
			t.Fatalf("migrate to version 1: %v", err)
		}
		return s
	})
}

func TestMigrateFromV3(t *testing.T) {
	storetest.RunMigrationFromV3(t, func(t *testing.T) store.Store {
		s := open(t, pgtest.FreshSchema(t))
		if err := postgres.MigrateTo(context.Background(), s, 3); err != nil {
			t.Fatalf("migrate to version 3: %v", err)
		}
		return s
	}, func(s store.Store, c store.Caught) error {
		// Version 3 inserted the same rows; only the trigger and table are new.
		_, err := s.RecordCaught(context.Background(), c)
		return err
	})
}

// Replicas that start together must apply the migrations once, without errors.
func TestConcurrentMigrate(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := open(t, dsn)
			defer s.Close()
			errs <- s.Migrate(context.Background())
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent migrate: %v", err)
		}
	}
	s := open(t, dsn)
	defer s.Close()
	if v, err := s.SchemaVersion(context.Background()); err != nil || v != store.SchemaVersion {
		t.Errorf("schema version = %d, %v; want %d", v, err, store.SchemaVersion)
	}
}

func TestSchemasAreIsolated(t *testing.T) {
	ctx := context.Background()
	a, b := open(t, pgtest.FreshSchema(t)), open(t, pgtest.FreshSchema(t))
	defer a.Close()
	defer b.Close()
	for _, s := range []*postgres.Store{a, b} {
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("migrate: %v", err)
		}
	}
	if err := a.PutSetting(ctx, "k", []byte("a")); err != nil {
		t.Fatalf("put: %v", err)
	}
	if _, err := b.GetSetting(ctx, "k"); err == nil {
		t.Errorf("a setting written through one search_path is visible through another")
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	cases := []struct{ name, dsn, want string }{
		{"unparsable, password not echoed", "postgres://u:hunter2@[::1/x", "cannot parse"},
		{"unreachable", "postgres://postgres@127.0.0.1:1/test?sslmode=disable&connect_timeout=1", "127.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := postgres.Open(ctx, c.dsn)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("open %s: got %v, want an error containing %q", c.name, err, c.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}
