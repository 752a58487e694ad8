package handlers_test

import (
	"strings"
	"testing"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// TestRequestExceptionButton: a failing check offers "Request exception"; the click
// posts one comment that mentions the approver team with the findings redacted and how
// to approve, and records the request. A second click, a redelivery, a click on an old
// head or on a check that passes post nothing; only an approver's label decides.
func TestRequestExceptionButton(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	secret := awsKey()
	pr := e.openPR(1, "alice", "r1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+secret))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "failure" || len(run.Actions) != 1 || run.Actions[0].Identifier != gate.RequestExceptionAction {
		t.Fatalf("failing check: %s, actions %+v", run.Conclusion, run.Actions)
	}
	click := events.CheckRunRequestedAction(e.inst, e.repo, pr, run.ID, gate.RequestExceptionAction, "alice")
	e.send("check_run", click)
	comments := e.h.GitHub.Comments(e.repo.FullName, 1)
	if len(comments) != 1 {
		t.Fatalf("want one request comment, got %d", len(comments))
	}
	body := comments[0].Body
	for _, want := range []string{"Exception requested by @alice", "@acme/security", "aws-access-token", "deploy/prod.env:1", "AKIA…", "`escapegate/accept-risk`"} {
		if !strings.Contains(body, want) {
			t.Errorf("request comment lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, secret) || strings.Contains(body, secret[4:]) {
		t.Fatalf("request comment shows the secret:\n%s", body)
	}
	rec, ok, err := e.h.Server.Gate().GetExceptionRequest(e.ctx, gh.Repo{Owner: "acme", Name: "app"}, 1, pr.HeadSHA)
	if err != nil || !ok || rec.Requester != "alice" || len(rec.Fingerprints) != 1 || rec.CommentID != comments[0].ID {
		t.Fatalf("request record = %+v, %v, %v", rec, ok, err)
	}

	e.send("check_run", click) // a second click (a new delivery)
	// GitHub redelivers the first click (delivery 2: the PR's opened event was 1).
	if _, err := e.h.SendDelivery(e.ctx, "check_run", "00000000-0000-4000-8000-000000000002", click); err != nil {
		t.Fatal(err)
	}
	if n := len(e.h.GitHub.Comments(e.repo.FullName, 1)); n != 1 {
		t.Fatalf("repeated clicks: %d comments, want 1", n)
	}
	if len(e.exceptions(1)) != 0 {
		t.Fatal("a request granted an exception")
	}

	// An approver's label decides; a click on the now-neutral check posts nothing.
	e.label(pr, overrideLabel, "sec-lead")
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("after approval: %s", run.Conclusion)
	}
	e.send("check_run", click)
	// A click on a head the PR has moved on from posts nothing either.
	old := pr
	pr = e.push(pr, "r2", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+secret, "GITHUB_TOKEN="+githubToken()))
	e.send("check_run", events.CheckRunRequestedAction(e.inst, e.repo, old, run.ID, gate.RequestExceptionAction, "alice"))
	if n := len(e.h.GitHub.Comments(e.repo.FullName, 1)); n != 1 {
		t.Fatalf("%d comments after clicks that ask nothing", n)
	}
	// The new head fails on the new token: its own click asks again.
	e.send("check_run", events.CheckRunRequestedAction(e.inst, e.repo, pr, e.lastRun(pr.HeadSHA).ID, gate.RequestExceptionAction, "alice"))
	cs := e.h.GitHub.Comments(e.repo.FullName, 1)
	last := cs[len(cs)-1].Body
	if !strings.Contains(last, "Exception requested by @alice") || !strings.Contains(last, "github-pat") || strings.Contains(last, "aws-access-token") {
		t.Fatalf("request on the new head should list only the uncovered token:\n%s", last)
	}
	e.checkAPI()
}
