package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
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

// budgetRepo sets up acme/app with PR #1 opened at head "1" (a leaked key in
// deploy/prod.env) and then pushed to head "2" (clean), both checked, on a harness whose
// policy stays cached; the fake's request record starts empty.
func budgetRepo(t *testing.T) (*demo.Harness, events.Repo, events.PR, string) {
	t.Helper()
	ctx := context.Background()
	h, err := demo.NewHarness(ctx, demo.Options{Dir: t.TempDir(), PolicyTTL: 5 * time.Minute, InProgressAfter: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	repo := events.Repo{ID: 42, FullName: "acme/app", DefaultBranch: "main"}
	h.GitHub.AddRepo(repo.FullName, "main")
	h.GitHub.AddRepo("acme/.github", "main")
	h.GitHub.AddInstallation(3, repo.FullName, "acme/.github")
	h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("fail_on: high\n"))
	leak := fakegithub.PullFile{Filename: "deploy/prod.env", Status: "added", Additions: 1,
		Patch: "@@ -0,0 +1 @@\n+AWS_ACCESS_KEY_ID=" + fakecreds.FakeAWSKey()}
	clean := fakegithub.PullFile{Filename: "README.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n # app\n+more"}
	old := strings.Repeat("1", 40)
	pr := events.PR{Number: 1, Author: "a", Title: "change", HeadSHA: old, HeadRef: "f", BaseSHA: strings.Repeat("0", 40), BaseRef: "main"}
	h.GitHub.AddPull(repo.FullName, fakegithub.Pull{Number: 1, Author: "a", Title: "change", HeadSHA: pr.HeadSHA, HeadRef: "f",
		BaseSHA: pr.BaseSHA, BaseRef: "main", Files: []fakegithub.PullFile{leak}})
	h.GitHub.SetCompare(repo.FullName, pr.BaseSHA, old, []fakegithub.PullFile{leak})
	send(t, h, "pull_request", events.PullRequest(3, repo, "opened", pr, "a"))
	pr.HeadSHA = strings.Repeat("2", 40)
	h.GitHub.AddPull(repo.FullName, fakegithub.Pull{Number: 1, Author: "a", Title: "change", HeadSHA: pr.HeadSHA, HeadRef: "f",
		BaseSHA: pr.BaseSHA, BaseRef: "main", Files: []fakegithub.PullFile{clean}})
	send(t, h, "pull_request", events.PullRequest(3, repo, "synchronize", pr, "a"))
	for sha, want := range map[string]string{old: "failure", pr.HeadSHA: "success"} {
		if got := lastConclusion(h, repo.FullName, sha); got != want {
			t.Fatalf("setup: check on %s is %q, want %s", sha[:1], got, want)
		}
	}
	h.GitHub.ResetRequests()
	return h, repo, pr, old
}

func send(t *testing.T, h *demo.Harness, event string, payload []byte) {
	t.Helper()
	if code, err := h.Send(context.Background(), event, payload); err != nil || code < 200 || code > 299 {
		t.Fatalf("%s: %d, %v", event, code, err)
	}
}

// lastConclusion is the conclusion of the newest check run on sha ("": none).
func lastConclusion(h *demo.Harness, repo, sha string) string {
	c := ""
	for _, r := range h.GitHub.CheckRuns(repo) {
		if r.HeadSHA == sha {
			c = r.Conclusion
		}
	}
	return c
}

// calls lists the requests about repo the fake received, as "METHOD path" (the path
// after the repository, without the query).
func calls(h *demo.Harness, repo string) []string {
	var out []string
	prefix := "/repos/" + repo + "/"
	for _, r := range h.GitHub.Requests() {
		path, _, _ := strings.Cut(r.Path, "?")
		if _, rest, ok := strings.Cut(path, prefix); ok {
			out = append(out, r.Method+" /"+rest)
		}
	}
	return out
}

// TestAPIBudgetPerRerun counts the REST calls a re-requested check costs (DESIGN §7: the
// same as a PR event, one read of the files and one write of the result). The payload's
// minimal pull request names the PR's head and base, so the PR is not read: a re-run of
// the current head lists its files, one of an older head compares base...that head (and
// still finds the key only that head has). A payload without head.sha reads the PR.
func TestAPIBudgetPerRerun(t *testing.T) {
	for _, tc := range []struct {
		name    string
		event   string
		payload func(repo events.Repo, pr events.PR, old string) []byte
		head    func(pr events.PR, old string) string // the commit re-checked
		want    []string
		verdict string
	}{
		{
			name: "check_run of the current head", event: "check_run",
			payload: func(repo events.Repo, pr events.PR, _ string) []byte {
				return events.CheckRunRerequested(3, repo, pr, 2, "a")
			},
			head: func(pr events.PR, _ string) string { return pr.HeadSHA },
			want: []string{"GET /pulls/1/files", "POST /check-runs"}, verdict: "success",
		},
		{
			name: "check_suite of the current head", event: "check_suite",
			payload: func(repo events.Repo, pr events.PR, _ string) []byte {
				return events.CheckSuiteRerequested(3, repo, pr, pr.HeadSHA, "a")
			},
			head: func(pr events.PR, _ string) string { return pr.HeadSHA },
			want: []string{"GET /pulls/1/files", "POST /check-runs"}, verdict: "success",
		},
		{
			name: "check_run of an older head", event: "check_run",
			payload: func(repo events.Repo, pr events.PR, old string) []byte {
				return events.CheckRunRerequestedOn(3, repo, pr, old, 1, "a")
			},
			head: func(_ events.PR, old string) string { return old },
			want: []string{"GET /compare/" + strings.Repeat("0", 40) + "..." + strings.Repeat("1", 40), "POST /check-runs"}, verdict: "failure",
		},
		{
			name: "check_run without the PR's head.sha", event: "check_run",
			payload: func(repo events.Repo, pr events.PR, _ string) []byte {
				pr.HeadSHA = ""
				var ev map[string]any
				raw := events.CheckRunRerequested(3, repo, pr, 2, "a")
				if err := json.Unmarshal(raw, &ev); err != nil {
					panic(err)
				}
				ev["check_run"].(map[string]any)["head_sha"] = strings.Repeat("2", 40)
				out, err := json.Marshal(ev)
				if err != nil {
					panic(err)
				}
				return out
			},
			head: func(pr events.PR, _ string) string { return pr.HeadSHA },
			want: []string{"GET /pulls/1", "GET /pulls/1/files", "POST /check-runs"}, verdict: "success",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h, repo, pr, old := budgetRepo(t)
			head := tc.head(pr, old)
			runs := len(h.GitHub.CheckRuns(repo.FullName))
			send(t, h, tc.event, tc.payload(repo, pr, old))
			if got := calls(h, repo.FullName); strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			if n := len(h.GitHub.Requests()); n != len(tc.want) {
				t.Fatalf("%d requests in all, want %d", n, len(tc.want))
			}
			if got := lastConclusion(h, repo.FullName, head); got != tc.verdict || len(h.GitHub.CheckRuns(repo.FullName)) != runs+1 {
				t.Fatalf("re-run on %s: %q, want %s (one new run)", head[:1], got, tc.verdict)
			}
		})
	}
}

// TestStaleRerunRedelivered: a re-run of head "1" requested while escapegate was down
// fails in GitHub's delivery log; its payload names "1" as the PR's head. The PR moves on
// to a clean head "2" before the recovery sweep has GitHub redeliver it. The redelivery
// reads the PR (its payload is not taken for now) and rescans head "1" itself, which
// still has the key: listing the PR's files would have put head "2"'s pass on it.
func TestStaleRerunRedelivered(t *testing.T) {
	h, repo, pr, old := budgetRepo(t)
	ctx := context.Background()
	stale := pr
	stale.HeadSHA = old
	const guid = "6f1c0a00-0000-4000-8000-0000000000aa"
	h.GitHub.AddHookDelivery(fakegithub.HookDelivery{GUID: guid, DeliveredAt: time.Now().Add(-time.Hour), StatusCode: 0,
		Event: "check_run", Payload: events.CheckRunRerequested(3, repo, stale, 1, "a")})
	rec, err := h.Recovery(h.GitHub.URL())
	if err != nil {
		t.Fatal(err)
	}
	runs := len(h.GitHub.CheckRuns(repo.FullName))
	res, err := rec.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.GitHub.WaitWebhooks()
	h.Server.Wait()
	if len(res.Redelivered) != 1 {
		t.Fatalf("sweep = %+v, want the re-run redelivered", res)
	}
	want := []string{"GET /pulls/1", "GET /compare/" + pr.BaseSHA + "..." + old, "POST /check-runs"}
	if got := calls(h, repo.FullName); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := lastConclusion(h, repo.FullName, old); got != "failure" || len(h.GitHub.CheckRuns(repo.FullName)) != runs+1 {
		t.Fatalf("redelivered re-run of head 1: %q, want failure (the key is in head 1)", got)
	}
}
