package gate_test

import (
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
	"github.com/escapegate/escapegate/app/render"
)

const releaseMarker = "<!-- escapegate:release-report -->"

// releasePR is PR 10 by release-please, an ordinary PR until shape makes it a release PR.
func releasePR(shape func(*gate.PR)) gate.PR {
	p := pr(10, "release-please[bot]", "r1")
	p.Title, p.HeadRef = "chore(main): release 2.4.0", "feature/next"
	if shape != nil {
		shape(&p)
	}
	return p
}

var changelog = gh.File{Filename: "CHANGELOG.md", Status: "modified", Changes: 1, Patch: "@@ -1,1 +1,2 @@\n # Changelog\n+## 2.4.0"}

// count returns how many calls of method the fake received.
func (f *fixture) count(method string) int { return len(f.gh.CallsTo(method)) }

func TestReleasePRComment(t *testing.T) {
	if render.ReleaseMarker != releaseMarker {
		t.Fatalf("the release marker changed to %q; the product contract names %q", render.ReleaseMarker, releaseMarker)
	}
	tests := []struct {
		name  string
		shape func(*gate.PR)
	}{
		{"release/* base branch", func(p *gate.PR) { p.BaseRef = "release/1.x" }},
		{"release-please--* head branch", func(p *gate.PR) { p.HeadRef = "release-please--branches--main" }},
		{"release label", func(p *gate.PR) { p.Labels = []string{"release"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			// The comment counts what happened before now: let the clock move, so the
			// escape recorded by the merge is in the past when the comment is refreshed.
			f.tick = time.Millisecond
			rel := releasePR(tc.shape)
			f.register(rel, changelog)
			f.check(rel)
			if len(f.gh.Posted) != 1 || f.count("CreateComment") != 1 || f.count("EditComment") != 0 {
				t.Fatalf("after the first check: posted %+v, %d edits", f.gh.Posted, f.count("EditComment"))
			}
			first := f.gh.Posted[0]
			if first.Number != 10 || !strings.Contains(first.Body, releaseMarker) || strings.Contains(first.Body, "1 of ") {
				t.Fatalf("first comment on #%d:\n%s", first.Number, first.Body)
			}
			if id, err := f.st.GetReleaseComment(f.ctx, repoName, 10); err != nil || id != first.ID {
				t.Fatalf("remembered comment id %d, %v, want %d", id, err, first.ID)
			}

			// A merge elsewhere while its check failed: one advisory escape, and the open
			// release PR's comment is refreshed in place.
			p := f.open(1, "alice", "x1", envFile("deploy/prod.env", criticalLine()))
			if got := f.merge(p); len(got) != 1 {
				t.Fatalf("merge recorded %+v", got)
			}
			if f.count("CreateComment") != 1 || len(f.gh.Edited) != 1 || f.gh.Edited[0].ID != first.ID || !strings.Contains(f.gh.Edited[0].Body, "1 of 1 ") {
				t.Fatalf("after the escape: %d posts, edits %+v", f.count("CreateComment"), f.gh.Edited)
			}

			// The release PR's next event edits the same comment again.
			rel = f.push(rel, "r2", changelog)
			if f.count("CreateComment") != 1 || f.count("EditComment") != 2 || f.gh.Edited[1].ID != first.ID {
				t.Fatalf("after synchronize: %d posts, edits %+v", f.count("CreateComment"), f.gh.Edited)
			}
			cs := f.gh.Comments[ghfake.PR{Repo: repoName, Number: 10}]
			if len(cs) != 1 || cs[0].ID != first.ID || !strings.Contains(cs[0].Body, "1 of 1 ") {
				t.Fatalf("comments on the release PR: %+v", cs)
			}
			if cs := f.gh.Comments[ghfake.PR{Repo: repoName, Number: 1}]; len(cs) != 0 {
				t.Fatalf("the ordinary PR #1 got comments: %+v", cs)
			}
		})
	}
}

func TestNonReleasePRGetsNoComment(t *testing.T) {
	f := newFixture(t)
	p := f.open(1, "alice", "n1", envFile("deploy/prod.env", criticalLine()))
	if err := f.svc.SyncRelease(f.ctx, p); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Labeled(f.ctx, f.labelEvent(p, "documentation", "alice", "d1")); err != nil {
		t.Fatal(err)
	}
	f.merge(p)
	p2 := f.open(2, "bob", "n2", envFile("README.md", "hello"))
	f.push(p2, "n3", envFile("README.md", "hello again"))
	for _, m := range []string{"CreateComment", "EditComment", "ListComments"} {
		if n := f.count(m); n != 0 {
			t.Errorf("%s called %d times for ordinary PRs", m, n)
		}
	}
}

// TestEditingReleasePREditsTheSameComment: title edits and other labels refresh the
// comment in place, one edit each, without listing comments again.
func TestEditingReleasePREditsTheSameComment(t *testing.T) {
	f := newFixture(t)
	rel := releasePR(func(p *gate.PR) { p.HeadRef = "release-please--branches--main" })
	f.register(rel, changelog)
	f.check(rel)
	if len(f.gh.Posted) != 1 {
		t.Fatalf("posted %+v", f.gh.Posted)
	}
	id := f.gh.Posted[0].ID
	steps := []struct {
		name string
		run  func() error
	}{
		{"edited", func() error { rel.Title = "chore(main): release 2.5.0"; return f.svc.SyncRelease(f.ctx, rel) }},
		{"labeled", func() error {
			_, err := f.svc.Labeled(f.ctx, f.labelEvent(rel, "autorelease: pending", "release-please[bot]", "l1"))
			return err
		}},
		{"unlabeled", func() error {
			_, err := f.svc.Unlabeled(f.ctx, gate.LabelEvent{PR: rel, Label: "documentation", Sender: "maintainer", DeliveryID: "u1"})
			return err
		}},
	}
	for i, st := range steps {
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if f.count("CreateComment") != 1 || f.count("EditComment") != i+1 || f.gh.Edited[i].ID != id || f.count("ListComments") != 1 {
			t.Fatalf("after %s: %d posts, %d edits (%+v), %d listings", st.name, f.count("CreateComment"), f.count("EditComment"), f.gh.Edited, f.count("ListComments"))
		}
	}
}

// TestReleaseCommentFoundByMarker: with no id in the store (another replica posted the
// comment, or the store was lost), the comment carrying the marker is edited, not doubled.
func TestReleaseCommentFoundByMarker(t *testing.T) {
	f := newFixture(t)
	rel := releasePR(func(p *gate.PR) { p.BaseRef = "release/1.x" })
	f.register(rel, changelog)
	k := ghfake.PR{Repo: repoName, Number: 10}
	f.gh.Comments[k] = []gh.Comment{
		{ID: 500, Body: "LGTM", Author: "maintainer"},
		{ID: 501, Body: "old numbers\n" + releaseMarker, Author: "escapegate[bot]", Mine: true},
	}
	f.check(rel)
	if len(f.gh.Posted) != 0 || len(f.gh.Edited) != 1 || f.gh.Edited[0].ID != 501 {
		t.Fatalf("posted %+v, edited %+v; want comment 501 edited", f.gh.Posted, f.gh.Edited)
	}
	if id, err := f.st.GetReleaseComment(f.ctx, repoName, 10); err != nil || id != 501 {
		t.Fatalf("remembered id %d, %v", id, err)
	}
	if f.gh.Comments[k][0].Body != "LGTM" {
		t.Fatal("another comment was edited")
	}
}

// TestUsersMarkerCommentIsNotEdited: a comment carrying the release marker that
// escapegate did not write (a user copied it, or another app) is never edited: its
// author could rewrite it afterwards. escapegate posts its own and remembers that one.
func TestUsersMarkerCommentIsNotEdited(t *testing.T) {
	f := newFixture(t)
	rel := releasePR(func(p *gate.PR) { p.BaseRef = "release/1.x" })
	f.register(rel, changelog)
	k := ghfake.PR{Repo: repoName, Number: 10}
	user := "fake numbers\n" + releaseMarker
	f.gh.Comments[k] = []gh.Comment{
		{ID: 500, Body: user, Author: "mallory"},
		{ID: 501, Body: user, Author: "other-app[bot]", Mine: false},
	}
	f.check(rel)
	if len(f.gh.Edited) != 0 || len(f.gh.Posted) != 1 {
		t.Fatalf("posted %+v, edited %+v; want one comment of escapegate's own, none edited", f.gh.Posted, f.gh.Edited)
	}
	if id, err := f.st.GetReleaseComment(f.ctx, repoName, 10); err != nil || id != f.gh.Posted[0].ID {
		t.Fatalf("remembered id %d, %v; want %d", id, err, f.gh.Posted[0].ID)
	}
	if f.gh.Comments[k][0].Body != user || f.gh.Comments[k][1].Body != user {
		t.Fatal("a comment escapegate did not write was edited")
	}
	// The next event edits escapegate's own comment.
	if err := f.svc.SyncRelease(f.ctx, rel); err != nil {
		t.Fatal(err)
	}
	if len(f.gh.Posted) != 1 || len(f.gh.Edited) != 1 || f.gh.Edited[0].ID != f.gh.Posted[0].ID {
		t.Fatalf("second event: posted %+v, edited %+v", f.gh.Posted, f.gh.Edited)
	}
}

// TestDeletedReleaseCommentIsPostedAgain: the remembered comment was deleted on GitHub;
// the next event posts a new one and remembers it.
func TestDeletedReleaseCommentIsPostedAgain(t *testing.T) {
	f := newFixture(t)
	rel := releasePR(func(p *gate.PR) { p.Labels = []string{"release"} })
	f.register(rel, changelog)
	f.check(rel)
	k := ghfake.PR{Repo: repoName, Number: 10}
	old := f.gh.Posted[0].ID
	delete(f.gh.Comments, k)
	if err := f.svc.SyncRelease(f.ctx, rel); err != nil {
		t.Fatal(err)
	}
	if len(f.gh.Posted) != 2 || len(f.gh.Comments[k]) != 1 {
		t.Fatalf("posted %+v, comments %+v", f.gh.Posted, f.gh.Comments[k])
	}
	id, err := f.st.GetReleaseComment(f.ctx, repoName, 10)
	if err != nil || id == old || id != f.gh.Posted[1].ID {
		t.Fatalf("remembered id %d, %v; want the new comment %d", id, err, f.gh.Posted[1].ID)
	}
}
