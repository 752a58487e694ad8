package handlers_test

import (
	"strings"
	"testing"

	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// queue builds merge groups of acme/app's main queue on the fake GitHub and delivers
// their merge_group events, signed, through escapegate's webhook handler.
type queue struct {
	e       *env
	base    string
	commits []string // the commits of the groups so far, oldest first
}

func (e *env) queue() *queue { return &queue{e: e, base: sha("qbase")} }

// enqueue builds the group of pr on top of the groups before it (its commit holds
// theirs, as GitHub's merge queue builds each entry on the previous one) with files,
// what base...head of the group adds, and delivers checks_requested.
func (q *queue) enqueue(pr int, files ...fakegithub.PullFile) events.Group {
	g := events.Group{HeadSHA: sha("group" + string(rune('0'+pr))), BaseSHA: q.base, Base: "main", PR: pr}
	q.commits = append(q.commits, sha("commit"+string(rune('0'+pr))), g.HeadSHA)
	q.e.h.GitHub.SetCompare(q.e.repo.FullName, q.base, g.HeadSHA, files)
	q.e.h.GitHub.SetCompareCommits(q.e.repo.FullName, q.base, g.HeadSHA, q.commits...)
	q.e.send("merge_group", events.MergeGroup(q.e.inst, q.e.repo, "checks_requested", "", g, "github-merge-queue[bot]"))
	return g
}

// approvedPR opens PR n adding one secret file and has an admin accept it: its check is neutral.
func (e *env) approvedPR(n int, f fakegithub.PullFile) events.PR {
	e.t.Helper()
	e.h.GitHub.SetPermission(e.repo.FullName, "ada", "admin")
	pr := e.openPR(n, "alice", "head"+string(rune('0'+n)), f)
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		e.t.Fatalf("PR #%d before the label: %s %q", n, run.Conclusion, run.Title)
	}
	e.label(pr, overrideLabel, "ada")
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		e.t.Fatalf("PR #%d after the approval: %s %q", n, run.Conclusion, run.Title)
	}
	return pr
}

// eachHost runs test against github.com's fake and against a fake GitHub Enterprise
// Server (the API under /api/v3/ only, no rate limits, /rate_limit answering 404).
func eachHost(t *testing.T, test func(t *testing.T, e *env)) {
	for _, host := range []struct {
		name       string
		enterprise bool
	}{{"github.com", false}, {"GHES", true}} {
		t.Run(host.name, func(t *testing.T) {
			e, _ := newEnvOpts(t, demo.Options{Enterprise: host.enterprise})
			test(t, e)
			if !host.enterprise {
				return
			}
			for _, r := range e.h.GitHub.Requests() {
				if !strings.HasPrefix(r.Path, "/api/v3/") || strings.HasPrefix(r.Path, "/api/v3/rate_limit") {
					t.Errorf("on GHES escapegate asked %s %s", r.Method, r.Path)
				}
			}
		})
	}
}

func TestMergeGroupWithASecretFails(t *testing.T) { eachHost(t, testMergeGroupWithASecretFails) }

func testMergeGroupWithASecretFails(t *testing.T, e *env) {
	secret := envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey())
	pr := e.openPR(1, "alice", "h1", secret)
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("PR check: %s %q", run.Conclusion, run.Title)
	}
	g := e.queue().enqueue(1, secret)
	run := e.lastRun(g.HeadSHA)
	if run.Status != "completed" || run.Conclusion != "failure" || !strings.Contains(run.Title, "critical") {
		t.Fatalf("merge group check: %s %s %q", run.Status, run.Conclusion, run.Title)
	}
	if !strings.Contains(run.Summary, "Merge queue group") || !strings.Contains(run.Summary, "#1") {
		t.Fatalf("the summary does not name the group and its pull request:\n%s", run.Summary)
	}
	if len(run.Annotations) != 1 || run.Annotations[0].Path != "deploy/prod.env" {
		t.Fatalf("annotations = %+v", run.Annotations)
	}
	if e.requestsHold(awsKey()) {
		t.Fatal("the raw secret reached GitHub")
	}
	sc, err := e.h.Store.GetScan(e.ctx, e.repo.FullName, g.HeadSHA)
	if err != nil || sc.PR != 1 || sc.Conclusion != "failure" {
		t.Fatalf("scan of the group = %+v, %v", sc, err)
	}
}

func TestMergeGroupOfAnApprovedPRIsNeutral(t *testing.T) {
	eachHost(t, testMergeGroupOfAnApprovedPRIsNeutral)
}

func testMergeGroupOfAnApprovedPRIsNeutral(t *testing.T, e *env) {
	secret := envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey())
	e.approvedPR(1, secret)
	exc := e.exceptions(1)[0]
	e.h.GitHub.ResetRequests()
	g := e.queue().enqueue(1, secret)
	// The budget: the compare and the check run's creation, besides the policy files' reads.
	var calls []string
	for _, r := range e.h.GitHub.Requests() {
		if !strings.Contains(r.Path, "/contents/") {
			calls = append(calls, r.Method+" "+r.Path)
		}
	}
	if len(calls) != 2 || !strings.Contains(calls[0], "/compare/") || !strings.HasSuffix(calls[1], "/check-runs") {
		t.Fatalf("GitHub calls besides policy reads: %q", calls)
	}
	run := e.lastRun(g.HeadSHA)
	if run.Conclusion != "neutral" || !strings.Contains(run.Title, "@ada") || !strings.Contains(run.Title, "exception #") {
		t.Fatalf("merge group check: %s %q", run.Conclusion, run.Title)
	}
	if !strings.Contains(run.Summary, "Carried: exception #") || !strings.Contains(run.Summary, "of #1 (@ada)") {
		t.Fatalf("the summary does not name the carried exception %d:\n%s", exc.ID, run.Summary)
	}
	// One check run on the group, created completed (the queue waits for it).
	n := 0
	for _, r := range e.h.GitHub.CheckRuns(e.repo.FullName) {
		if r.HeadSHA == g.HeadSHA {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d check runs on the group's commit, want 1", n)
	}
}

// TestMergeGroupCarriesThePRsAheadInTheQueue queues three pull requests: each group
// holds the ones ahead of it, so it carries their exceptions, and what none of them
// accepted still fails.
func TestMergeGroupCarriesThePRsAheadInTheQueue(t *testing.T) {
	eachHost(t, testMergeGroupCarriesThePRsAheadInTheQueue)
}

func testMergeGroupCarriesThePRsAheadInTheQueue(t *testing.T, e *env) {
	first := envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey())
	second := envFile("config/slack.env", "SLACK_BOT_TOKEN="+slackToken())
	third := envFile("ci/token.env", "GITHUB_TOKEN="+githubToken())
	e.approvedPR(1, first)
	e.approvedPR(2, second)
	q := e.queue()
	if run := e.lastRun(q.enqueue(1, first).HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("group of #1: %s %q", run.Conclusion, run.Title)
	}
	g2 := q.enqueue(2, first, second)
	run := e.lastRun(g2.HeadSHA)
	if run.Conclusion != "neutral" || !strings.Contains(run.Summary, "of #2, #1") || !strings.Contains(run.Title, "@ada") {
		t.Fatalf("group of #1 and #2: %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
	if !strings.Contains(run.Summary, "of #1 (@ada)") || !strings.Contains(run.Summary, "of #2 (@ada)") {
		t.Fatalf("group of #1 and #2 does not carry both exceptions:\n%s", run.Summary)
	}
	// #3 has no exception: its secret fails the group, the two accepted ones stay accepted.
	e.openPR(3, "bob", "head3", third)
	g3 := q.enqueue(3, first, second, third)
	run = e.lastRun(g3.HeadSHA)
	if run.Conclusion != "failure" || !strings.Contains(run.Title, "1 critical risk") || !strings.Contains(run.Title, "2 more accepted") {
		t.Fatalf("group of #1, #2 and #3: %s %q", run.Conclusion, run.Title)
	}
}

// TestMergeGroupDoesNotBorrowAnotherPRsException: a pull request that adds the secret an
// exception of another pull request accepted gets no cover from it when that pull
// request is not in its group.
func TestMergeGroupDoesNotBorrowAnotherPRsException(t *testing.T) {
	e := newEnv(t)
	secret := envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey())
	e.approvedPR(1, secret)
	e.openPR(2, "mallory", "head2", secret)
	g := e.queue().enqueue(2, secret)
	if run := e.lastRun(g.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("group of #2 alone: %s %q", run.Conclusion, run.Title)
	}
}

func TestMergeGroupCleanSucceeds(t *testing.T) {
	e := newEnv(t)
	clean := envFile("README.md", "hello")
	g := e.queue().enqueue(7, clean)
	if run := e.lastRun(g.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("clean group: %s %q", run.Conclusion, run.Title)
	}
}

func TestMergeGroupDestroyedAsksNothing(t *testing.T) {
	e := newEnv(t)
	for _, reason := range []string{"merged", "invalidated", "dequeued"} {
		g := events.Group{HeadSHA: sha("g-" + reason), BaseSHA: sha("qbase"), Base: "main", PR: 4}
		e.send("merge_group", events.MergeGroup(e.inst, e.repo, "destroyed", reason, g, "github-merge-queue[bot]"))
	}
	if n := len(e.h.GitHub.Requests()); n != 0 {
		t.Fatalf("merge_group destroyed made %d GitHub requests", n)
	}
}

// TestMergeGroupFailsClosed: when GitHub keeps failing the comparison, the group's
// check is posted as a failure at once (the queue waits for it) and the delivery is
// retried; once GitHub answers, the retry brings the same run up to date.
func TestMergeGroupFailsClosed(t *testing.T) {
	e := newEnv(t)
	clean := envFile("README.md", "hello")
	e.h.GitHub.InjectFault(fakegithub.Fault{Method: "GET", Path: "/repos/acme/app/compare/", Kind: fakegithub.ServerError, Times: 5})
	g := e.queue().enqueue(8, clean)
	run := e.lastRun(g.HeadSHA)
	if run.Conclusion != "success" {
		t.Fatalf("after the retries: %s %q", run.Conclusion, run.Title)
	}
	n := 0
	for _, r := range e.h.GitHub.CheckRuns(e.repo.FullName) {
		if r.HeadSHA == g.HeadSHA {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d check runs on the group's commit, want the one brought up to date", n)
	}
}

// TestMergeGroupOrderKey: the groups of one queue (repository and base branch) share an
// order key, so the inbox hands them over one at a time, in the order received.
func TestMergeGroupOrderKey(t *testing.T) {
	repo := events.Repo{ID: 42, FullName: "Acme/App", DefaultBranch: "main"}
	g := events.Group{HeadSHA: sha("g"), BaseSHA: sha("b"), Base: "main", PR: 3}
	release := events.Group{HeadSHA: sha("g"), BaseSHA: sha("b"), Base: "release/1.x", PR: 4}
	cases := []struct {
		payload []byte
		want    string
	}{
		{events.MergeGroup(9, repo, "checks_requested", "", g, "x"), "acme/app@queue:refs/heads/main"},
		{events.MergeGroup(9, repo, "destroyed", "merged", g, "x"), "acme/app@queue:refs/heads/main"},
		{events.MergeGroup(9, repo, "checks_requested", "", release, "x"), "acme/app@queue:refs/heads/release/1.x"},
		{[]byte(`{"repository":{"full_name":"acme/app"}}`), ""},
		{[]byte(`not json`), ""},
	}
	for _, tc := range cases {
		if got := handlers.OrderKey("merge_group", tc.payload); got != tc.want {
			t.Errorf("OrderKey(merge_group, %.80s) = %q, want %q", tc.payload, got, tc.want)
		}
	}
}
