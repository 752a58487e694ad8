package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store"
)

// overrideLabel is the override label of the org policies below (the default one).
const overrideLabel = "escapegate/accept-risk"

// teamPolicy is an org policy whose only approvers are active members of acme/security.
const teamPolicy = `fail_on: high
override:
  label: escapegate/accept-risk
  approvers:
    teams: [security]
    permission: ""
  expires_after_days: 30
`

// newEnvOpts is newEnv with harness options (a log writer, a clock); it keeps the
// bbolt file's folder so tests can read the raw file.
func newEnvOpts(t *testing.T, o demo.Options) (*env, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	o.Dir = dir
	waits := &waitLog{}
	if o.GitHub == nil {
		// GitHub's faults are retried without sleeping; the waits asked for are kept.
		o.GitHub = []gh.Option{gh.WithSleep(waits.sleep)}
	}
	h, err := demo.NewHarness(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	e := &env{t: t, h: h, ctx: ctx, repo: events.Repo{ID: 42, FullName: "acme/app", DefaultBranch: "main"}, inst: 9, waits: waits}
	t.Cleanup(e.checkAPI)
	h.GitHub.AddRepo("acme/app", "main")
	h.GitHub.AddRepo("acme/.github", "main")
	h.GitHub.AddInstallation(e.inst, "acme/app", "acme/.github")
	return e, dir
}

// withTeamPolicy installs the team-only org policy with sec-lead an active member of
// acme/security and pat a pending one.
func (e *env) withTeamPolicy() {
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(teamPolicy))
	e.h.GitHub.AddTeamMember("acme", "security", "sec-lead", "active")
	e.h.GitHub.AddTeamMember("acme", "security", "pat", "pending")
}

// label puts label on the PR on the fake GitHub and delivers labeled from sender.
func (e *env) label(pr events.PR, label, sender string) []byte {
	e.t.Helper()
	e.h.GitHub.AddLabel(e.repo.FullName, pr.Number, label)
	payload := events.Labeled(e.inst, e.repo, "labeled", pr, label, sender)
	e.send("pull_request", payload)
	return payload
}

// unlabel delivers unlabeled from sender.
func (e *env) unlabel(pr events.PR, label, sender string) {
	e.t.Helper()
	e.send("pull_request", events.Labeled(e.inst, e.repo, "unlabeled", pr, label, sender))
}

// merge delivers pull_request closed with merged=true.
func (e *env) merge(pr events.PR, sender string) {
	e.t.Helper()
	pr.Merged, pr.State = true, "closed"
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "closed", pr, sender))
}

// everything is a window that holds every record a test makes.
var everything = store.Window{From: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)}

func (e *env) exceptions(pr int) []store.Exception {
	e.t.Helper()
	list, err := e.h.Store.ListExceptions(e.ctx, e.repo.FullName, pr, everything)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *env) refused() []store.RefusedOverride {
	e.t.Helper()
	list, err := e.h.Store.ListRefused(e.ctx, e.repo.FullName, everything)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *env) escapes() []store.Escape {
	e.t.Helper()
	list, err := e.h.Store.ListEscapes(e.ctx, e.repo.FullName, everything)
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

// envFile makes a PR file that adds KEY=value lines to a new file.
func envFile(name string, lines ...string) fakegithub.PullFile {
	return fakegithub.PullFile{Filename: name, Status: "added", Additions: len(lines), Patch: addedPatch(lines...)}
}

// storeJSON marshals every record the store interface lists for the repository.
func (e *env) storeJSON(shas ...string) string {
	e.t.Helper()
	var parts []any
	for _, sha := range shas {
		if sc, err := e.h.Store.GetScan(e.ctx, e.repo.FullName, sha); err == nil {
			parts = append(parts, sc)
		}
	}
	caught, err := e.h.Store.ListCaught(e.ctx, e.repo.FullName, everything)
	if err != nil {
		e.t.Fatal(err)
	}
	parts = append(parts, caught, e.exceptions(0), e.refused(), e.escapes())
	b, err := json.Marshal(parts)
	if err != nil {
		e.t.Fatal(err)
	}
	return string(b)
}

// rawStoreHolds reports whether the bbolt file itself holds s.
func rawStoreHolds(t *testing.T, dir, s string) bool {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "escapegate.db"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Contains(raw, []byte(s))
}

func hasLabel(ls []string, l string) bool {
	for _, x := range ls {
		if x == l {
			return true
		}
	}
	return false
}

func TestOverrideLabel(t *testing.T) {
	tests := []struct {
		name, author, sender string
		accept               bool
		why                  string // refusal reason in the store and the comment
	}{
		{name: "active team member accepts", author: "alice", sender: "sec-lead", accept: true},
		{name: "author refused even as a team member", author: "sec-lead", sender: "sec-lead", why: "author of a pull request may not accept"},
		{name: "non-member refused", author: "alice", sender: "mallory", why: "not an approver"},
		{name: "pending team member refused", author: "alice", sender: "pat", why: "not an approver"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.withTeamPolicy()
			// Repository permission must not qualify: the policy names teams only.
			e.h.GitHub.SetPermission(e.repo.FullName, "mallory", "admin")
			pr := e.openPR(1, tc.author, "o1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
			if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
				t.Fatalf("before the label: %s %q", run.Conclusion, run.Title)
			}
			e.label(pr, overrideLabel, tc.sender)
			run := e.lastRun(pr.HeadSHA)
			excs := e.exceptions(pr.Number)
			comments := e.h.GitHub.Comments(e.repo.FullName, pr.Number)
			labels := e.h.GitHub.Labels(e.repo.FullName, pr.Number)
			if tc.accept {
				if len(excs) != 1 {
					t.Fatalf("want one exception, got %+v", excs)
				}
				x := excs[0]
				if x.State != store.ExceptionActive || x.Approver != tc.sender || x.HeadSHA != pr.HeadSHA || len(x.Fingerprints) != 1 {
					t.Fatalf("exception = %+v", x)
				}
				if run.Conclusion != "neutral" {
					t.Fatalf("after approval: %s %q", run.Conclusion, run.Title)
				}
				for _, want := range []string{"@" + tc.sender, fmt.Sprintf("exception #%d", x.ID)} {
					if !strings.Contains(run.Title, want) {
						t.Errorf("title %q does not name %q", run.Title, want)
					}
				}
				if !hasLabel(labels, overrideLabel) {
					t.Errorf("approver's label was removed: %v", labels)
				}
				if len(comments) != 0 || len(e.refused()) != 0 {
					t.Errorf("accepted label answered %d comments, %d refused records", len(comments), len(e.refused()))
				}
				return
			}
			if len(excs) != 0 {
				t.Fatalf("refused label recorded exceptions %+v", excs)
			}
			if run.Conclusion != "failure" {
				t.Fatalf("after refused label: %s %q", run.Conclusion, run.Title)
			}
			if hasLabel(labels, overrideLabel) {
				t.Errorf("refused label still on the PR: %v", labels)
			}
			if len(comments) != 1 {
				t.Fatalf("want one comment, got %d", len(comments))
			}
			if body := comments[0].Body; !strings.Contains(body, "@"+tc.sender) || !strings.Contains(body, overrideLabel) ||
				!strings.Contains(body, "acme/security") || !strings.Contains(body, tc.why) {
				t.Errorf("comment does not say who, what and why (%q):\n%s", tc.why, body)
			}
			ref := e.refused()
			if len(ref) != 1 || ref[0].Sender != tc.sender || ref[0].PR != pr.Number || ref[0].Label != overrideLabel || !strings.Contains(ref[0].Why, tc.why) {
				t.Fatalf("refused records = %+v", ref)
			}
		})
	}
}

func TestOverridePolicyVariants(t *testing.T) {
	tests := []struct {
		name, policy, author, sender string
		accept                       bool
	}{
		{name: "maintain permission qualifies", policy: "override:\n  approvers:\n    permission: maintain\n", author: "alice", sender: "mo", accept: true},
		{name: "admin permission qualifies for maintain", policy: "override:\n  approvers:\n    permission: maintain\n", author: "alice", sender: "ada", accept: true},
		{name: "write permission is below maintain", policy: "override:\n  approvers:\n    permission: maintain\n", author: "alice", sender: "wes"},
		{name: "default policy: admin qualifies", author: "alice", sender: "ada", accept: true},
		{name: "default policy: admin author refused", author: "ada", sender: "ada"},
		{name: "org allows authors", policy: "override:\n  allow_author: true\n  approvers:\n    permission: admin\n", author: "ada", sender: "ada", accept: true},
		{name: "org allows authors, still only approvers", policy: "override:\n  allow_author: true\n", author: "wes", sender: "wes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.policy != "" {
				e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(tc.policy))
			}
			e.h.GitHub.SetPermission(e.repo.FullName, "mo", "maintain")
			e.h.GitHub.SetPermission(e.repo.FullName, "ada", "admin")
			e.h.GitHub.SetPermission(e.repo.FullName, "wes", "write")
			pr := e.openPR(1, tc.author, "v1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
			e.label(pr, overrideLabel, tc.sender)
			accepted := len(e.exceptions(pr.Number)) == 1
			run := e.lastRun(pr.HeadSHA)
			if accepted != tc.accept || (tc.accept && run.Conclusion != "neutral") || (!tc.accept && (run.Conclusion != "failure" || len(e.refused()) != 1)) {
				t.Fatalf("accepted=%v (want %v), check %s %q, refused %+v", accepted, tc.accept, run.Conclusion, run.Title, e.refused())
			}
		})
	}
}

func TestExceptionExpires(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	e, _ := newEnvOpts(t, demo.Options{Now: clk.Now})
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "x1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.label(pr, overrideLabel, "sec-lead")
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("approval: %s %q", run.Conclusion, run.Title)
	}
	clk.Advance(29 * 24 * time.Hour)
	pr = e.push(pr, "x2", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("day 29: %s %q", run.Conclusion, run.Title)
	}
	clk.Advance(2 * 24 * time.Hour)
	pr = e.push(pr, "x3", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("day 31: %s %q", run.Conclusion, run.Title)
	}
	if excs := e.exceptions(pr.Number); len(excs) != 1 || excs[0].State != store.ExceptionExpired {
		t.Fatalf("exceptions = %+v", excs)
	}
	e.merge(pr, "alice")
	if esc := e.escapes(); len(esc) != 1 || esc[0].Kind != store.EscapeAdvisory {
		t.Fatalf("merge after expiry: %+v", esc)
	}
}

func TestUnlabeledRevokesException(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "r1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.label(pr, overrideLabel, "sec-lead")
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("after approval: %s %q", run.Conclusion, run.Title)
	}
	e.unlabel(pr, overrideLabel, "sec-lead")
	excs := e.exceptions(pr.Number)
	if len(excs) != 1 || excs[0].State != store.ExceptionRevoked || excs[0].RevokedBy != "sec-lead" || excs[0].EndedAt.IsZero() {
		t.Fatalf("exceptions after unlabeled = %+v", excs)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("after unlabeled: %s %q", run.Conclusion, run.Title)
	}
	// A later push re-checks without the revoked exception.
	pr = e.push(pr, "r2", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("push after revocation: %s %q", run.Conclusion, run.Title)
	}
}

func TestNewSecretAfterExceptionFails(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "n1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.label(pr, overrideLabel, "sec-lead")
	excs := e.exceptions(pr.Number)
	if len(excs) != 1 {
		t.Fatalf("exceptions = %+v", excs)
	}
	pr = e.push(pr, "n2", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey(), "GITHUB_TOKEN="+githubToken()))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "failure" {
		t.Fatalf("new secret under an exception: %s %q", run.Conclusion, run.Title)
	}
	if want := fmt.Sprintf("1 more accepted in exception #%d", excs[0].ID); !strings.Contains(run.Title, want) {
		t.Errorf("title %q does not show the covered finding as accepted (%q)", run.Title, want)
	}
	if !strings.Contains(strings.ToLower(run.Summary), "accepted") {
		t.Errorf("summary does not show the covered finding as accepted:\n%s", run.Summary)
	}
	if got := e.exceptions(pr.Number); len(got) != 1 || len(got[0].Fingerprints) != 1 || got[0].State != store.ExceptionActive {
		t.Fatalf("the push changed the exception: %+v", got)
	}
}

func TestReplayedLabelDeliveriesChangeNothing(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "p1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	pr2 := e.openPR(2, "bob", "p2", envFile("deploy/other.env", "GITHUB_TOKEN="+githubToken()))

	deliver := func(id string, payload []byte) {
		t.Helper()
		status, err := e.h.SendDelivery(e.ctx, "pull_request", id, payload)
		if err != nil || status < 200 || status > 299 {
			t.Fatalf("delivery %s: status %d, %v", id, status, err)
		}
	}
	e.h.GitHub.AddLabel(e.repo.FullName, 2, overrideLabel)
	refusedPayload := events.Labeled(e.inst, e.repo, "labeled", pr2, overrideLabel, "mallory")
	e.h.GitHub.AddLabel(e.repo.FullName, 1, overrideLabel)
	acceptPayload := events.Labeled(e.inst, e.repo, "labeled", pr, overrideLabel, "sec-lead")
	for i := 0; i < 3; i++ {
		deliver("replay-refused", refusedPayload)
		deliver("replay-accepted", acceptPayload)
	}
	if n := len(e.exceptions(0)); n != 1 {
		t.Errorf("want one exception, got %d", n)
	}
	if n := len(e.refused()); n != 1 {
		t.Errorf("want one refused record, got %d", n)
	}
	if n := len(e.h.GitHub.Comments(e.repo.FullName, 2)); n != 1 {
		t.Errorf("want one refusal comment, got %d", n)
	}
	runs := 0
	for _, r := range e.h.GitHub.CheckRuns(e.repo.FullName) {
		if r.HeadSHA == pr.HeadSHA {
			runs++
		}
	}
	if runs != 2 { // the check on opened and the neutral one after the approval
		t.Errorf("want two check runs on PR #1, got %d", runs)
	}
}

// TestRefusalRedeliveredAfterFailure: GitHub failed while escapegate removed a refused
// label, so the delivery failed and GitHub redelivers it (same delivery id). The
// redelivery must finish the job: remove the label and answer, with one audit record.
func TestRefusalRedeliveredAfterFailure(t *testing.T) {
	for _, tc := range []struct{ name, method, path string }{
		{"label removal failed", "DELETE", "/repos/acme/app/issues/1/labels"},
		{"comment failed", "POST", "/repos/acme/app/issues/1/comments"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.withTeamPolicy()
			pr := e.openPR(1, "alice", "d1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
			e.h.GitHub.AddLabel(e.repo.FullName, 1, overrideLabel)
			payload := events.Labeled(e.inst, e.repo, "labeled", pr, overrideLabel, "mallory")
			e.h.GitHub.InjectFault(fakegithub.Fault{Method: tc.method, Path: tc.path, Kind: fakegithub.ServerError, Times: 1})
			for i := 0; i < 2; i++ {
				if status, err := e.h.SendDelivery(e.ctx, "pull_request", "refused-then-redelivered", payload); err != nil || status/100 != 2 {
					t.Fatalf("delivery %d: %d %v", i+1, status, err)
				}
			}
			if ls := e.h.GitHub.Labels(e.repo.FullName, 1); hasLabel(ls, overrideLabel) {
				t.Errorf("refused label still on the PR after the redelivery: %v", ls)
			}
			if n := len(e.h.GitHub.Comments(e.repo.FullName, 1)); n != 1 {
				t.Errorf("want one refusal comment, got %d", n)
			}
			if n := len(e.refused()); n != 1 {
				t.Errorf("want one refused record, got %d", n)
			}
		})
	}
}

// TestRevocationRedeliveredAfterFailure: GitHub failed while escapegate posted the
// check after a revocation; the redelivered unlabeled event must still leave a failing check.
func TestRevocationRedeliveredAfterFailure(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "u1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.label(pr, overrideLabel, "sec-lead")
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("approval: %s %q", run.Conclusion, run.Title)
	}
	payload := events.Labeled(e.inst, e.repo, "unlabeled", pr, overrideLabel, "sec-lead")
	e.h.GitHub.InjectFault(fakegithub.Fault{Method: "POST", Path: "/repos/acme/app/check-runs", Kind: fakegithub.ServerError, Times: 1})
	for i := 0; i < 2; i++ {
		if status, err := e.h.SendDelivery(e.ctx, "pull_request", "unlabeled-then-redelivered", payload); err != nil || status/100 != 2 {
			t.Fatalf("delivery %d: %d %v", i+1, status, err)
		}
	}
	if excs := e.exceptions(1); len(excs) != 1 || excs[0].State != store.ExceptionRevoked {
		t.Fatalf("exceptions = %+v", excs)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("after the redelivered revocation the check is %s (%q), want failure", run.Conclusion, run.Title)
	}
}

// TestOverrideLabelWithSlashColonAndSpaces: label names go into API paths escaped.
func TestOverrideLabelWithSlashColonAndSpaces(t *testing.T) {
	const label = "risk: accepted/by security"
	e := newEnv(t)
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("override:\n  label: \""+label+"\"\n  approvers:\n    teams: [security]\n    permission: \"\"\n"))
	e.h.GitHub.AddTeamMember("acme", "security", "sec-lead", "active")
	pr := e.openPR(1, "alice", "w1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.label(pr, label, "mallory")
	if ls := e.h.GitHub.Labels(e.repo.FullName, 1); hasLabel(ls, label) {
		t.Fatalf("refused label not removed: %v", ls)
	}
	if n := len(e.refused()); n != 1 {
		t.Fatalf("refused records: %d", n)
	}
	e.label(pr, label, "sec-lead")
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
		t.Fatalf("approval with the custom label: %s %q", run.Conclusion, run.Title)
	}
	e.unlabel(pr, label, "sec-lead")
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("revocation with the custom label: %s %q", run.Conclusion, run.Title)
	}
}
