// Package pgtest gives each test its own PostgreSQL schema, so tests and
// packages that run in parallel never see each other's tables.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultDSN is the server the tests use unless ESCAPEGATE_TEST_POSTGRES names another.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ServerDSN returns the test server's DSN.
func ServerDSN() string {
	if d := os.Getenv("ESCAPEGATE_TEST_POSTGRES"); d != "" {
		return d
	}
	return DefaultDSN
}

// FreshSchema creates a schema with a random name and returns a DSN whose
// search_path selects it; the schema is dropped when the test ends. When the
// server is unreachable the test skips, or fails if ESCAPEGATE_REQUIRE_POSTGRES=1.
func FreshSchema(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	server := ServerDSN()
	conn, err := pgx.Connect(ctx, server)
	if err != nil {
		if os.Getenv("ESCAPEGATE_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL is required (ESCAPEGATE_REQUIRE_POSTGRES=1) but unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable, skipping (set ESCAPEGATE_TEST_POSTGRES, or ESCAPEGATE_REQUIRE_POSTGRES=1 to fail): %v", err)
	}
	defer conn.Close(context.Background())

	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("random schema name: %v", err)
	}
	schema := "escapegate_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(server)
	if err != nil {
		t.Fatalf("ESCAPEGATE_TEST_POSTGRES must be a postgres:// URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
