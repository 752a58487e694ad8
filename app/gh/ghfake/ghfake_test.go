package ghfake_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
)

var (
	ctx  = context.Background()
	repo = gh.Repo{Owner: "acme", Name: "app"}
)

func TestMissingThingsAreNotFound(t *testing.T) {
	f := ghfake.New()
	calls := map[string]func() error{
		"GetRepository":        func() error { _, err := f.GetRepository(ctx, repo); return err },
		"GetPullRequest":       func() error { _, err := f.GetPullRequest(ctx, repo, 1); return err },
		"ListOpenPullRequests": func() error { _, err := f.ListOpenPullRequests(ctx, repo); return err },
		"ListPullRequestFiles": func() error { _, err := f.ListPullRequestFiles(ctx, repo, 1); return err },
		"CompareCommits":       func() error { _, err := f.CompareCommits(ctx, repo, "a", "b"); return err },
		"GetContent":           func() error { _, err := f.GetContent(ctx, repo, "x", "main", ""); return err },
		"UpdateCheckRun":       func() error { return f.UpdateCheckRun(ctx, repo, 7, gh.CheckRun{}) },
		"EditComment":          func() error { return f.EditComment(ctx, repo, 7, "x") },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, gh.ErrNotFound) {
			t.Errorf("%s: %v, want gh.ErrNotFound", name, err)
		}
	}
	if n := len(f.Calls); n != len(calls) {
		t.Fatalf("recorded %d calls, want %d", n, len(calls))
	}
	for _, c := range f.Calls {
		if !errors.Is(c.Err, gh.ErrNotFound) {
			t.Errorf("call %s recorded with error %v", c, c.Err)
		}
	}
	// Where GitHub answers a value, so does the fake.
	if s, err := f.TeamMembershipState(ctx, "acme", "security", "nobody"); s != "" || err != nil {
		t.Errorf("membership of a stranger = %q, %v", s, err)
	}
	if p, err := f.Permission(ctx, repo, "nobody"); p != "none" || err != nil {
		t.Errorf("permission of a stranger = %q, %v", p, err)
	}
	if err := f.RemoveLabel(ctx, repo, 1, "gone"); err != nil || len(f.RemovedLabels) != 0 {
		t.Errorf("removing an absent label: %v, recorded %v", err, f.RemovedLabels)
	}
}

func TestContentAtDefaultBranchAndETag(t *testing.T) {
	f := ghfake.New()
	f.Repos["acme/.github"] = "main"
	f.SetFile("acme/.github", "", "escapegate.yml", "fail_on: critical\n")
	org := gh.Repo{Owner: "acme", Name: ".github"}
	for _, ref := range []string{"", "main"} {
		got, err := f.GetContent(ctx, org, "escapegate.yml", ref, "")
		if err != nil || string(got.Data) != "fail_on: critical\n" || got.ETag != ghfake.ETag("fail_on: critical\n") || got.NotModified {
			t.Fatalf("ref %q: %+v, %v", ref, got, err)
		}
	}
	got, err := f.GetContent(ctx, org, "escapegate.yml", "", ghfake.ETag("fail_on: critical\n"))
	if err != nil || !got.NotModified || len(got.Data) != 0 {
		t.Fatalf("conditional read of an unchanged file: %+v, %v", got, err)
	}
	f.SetFile("acme/.github", "", "escapegate.yml", "fail_on: high\n")
	got, err = f.GetContent(ctx, org, "escapegate.yml", "", ghfake.ETag("fail_on: critical\n"))
	if err != nil || got.NotModified || string(got.Data) != "fail_on: high\n" {
		t.Fatalf("conditional read of a changed file: %+v, %v", got, err)
	}
	if _, err := f.GetContent(ctx, org, "escapegate.yml", "feature", ""); !errors.Is(err, gh.ErrNotFound) {
		t.Fatalf("file on another ref: %v", err)
	}
}

func TestPullsLabelsAndFiles(t *testing.T) {
	f := ghfake.New()
	f.Repos["acme/app"] = "main"
	f.AddPull("acme/app", gh.PullRequest{Number: 2, HeadSHA: "h2", Labels: []string{"a", "b"}}, gh.File{Filename: "x"})
	f.AddPull("acme/app", gh.PullRequest{Number: 1, HeadSHA: "h1"})
	f.AddPull("acme/app", gh.PullRequest{Number: 3, State: "closed"})
	if err := f.RemoveLabel(ctx, repo, 2, "a"); err != nil {
		t.Fatal(err)
	}
	p, err := f.GetPullRequest(ctx, repo, 2)
	if err != nil || fmt.Sprint(p.Labels) != "[b]" {
		t.Fatalf("labels after removal: %v, %v", p.Labels, err)
	}
	if want := (ghfake.RemovedLabel{Repo: "acme/app", Number: 2, Label: "a"}); len(f.RemovedLabels) != 1 || f.RemovedLabels[0] != want {
		t.Fatalf("removed labels = %+v", f.RemovedLabels)
	}
	open, err := f.ListOpenPullRequests(ctx, repo)
	if err != nil || len(open) != 2 || open[0].Number != 1 || open[1].Number != 2 {
		t.Fatalf("open pulls = %+v, %v", open, err)
	}
	files, err := f.ListPullRequestFiles(ctx, repo, 2)
	if err != nil || len(files) != 1 || files[0].Filename != "x" {
		t.Fatalf("files = %+v, %v", files, err)
	}
	many := make([]gh.File, gh.MaxPullFiles+1)
	f.PullFiles[ghfake.PR{Repo: "acme/app", Number: 1}] = many
	if _, err := f.ListPullRequestFiles(ctx, repo, 1); !errors.Is(err, gh.ErrTooManyFiles) {
		t.Fatalf("too many files: %v", err)
	}
	f.Compares[ghfake.Compare{Repo: "acme/app", Base: "a", Head: "b"}] = many
	if got, err := f.CompareCommits(ctx, repo, "a", "b"); !errors.Is(err, gh.ErrTooManyFiles) || len(got) != gh.MaxPullFiles {
		t.Fatalf("too many compared files: %d, %v", len(got), err)
	}
}

func TestCheckRunsAndComments(t *testing.T) {
	f := ghfake.New()
	id, err := f.CreateCheckRun(ctx, repo, gh.CheckRun{Name: "escapegate", HeadSHA: "h1", Status: "in_progress", Title: "scanning"})
	if err != nil {
		t.Fatal(err)
	}
	err = f.UpdateCheckRun(ctx, repo, id, gh.CheckRun{Status: "completed", Conclusion: "failure", Annotations: []gh.Annotation{{Path: "a", StartLine: 3}}})
	if err != nil {
		t.Fatal(err)
	}
	run := f.CheckRuns[0]
	if run.ID != id || run.HeadSHA != "h1" || run.Status != "completed" || run.Conclusion != "failure" || run.Title != "scanning" ||
		len(run.Annotations) != 1 || len(run.Sent) != 2 || run.Sent[0].Status != "in_progress" {
		t.Fatalf("check run = %+v", run)
	}
	cid, err := f.CreateComment(ctx, repo, 1, "hello")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.EditComment(ctx, repo, cid, "hello again"); err != nil {
		t.Fatal(err)
	}
	cs, _ := f.ListComments(ctx, repo, 1)
	if len(cs) != 1 || cs[0].ID != cid || cs[0].Body != "hello again" || cs[0].Author != "escapegate[bot]" || cid == id {
		t.Fatalf("comments = %+v (check run id %d)", cs, id)
	}
	if len(f.Posted) != 1 || f.Posted[0].Body != "hello" || len(f.Edited) != 1 || f.Edited[0].ID != cid {
		t.Fatalf("posted %+v, edited %+v", f.Posted, f.Edited)
	}
	want := []string{"CreateCheckRun", "UpdateCheckRun", "CreateComment", "EditComment", "ListComments"}
	if got := f.Methods(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("methods = %v, want %v", got, want)
	}
}

func TestInjectedErrors(t *testing.T) {
	f := ghfake.New()
	boom := errors.New("boom")
	f.Fail["CreateComment"] = boom
	if _, err := f.CreateComment(ctx, repo, 1, "x"); !errors.Is(err, boom) {
		t.Fatalf("Fail: %v", err)
	}
	if len(f.Posted) != 0 || len(f.Comments) != 0 {
		t.Fatal("a failed call changed the state")
	}
	once := false
	f.Hook = func(c ghfake.Call) error {
		if c.Method == "RemoveLabel" && !once {
			once = true
			return boom
		}
		return nil
	}
	f.Labels[ghfake.PR{Repo: "acme/app", Number: 1}] = []string{"l"}
	if err := f.RemoveLabel(ctx, repo, 1, "l"); !errors.Is(err, boom) {
		t.Fatalf("Hook, first call: %v", err)
	}
	if err := f.RemoveLabel(ctx, repo, 1, "l"); err != nil || len(f.RemovedLabels) != 1 {
		t.Fatalf("Hook, second call: %v, removed %v", err, f.RemovedLabels)
	}
	if calls := f.CallsTo("RemoveLabel"); len(calls) != 2 || !errors.Is(calls[0].Err, boom) || calls[1].Err != nil {
		t.Fatalf("recorded = %+v", calls)
	}
}

// TestConcurrentUse is for -race.
func TestConcurrentUse(t *testing.T) {
	f := ghfake.New()
	f.Repos["acme/app"] = "main"
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, _ := f.CreateCheckRun(ctx, repo, gh.CheckRun{Status: "in_progress"})
			_ = f.UpdateCheckRun(ctx, repo, id, gh.CheckRun{Status: "completed"})
			_, _ = f.CreateComment(ctx, repo, 1, "x")
			_, _ = f.ListOpenPullRequests(ctx, repo)
		}()
	}
	wg.Wait()
	if len(f.CheckRuns) != 8 || len(f.Posted) != 8 || len(f.CallsTo("UpdateCheckRun")) != 8 {
		t.Fatalf("%d check runs, %d comments", len(f.CheckRuns), len(f.Posted))
	}
}

// TestIssuesOnlyMineAreFound: FindIssueSince passes over issues escapegate did not
// open, as the real client does; the issues CreateIssue makes are escapegate's own.
func TestIssuesOnlyMineAreFound(t *testing.T) {
	f := ghfake.New()
	ctx := context.Background()
	r := gh.Repo{Owner: "acme", Name: "reports"}
	f.Issues[r.String()] = []gh.Issue{{Number: 1, Title: "summary", Author: "mallory"}}
	if _, found, err := f.FindIssueSince(ctx, r, "summary", time.Time{}); err != nil || found {
		t.Fatalf("someone else's issue found: %v %v", found, err)
	}
	created, err := f.CreateIssue(ctx, r, "summary", "body")
	if err != nil || !created.Mine || created.Author != f.Login {
		t.Fatalf("created %+v, %v", created, err)
	}
	if got, found, err := f.FindIssueSince(ctx, r, "summary", time.Time{}); err != nil || !found || got != created {
		t.Fatalf("found %+v %v %v, want %+v", got, found, err, created)
	}
}
