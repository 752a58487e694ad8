package server_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// TestAPIBudgetPerSynchronize counts the REST calls one synchronize of a 100-file PR
// costs once the policy is known (DESIGN §7: 2, the files listing and the check run
// created completed). With a policy TTL (serve's default) unchanged policy files cost
// nothing; without one each costs a conditional request that GitHub answers 304, which
// does not count against the rate limit. The scan is given an hour before its run shows
// as in progress, so that a loaded machine cannot make it a slow scan.
func TestAPIBudgetPerSynchronize(t *testing.T) {
	for _, tc := range []struct {
		name        string
		ttl         time.Duration
		maxCalls    int
		conditional int
	}{
		{"policy cached (policy_ttl 5m)", 5 * time.Minute, 2, 0},
		{"policy re-validated every event (policy_ttl 0)", 0, 4, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			h, err := demo.NewHarness(ctx, demo.Options{Dir: t.TempDir(), PolicyTTL: tc.ttl, InProgressAfter: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer h.Close()
			repo := events.Repo{ID: 5, FullName: "acme/big", DefaultBranch: "main"}
			h.GitHub.AddRepo(repo.FullName, "main")
			h.GitHub.AddRepo("acme/.github", "main")
			h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("fail_on: high\n"))
			var files []fakegithub.PullFile
			for i := 0; i < 100; i++ {
				files = append(files, fakegithub.PullFile{Filename: fmt.Sprintf("src/f%03d.go", i), Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n package src\n+var x = 1"})
			}
			pr := events.PR{Number: 1, Author: "a", HeadSHA: strings.Repeat("1", 40), HeadRef: "f", BaseSHA: strings.Repeat("0", 40), BaseRef: "main"}
			h.GitHub.AddPull(repo.FullName, fakegithub.Pull{Number: 1, Author: "a", HeadSHA: pr.HeadSHA, BaseSHA: pr.BaseSHA, Files: files})
			if _, err := h.Send(ctx, "pull_request", events.PullRequest(3, repo, "opened", pr, "a")); err != nil {
				t.Fatal(err)
			}
			h.GitHub.ResetRequests()
			pr.HeadSHA = strings.Repeat("2", 40)
			if _, err := h.Send(ctx, "pull_request", events.PullRequest(3, repo, "synchronize", pr, "a")); err != nil {
				t.Fatal(err)
			}
			reqs := h.GitHub.Requests()
			contents := 0
			for _, r := range reqs {
				if strings.Contains(r.Path, "/contents/") {
					contents++
				}
			}
			if len(reqs) > tc.maxCalls || contents != tc.conditional {
				var lines []string
				for _, r := range reqs {
					lines = append(lines, r.Method+" "+r.Path)
				}
				t.Fatalf("%d calls (%d policy reads), want ≤ %d (%d):\n%s", len(reqs), contents, tc.maxCalls, tc.conditional, strings.Join(lines, "\n"))
			}
		})
	}
}
