package server_test

import (
	"context"
	"fmt"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// benchPR sets up a 20-file pull request (one file with a secret) on a fresh harness.
func benchPR(b *testing.B, workers int, durable bool) (*demo.Harness, events.Repo, events.PR) {
	b.Helper()
	h, err := demo.NewHarness(context.Background(), demo.Options{Dir: b.TempDir(), PolicyTTL: 5 * time.Minute, Workers: workers, QueueSize: 10000, Durable: durable})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(h.Close)
	repo := events.Repo{ID: 1, FullName: "acme/svc", DefaultBranch: "main"}
	h.GitHub.AddRepo(repo.FullName, "main")
	var files []fakegithub.PullFile
	for i := 0; i < 20; i++ {
		patch := "@@ -10,3 +10,8 @@ func f() {\n ctx := context.Background()\n+\tx := compute(ctx)\n+\tif x > 0 {\n+\t\treturn fmt.Errorf(\"bad %d\", x)\n+\t}\n+\tlog.Printf(\"ok\")\n \treturn nil\n }"
		if i == 7 {
			patch = "@@ -1,1 +1,2 @@\n A=1\n+TOKEN=" + fakecreds.FakeGitHubPAT()
		}
		files = append(files, fakegithub.PullFile{Filename: fmt.Sprintf("pkg/f%02d.go", i), Status: "modified", Patch: patch, Additions: 5})
	}
	pr := events.PR{Number: 1, Author: "alice", HeadSHA: fmt.Sprintf("%040d", 0), HeadRef: "f", BaseSHA: fmt.Sprintf("%040d", 1), BaseRef: "main"}
	h.GitHub.AddPull(repo.FullName, fakegithub.Pull{Number: 1, Author: "alice", HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, Files: files})
	return h, repo, pr
}

// BenchmarkWebhookToCheckRun measures one synchronize of a 20-file PR, from the signed
// POST to the completed check run on the fake GitHub (localhost), one at a time.
func BenchmarkWebhookToCheckRun(b *testing.B) {
	for _, durable := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", durable), func(b *testing.B) { benchLatency(b, durable) })
	}
}

func benchLatency(b *testing.B, durable bool) {
	h, repo, pr := benchPR(b, 2, durable)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pr.HeadSHA = fmt.Sprintf("%040d", i+2)
		start := time.Now()
		status, err := h.Send(ctx, "pull_request", events.PullRequest(7, repo, "synchronize", pr, "alice"))
		if err != nil || status != 200 {
			b.Fatalf("status %d: %v", status, err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	if runs := h.GitHub.CheckRuns(repo.FullName); len(runs) < b.N || runs[len(runs)-1].Conclusion != "failure" {
		b.Fatalf("check runs: %d, last %+v", len(runs), runs[len(runs)-1].Conclusion)
	}
}

// BenchmarkWebhookThroughput sends synchronize events from many goroutines and reports
// the sustained rate of completed PR events per second.
func BenchmarkWebhookThroughput(b *testing.B) {
	for _, durable := range []bool{true, false} {
		b.Run(fmt.Sprintf("fsync=%v", durable), func(b *testing.B) { benchThroughput(b, durable) })
	}
}

func benchThroughput(b *testing.B, durable bool) {
	h, repo, pr := benchPR(b, 8, durable)
	ctx := context.Background()
	var seq atomic.Int64
	// GitHub sends deliveries concurrently; each sender waits for its delivery to be
	// committed, so a handful of senders would measure the commit's latency, not the rate.
	b.SetParallelism(16)
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			p := pr
			p.HeadSHA = fmt.Sprintf("%040d", seq.Add(1)+1)
			req, err := fakegithub.NewWebhookRequest(ctx, h.URL, h.Secret, "pull_request", fmt.Sprintf("tp-%d", seq.Load()), events.PullRequest(7, repo, "synchronize", p, "alice"))
			if err != nil {
				b.Error(err)
				return
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			resp.Body.Close()
		}
	})
	h.Server.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "events/s")
}

var httpClient = newHTTPClient()
