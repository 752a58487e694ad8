package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
	"github.com/escapegate/escapegate/store/storetest"
)

// benchStore opens a migrated store in a fresh schema and returns the
// maintenance to run after loading. synchronous_commit=off only speeds up
// loading the data; the measured queries are reads.
func benchStore(b *testing.B) (*postgres.Store, func(b *testing.B)) {
	ctx := context.Background()
	dsn := pgtest.FreshSchema(b) + "&synchronous_commit=off"
	s := open(b, dsn)
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	// Autovacuum analyzes a table after a bulk load; do it now rather than race it.
	analyze := func(b *testing.B) {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "VACUUM ANALYZE caught, escapes, exceptions, repositories, installations"); err != nil {
			b.Fatal(err)
		}
	}
	return s, analyze
}

func BenchmarkEscapeReport(b *testing.B) {
	s, analyze := benchStore(b)
	storetest.BenchEscapeReport(b, s, analyze)
}

func BenchmarkMonthlySummary(b *testing.B) {
	s, analyze := benchStore(b)
	storetest.BenchMonthlySummary(b, s, analyze)
}
