package handlers_test

// Overrides follow GitHub's state, not the event; comments and issues count as
// escapegate's only when its own bot wrote them. End to end, over signed webhooks.

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store"
)

// t0 is GitHub's time of the first label change in these tests.
var t0 = time.Date(2026, 11, 2, 11, 0, 0, 0, time.UTC)

// labeledAt builds a labeled or unlabeled payload whose pull_request.updated_at is at.
func (e *env) labeledAt(pr events.PR, action, sender string, at time.Time) []byte {
	pr.UpdatedAt = at
	return events.Labeled(e.inst, e.repo, action, pr, overrideLabel, sender)
}

func (e *env) activeExceptions(n int) []store.Exception {
	var out []store.Exception
	for _, x := range e.exceptions(n) {
		if x.State == store.ExceptionActive {
			out = append(out, x)
		}
	}
	return out
}

// resend delivers payload again under a new delivery id, as a replay of the signed body would.
func (e *env) resend(payload []byte) {
	e.t.Helper()
	e.send("pull_request", payload)
}

func TestLabelThePRNoLongerHasGrantsNothing(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "s1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	// The label came and went on GitHub before escapegate handled the labeled event.
	e.send("pull_request", e.labeledAt(pr, "labeled", "sec-lead", t0))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("check %s after a label the PR does not have", run.Conclusion)
	}
	if excs := e.exceptions(1); len(excs) != 0 {
		t.Fatalf("exceptions %+v", excs)
	}
	if len(e.refused()) != 0 || len(e.h.GitHub.Comments(e.repo.FullName, 1)) != 0 {
		t.Error("a label that is gone was answered or recorded")
	}
}

func TestUnlabeledHandledBeforeLabeled(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "s2", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	labeled := e.labeledAt(pr, "labeled", "sec-lead", t0)
	e.send("pull_request", e.labeledAt(pr, "unlabeled", "sec-lead", t0.Add(time.Minute)))
	e.send("pull_request", labeled)
	if act := e.activeExceptions(1); len(act) != 0 {
		t.Fatalf("active exceptions after unlabeled then labeled: %+v", act)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("check %s", run.Conclusion)
	}
	// Applied again later: that application grants; the old body, replayed now with the
	// label on the PR, grants nothing more.
	e.h.GitHub.AddLabel(e.repo.FullName, 1, overrideLabel)
	e.send("pull_request", e.labeledAt(pr, "labeled", "sec-lead", t0.Add(2*time.Minute)))
	e.resend(labeled)
	if excs := e.exceptions(1); len(excs) != 1 || excs[0].State != store.ExceptionActive {
		t.Fatalf("exceptions %+v", excs)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("check %s after the new application", run.Conclusion)
	}
}

func TestReplayedLabeledBodyGrantsNothing(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "s3", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.h.GitHub.AddLabel(e.repo.FullName, 1, overrideLabel)
	labeled := e.labeledAt(pr, "labeled", "sec-lead", t0)
	e.send("pull_request", labeled)
	if act := e.activeExceptions(1); len(act) != 1 {
		t.Fatalf("approver's label: %+v", act)
	}
	e.resend(labeled) // while the label is on: no second exception
	if excs := e.exceptions(1); len(excs) != 1 {
		t.Fatalf("a replay while the label is on recorded %d exceptions", len(excs))
	}
	e.h.GitHub.TakeLabel(e.repo.FullName, 1, overrideLabel)
	e.send("pull_request", e.labeledAt(pr, "unlabeled", "sec-lead", t0.Add(time.Minute)))
	e.resend(labeled) // after the removal: nothing
	if act := e.activeExceptions(1); len(act) != 0 {
		t.Fatalf("a replay after the removal granted: %+v", act)
	}
	if excs := e.exceptions(1); len(excs) != 1 {
		t.Fatalf("exceptions %+v", excs)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("check %s after the replay", run.Conclusion)
	}
}

// refusedOnce checks that the override label was removed, answered by one comment and
// recorded once as refused, with why in both.
func (e *env) refusedOnce(n int, why string) {
	e.t.Helper()
	for _, l := range e.h.GitHub.Labels(e.repo.FullName, n) {
		if l == overrideLabel {
			e.t.Fatal("the refused label stays on the PR")
		}
	}
	cs := e.h.GitHub.Comments(e.repo.FullName, n)
	if len(cs) != 1 || !strings.Contains(cs[0].Body, why) {
		e.t.Fatalf("comments %+v, want one saying %q", cs, why)
	}
	if r := e.refused(); len(r) != 1 || !strings.Contains(r[0].Why, why) {
		e.t.Fatalf("refused %+v", r)
	}
	if len(e.exceptions(n)) != 0 {
		e.t.Fatal("an exception was recorded")
	}
	if run := e.lastRun(sha("s4")); run.Conclusion != "failure" {
		e.t.Fatalf("check %s", run.Conclusion)
	}
}

func TestBotSenderRefused(t *testing.T) {
	tests := []struct {
		name, why string
		asUser    bool // the payload calls the bot a User: GitHub's 404 for it decides
	}{
		{name: "sender.type Bot", why: "bot or app account"},
		{name: "permission answered 404", why: "does not know the sender", asUser: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t) // default policy: repository admins approve
			pr := e.openPR(1, "alice", "s4", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
			e.h.GitHub.AddLabel(e.repo.FullName, 1, overrideLabel)
			payload := e.labeledAt(pr, "labeled", "deploy-helper[bot]", t0)
			if tc.asUser {
				payload = bytes.ReplaceAll(payload, []byte(`"type":"Bot"`), []byte(`"type":"User"`))
			}
			e.send("pull_request", payload)
			e.refusedOnce(1, tc.why)
		})
	}
}

func TestApproverCheckFailingEveryAttemptIsRefused(t *testing.T) {
	e := newEnv(t)
	pr := e.openPR(1, "alice", "s4", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.h.GitHub.SetPermission(e.repo.FullName, "ada", "admin")
	e.h.GitHub.AddLabel(e.repo.FullName, 1, overrideLabel)
	e.h.GitHub.InjectFault(fakegithub.Fault{Path: "/repos/acme/app/collaborators/", Kind: fakegithub.BadGateway, Times: 1000})
	e.send("pull_request", e.labeledAt(pr, "labeled", "ada", t0))
	e.refusedOnce(1, "did not answer whether the sender is an approver")
}

func TestUsersReleaseMarkerCommentIsNotEdited(t *testing.T) {
	e := newEnv(t)
	rel := events.PR{Number: 10, Title: "chore(main): release 2.4.0", Author: "release-please[bot]", HeadSHA: sha("r1"),
		HeadRef: "release-please--branches--main", BaseSHA: sha("base"), BaseRef: "main"}
	e.h.GitHub.AddPull(e.repo.FullName, fakegithub.Pull{Number: 10, Title: rel.Title, Author: rel.Author, HeadSHA: rel.HeadSHA,
		HeadRef: rel.HeadRef, BaseSHA: rel.BaseSHA, BaseRef: "main"})
	fake := "No escapes at all!\n" + releaseMarker
	id := e.h.GitHub.AddComment(e.repo.FullName, 10, "mallory", fake)
	e.openReleasePR(rel)
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "edited", rel, "alice"))
	marked, all := e.markerComments(10)
	if len(all) != 2 || len(marked) != 2 {
		t.Fatalf("comments %+v: want mallory's and escapegate's own", all)
	}
	if all[0].ID != id || all[0].Body != fake || e.commentEdits(id) != 0 {
		t.Fatalf("mallory's comment was edited: %+v", all[0])
	}
	if all[1].Author == "mallory" || e.commentEdits(all[1].ID) != 1 {
		t.Fatalf("escapegate's comment %+v, %d edits", all[1], e.commentEdits(all[1].ID))
	}
}

func TestUsersIssueWithTheSummaryTitleDoesNotStopTheSummary(t *testing.T) {
	e := newEnv(t)
	e.h.GitHub.AddRepo(reportsR.FullName, "main")
	e.h.GitHub.AddInstallation(e.inst, reportsR.FullName)
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(teamPolicy+"summary:\n  repository: security-reports\n"))
	e.send("installation", events.InstallationCreated(e.inst, "acme", []events.Repo{e.repo, dotGHub, reportsR}, "sec-lead"))
	month := time.Now().UTC()
	dry, err := e.h.Server.Summaries().RunOne(e.ctx, e.inst, month, true)
	if err != nil {
		t.Fatal(err)
	}
	theirs := e.h.GitHub.AddIssue(reportsR.FullName, fakegithub.Issue{Title: dry.Title, Author: "mallory", Body: "nothing to see"})
	out, err := e.h.Server.Summaries().RunOne(e.ctx, e.inst, month, false)
	if err != nil || out.Status != summary.StatusCreated || out.Issue.Number == theirs {
		t.Fatalf("with mallory's issue: %+v, %v", out, err)
	}
	// A replica that lost the claim finds escapegate's issue, not mallory's.
	if err := e.h.Store.DeleteSetting(e.ctx, summary.Key(e.inst, month)); err != nil {
		t.Fatal(err)
	}
	again, err := e.h.Server.Summaries().RunOne(e.ctx, e.inst, month, false)
	if err != nil || again.Status != summary.StatusExists || again.Issue.Number != out.Issue.Number {
		t.Fatalf("without the claim: %+v, %v", again, err)
	}
	var mine int
	for _, is := range e.h.GitHub.Issues(reportsR.FullName) {
		if is.Title == dry.Title && is.Author != "mallory" {
			mine++
		}
	}
	if mine != 1 {
		t.Fatalf("want one summary issue by escapegate, got %d: %+v", mine, e.h.GitHub.Issues(reportsR.FullName))
	}
}
