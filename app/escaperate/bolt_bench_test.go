package escaperate_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/escapegate/escapegate/app/escaperate/escaperatetest"
	"github.com/escapegate/escapegate/store/bolt"
)

// boltWith opens a fresh bbolt store (no fsync: a benchmark, not a durability test)
// and seeds it with the given organisation.
func boltWith(b *testing.B, o escaperatetest.OrgShape) *bolt.Store {
	b.Helper()
	ctx := context.Background()
	st, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if err := escaperatetest.SeedOrg(ctx, st, o); err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkCompute100kBolt is BenchmarkCompute100k against the bbolt backend.
func BenchmarkCompute100kBolt(b *testing.B) {
	benchCompute100k(b, boltWith(b, shape100k))
}

// BenchmarkOrgMonth2000Bolt is BenchmarkOrgMonth2000 against the bbolt backend.
func BenchmarkOrgMonth2000Bolt(b *testing.B) {
	benchOrgMonth2000(b, boltWith(b, shape2000))
}
