package open_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/open"
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
)

func TestParse(t *testing.T) {
	cases := []struct {
		in       string
		kind     open.Kind
		target   string
		errorHas string
	}{
		{in: "bolt:/var/lib/escapegate/escapegate.db", kind: open.Bolt, target: "/var/lib/escapegate/escapegate.db"},
		{in: "bolt:data/e.db", kind: open.Bolt, target: "data/e.db"},
		{in: "bolt:///var/lib/e.db", kind: open.Bolt, target: "/var/lib/e.db"},
		{in: "BOLT:/x.db", kind: open.Bolt, target: "/x.db"},
		{in: "/var/lib/e.db", kind: open.Bolt, target: "/var/lib/e.db"},
		{in: "e.db", kind: open.Bolt, target: "e.db"},
		{in: "./dir:with/colon.db", kind: open.Bolt, target: "./dir:with/colon.db"},
		{in: "  /padded.db ", kind: open.Bolt, target: "/padded.db"},
		{in: "postgres://u@db/escapegate?sslmode=disable", kind: open.Postgres, target: "postgres://u@db/escapegate?sslmode=disable"},
		{in: "postgresql://u@db/escapegate", kind: open.Postgres, target: "postgresql://u@db/escapegate"},
		{in: "", errorHas: "no store configured"},
		{in: "bolt:", errorHas: "without a file path"},
		{in: "mysql://root:hunter2@db/x", errorHas: `unsupported store URL scheme "mysql"`},
		{in: "redis:6379", errorHas: `"redis"`},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			kind, target, err := open.Parse(c.in)
			if c.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errorHas) {
					t.Fatalf("got %v, want an error containing %q", err, c.errorHas)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error quotes the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if kind != c.kind || target != c.target {
				t.Errorf("got (%s, %q), want (%s, %q)", kind, target, c.kind, c.target)
			}
		})
	}
}

func TestOpenBolt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "e.db")
	for _, url := range []string{"bolt:" + path, path} {
		s, err := open.Open(ctx, url)
		if err != nil {
			t.Fatalf("open %s: %v", url, err)
		}
		if _, ok := s.(*bolt.Store); !ok {
			t.Errorf("open %s: got %T, want *bolt.Store", url, s)
		}
		// While one holder has the file, another open fails with ErrLocked.
		if _, err := open.Open(ctx, url); !errors.Is(err, store.ErrLocked) {
			t.Errorf("second open of %s: got %v, want store.ErrLocked", url, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
}

func TestOpenPostgres(t *testing.T) {
	dsn := pgtest.FreshSchema(t)
	s, err := open.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Errorf("got %T, want *postgres.Store", s)
	}
	if err := s.Migrate(context.Background()); err != nil {
		t.Errorf("migrate: %v", err)
	}
}
