package bolt_test

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/escapegate/escapegate/store"
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

// BenchmarkDurableWrites measures the writes of one pull_request event
// (MarkDelivery, then RecordScan with one caught finding) with fsync on, from
// one writer and from 8 concurrent ones, with and without shared commits.
// An op is one event.
func BenchmarkDurableWrites(b *testing.B) {
	modes := []struct {
		name  string
		delay time.Duration
	}{{"batched", 0}, {"unbatched", -1}}
	for _, m := range modes {
		for _, writers := range []int{1, 8} {
			b.Run(fmt.Sprintf("%s/writers=%d", m.name, writers), func(b *testing.B) {
				s, err := bolt.Open(filepath.Join(b.TempDir(), "bench.db"), bolt.Options{MaxBatchDelay: m.delay})
				if err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { s.Close() })
				ctx := context.Background()
				if err := s.Migrate(ctx); err != nil {
					b.Fatal(err)
				}
				var seq atomic.Int64
				event := func() error {
					i := seq.Add(1)
					at := time.Now()
					if _, err := s.MarkDelivery(ctx, fmt.Sprintf("delivery-%d", i), at); err != nil {
						return err
					}
					sha := fmt.Sprintf("%040d", i)
					fp := fmt.Sprintf("%064d", i)
					sc := store.Scan{Repo: "acme/svc", SHA: sha, PR: 1, CheckRunID: i, Conclusion: "failure", At: at,
						Findings: []store.Finding{{Fingerprint: fp, Rule: "github-pat", Category: "secret", Severity: "critical", Path: "pkg/f07.go", Line: 2, Redacted: "ghp_…(40)"}}}
					_, err := s.RecordScan(ctx, sc, []store.Caught{{Repo: "acme/svc", Fingerprint: fp, Rule: "github-pat", Severity: "critical", Path: "pkg/f07.go", PR: 1, SHA: sha, At: at}})
					return err
				}
				b.ResetTimer()
				if writers == 1 {
					for b.Loop() {
						if err := event(); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				procs := runtime.GOMAXPROCS(0)
				b.SetParallelism((writers + procs - 1) / procs) // RunParallel starts GOMAXPROCS × this many goroutines
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if err := event(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
