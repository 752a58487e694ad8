package gate_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/memstore"
)

const (
	rigRepo   = "acme/app"
	rigLabel  = "escapegate/accept-risk"
	rigPolicy = "override:\n  label: " + rigLabel + "\n  approvers:\n    teams: [security]\n    permission: \"\"\n"
)

// rig is the gate on the fake GitHub (retries not slept) and the in-memory store, with
// PR #1 of acme/app adding an AWS key.
type rig struct {
	t  *testing.T
	f  *fakegithub.Server
	st store.Store
	g  *gate.Service
	pr gate.PR
}

func newRig(t *testing.T) *rig { t.Helper(); return newRigWith(t, time.Hour) }

// newRigWith is newRig with gate.Options.InProgressAfter set to after (newRig's: an
// hour, so every run is created completed; negative: in progress first).
func newRigWith(t *testing.T, after time.Duration) *rig {
	t.Helper()
	f := fakegithub.New()
	t.Cleanup(f.Close)
	f.AddRepo(rigRepo, "main")
	f.AddRepo("acme/.github", "main")
	f.SetFile("acme/.github", "", "escapegate.yml", []byte(rigPolicy))
	f.AddTeamMember("acme", "security", "sec-lead", "active")
	noSleep := gh.WithSleep(func(context.Context, time.Duration) error { return nil })
	st := memstore.New()
	g, err := gate.New(gate.Options{
		Store: st, FingerprintKey: []byte("test fingerprint key, 32 bytes.."),
		Clients:         func(int64) (gh.Client, error) { return gh.New(f.GitHubClient(), gh.WithAppID(1), noSleep), nil },
		InProgressAfter: after,
	})
	if err != nil {
		t.Fatal(err)
	}
	pr := gate.PR{
		Installation: 9, Repo: gh.Repo{Owner: "acme", Name: "app"}, RepoID: 42, DefaultBranch: "main",
		Number: 1, Author: "alice", HeadSHA: fmt.Sprintf("%040s", "h1"), BaseSHA: fmt.Sprintf("%040s", "b1"),
		HeadRef: "feature/1", BaseRef: "main", Title: "change 1",
	}
	f.AddPull(rigRepo, fakegithub.Pull{
		Number: 1, Title: pr.Title, Author: pr.Author, HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef, BaseSHA: pr.BaseSHA, BaseRef: "main",
		Files: []fakegithub.PullFile{{Filename: "deploy/prod.env", Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+AWS_ACCESS_KEY_ID=" + fakecreds.FakeAWSKey()}},
	})
	return &rig{t: t, f: f, st: st, g: g, pr: pr}
}

// attempt is the context of the n-th attempt at a delivery.
func attempt(n int) context.Context { return delivery.WithAttempt(context.Background(), n) }

// runs returns escapegate's check runs on the PR's head.
func (r *rig) runs() []fakegithub.CheckRun {
	var out []fakegithub.CheckRun
	for _, cr := range r.f.CheckRuns(rigRepo) {
		if cr.HeadSHA == r.pr.HeadSHA && cr.Name == gate.CheckName {
			out = append(out, cr)
		}
	}
	return out
}

// count counts the requests since the last ResetRequests with this method whose path holds sub.
func (r *rig) count(method, sub string) int {
	n := 0
	for _, q := range r.f.Requests() {
		if q.Method == method && strings.Contains(q.Path, sub) {
			n++
		}
	}
	return n
}

// oneRun fails unless the head has exactly one run, completed with conclusion and annotations.
func (r *rig) oneRun(conclusion string, annotations int) fakegithub.CheckRun {
	r.t.Helper()
	runs := r.runs()
	if len(runs) != 1 {
		r.t.Fatalf("%d check runs on the head, want 1: %+v", len(runs), runs)
	}
	run := runs[0]
	if run.Status != "completed" || run.Conclusion != conclusion || len(run.Annotations) != annotations {
		r.t.Fatalf("check run %s/%s with %d annotations (%q), want completed/%s with %d", run.Status, run.Conclusion, len(run.Annotations), run.Title, conclusion, annotations)
	}
	return run
}

const lookup = "/commits/" // GET .../commits/{sha}/check-runs

// TestFirstAttemptLooksForNoRun: a first attempt that meets no error spends no call on
// looking for earlier work.
func TestFirstAttemptLooksForNoRun(t *testing.T) {
	r := newRig(t)
	if _, err := r.g.CheckPullRequest(attempt(1), r.pr); err != nil {
		t.Fatal(err)
	}
	r.oneRun("failure", 1)
	if n := r.count("GET", lookup); n != 0 {
		t.Errorf("a first attempt looked for its check run %d times", n)
	}
	if n := r.count("GET", "/issues/1/comments"); n != 0 {
		t.Errorf("a first attempt listed comments %d times", n)
	}
}

// TestRetryCompletesTheRunLeftInProgress: GitHub refused every completion of the first
// attempt, leaving its run in progress; the retry completes that run, and a third attempt
// changes nothing.
func TestRetryCompletesTheRunLeftInProgress(t *testing.T) {
	r := newRigWith(t, -1) // a slow scan: its run is created in progress
	r.f.InjectFault(fakegithub.Fault{Method: "PATCH", Path: "/repos/acme/app/check-runs/", Kind: fakegithub.ServerError, Times: 1 + gh.DefaultRetryPolicy().MaxRetries})
	if _, err := r.g.CheckPullRequest(attempt(1), r.pr); err == nil {
		t.Fatal("the first attempt did not fail")
	}
	if runs := r.runs(); len(runs) != 1 || runs[0].Status != "in_progress" {
		t.Fatalf("after the failed attempt: %+v", runs)
	}
	r.f.ResetRequests()
	out, err := r.g.CheckPullRequest(attempt(2), r.pr)
	if err != nil {
		t.Fatal(err)
	}
	run := r.oneRun("failure", 1)
	if out.CheckRunID != run.ID || out.Conclusion != "failure" {
		t.Errorf("outcome %+v, want run %d failing", out, run.ID)
	}
	if r.count("POST", "/check-runs") != 0 || r.count("GET", lookup) != 1 {
		t.Errorf("retry: %d creates, %d lookups; want 0 and 1", r.count("POST", "/check-runs"), r.count("GET", lookup))
	}
	if sc, err := r.st.GetScan(context.Background(), rigRepo, r.pr.HeadSHA); err != nil || sc.CheckRunID != run.ID {
		t.Errorf("scan recorded %+v, %v; want check run %d", sc, err, run.ID)
	}

	r.f.ResetRequests()
	before := run.Requests
	if _, err := r.g.CheckPullRequest(attempt(3), r.pr); err != nil {
		t.Fatal(err)
	}
	if run := r.oneRun("failure", 1); run.Requests != before || r.count("POST", "/check-runs") != 0 || r.count("PATCH", "/check-runs") != 0 {
		t.Errorf("a run that already says the result was written again: %d requests reached it, %v", run.Requests-before, r.f.Requests())
	}
}

// TestRetryAfterCouldNotScan: the first attempt could not list the files and failed the
// check closed; the retry brings that same run to the real result.
func TestRetryAfterCouldNotScan(t *testing.T) {
	r := newRig(t)
	r.f.InjectFault(fakegithub.Fault{Method: "GET", Path: "/repos/acme/app/pulls/1/files", Kind: fakegithub.BadGateway, Times: 1 + gh.DefaultRetryPolicy().MaxRetries})
	if _, err := r.g.CheckPullRequest(attempt(1), r.pr); err == nil {
		t.Fatal("the first attempt did not fail")
	}
	if run := r.oneRun("failure", 0); !strings.Contains(run.Title, "could not scan") {
		t.Fatalf("first attempt left %q", run.Title)
	}
	if _, err := r.g.CheckPullRequest(attempt(2), r.pr); err != nil {
		t.Fatal(err)
	}
	if run := r.oneRun("failure", 1); strings.Contains(run.Title, "could not scan") {
		t.Fatalf("the retry left %q", run.Title)
	}
}

// TestCreateAnswered5xx: GitHub answers the creation of the check run 502, having created
// it or not: either way the PR ends with one run, completed, within the first attempt.
func TestCreateAnswered5xx(t *testing.T) {
	for _, applied := range []bool{true, false} {
		t.Run(fmt.Sprintf("created=%v", applied), func(t *testing.T) {
			r := newRig(t)
			r.f.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/acme/app/check-runs", Kind: fakegithub.BadGateway, Apply: applied})
			if _, err := r.g.CheckPullRequest(attempt(1), r.pr); err != nil {
				t.Fatal(err)
			}
			r.oneRun("failure", 1)
			wantCreates := map[bool]int{true: 1, false: 2}[applied]
			if n := r.count("POST", "/check-runs"); n != wantCreates {
				t.Errorf("%d creates, want %d", n, wantCreates)
			}
		})
	}
}

// TestRetriedApprovalRecordsOneException: an approval handled twice records one exception
// and posts one neutral run; a 502 on posting it does not post two either.
func TestRetriedApprovalRecordsOneException(t *testing.T) {
	r := newRig(t)
	if _, err := r.g.CheckPullRequest(attempt(1), r.pr); err != nil {
		t.Fatal(err)
	}
	ev := gate.LabelEvent{PR: r.pr, Label: rigLabel, Sender: "sec-lead", SenderType: "User", DeliveryID: "d-approve"}
	ev.PR.Labels = []string{rigLabel}
	r.f.AddLabel(rigRepo, 1, rigLabel)
	r.f.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/acme/app/check-runs", Kind: fakegithub.BadGateway, Apply: true})
	for n := 1; n <= 3; n++ {
		out, err := r.g.Labeled(attempt(n), ev)
		if err != nil || !out.Accepted {
			t.Fatalf("attempt %d: %+v %v", n, out, err)
		}
	}
	excs, err := r.st.ListExceptions(context.Background(), rigRepo, 1, store.Window{To: time.Now().Add(time.Hour)})
	if err != nil || len(excs) != 1 {
		t.Fatalf("exceptions %+v, %v; want one", excs, err)
	}
	runs := r.runs()
	if len(runs) != 2 || runs[1].Conclusion != "neutral" {
		t.Fatalf("runs %+v; want the failing check and one neutral run", runs)
	}
}

// TestRetriedRefusalAnswersOnce: a refused label whose answer failed is answered once on
// retry: the label already gone is no error, a copy of the marker by someone else does not
// count, and further attempts post nothing.
func TestRetriedRefusalAnswersOnce(t *testing.T) {
	for _, applied := range []bool{true, false} {
		t.Run(fmt.Sprintf("answer posted=%v", applied), func(t *testing.T) {
			r := newRig(t)
			r.f.AddLabel(rigRepo, 1, rigLabel)
			ev := gate.LabelEvent{PR: r.pr, Label: rigLabel, Sender: "mallory", SenderType: "User", DeliveryID: "d-refuse"}
			r.f.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/acme/app/issues/1/comments", Kind: fakegithub.ServerError, Apply: applied})
			if _, err := r.g.Labeled(attempt(1), ev); err == nil {
				t.Fatal("the first attempt did not fail")
			}
			// Someone copies the marker into a comment of their own.
			r.f.AddComment(rigRepo, 1, "mallory", "<!-- escapegate:refused-override d-refuse -->")
			for n := 2; n <= 3; n++ {
				out, err := r.g.Labeled(attempt(n), ev)
				if err != nil || !out.Refused {
					t.Fatalf("attempt %d: %+v %v", n, out, err)
				}
			}
			var answers int
			for _, cm := range r.f.Comments(rigRepo, 1) {
				if cm.Author == "escapegate[bot]" {
					answers++
				}
			}
			if answers != 1 {
				t.Errorf("%d answers from escapegate, want 1: %+v", answers, r.f.Comments(rigRepo, 1))
			}
			if ls := r.f.Labels(rigRepo, 1); len(ls) != 0 {
				t.Errorf("labels %v, want none", ls)
			}
			refused, err := r.st.ListRefused(context.Background(), rigRepo, store.Window{To: time.Now().Add(time.Hour)})
			if err != nil || len(refused) != 1 {
				t.Errorf("refused records %+v, %v; want one", refused, err)
			}
		})
	}
}

// TestRetriedMergeRecordsEscapesOnce: a merge handled twice records its escapes once.
func TestRetriedMergeRecordsEscapesOnce(t *testing.T) {
	r := newRig(t)
	if _, err := r.g.CheckPullRequest(attempt(1), r.pr); err != nil {
		t.Fatal(err)
	}
	var want int
	for n := 1; n <= 2; n++ {
		if _, err := r.g.Merged(attempt(n), r.pr); err != nil {
			t.Fatalf("attempt %d: %v", n, err)
		}
		esc, err := r.st.ListEscapes(context.Background(), rigRepo, store.Window{To: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			want = len(esc)
			if want == 0 {
				t.Fatal("the merge recorded no escape")
			}
		} else if len(esc) != want {
			t.Errorf("after the retry %d escapes, want %d", len(esc), want)
		}
	}
}
