package gate_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
	"github.com/escapegate/escapegate/store"
)

func TestOverrideLabel(t *testing.T) {
	maintain := "override:\n  approvers:\n    permission: maintain\n"
	tests := []struct {
		name, policy, author, sender string
		accept                       bool
		why                          string // in the refusal's comment and record
		team                         bool   // the refusal names acme/security
	}{
		{name: "active team member accepts", policy: teamPolicy, author: "alice", sender: "sec-lead", accept: true},
		{name: "author refused even as a team member", policy: teamPolicy, author: "sec-lead", sender: "sec-lead", why: "author of a pull request may not accept", team: true},
		{name: "non-member refused though a repository admin", policy: teamPolicy, author: "alice", sender: "mallory", why: "not an approver", team: true},
		{name: "pending team member refused", policy: teamPolicy, author: "alice", sender: "pat", why: "not an approver", team: true},
		{name: "default policy: admin accepts", author: "alice", sender: "ada", accept: true},
		{name: "default policy: write refused", author: "alice", sender: "wes", why: "not an approver"},
		{name: "default policy: admin author refused", author: "ada", sender: "ada", why: "author of a pull request may not accept"},
		{name: "maintain policy: maintain accepts", policy: maintain, author: "alice", sender: "mo", accept: true},
		{name: "maintain policy: admin accepts", policy: maintain, author: "alice", sender: "ada", accept: true},
		{name: "maintain policy: write refused", policy: maintain, author: "alice", sender: "wes", why: "not an approver"},
		{name: "allow_author: admin author accepts", policy: "override:\n  allow_author: true\n", author: "ada", sender: "ada", accept: true},
		{name: "allow_author: still only approvers", policy: "override:\n  allow_author: true\n", author: "wes", sender: "wes", why: "not an approver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.policy != "" {
				f.orgPolicy(tc.policy)
			}
			f.gh.Teams[ghfake.Member{Org: "acme", Team: "security", User: "sec-lead"}] = "active"
			f.gh.Teams[ghfake.Member{Org: "acme", Team: "security", User: "pat"}] = "pending"
			for user, perm := range map[string]string{"mallory": "admin", "ada": "admin", "mo": "maintain", "wes": "write"} {
				f.gh.Permissions[ghfake.Collaborator{Repo: repoName, User: user}] = perm
			}
			p := pr(1, tc.author, "o1")
			f.register(p, envFile("deploy/prod.env", criticalLine()))
			checked := f.check(p)
			if checked.Conclusion != "failure" || len(checked.Failing) != 1 {
				t.Fatalf("before the label: %+v", checked)
			}
			out := f.label(p, overrideLabel, tc.sender)
			labels := f.gh.Labels[ghfake.PR{Repo: repoName, Number: 1}]
			excs := f.exceptions(1)
			runs := f.runsOn(p.HeadSHA)

			if tc.accept {
				if !out.Accepted || out.Refused || len(excs) != 1 || out.Exception.ID != excs[0].ID {
					t.Fatalf("outcome %+v, exceptions %+v", out, excs)
				}
				x := excs[0]
				if x.State != store.ExceptionActive || x.Approver != tc.sender || x.HeadSHA != p.HeadSHA || x.Label != overrideLabel ||
					fmt.Sprint(x.Fingerprints) != fmt.Sprint([]string{checked.Failing[0].Fingerprint}) ||
					!x.CreatedAt.Equal(start) || !x.ExpiresAt.Equal(start.Add(30*24*time.Hour)) {
					t.Fatalf("exception = %+v", x)
				}
				if len(runs) != 2 {
					t.Fatalf("want the check and one republished run, got %d", len(runs))
				}
				run := runs[1]
				if run.Status != "completed" || run.Conclusion != "neutral" || len(run.Sent) != 1 {
					t.Fatalf("after approval: %s/%s %q (%d requests)", run.Status, run.Conclusion, run.Title, len(run.Sent))
				}
				for _, want := range []string{"@" + tc.sender, fmt.Sprintf("exception #%d", x.ID)} {
					if !strings.Contains(run.Title, want) {
						t.Errorf("title %q does not name %q", run.Title, want)
					}
				}
				if sc, err := f.st.GetScan(f.ctx, repoName, p.HeadSHA); err != nil || sc.Conclusion != "neutral" || sc.CheckRunID != run.ID {
					t.Errorf("stored scan after approval = %+v, %v", sc, err)
				}
				if !hasLabel(labels, overrideLabel) || len(f.gh.RemovedLabels) != 0 || len(f.gh.Posted) != 0 || len(f.refused()) != 0 {
					t.Errorf("accepted label: labels %v, removed %v, %d comments, %d refused records", labels, f.gh.RemovedLabels, len(f.gh.Posted), len(f.refused()))
				}
				return
			}
			if !out.Refused || out.Accepted || !strings.Contains(out.Why, tc.why) || len(excs) != 0 {
				t.Fatalf("outcome %+v, exceptions %+v", out, excs)
			}
			if len(runs) != 1 || runs[0].Conclusion != "failure" {
				t.Fatalf("a refused label changed the check: %d runs, last %s", len(runs), runs[len(runs)-1].Conclusion)
			}
			if want := (ghfake.RemovedLabel{Repo: repoName, Number: 1, Label: overrideLabel}); hasLabel(labels, overrideLabel) ||
				len(f.gh.RemovedLabels) != 1 || f.gh.RemovedLabels[0] != want {
				t.Fatalf("refused label not removed: labels %v, removed %+v", labels, f.gh.RemovedLabels)
			}
			if len(f.gh.Posted) != 1 || f.gh.Posted[0].Number != 1 {
				t.Fatalf("want one comment on #1, got %+v", f.gh.Posted)
			}
			body := f.gh.Posted[0].Body
			for _, want := range []string{"@" + tc.sender, overrideLabel, tc.why} {
				if !strings.Contains(body, want) {
					t.Errorf("comment lacks %q:\n%s", want, body)
				}
			}
			if tc.team && !strings.Contains(body, "acme/security") {
				t.Errorf("comment does not name the approving team:\n%s", body)
			}
			ref := f.refused()
			if len(ref) != 1 || ref[0].Sender != tc.sender || ref[0].PR != 1 || ref[0].Label != overrideLabel ||
				!strings.Contains(ref[0].Why, tc.why) || !ref[0].At.Equal(start) {
				t.Fatalf("refused records = %+v", ref)
			}
		})
	}
}

func TestOtherLabelsAreIgnored(t *testing.T) {
	f := newFixture(t)
	p := f.open(1, "alice", "i1", envFile("deploy/prod.env", criticalLine()))
	f.gh.Calls = nil
	ev := f.labelEvent(p, "documentation", "ada", "d1")
	out, err := f.svc.Labeled(f.ctx, ev)
	if err != nil || !out.Ignored {
		t.Fatalf("labeled: %+v, %v", out, err)
	}
	if out, err = f.svc.Unlabeled(f.ctx, ev); err != nil || !out.Ignored {
		t.Fatalf("unlabeled: %+v, %v", out, err)
	}
	for _, m := range f.gh.Methods() {
		if m != "GetContent" { // the policy, to know the override label
			t.Errorf("an ignored label called %s", m)
		}
	}
	if len(f.exceptions(1)) != 0 || len(f.refused()) != 0 {
		t.Fatal("an ignored label recorded something")
	}
}

func TestUnlabeledRevokesException(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "r1", envFile("deploy/prod.env", criticalLine()))
	f.label(p, overrideLabel, "sec-lead")
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("after approval: %s %q", run.Conclusion, run.Title)
	}
	f.advance(time.Hour)
	ev := f.labelEvent(p, overrideLabel, "sec-lead", "unlabel-1")
	if _, err := f.svc.Unlabeled(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	excs := f.exceptions(1)
	if len(excs) != 1 || excs[0].State != store.ExceptionRevoked || excs[0].RevokedBy != "sec-lead" || !excs[0].EndedAt.Equal(f.now) {
		t.Fatalf("exceptions after unlabeled = %+v", excs)
	}
	if run := f.lastRun(p.HeadSHA); run.Status != "completed" || run.Conclusion != "failure" {
		t.Fatalf("after unlabeled: %s/%s %q", run.Status, run.Conclusion, run.Title)
	}
	// Nothing left to revoke: nothing is posted.
	n := len(f.gh.CheckRuns)
	if out, err := f.svc.Unlabeled(f.ctx, ev); err != nil || !out.Ignored || len(f.gh.CheckRuns) != n {
		t.Fatalf("second unlabeled: %+v, %v, %d new runs", out, err, len(f.gh.CheckRuns)-n)
	}
	// A later push checks without the revoked exception.
	p = f.push(p, "r2", envFile("deploy/prod.env", criticalLine()))
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("push after revocation: %s %q", run.Conclusion, run.Title)
	}
}

// TestRevocationRedeliveredAfterFailure: the check run after a revocation could not be
// posted, so the delivery failed; its redelivery finds nothing active to revoke but the
// head's recorded check still neutral, and posts the failing check.
func TestRevocationRedeliveredAfterFailure(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "u1", envFile("deploy/prod.env", criticalLine()))
	f.label(p, overrideLabel, "sec-lead")
	boom := errors.New("GitHub answered 500")
	f.gh.Fail["CreateCheckRun"] = boom
	ev := f.labelEvent(p, overrideLabel, "sec-lead", "unlabel-1")
	if _, err := f.svc.Unlabeled(f.ctx, ev); !errors.Is(err, boom) {
		t.Fatalf("first delivery: %v, want %v", err, boom)
	}
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("the failed delivery changed the check: %s", run.Conclusion)
	}
	delete(f.gh.Fail, "CreateCheckRun")
	if _, err := f.svc.Unlabeled(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if excs := f.exceptions(1); len(excs) != 1 || excs[0].State != store.ExceptionRevoked {
		t.Fatalf("exceptions = %+v", excs)
	}
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("after the redelivered revocation: %s %q, want failure", run.Conclusion, run.Title)
	}
}

// TestReplayedLabelDeliveryRecordsOnce: the same delivery handled again (GitHub
// redelivers one whose handling failed part way) adds no second exception, refused
// record or refusal comment.
func TestReplayedLabelDeliveryRecordsOnce(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p1 := f.open(1, "alice", "p1", envFile("deploy/prod.env", criticalLine()))
	p2 := f.open(2, "bob", "p2", envFile("deploy/other.env", "GITHUB_TOKEN="+githubToken()))
	accept := f.labelEvent(p1, overrideLabel, "sec-lead", "replay-accepted")
	refuse := f.labelEvent(p2, overrideLabel, "mallory", "replay-refused")
	var ids []int64
	for i := 0; i < 3; i++ {
		out, err := f.svc.Labeled(f.ctx, accept)
		if err != nil || !out.Accepted {
			t.Fatalf("accepted delivery %d: %+v, %v", i+1, out, err)
		}
		ids = append(ids, out.Exception.ID)
		if out, err := f.svc.Labeled(f.ctx, refuse); err != nil || !out.Refused {
			t.Fatalf("refused delivery %d: %+v, %v", i+1, out, err)
		}
	}
	if excs := f.exceptions(0); len(excs) != 1 || ids[0] != excs[0].ID || ids[1] != ids[0] || ids[2] != ids[0] {
		t.Errorf("exceptions %+v, outcomes named %v", excs, ids)
	}
	if n := len(f.refused()); n != 1 {
		t.Errorf("want one refused record, got %d", n)
	}
	if len(f.gh.Posted) != 1 || f.gh.Posted[0].Number != 2 {
		t.Errorf("want one refusal comment on #2, got %+v", f.gh.Posted)
	}
	if run := f.lastRun(p1.HeadSHA); run.Conclusion != "neutral" {
		t.Errorf("#1 after the replays: %s", run.Conclusion)
	}
}

// TestRefusalRedeliveredAfterFailure: GitHub failed while escapegate removed a refused
// label or answered it, so the delivery failed; its redelivery (same id) finishes the
// job with one audit record and one comment.
func TestRefusalRedeliveredAfterFailure(t *testing.T) {
	for _, method := range []string{"RemoveLabel", "CreateComment"} {
		t.Run(method+" failed", func(t *testing.T) {
			f := newFixture(t)
			f.withTeamPolicy()
			p := f.open(1, "alice", "d1", envFile("deploy/prod.env", criticalLine()))
			boom := errors.New("GitHub answered 500")
			failed := false
			f.gh.Hook = func(c ghfake.Call) error {
				if c.Method == method && !failed {
					failed = true
					return boom
				}
				return nil
			}
			ev := f.labelEvent(p, overrideLabel, "mallory", "refused-then-redelivered")
			if _, err := f.svc.Labeled(f.ctx, ev); !errors.Is(err, boom) {
				t.Fatalf("first delivery: %v, want %v", err, boom)
			}
			if _, err := f.svc.Labeled(f.ctx, ev); err != nil {
				t.Fatalf("redelivery: %v", err)
			}
			if ls := f.gh.Labels[ghfake.PR{Repo: repoName, Number: 1}]; hasLabel(ls, overrideLabel) {
				t.Errorf("refused label still on the PR: %v", ls)
			}
			if len(f.gh.Posted) != 1 {
				t.Errorf("want one refusal comment, got %d", len(f.gh.Posted))
			}
			if n := len(f.refused()); n != 1 {
				t.Errorf("want one refused record, got %d", n)
			}
		})
	}
}

// TestApproverLookupFailureFailsClosed: when GitHub cannot say whether the sender is an
// approver, nothing is accepted or refused and the error goes back for a redelivery.
func TestApproverLookupFailureFailsClosed(t *testing.T) {
	tests := []struct{ name, policy, method string }{
		{"team membership", teamPolicy, "TeamMembershipState"},
		{"repository permission", "", "Permission"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.policy != "" {
				f.orgPolicy(tc.policy)
			}
			f.gh.Teams[ghfake.Member{Org: "acme", Team: "security", User: "sec-lead"}] = "active"
			f.gh.Permissions[ghfake.Collaborator{Repo: repoName, User: "sec-lead"}] = "admin"
			p := f.open(1, "alice", "f1", envFile("deploy/prod.env", criticalLine()))
			boom := errors.New("GitHub answered 502")
			f.gh.Fail[tc.method] = boom
			ev := f.labelEvent(p, overrideLabel, "sec-lead", "d1")
			if _, err := f.svc.Labeled(f.ctx, ev); !errors.Is(err, boom) {
				t.Fatalf("error %v, want %v", err, boom)
			}
			if len(f.exceptions(1)) != 0 || len(f.refused()) != 0 || len(f.gh.Posted) != 0 || len(f.gh.RemovedLabels) != 0 {
				t.Fatal("a failed approver lookup recorded or answered something")
			}
			if runs := f.runsOn(p.HeadSHA); len(runs) != 1 || runs[0].Conclusion != "failure" {
				t.Fatalf("check changed: %d runs", len(runs))
			}
		})
	}
}

func TestNewSecretAfterExceptionFailsAgain(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "n1", envFile("deploy/prod.env", criticalLine()))
	f.label(p, overrideLabel, "sec-lead")
	excs := f.exceptions(1)
	if len(excs) != 1 {
		t.Fatalf("exceptions = %+v", excs)
	}
	// The same key again (moved a line down) stays accepted.
	p = f.push(p, "n2", envFile("deploy/prod.env", "# prod", criticalLine()))
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("the accepted key moved: %s %q", run.Conclusion, run.Title)
	}
	p = f.push(p, "n3", envFile("deploy/prod.env", criticalLine(), "GITHUB_TOKEN="+githubToken()))
	run := f.lastRun(p.HeadSHA)
	if run.Conclusion != "failure" {
		t.Fatalf("new secret under an exception: %s %q", run.Conclusion, run.Title)
	}
	if want := fmt.Sprintf("1 more accepted in exception #%d", excs[0].ID); !strings.Contains(run.Title, want) {
		t.Errorf("title %q does not show the covered finding as accepted (%q)", run.Title, want)
	}
	if got := f.exceptions(1); len(got) != 1 || fmt.Sprint(got[0].Fingerprints) != fmt.Sprint(excs[0].Fingerprints) || got[0].State != store.ExceptionActive {
		t.Fatalf("the push changed the exception: %+v", got)
	}
}

func TestExceptionExpires(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "x1", envFile("deploy/prod.env", criticalLine()))
	f.label(p, overrideLabel, "sec-lead")
	f.advance(29 * 24 * time.Hour)
	p = f.push(p, "x2", envFile("deploy/prod.env", criticalLine()))
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("day 29: %s %q", run.Conclusion, run.Title)
	}
	f.advance(2 * 24 * time.Hour)
	p = f.push(p, "x3", envFile("deploy/prod.env", criticalLine()))
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("day 31: %s %q", run.Conclusion, run.Title)
	}
	excs := f.exceptions(1)
	if len(excs) != 1 || excs[0].State != store.ExceptionExpired || !excs[0].EndedAt.Equal(start.Add(30*24*time.Hour)) {
		t.Fatalf("exceptions = %+v", excs)
	}
}

// TestLabelRacingAPush: the label names head l1 but GitHub's PR has moved to l2 by the
// time it is handled. The exception covers l1's findings only (from the compare of
// base...l1), and l2's check, which ran before the exception, is brought up to date.
func TestLabelRacingAPush(t *testing.T) {
	tests := []struct {
		name     string
		newLines []string
		want     string
	}{
		{name: "push adds a new secret", newLines: []string{criticalLine(), "GITHUB_TOKEN=" + githubToken()}, want: "failure"},
		{name: "push adds nothing new", newLines: []string{"# moved", criticalLine()}, want: "neutral"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.withTeamPolicy()
			first := envFile("deploy/prod.env", criticalLine())
			l1 := f.open(1, "alice", "l1", first)
			f.gh.Compares[ghfake.Compare{Repo: repoName, Base: l1.BaseSHA, Head: l1.HeadSHA}] = []gh.File{first}
			labeled := f.labelEvent(l1, overrideLabel, "sec-lead", "race-1")
			l2 := f.push(labeled.PR, "l2", envFile("deploy/prod.env", tc.newLines...)) // the label stays on
			if run := f.lastRun(l2.HeadSHA); run.Conclusion != "failure" {
				t.Fatalf("l2 before the label: %s", run.Conclusion)
			}
			out, err := f.svc.Labeled(f.ctx, labeled)
			if err != nil || !out.Accepted {
				t.Fatalf("labeled: %+v, %v", out, err)
			}
			excs := f.exceptions(1)
			if len(excs) != 1 || excs[0].HeadSHA != l1.HeadSHA || len(excs[0].Fingerprints) != 1 {
				t.Fatalf("exception = %+v (want one covering l1's one finding)", excs)
			}
			if c := f.gh.CallsTo("CompareCommits"); len(c) != 1 || c[0].Args[1] != l1.BaseSHA || c[0].Args[2] != l1.HeadSHA {
				t.Fatalf("compares = %v, want one of base...l1", c)
			}
			if run := f.lastRun(l1.HeadSHA); run.Conclusion != "neutral" {
				t.Errorf("l1 after the label: %s %q", run.Conclusion, run.Title)
			}
			if run := f.lastRun(l2.HeadSHA); run.Conclusion != tc.want {
				t.Errorf("l2 after the label: %s %q, want %s", run.Conclusion, run.Title, tc.want)
			}
		})
	}
}

// TestRecheckExpired: an exception that expires fails its open pull request's check
// again without waiting for a push, and the check says why; a closed pull request's
// expired exception just ends.
func TestRecheckExpired(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	open := f.open(1, "alice", "e1", envFile("deploy/prod.env", criticalLine()))
	f.label(open, overrideLabel, "sec-lead")
	closed := f.open(2, "bob", "e2", envFile("deploy/other.env", criticalLine()))
	f.label(closed, overrideLabel, "sec-lead")
	f.gh.Pulls[ghfake.PR{Repo: repoName, Number: 2}] = func() gh.PullRequest {
		p := f.gh.Pulls[ghfake.PR{Repo: repoName, Number: 2}]
		p.State = "closed"
		return p
	}()
	if n, err := f.svc.RecheckExpired(f.ctx); err != nil || n != 0 {
		t.Fatalf("before expiry: rechecked %d, %v", n, err)
	}
	before := len(f.runsOn(open.HeadSHA))
	f.advance(31 * 24 * time.Hour)
	n, err := f.svc.RecheckExpired(f.ctx)
	if err != nil || n != 1 {
		t.Fatalf("after expiry: rechecked %d, %v; want the open PR only", n, err)
	}
	runs := f.runsOn(open.HeadSHA)
	if len(runs) != before+1 {
		t.Fatalf("runs on the open PR's head: %d, want one more than %d", len(runs), before)
	}
	last := f.lastRun(open.HeadSHA)
	if last.Conclusion != "failure" || !strings.Contains(last.Summary, "expired on") {
		t.Fatalf("the re-run check is %s and does not say the exception expired:\n%s", last.Conclusion, last.Summary)
	}
	for _, n := range []int{1, 2} {
		if ex := f.exceptions(n); len(ex) != 1 || ex[0].State != store.ExceptionExpired {
			t.Fatalf("PR #%d exceptions %+v, want one expired", n, ex)
		}
	}
	if n, err := f.svc.RecheckExpired(f.ctx); err != nil || n != 0 {
		t.Fatalf("a second sweep rechecked %d, %v", n, err)
	}
}
