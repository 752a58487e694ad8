package handlers_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

const releaseMarker = "<!-- escapegate:release-report -->"

// openReleasePR registers and opens PR n with a harmless changelog change.
func (e *env) openReleasePR(pr events.PR) events.PR {
	e.t.Helper()
	e.h.GitHub.AddPull(e.repo.FullName, fakegithub.Pull{Number: pr.Number, Title: pr.Title, Author: pr.Author, HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef,
		BaseSHA: pr.BaseSHA, BaseRef: pr.BaseRef, Labels: pr.Labels,
		Files: []fakegithub.PullFile{{Filename: "CHANGELOG.md", Status: "modified", Additions: 1, Patch: "@@ -1,1 +1,2 @@\n # Changelog\n+## 2.4.0"}}})
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "opened", pr, pr.Author))
	return pr
}

// markerComments returns the comments on PR n that carry the release marker, and all comments.
func (e *env) markerComments(n int) (marked, all []fakegithub.Comment) {
	all = e.h.GitHub.Comments(e.repo.FullName, n)
	for _, c := range all {
		if strings.Contains(c.Body, releaseMarker) {
			marked = append(marked, c)
		}
	}
	return marked, all
}

// commentEdits counts PATCH requests to comment id.
func (e *env) commentEdits(id int64) int {
	n := 0
	suffix := fmt.Sprintf("/issues/comments/%d", id)
	for _, r := range e.h.GitHub.Requests() {
		if r.Method == "PATCH" && strings.HasSuffix(strings.SplitN(r.Path, "?", 2)[0], suffix) {
			n++
		}
	}
	return n
}

func TestReleasePRComment(t *testing.T) {
	if render.ReleaseMarker != releaseMarker {
		t.Fatalf("the release marker changed to %q; the product contract names %q", render.ReleaseMarker, releaseMarker)
	}
	base := events.PR{Number: 10, Title: "chore(main): release 2.4.0", Author: "release-please[bot]", HeadSHA: sha("r1"),
		HeadRef: "feature/next", BaseSHA: sha("base"), BaseRef: "main"}
	tests := []struct {
		name  string
		shape func(events.PR) events.PR
	}{
		{"release-please head branch", func(p events.PR) events.PR { p.HeadRef = "release-please--branches--main"; return p }},
		{"autorelease: pending label", func(p events.PR) events.PR { p.Labels = []string{"autorelease: pending"}; return p }},
		{"release/1.x base branch", func(p events.PR) events.PR { p.BaseRef = "release/1.x"; return p }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			rel := e.openReleasePR(tc.shape(base))
			marked, all := e.markerComments(rel.Number)
			if len(marked) != 1 || len(all) != 1 {
				t.Fatalf("after opened: %d marked of %d comments, want 1 of 1", len(marked), len(all))
			}
			first := marked[0]
			if strings.Contains(first.Body, "1 of ") {
				t.Fatalf("a new repository's comment already shows an escape:\n%s", first.Body)
			}

			// A merge elsewhere, while its check failed: one advisory escape.
			pr := e.openPR(1, "alice", "x1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
			e.merge(pr, "alice")
			if esc := e.escapes(); len(esc) != 1 {
				t.Fatalf("escapes = %+v", esc)
			}

			rel.HeadSHA = sha("r2")
			e.send("pull_request", events.PullRequest(e.inst, e.repo, "synchronize", rel, rel.Author))
			marked, all = e.markerComments(rel.Number)
			if len(marked) != 1 || len(all) != 1 {
				t.Fatalf("after synchronize: %d marked of %d comments, want 1 of 1", len(marked), len(all))
			}
			if marked[0].ID != first.ID {
				t.Fatalf("comment %d replaced by %d", first.ID, marked[0].ID)
			}
			if !strings.Contains(marked[0].Body, "1 of 1 ") {
				t.Fatalf("comment does not show the new numbers:\n%s", marked[0].Body)
			}
			if n := len(e.h.GitHub.Comments(e.repo.FullName, 1)); n != 0 {
				t.Fatalf("the ordinary PR #1 got %d comments", n)
			}
		})
	}
}

func TestNonReleasePRGetsNoComment(t *testing.T) {
	e := newEnv(t)
	pr := e.openPR(1, "alice", "n1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "edited", pr, "alice"))
	e.send("pull_request", events.Labeled(e.inst, e.repo, "labeled", pr, "documentation", "alice"))
	e.merge(pr, "alice")
	pr2 := e.openPR(2, "bob", "n2", envFile("README.md", "hello"))
	pr2 = e.push(pr2, "n3", envFile("README.md", "hello again"))
	for _, n := range []int{1, 2} {
		if c := e.h.GitHub.Comments(e.repo.FullName, n); len(c) != 0 {
			t.Errorf("PR #%d got comments: %+v", n, c)
		}
	}
	for _, r := range e.h.GitHub.Requests() {
		if r.Method == "POST" && strings.Contains(r.Path, "/comments") {
			t.Errorf("escapegate posted a comment: %s %s", r.Method, r.Path)
		}
	}
}

func TestEditingReleasePREditsTheSameComment(t *testing.T) {
	e := newEnv(t)
	rel := e.openReleasePR(events.PR{Number: 10, Title: "chore(main): release 2.4.0", Author: "release-please[bot]", HeadSHA: sha("r1"),
		HeadRef: "release-please--branches--main", BaseSHA: sha("base"), BaseRef: "main"})
	marked, _ := e.markerComments(rel.Number)
	if len(marked) != 1 {
		t.Fatalf("after opened: %d marked comments", len(marked))
	}
	id := marked[0].ID
	steps := []struct {
		name    string
		payload func() []byte
	}{
		{"edited", func() []byte {
			rel.Title = "chore(main): release 2.5.0"
			return events.PullRequest(e.inst, e.repo, "edited", rel, "maintainer")
		}},
		{"labeled", func() []byte {
			return events.Labeled(e.inst, e.repo, "labeled", rel, "autorelease: pending", "release-please[bot]")
		}},
		{"unlabeled", func() []byte {
			return events.Labeled(e.inst, e.repo, "unlabeled", rel, "documentation", "maintainer")
		}},
	}
	for i, st := range steps {
		e.send("pull_request", st.payload())
		marked, all := e.markerComments(rel.Number)
		if len(marked) != 1 || len(all) != 1 || marked[0].ID != id {
			t.Fatalf("after %s: %d marked of %d comments (first id %d)", st.name, len(marked), len(all), id)
		}
		if got := e.commentEdits(id); got != i+1 {
			t.Fatalf("after %s: comment %d edited %d times, want %d", st.name, id, got, i+1)
		}
	}
}
