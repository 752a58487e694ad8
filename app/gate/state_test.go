package gate_test

// Overrides follow GitHub's state, not the event: a labeled event grants only while the
// label is on the pull request, when it is not older than the label's last removal,
// once per application of the label; a sender escapegate cannot verify is refused.

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-github/v62/github"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
	"github.com/escapegate/escapegate/store"
)

// t0 is GitHub's time of the first label change in these tests.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// dropLabel takes label off p on the fake GitHub (as a person removing it would).
func (f *fixture) dropLabel(p gate.PR, label string) {
	k := ghfake.PR{Repo: repoName, Number: p.Number}
	f.gh.Labels[k] = slices.DeleteFunc(slices.Clone(f.gh.Labels[k]), func(l string) bool { return l == label })
}

func (f *fixture) labeledAt(p gate.PR, sender, delivery string, at time.Time) gate.LabelEvent {
	ev := f.labelEvent(p, overrideLabel, sender, delivery)
	ev.At = at
	return ev
}

func (f *fixture) unlabeled(ev gate.LabelEvent, delivery string, at time.Time) {
	f.t.Helper()
	f.dropLabel(ev.PR, ev.Label)
	ev.DeliveryID, ev.At = delivery, at
	if _, err := f.svc.Unlabeled(f.ctx, ev); err != nil {
		f.t.Fatalf("unlabeled: %v", err)
	}
}

func (f *fixture) active(n int) []store.Exception {
	var out []store.Exception
	for _, e := range f.exceptions(n) {
		if e.State == store.ExceptionActive {
			out = append(out, e)
		}
	}
	return out
}

// TestLabelNoLongerOnThePRGrantsNothing: the labeled event arrives after the label was
// removed on GitHub: no exception, the check stays failing, nothing is answered.
func TestLabelNoLongerOnThePRGrantsNothing(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "g1", envFile("deploy/prod.env", criticalLine()))
	ev := f.labeledAt(p, "sec-lead", "gone-1", t0)
	f.dropLabel(p, overrideLabel)
	out, err := f.svc.Labeled(f.ctx, ev)
	if err != nil || !out.Ignored || out.Accepted || !strings.Contains(out.Why, "no longer on the pull request") {
		t.Fatalf("labeled: %+v, %v", out, err)
	}
	if len(f.exceptions(1)) != 0 || len(f.refused()) != 0 || len(f.gh.Posted) != 0 || len(f.gh.RemovedLabels) != 0 {
		t.Fatal("a label that is gone recorded or answered something")
	}
	if runs := f.runsOn(p.HeadSHA); len(runs) != 1 || runs[0].Conclusion != "failure" {
		t.Fatalf("check changed: %+v", runs)
	}
	if n := len(f.gh.CallsTo("TeamMembershipState")); n != 0 {
		t.Errorf("the sender was looked up %d times for an event that grants nothing", n)
	}
}

// TestUnlabeledBeforeLabeled: GitHub's labeled (t0) and unlabeled (t0+1m) events are
// handled in the wrong order; then the label is applied again (t0+2m) and the old
// labeled event is replayed once more: only the newest application grants.
func TestUnlabeledBeforeLabeled(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "o1", envFile("deploy/prod.env", criticalLine()))
	first := f.labeledAt(p, "sec-lead", "order-1", t0)
	f.unlabeled(first, "order-2", t0.Add(time.Minute))
	if out, err := f.svc.Labeled(f.ctx, first); err != nil || !out.Ignored {
		t.Fatalf("late labeled: %+v, %v", out, err)
	}
	if len(f.exceptions(1)) != 0 || f.lastRun(p.HeadSHA).Conclusion != "failure" {
		t.Fatalf("an exception after the label was removed: %+v", f.exceptions(1))
	}
	// Applied again: the old event, though the label is on the PR, is older than the removal.
	again := f.labeledAt(p, "sec-lead", "order-3", t0.Add(2*time.Minute))
	stale := first
	stale.DeliveryID = "order-1-replayed"
	if out, err := f.svc.Labeled(f.ctx, stale); err != nil || !out.Ignored || !strings.Contains(out.Why, "older than the label's last removal") {
		t.Fatalf("stale labeled with the label on: %+v, %v", out, err)
	}
	out, err := f.svc.Labeled(f.ctx, again)
	if err != nil || !out.Accepted {
		t.Fatalf("new application: %+v, %v", out, err)
	}
	if excs := f.exceptions(1); len(excs) != 1 || excs[0].DeliveryID != "order-3" {
		t.Fatalf("exceptions %+v", excs)
	}
	if c := f.lastRun(p.HeadSHA).Conclusion; c != "neutral" {
		t.Errorf("check after the new application: %s", c)
	}
}

// TestReplayedLabelUnderNewIDGrantsNothing: the signed labeled body sent again under new
// delivery ids: while its exception is active, after that exception expired with the
// label still on, and after the label was removed. It never grants a second exception.
func TestReplayedLabelUnderNewIDGrantsNothing(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "r1", envFile("deploy/prod.env", criticalLine()))
	ev := f.labeledAt(p, "sec-lead", "replay-0", t0)
	if out, err := f.svc.Labeled(f.ctx, ev); err != nil || !out.Accepted {
		t.Fatalf("first: %+v, %v", out, err)
	}
	replay := func(id string) gate.OverrideOutcome {
		t.Helper()
		r := ev
		r.DeliveryID = id
		out, err := f.svc.Labeled(f.ctx, r)
		if err != nil {
			t.Fatalf("replay %s: %v", id, err)
		}
		return out
	}
	if out := replay("replay-1"); !out.Ignored || !strings.Contains(out.Why, "already covers") {
		t.Fatalf("replay while active: %+v", out)
	}
	// The exception expires; the label stays on. A replay must not renew it.
	e := f.exceptions(1)[0]
	e.State, e.EndedAt = store.ExceptionExpired, f.now
	if err := f.st.UpdateException(f.ctx, e); err != nil {
		t.Fatal(err)
	}
	if out := replay("replay-2"); !out.Ignored || !strings.Contains(out.Why, "granted before") {
		t.Fatalf("replay after expiry: %+v", out)
	}
	f.unlabeled(ev, "replay-unlabel", t0.Add(time.Hour))
	if out := replay("replay-3"); !out.Ignored {
		t.Fatalf("replay after removal: %+v", out)
	}
	if excs := f.exceptions(1); len(excs) != 1 || len(f.active(1)) != 0 {
		t.Fatalf("exceptions %+v", excs)
	}
	if len(f.refused()) != 0 || len(f.gh.Posted) != 0 {
		t.Errorf("replays answered: %+v", f.gh.Posted)
	}
}

// TestReplayWithoutEventTimes: a payload without pull_request.updated_at (not GitHub's)
// still grants once: the active exception is the application's.
func TestReplayWithoutEventTimes(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "z1", envFile("deploy/prod.env", criticalLine()))
	ev := f.labelEvent(p, overrideLabel, "sec-lead", "zero-0")
	if out, err := f.svc.Labeled(f.ctx, ev); err != nil || !out.Accepted {
		t.Fatalf("first: %+v, %v", out, err)
	}
	ev.DeliveryID = "zero-1"
	if out, err := f.svc.Labeled(f.ctx, ev); err != nil || !out.Ignored {
		t.Fatalf("replay: %+v, %v", out, err)
	}
	// Removed and applied again (times unknown): the new application grants.
	f.unlabeled(ev, "zero-2", time.Time{})
	if out := f.label(p, overrideLabel, "sec-lead"); !out.Accepted {
		t.Fatalf("applied again: %+v", out)
	}
	if len(f.exceptions(1)) != 2 || len(f.active(1)) != 1 {
		t.Fatalf("exceptions %+v", f.exceptions(1))
	}
}

// TestLateUnlabeledKeepsTheGrantedLabel: a removal older than the application that was
// granted, handled after it while the label is on the PR, revokes nothing.
func TestLateUnlabeledKeepsTheGrantedLabel(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "u1", envFile("deploy/prod.env", criticalLine()))
	ev := f.labeledAt(p, "sec-lead", "late-1", t0.Add(time.Minute))
	if out, err := f.svc.Labeled(f.ctx, ev); err != nil || !out.Accepted {
		t.Fatalf("labeled: %+v, %v", out, err)
	}
	old := ev
	old.DeliveryID, old.At = "late-0", t0
	out, err := f.svc.Unlabeled(f.ctx, old)
	if err != nil || !out.Ignored {
		t.Fatalf("late unlabeled: %+v, %v", out, err)
	}
	if len(f.active(1)) != 1 || f.lastRun(p.HeadSHA).Conclusion != "neutral" {
		t.Fatalf("the granted label was revoked by an older removal: %+v", f.exceptions(1))
	}
	// A removal GitHub shows (the label is gone) revokes, whatever its time.
	f.unlabeled(old, "late-2", t0)
	if len(f.active(1)) != 0 || f.lastRun(p.HeadSHA).Conclusion != "failure" {
		t.Fatalf("removal with the label gone: %+v", f.exceptions(1))
	}
}

// checkRefused: the label was removed, answered once, recorded once, and the check is unchanged.
func checkRefused(t *testing.T, f *fixture, p gate.PR, want string) {
	t.Helper()
	if hasLabel(f.gh.Labels[ghfake.PR{Repo: repoName, Number: p.Number}], overrideLabel) {
		t.Error("the label stays on")
	}
	if len(f.gh.Posted) != 1 || !strings.Contains(f.gh.Posted[0].Body, want) {
		t.Errorf("comments %+v, want one saying %q", f.gh.Posted, want)
	}
	if r := f.refused(); len(r) != 1 || !strings.Contains(r[0].Why, want) {
		t.Errorf("refused records %+v", r)
	}
	if len(f.exceptions(p.Number)) != 0 {
		t.Error("an exception was recorded")
	}
	if c := f.lastRun(p.HeadSHA).Conclusion; c != "failure" {
		t.Errorf("check %s", c)
	}
}

// TestBotSenderRefused: a bot or app account's label is refused without asking GitHub
// about its membership or permission.
func TestBotSenderRefused(t *testing.T) {
	f := newFixture(t)
	f.gh.Permissions[ghfake.Collaborator{Repo: repoName, User: "deploy-bot[bot]"}] = "admin"
	p := f.open(1, "alice", "b1", envFile("deploy/prod.env", criticalLine()))
	ev := f.labelEvent(p, overrideLabel, "deploy-bot[bot]", "bot-1")
	ev.SenderType = "Bot"
	out, err := f.svc.Labeled(f.ctx, ev)
	if err != nil || !out.Refused {
		t.Fatalf("%+v, %v", out, err)
	}
	checkRefused(t, f, p, "bot or app account")
	if n := len(f.gh.CallsTo("Permission")); n != 0 {
		t.Errorf("permission asked %d times for a bot", n)
	}
}

// statusErr is what the real client returns for a GitHub answer with this status.
func statusErr(code int) error {
	return fmt.Errorf("permission of x: %w", &github.ErrorResponse{Response: &http.Response{StatusCode: code}, Message: http.StatusText(code)})
}

// TestUnverifiableSenderRefused: GitHub answers 404 (an account it cannot answer for) or
// another 4xx for the sender: refused at once, not left for retries.
func TestUnverifiableSenderRefused(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"404", fmt.Errorf("permission of x: %w", gh.ErrNotFound), "does not know the sender"},
		{"403", statusErr(http.StatusForbidden), "refused to say"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.open(1, "alice", "n1", envFile("deploy/prod.env", criticalLine()))
			f.gh.Fail["Permission"] = tc.err
			out, err := f.svc.Labeled(f.ctx, f.labelEvent(p, overrideLabel, "someone", "nf-1"))
			if err != nil || !out.Refused {
				t.Fatalf("%+v, %v", out, err)
			}
			checkRefused(t, f, p, tc.want)
		})
	}
}

// TestApproverFaultRetriedThenRefused: a 5xx (or no answer) while checking the sender is
// returned for the inbox to retry, leaving everything as it was, until the inbox's last
// attempt: there the sender, not verified, is refused.
func TestApproverFaultRetriedThenRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{{"502", statusErr(http.StatusBadGateway)}, {"no answer", errors.New("connection reset")}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			p := f.open(1, "alice", "t1", envFile("deploy/prod.env", criticalLine()))
			f.gh.Permissions[ghfake.Collaborator{Repo: repoName, User: "ada"}] = "admin"
			f.gh.Fail["Permission"] = tc.err
			ev := f.labelEvent(p, overrideLabel, "ada", "fault-1")
			last := 10 // config.Default().Retry.MaxAttempts, the fixture's default
			for attempt := 1; attempt < last; attempt++ {
				if _, err := f.svc.Labeled(delivery.WithAttempt(f.ctx, attempt), ev); !errors.Is(err, tc.err) {
					t.Fatalf("attempt %d: %v, want %v", attempt, err, tc.err)
				}
			}
			if len(f.refused()) != 0 || len(f.gh.Posted) != 0 || len(f.gh.RemovedLabels) != 0 || len(f.exceptions(1)) != 0 {
				t.Fatal("an attempt before the last recorded or answered something")
			}
			out, err := f.svc.Labeled(delivery.WithAttempt(f.ctx, last), ev)
			if err != nil || !out.Refused {
				t.Fatalf("last attempt: %+v, %v", out, err)
			}
			checkRefused(t, f, p, "did not answer whether the sender is an approver")
		})
	}
}
