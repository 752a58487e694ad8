package handlers_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// groupFiles are a 20-file group, one file adding a GitHub token.
func groupFiles() []fakegithub.PullFile {
	var files []fakegithub.PullFile
	for i := 0; i < 20; i++ {
		patch := "@@ -10,3 +10,8 @@ func f() {\n ctx := context.Background()\n+\tx := compute(ctx)\n+\tif x > 0 {\n+\t\treturn fmt.Errorf(\"bad %d\", x)\n+\t}\n+\tlog.Printf(\"ok\")\n \treturn nil\n }"
		if i == 7 {
			patch = "@@ -1,1 +1,2 @@\n A=1\n+TOKEN=" + fakecreds.FakeGitHubPAT()
		}
		files = append(files, fakegithub.PullFile{Filename: fmt.Sprintf("pkg/f%02d.go", i), Status: "modified", Patch: patch, Additions: 5})
	}
	return files
}

// TestAPIBudgetPerMergeGroup counts the requests of one merge group once the policy is
// known (policy_ttl 5m, serve's default): the compare and the check run, created completed.
func TestAPIBudgetPerMergeGroup(t *testing.T) {
	e, _ := newEnvOpts(t, demo.Options{PolicyTTL: 5 * time.Minute})
	q := e.queue()
	q.enqueue(1, groupFiles()...) // loads the policy
	e.h.GitHub.ResetRequests()
	q.enqueue(2, groupFiles()...)
	var calls []string
	for _, r := range e.h.GitHub.Requests() {
		calls = append(calls, r.Method+" "+r.Path)
	}
	if len(calls) != 2 || !strings.Contains(calls[0], "/compare/") || !strings.HasSuffix(calls[1], "/check-runs") {
		t.Fatalf("a merge group asked GitHub %q, want the compare and one check-run create", calls)
	}
}

// BenchmarkMergeGroupToCheckRun measures one merge_group checks_requested of a 20-file
// group, from the signed POST to the completed check run on the fake GitHub, one at a
// time, durable inbox on (bbolt with fsync, as serve runs).
func BenchmarkMergeGroupToCheckRun(b *testing.B) {
	h, err := demo.NewHarness(context.Background(), demo.Options{Dir: b.TempDir(), PolicyTTL: 5 * time.Minute, Workers: 2, QueueSize: 10000, Durable: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(h.Close)
	repo := events.Repo{ID: 1, FullName: "acme/svc", DefaultBranch: "main"}
	h.GitHub.AddRepo(repo.FullName, "main")
	files := groupFiles()
	base := fmt.Sprintf("%040d", 1)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		g := events.Group{HeadSHA: fmt.Sprintf("%040d", i+2), BaseSHA: base, Base: "main", PR: i%50 + 1}
		h.GitHub.SetCompare(repo.FullName, base, g.HeadSHA, files)
		h.GitHub.SetCompareCommits(repo.FullName, base, g.HeadSHA, g.HeadSHA)
		payload := events.MergeGroup(7, repo, "checks_requested", "", g, "github-merge-queue[bot]")
		b.StartTimer()
		start := time.Now()
		status, err := h.Send(ctx, "merge_group", payload)
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
		b.Fatalf("check runs: %d", len(runs))
	}
}
