package postgres_test

import (
	"context"
	"testing"

	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
	"github.com/escapegate/escapegate/store/storetest"
)

// benchStore opens a migrated store in a fresh schema. synchronous_commit=off
// only speeds up loading the data; the measured queries are reads.
func benchStore(b *testing.B) *postgres.Store {
	ctx := context.Background()
	s := open(b, pgtest.FreshSchema(b)+"&synchronous_commit=off")
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkEscapeReport(b *testing.B) { storetest.BenchEscapeReport(b, benchStore(b)) }

func BenchmarkMonthlySummary(b *testing.B) { storetest.BenchMonthlySummary(b, benchStore(b)) }
