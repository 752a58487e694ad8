package gh_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/apivalidate"
	"github.com/escapegate/escapegate/internal/testenv"
)

const repoName = "acme/web"

var acme = gh.Repo{Owner: "acme", Name: "web"}

// sleeps records the waits the retry transport asked for, without sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

func setup(t *testing.T) (*fakegithub.Server, gh.Client, *sleeps) {
	t.Helper()
	f := fakegithub.New()
	t.Cleanup(f.Close)
	f.AddRepo(repoName, "trunk")
	s := &sleeps{}
	c := gh.New(f.GitHubClient(), gh.WithSleep(s.sleep))
	t.Cleanup(func() { validateTranscript(t, f) })
	return f, c, s
}

// validateTranscript checks every request sent against GitHub's OpenAPI description.
func validateTranscript(t *testing.T, f *fakegithub.Server) {
	t.Helper()
	if t.Failed() || t.Skipped() {
		return
	}
	v := validator(t)
	if v == nil {
		return
	}
	for _, p := range v.ValidateAll(context.Background(), f.Requests()) {
		t.Errorf("GitHub would refuse: %s", p)
	}
}

var loadSpec = sync.OnceValues(func() (*apivalidate.Validator, error) {
	d := testenv.SharedDir()
	if d == "" {
		return nil, nil
	}
	return apivalidate.Load(context.Background(), d+"/fixtures/openapi/api.github.com.2022-07.json", d+"/fixtures/openapi/api.github.com.2026.json")
})

func validator(t *testing.T) *apivalidate.Validator {
	t.Helper()
	v, err := loadSpec()
	if err != nil {
		t.Fatalf("load OpenAPI description: %v", err)
	}
	if v == nil {
		t.Log("../shared is absent: requests not validated against OpenAPI")
	}
	return v
}

func files(n int) []fakegithub.PullFile {
	out := make([]fakegithub.PullFile, n)
	for i := range out {
		out[i] = fakegithub.PullFile{Filename: fmt.Sprintf("src/f%04d.go", i), Status: "added", Patch: "@@ -0,0 +1 @@\n+x", Additions: 1}
	}
	return out
}

func countPaths(f *fakegithub.Server, sub string) int {
	n := 0
	for _, r := range f.Requests() {
		if strings.Contains(r.Path, sub) {
			n++
		}
	}
	return n
}

func TestGetRepositoryAndPulls(t *testing.T) {
	f, c, _ := setup(t)
	n := f.AddPull(repoName, fakegithub.Pull{Title: "Add x", Author: "alice", HeadSHA: "abc", HeadRef: "feature/x", BaseSHA: "def", Labels: []string{"release"}})
	f.AddPull(repoName, fakegithub.Pull{Title: "Old", State: "closed", HeadSHA: "111"})
	ctx := context.Background()

	def, err := c.GetRepository(ctx, acme)
	if err != nil || def != "trunk" {
		t.Fatalf("GetRepository = %q, %v; want trunk", def, err)
	}
	p, err := c.GetPullRequest(ctx, acme, n)
	if err != nil {
		t.Fatal(err)
	}
	want := gh.PullRequest{Number: n, Title: "Add x", State: "open", Author: "alice", HeadSHA: "abc", HeadRef: "feature/x", BaseRef: "trunk", BaseSHA: "def", Labels: []string{"release"}}
	if fmt.Sprint(p) != fmt.Sprint(want) {
		t.Errorf("GetPullRequest = %+v, want %+v", p, want)
	}
	open, err := c.ListOpenPullRequests(ctx, acme)
	if err != nil || len(open) != 1 || open[0].Number != n {
		t.Errorf("ListOpenPullRequests = %+v, %v; want only #%d", open, err, n)
	}
}

func TestNotFound(t *testing.T) {
	_, c, _ := setup(t)
	ctx := context.Background()
	missing := gh.Repo{Owner: "acme", Name: "missing"}
	tests := []struct {
		name string
		call func() error
	}{
		{"repository", func() error { _, err := c.GetRepository(ctx, missing); return err }},
		{"pull", func() error { _, err := c.GetPullRequest(ctx, acme, 999); return err }},
		{"pull files", func() error { _, err := c.ListPullRequestFiles(ctx, acme, 999); return err }},
		{"compare", func() error { _, err := c.CompareCommits(ctx, acme, "a", "b"); return err }},
		{"content", func() error { _, err := c.GetContent(ctx, acme, ".github/escapegate.yml", "", ""); return err }},
		{"edit comment", func() error { return c.EditComment(ctx, acme, 424242, "x") }},
		{"update check run", func() error { return c.UpdateCheckRun(ctx, acme, 424242, gh.CheckRun{Name: "escapegate"}) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			if !errors.Is(err, gh.ErrNotFound) {
				t.Fatalf("error = %v, want ErrNotFound", err)
			}
			if !strings.Contains(err.Error(), "acme/") {
				t.Errorf("error %q does not name the repository", err)
			}
		})
	}
}

func TestListPullRequestFiles(t *testing.T) {
	tests := []struct {
		name      string
		files     int
		changed   int
		wantErr   error
		wantPages int
	}{
		{"one page", 7, 0, nil, 1},
		{"three pages", 250, 0, nil, 3},
		{"exactly the maximum", gh.MaxPullFiles, 0, nil, 30},
		{"listing capped by GitHub", gh.MaxPullFiles + 1, 0, gh.ErrTooManyFiles, 0},
		{"listing at the cap, changed_files says more", gh.MaxPullFiles, 5000, gh.ErrTooManyFiles, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, _ := setup(t)
			n := f.AddPull(repoName, fakegithub.Pull{Title: "t", HeadSHA: "h", Files: files(tt.files), ChangedFiles: tt.changed})
			got, err := c.ListPullRequestFiles(context.Background(), acme, n)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.files {
				t.Fatalf("got %d files, want %d", len(got), tt.files)
			}
			if got[len(got)-1].Filename != fmt.Sprintf("src/f%04d.go", tt.files-1) || got[0].Patch == "" || got[0].Status != "added" {
				t.Errorf("files not in order or incomplete: first %+v last %+v", got[0], got[len(got)-1])
			}
			if p := countPaths(f, "/files?"); p != tt.wantPages {
				t.Errorf("%d page requests, want %d", p, tt.wantPages)
			}
			if countPaths(f, "per_page=100") != tt.wantPages {
				t.Errorf("pages not requested with per_page=100")
			}
		})
	}
}

func TestCompareCommits(t *testing.T) {
	f, c, _ := setup(t)
	f.SetCompare(repoName, "trunk", "feature/x", files(150))
	got, err := c.CompareCommits(context.Background(), acme, "trunk", "feature/x")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 {
		t.Fatalf("got %d files, want 150", len(got))
	}
	if countPaths(f, "/compare/trunk...feature%2Fx?") != 2 {
		t.Errorf("want two pages of /compare/trunk...feature%%2Fx, requests: %v", f.Requests())
	}
}

func annotations(n int) []gh.Annotation {
	out := make([]gh.Annotation, n)
	for i := range out {
		out[i] = gh.Annotation{Path: "a.go", StartLine: i + 1, EndLine: i + 1, Level: "failure", Title: "secret", Message: fmt.Sprintf("finding %d", i)}
	}
	return out
}

func TestCheckRunAnnotationBatches(t *testing.T) {
	tests := []struct {
		name         string
		create       int
		update       int
		wantRequests int
	}{
		{"none", 0, 0, 2},
		{"one batch", 50, 0, 2},
		{"create in three batches", 120, 0, 4},
		{"update in two batches", 0, 51, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, _ := setup(t)
			ctx := context.Background()
			start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			id, err := c.CreateCheckRun(ctx, acme, gh.CheckRun{Name: "escapegate", HeadSHA: "abc", ExternalID: "x1", Status: "in_progress",
				StartedAt: start, Title: "Scanning", Summary: "scanning", Annotations: annotations(tt.create)})
			if err != nil {
				t.Fatal(err)
			}
			err = c.UpdateCheckRun(ctx, acme, id, gh.CheckRun{Name: "escapegate", Status: "completed", Conclusion: "failure",
				CompletedAt: start.Add(time.Second), Title: "2 secrets", Summary: "found", Text: "details", Annotations: annotations(tt.update)})
			if err != nil {
				t.Fatal(err)
			}
			runs := f.CheckRuns(repoName)
			if len(runs) != 1 {
				t.Fatalf("%d check runs, want 1", len(runs))
			}
			r := runs[0]
			if r.ID != id || r.HeadSHA != "abc" || r.Status != "completed" || r.Conclusion != "failure" || r.Title != "2 secrets" || r.Text != "details" {
				t.Errorf("check run = %+v", r)
			}
			if len(r.Annotations) != tt.create+tt.update {
				t.Errorf("%d annotations, want %d", len(r.Annotations), tt.create+tt.update)
			}
			if r.Requests != tt.wantRequests {
				t.Errorf("%d requests reached the run, want %d", r.Requests, tt.wantRequests)
			}
		})
	}
}

func TestCheckRunTruncatesOutput(t *testing.T) {
	f, c, _ := setup(t)
	long := strings.Repeat("| row | value é |\n", 5000) // > 65,535 bytes, multi-byte runes
	_, err := c.CreateCheckRun(context.Background(), acme, gh.CheckRun{Name: "escapegate", HeadSHA: "abc", Status: "completed",
		Conclusion: "failure", Title: "t", Summary: long, Text: long})
	if err != nil {
		t.Fatal(err)
	}
	r := f.CheckRuns(repoName)[0]
	for name, s := range map[string]string{"summary": r.Summary, "text": r.Text} {
		if len(s) > gh.MaxOutputChars {
			t.Errorf("%s has %d bytes", name, len(s))
		}
		if !strings.Contains(s, "truncated") {
			t.Errorf("%s does not say it was truncated", name)
		}
		body, _, _ := strings.Cut(s, "\n\n…")
		if !strings.HasSuffix(body, "|") {
			t.Errorf("%s not cut at a line end: …%q", name, body[len(body)-20:])
		}
	}
}

func TestGetContentConditional(t *testing.T) {
	f, c, _ := setup(t)
	ctx := context.Background()
	const path = ".github/escapegate.yml"
	f.SetFile(repoName, "", path, []byte("fail_on: high\n"))

	first, err := c.GetContent(ctx, acme, path, "trunk", "")
	if err != nil {
		t.Fatal(err)
	}
	if string(first.Data) != "fail_on: high\n" || first.ETag == "" || first.NotModified {
		t.Fatalf("first fetch = %+v", first)
	}
	again, err := c.GetContent(ctx, acme, path, "trunk", first.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if !again.NotModified || len(again.Data) != 0 || again.ETag != first.ETag {
		t.Fatalf("conditional fetch = %+v, want NotModified with the same ETag", again)
	}
	f.SetFile(repoName, "trunk", path, []byte("fail_on: critical\n"))
	changed, err := c.GetContent(ctx, acme, path, "trunk", first.ETag)
	if err != nil {
		t.Fatal(err)
	}
	if changed.NotModified || string(changed.Data) != "fail_on: critical\n" || changed.ETag == first.ETag {
		t.Fatalf("fetch after change = %+v", changed)
	}
	if _, err := c.GetContent(ctx, acme, path, "other-branch", ""); !errors.Is(err, gh.ErrNotFound) {
		t.Errorf("missing ref: error = %v, want ErrNotFound", err)
	}
}

func TestTeamMembershipState(t *testing.T) {
	f, c, _ := setup(t)
	f.AddTeamMember("acme", "security", "alice", "active")
	f.AddTeamMember("acme", "security", "bob", "pending")
	for user, want := range map[string]string{"alice": "active", "bob": "pending", "mallory": ""} {
		got, err := c.TeamMembershipState(context.Background(), "acme", "security", user)
		if err != nil || got != want {
			t.Errorf("TeamMembershipState(%s) = %q, %v; want %q", user, got, err, want)
		}
	}
}

func TestPermission(t *testing.T) {
	f, c, _ := setup(t)
	for _, role := range []string{"admin", "maintain", "write", "triage", "read"} {
		f.SetPermission(repoName, "u-"+role, role)
	}
	tests := []struct{ user, want string }{
		{"u-admin", "admin"}, {"u-maintain", "maintain"}, {"u-write", "write"},
		{"u-triage", "triage"}, {"u-read", "read"}, {"stranger", "none"},
	}
	for _, tt := range tests {
		got, err := c.Permission(context.Background(), acme, tt.user)
		if err != nil || got != tt.want {
			t.Errorf("Permission(%s) = %q, %v; want %q", tt.user, got, err, tt.want)
		}
	}
}

func TestRemoveLabel(t *testing.T) {
	f, c, _ := setup(t)
	labels := []string{"escapegate/accept-risk", "autorelease: pending", "fix later", "100%", "plain"}
	n := f.AddPull(repoName, fakegithub.Pull{Title: "t", HeadSHA: "h", Labels: labels})
	ctx := context.Background()
	for i, l := range labels[:4] {
		if err := c.RemoveLabel(ctx, acme, n, l); err != nil {
			t.Fatalf("RemoveLabel(%q): %v", l, err)
		}
		if got := f.Labels(repoName, n); len(got) != len(labels)-i-1 || contains(got, l) {
			t.Fatalf("after removing %q labels are %q", l, got)
		}
	}
	if err := c.RemoveLabel(ctx, acme, n, "escapegate/accept-risk"); err != nil {
		t.Errorf("removing an absent label: %v, want nil", err)
	}
	if countPaths(f, "/labels/escapegate%2Faccept-risk") != 2 || countPaths(f, "/labels/autorelease:%20pending") != 1 {
		t.Errorf("label not escaped in path: %v", f.Requests())
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestComments(t *testing.T) {
	f, c, _ := setup(t)
	ctx := context.Background()
	n := f.AddPull(repoName, fakegithub.Pull{Title: "t", HeadSHA: "h"})
	for i := 0; i < 130; i++ {
		f.AddComment(repoName, n, "alice", fmt.Sprintf("c%d", i))
	}
	id, err := c.CreateComment(ctx, acme, n, "<!-- escapegate:report -->\nrate")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditComment(ctx, acme, id, "<!-- escapegate:report -->\nrate 2"); err != nil {
		t.Fatal(err)
	}
	all, err := c.ListComments(ctx, acme, n)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 131 {
		t.Fatalf("%d comments, want 131", len(all))
	}
	last := all[130]
	if last.ID != id || last.Body != "<!-- escapegate:report -->\nrate 2" || last.Author != "escapegate[bot]" {
		t.Errorf("last comment = %+v", last)
	}
	if all[0].Body != "c0" || all[0].Author != "alice" {
		t.Errorf("first comment = %+v", all[0])
	}
	if !last.Mine || all[0].Mine {
		t.Errorf("Mine: escapegate's own %v, alice's %v", last.Mine, all[0].Mine)
	}
}

// TestCommentsMine: only this app's bot writes escapegate's comments; another app's bot
// does not when the client knows its app id, and a user never does.
func TestCommentsMine(t *testing.T) {
	f := fakegithub.New()
	t.Cleanup(f.Close)
	f.AddRepo(repoName, "trunk")
	n := f.AddPull(repoName, fakegithub.Pull{Title: "t", HeadSHA: "h"})
	f.AddComment(repoName, n, "escapegate[bot]", "own")
	f.AddComment(repoName, n, "other-app[bot]", "another app's")
	f.AddComment(repoName, n, "mallory", "a user's")
	for _, tt := range []struct {
		name string
		opts []gh.Option
		mine []bool
	}{
		{"app id known", []gh.Option{gh.WithAppID(1)}, []bool{true, false, false}},
		{"app id unknown: any bot", nil, []bool{true, true, false}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := gh.New(f.GitHubClient(), tt.opts...).ListComments(context.Background(), acme, n)
			if err != nil || len(cs) != 3 {
				t.Fatalf("ListComments = %+v, %v", cs, err)
			}
			for i, cm := range cs {
				if cm.Mine != tt.mine[i] {
					t.Errorf("%s's comment: Mine = %v, want %v", cm.Author, cm.Mine, tt.mine[i])
				}
			}
		})
	}
}

// TestFindCheckRun: the newest run of the name with the external id on the head, across
// pages; other names, external ids, heads and apps' runs are not it.
func TestFindCheckRun(t *testing.T) {
	f := fakegithub.New()
	t.Cleanup(f.Close)
	f.AddRepo(repoName, "trunk")
	t.Cleanup(func() { validateTranscript(t, f) })
	ctx := context.Background()
	c := gh.New(f.GitHubClient(), gh.WithAppID(1))
	if _, found, err := c.FindCheckRun(ctx, acme, "abc", "escapegate", "acme/web#1"); err != nil || found {
		t.Fatalf("no run yet: found=%v err=%v", found, err)
	}
	create := func(name, sha, ext, status, conclusion string, anns int) int64 {
		t.Helper()
		cr := gh.CheckRun{Name: name, HeadSHA: sha, ExternalID: ext, Status: status, Conclusion: conclusion, Title: "t " + status, Summary: "s"}
		for i := 0; i < anns; i++ {
			cr.Annotations = append(cr.Annotations, gh.Annotation{Path: "a", StartLine: i + 1, EndLine: i + 1, Level: "failure", Message: "m"})
		}
		id, err := c.CreateCheckRun(ctx, acme, cr)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	create("escapegate", "abc", "acme/web#1", "completed", "failure", 3)
	want := create("escapegate", "abc", "acme/web#1", "in_progress", "", 0)
	create("escapegate", "abc", "acme/web#2", "completed", "success", 0) // another PR on the same head, newer
	create("other", "abc", "acme/web#1", "completed", "success", 0)
	create("escapegate", "def", "acme/web#1", "completed", "success", 0)
	run, found, err := c.FindCheckRun(ctx, acme, "abc", "escapegate", "acme/web#1")
	if err != nil || !found {
		t.Fatalf("FindCheckRun: found=%v err=%v", found, err)
	}
	if run.ID != want || run.Status != "in_progress" || run.Title != "t in_progress" || run.Annotations != 0 {
		t.Errorf("found %+v, want run %d in progress", run, want)
	}
	var asked bool
	for _, r := range f.Requests() {
		if strings.HasPrefix(r.Path, "/api/v3/repos/acme/web/commits/abc/check-runs?") &&
			strings.Contains(r.Path, "check_name=escapegate") && strings.Contains(r.Path, "filter=all") && strings.Contains(r.Path, "app_id=1") {
			asked = true
		}
	}
	if !asked {
		t.Errorf("no GET .../commits/abc/check-runs?check_name=escapegate&filter=all&app_id=1 in %v", f.Requests())
	}
	// Another app's runs are not this client's.
	if _, found, err := gh.New(f.GitHubClient(), gh.WithAppID(99)).FindCheckRun(ctx, acme, "abc", "escapegate", "acme/web#1"); err != nil || found {
		t.Errorf("another app found escapegate's run: found=%v err=%v", found, err)
	}
	// A completed run reports its conclusion and annotations.
	done := create("escapegate", "abc", "acme/web#1", "completed", "failure", 60)
	run, found, err = c.FindCheckRun(ctx, acme, "abc", "escapegate", "acme/web#1")
	if err != nil || !found || run.ID != done || run.Conclusion != "failure" || run.Annotations != 60 {
		t.Errorf("found %+v %v %v, want run %d with 60 annotations", run, found, err, done)
	}
	// GitHub failing for a moment is retried.
	f.InjectFault(fakegithub.Fault{Path: "/repos/acme/web/commits/", Kind: fakegithub.BadGateway})
	if _, found, err := c.FindCheckRun(ctx, acme, "abc", "escapegate", "acme/web#1"); err != nil || !found {
		t.Errorf("after one 502: found=%v err=%v", found, err)
	}
}

// TestMayHaveApplied: which failed writes GitHub may still have carried out.
func TestMayHaveApplied(t *testing.T) {
	f := fakegithub.New()
	t.Cleanup(f.Close)
	f.AddRepo(repoName, "trunk")
	n := f.AddPull(repoName, fakegithub.Pull{Title: "t", HeadSHA: "h"})
	p := gh.DefaultRetryPolicy()
	p.MaxRetries, p.Sleep = 0, func(context.Context, time.Duration) error { return nil }
	c := gh.New(f.GitHubClient(), gh.WithRetryPolicy(p))
	for _, tt := range []struct {
		kind fakegithub.FaultKind
		want bool
	}{
		{fakegithub.ServerError, true},
		{fakegithub.BadGateway, true},
		{fakegithub.Disconnect, true},
		{fakegithub.SecondaryRateLimit, false},
		{fakegithub.SecondaryRateLimitForbidden, false},
		{fakegithub.PrimaryRateLimit, false},
	} {
		f.InjectFault(fakegithub.Fault{Method: "POST", Kind: tt.kind, Wait: time.Second})
		_, err := c.CreateComment(context.Background(), acme, n, "x")
		if err == nil || gh.MayHaveApplied(err) != tt.want {
			t.Errorf("fault %d: err %v, MayHaveApplied %v, want %v", tt.kind, err, gh.MayHaveApplied(err), tt.want)
		}
	}
	if _, err := c.CreateComment(context.Background(), acme, 999, "x"); gh.MayHaveApplied(err) {
		t.Errorf("a 404 may have applied: %v", err)
	}
	if gh.MayHaveApplied(nil) {
		t.Error("nil may have applied")
	}
}

// TestIssues: FindIssueSince finds escapegate's own issue of the exact title through the
// issues list (search, lagging behind, is not asked), as soon as it is created, bounded
// by since; another's issue of the title, a pull request or a near title is passed over.
func TestIssues(t *testing.T) {
	f, c, _ := setup(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f.SetIssueClock(func() time.Time { return t0 })
	f.SetSearchLag(-1)
	f.AddPull(repoName, fakegithub.Pull{Title: "escapegate: summary for 2026-01", HeadSHA: "h"}) // a PR, not an issue
	f.AddIssue(repoName, fakegithub.Issue{Title: "escapegate: summary for 2026-01 (draft)"})
	title := "escapegate: summary for 2026-01"
	// Someone else's issues with the exact title: a person's, another app's. Not found.
	f.AddIssue(repoName, fakegithub.Issue{Title: title, Author: "mallory"})
	f.AddIssue(repoName, fakegithub.Issue{Title: title, Author: "other-app[bot]"})
	// Without its app id a client takes any app's bot for its own: here it knows it.
	c = gh.New(f.GitHubClient(), gh.WithAppID(1))

	since := t0.Add(-time.Minute)
	if _, found, err := c.FindIssueSince(ctx, acme, title, since); err != nil || found {
		t.Fatalf("before creating: found=%v err=%v", found, err)
	}
	created, err := c.CreateIssue(ctx, acme, title, "body")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []time.Time{since, {}} {
		got, found, err := c.FindIssueSince(ctx, acme, title, s)
		if err != nil || !found || got != created || !got.Mine {
			t.Fatalf("FindIssueSince(%v) = %+v %v %v; want %+v", s, got, found, err, created)
		}
	}
	if _, found, err := c.FindIssueSince(ctx, acme, title, t0.Add(time.Minute)); err != nil || found {
		t.Errorf("since after its creation: found=%v err=%v", found, err)
	}
	if n := countPaths(f, "/search/"); n != 0 {
		t.Errorf("%d search requests", n)
	}
	want := "/repos/acme/web/issues?direction=desc&per_page=100&since=2026-12-01T08%3A59%3A00Z&sort=created&state=all"
	if countPaths(f, want) == 0 {
		t.Errorf("no request %s in %v", want, f.Requests())
	}
	if is := f.Issues(repoName); len(is) != 4 || is[3].Title != title || is[3].Body != "body" {
		t.Errorf("issues = %+v", is)
	}
}

// TestFindIssueSinceStopsAtOlderIssues: the listing (newest created first) stops at the
// first page that reaches issues created before since, and pages until then.
func TestFindIssueSinceStopsAtOlderIssues(t *testing.T) {
	f, _, _ := setup(t)
	ctx := context.Background()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	c := gh.New(f.GitHubClient(), gh.WithAppID(1))
	// 150 older issues, updated since t0 (commented on), then 150 newer ones.
	for i := range 300 {
		at := t0.Add(time.Duration(i-150) * time.Minute)
		f.AddIssue(repoName, fakegithub.Issue{Title: fmt.Sprint("issue ", i), CreatedAt: at, UpdatedAt: t0.Add(time.Hour)})
	}
	f.ResetRequests()
	if _, found, err := c.FindIssueSince(ctx, acme, "absent", t0); err != nil || found {
		t.Fatalf("found=%v err=%v", found, err)
	}
	if n := countPaths(f, "/repos/acme/web/issues?"); n != 2 {
		t.Errorf("%d pages listed, want 2 (the second reaches issues older than since)", n)
	}
}

func TestRateLimitRetry(t *testing.T) {
	tests := []struct {
		name      string
		fault     fakegithub.Fault
		wantErr   any
		wantSleep int
	}{
		{"primary, short", fakegithub.Fault{Kind: fakegithub.PrimaryRateLimit, Wait: 2 * time.Second, Times: 2}, nil, 2},
		{"secondary, short", fakegithub.Fault{Kind: fakegithub.SecondaryRateLimit, Wait: 3 * time.Second}, nil, 1},
		{"primary, long", fakegithub.Fault{Kind: fakegithub.PrimaryRateLimit, Wait: time.Hour}, new(*github.RateLimitError), 0},
		{"secondary, long", fakegithub.Fault{Kind: fakegithub.SecondaryRateLimit, Wait: time.Minute}, new(*github.AbuseRateLimitError), 0},
		{"secondary, too many times", fakegithub.Fault{Kind: fakegithub.SecondaryRateLimit, Wait: time.Second, Times: 10}, new(*github.AbuseRateLimitError), 4},
		{"secondary as 403, short", fakegithub.Fault{Kind: fakegithub.SecondaryRateLimitForbidden, Wait: 2 * time.Second}, nil, 1},
		{"secondary as 403, long", fakegithub.Fault{Kind: fakegithub.SecondaryRateLimitForbidden, Wait: time.Minute}, new(*github.AbuseRateLimitError), 0},
		{"502 on a POST", fakegithub.Fault{Kind: fakegithub.BadGateway}, new(*github.ErrorResponse), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, c, s := setup(t)
			f.InjectFault(tt.fault)
			_, err := c.CreateComment(context.Background(), acme, f.AddIssue(repoName, fakegithub.Issue{Title: "x"}), "hello")
			if tt.wantErr == nil && err != nil {
				t.Fatalf("error = %v", err)
			}
			if tt.wantErr != nil && !errors.As(err, tt.wantErr) {
				t.Fatalf("error = %v (%T), want %T", err, errors.Unwrap(err), tt.wantErr)
			}
			if got := len(s.all()); got != tt.wantSleep {
				t.Errorf("slept %d times (%v), want %d", got, s.all(), tt.wantSleep)
			}
			for _, d := range s.all() {
				if d < tt.fault.Wait || d > tt.fault.Wait+2*time.Second {
					t.Errorf("slept %s for a wait of %s", d, tt.fault.Wait)
				}
			}
			wantComments := 1
			if tt.wantErr != nil {
				wantComments = 0
			}
			if n := len(f.Comments(repoName, 1)); n != wantComments {
				t.Errorf("%d comments stored, want %d", n, wantComments)
			}
		})
	}
}

func TestTransient(t *testing.T) {
	status := func(code int) error {
		return &github.ErrorResponse{Response: &http.Response{StatusCode: code}, Message: http.StatusText(code)}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"500", status(500), true},
		{"502 wrapped", fmt.Errorf("permission of x: %w", status(502)), true},
		{"429", status(http.StatusTooManyRequests), true},
		{"rate limit", &github.RateLimitError{Response: &http.Response{StatusCode: 403}}, true},
		{"secondary rate limit", &github.AbuseRateLimitError{Response: &http.Response{StatusCode: 403}}, true},
		{"no answer", errors.New("connection reset by peer"), true},
		{"404", fmt.Errorf("permission of x: %w", gh.ErrNotFound), false},
		{"403", status(403), false},
		{"422", status(422), false},
	}
	for _, tc := range tests {
		if got := gh.Transient(tc.err); got != tc.want {
			t.Errorf("%s: Transient = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A file over 1 MB is read raw; one over MaxContentBytes is not read into memory.
func TestGetContentLargeFiles(t *testing.T) {
	f, c, _ := setup(t)
	ctx := context.Background()
	two := bytes.Repeat([]byte("x"), 2<<20)
	f.SetFile(repoName, "", "two.bin", two)
	got, err := c.GetContent(ctx, acme, "two.bin", "", "")
	if err != nil || !bytes.Equal(got.Data, two) {
		t.Fatalf("2 MB file: %d bytes, %v", len(got.Data), err)
	}
	f.SetFile(repoName, "", "huge.bin", bytes.Repeat([]byte("x"), gh.MaxContentBytes+1))
	if _, err := c.GetContent(ctx, acme, "huge.bin", "", ""); !errors.Is(err, gh.ErrTooLarge) {
		t.Fatalf("huge file: %v, want ErrTooLarge", err)
	}
}

// TestReadsAreBounded: a policy-sized file over MaxContentBytes is refused with
// ErrTooLarge (not read into memory), and comment bodies are kept to MaxCommentBytes.
func TestReadsAreBounded(t *testing.T) {
	f, c, _ := setup(t)
	ctx := context.Background()
	const path = "data.bin"
	f.SetFile(repoName, "", path, bytes.Repeat([]byte("x"), gh.MaxContentBytes))
	if ct, err := c.GetContent(ctx, acme, path, "", ""); err != nil || len(ct.Data) != gh.MaxContentBytes {
		t.Fatalf("a file of exactly the limit: %d bytes, %v", len(ct.Data), err)
	}

	f.AddPull(repoName, fakegithub.Pull{Number: 5, HeadRef: "h", HeadSHA: "abc"})
	f.AddComment(repoName, 5, "mallory", strings.Repeat("é", gh.MaxCommentBytes)) // 2 bytes each
	f.AddComment(repoName, 5, "bob", "short")
	cs, err := c.ListComments(ctx, acme, 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || len(cs[0].Body) > gh.MaxCommentBytes || !utf8.ValidString(cs[0].Body) || cs[1].Body != "short" {
		t.Fatalf("comments %d, first body %d bytes (limit %d)", len(cs), len(cs[0].Body), gh.MaxCommentBytes)
	}
}
