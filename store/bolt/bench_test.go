package bolt_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/escapegate/escapegate/store/bolt"
	"github.com/escapegate/escapegate/store/storetest"
)

// benchStore opens a migrated store; NoSync only speeds up loading the data,
// the measured queries are read transactions.
func benchStore(b *testing.B) *bolt.Store {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	return s
}

func BenchmarkEscapeReport(b *testing.B) { storetest.BenchEscapeReport(b, benchStore(b), nil) }

func BenchmarkMonthlySummary(b *testing.B) { storetest.BenchMonthlySummary(b, benchStore(b), nil) }
