package gate_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
	"github.com/escapegate/escapegate/store"
)

const zeroSHA = "0000000000000000000000000000000000000000"

// merge closes p as merged on GitHub and accounts it, as pull_request closed does.
func (f *fixture) merge(p gate.PR) []store.Escape {
	f.t.Helper()
	k := ghfake.PR{Repo: repoName, Number: p.Number}
	if x, ok := f.gh.Pulls[k]; ok {
		x.State, x.Merged = "closed", true
		f.gh.Pulls[k] = x
	}
	got, err := f.svc.Merged(f.ctx, p)
	if err != nil {
		f.t.Fatalf("merging #%d: %v", p.Number, err)
	}
	return got
}

// pushEvent is a push of before...after to branch of acme/app, whose compare lists files.
func (f *fixture) pushEvent(branch, before, after string, files ...gh.File) gate.PushEvent {
	f.gh.Compares[ghfake.Compare{Repo: repoName, Base: before, Head: after}] = files
	var paths []string
	for _, x := range files {
		paths = append(paths, x.Filename)
	}
	return gate.PushEvent{Installation: inst, Repo: repo, RepoID: 42, DefaultBranch: "main", Ref: "refs/heads/" + branch,
		Before: before, After: after, ChangedPaths: paths}
}

func TestMergeAccountsEscapes(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string
		approve  bool
		base     string // "" is main
		wantKind string // "" wants no escape
	}{
		{name: "merged under an exception", lines: []string{criticalLine()}, approve: true, wantKind: store.EscapeOverridden},
		{name: "merged while failing, no exception", lines: []string{criticalLine()}, wantKind: store.EscapeAdvisory},
		{name: "merged clean", lines: []string{"AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}"}},
		{name: "merged into a branch that is not production", lines: []string{criticalLine()}, base: "develop"},
		{name: "a high finding is not a critical risk", lines: []string{highLine()}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.withTeamPolicy()
			p := pr(1, "alice", "m1")
			if tc.base != "" {
				p.BaseRef = tc.base
			}
			f.register(p, envFile("deploy/prod.env", tc.lines...))
			checked := f.check(p)
			if tc.approve {
				if out := f.label(p, overrideLabel, "sec-lead"); !out.Accepted {
					t.Fatalf("approval: %+v", out)
				}
			}
			f.advance(time.Hour)
			got := f.merge(p)
			// The merge handled again (a redelivery) does not count twice.
			if again := f.merge(p); len(again) != 0 {
				t.Fatalf("the second merge recorded %+v", again)
			}
			esc := f.escapes()
			if tc.wantKind == "" {
				if len(esc) != 0 || len(got) != 0 {
					t.Fatalf("want no escape, got %+v", esc)
				}
				return
			}
			if len(esc) != 1 || len(got) != 1 || got[0].ID != esc[0].ID {
				t.Fatalf("want exactly one escape, got %+v (returned %+v)", esc, got)
			}
			x := esc[0]
			if x.Kind != tc.wantKind || x.PR != 1 || x.SHA != p.HeadSHA || x.Path != "deploy/prod.env" || x.Rule != "aws-access-token" ||
				x.Severity != "critical" || x.Fingerprint != checked.Failing[0].Fingerprint || !strings.HasPrefix(x.Redacted, "AKIA") ||
				!x.DetectedAt.Equal(start) || !x.At.Equal(start.Add(time.Hour)) {
				t.Fatalf("escape = %+v", x)
			}
			if tc.approve {
				excs := f.exceptions(1)
				if len(excs) != 1 || x.ExceptionID != excs[0].ID || x.Approver != "sec-lead" {
					t.Fatalf("overridden escape %+v does not name exception %+v", x, excs)
				}
				if excs[0].State != store.ExceptionMerged || !excs[0].EndedAt.Equal(f.now) {
					t.Errorf("exception after merge = %+v, want merged now", excs[0])
				}
			}
		})
	}
}

func TestMergeAfterNewSecretSplitsKinds(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	p := f.open(1, "alice", "k1", envFile("deploy/prod.env", criticalLine()))
	f.label(p, overrideLabel, "sec-lead")
	p = f.push(p, "k2", envFile("deploy/prod.env", criticalLine(), "GITHUB_TOKEN="+githubToken()))
	f.merge(p)
	kinds := map[string]string{}
	for _, x := range f.escapes() {
		kinds[x.Rule] = x.Kind
	}
	if len(kinds) != 2 || kinds["aws-access-token"] != store.EscapeOverridden || kinds["github-pat"] != store.EscapeAdvisory {
		t.Fatalf("escapes by rule = %v", kinds)
	}
}

// TestMergeOfUncheckedHeadStillAccountsCaughtRisk: the merged head was never checked
// (its synchronize never ran) and carries a secret an earlier head's check raised. The
// push to main skips what a PR check raised, so the merge accounts it.
func TestMergeOfUncheckedHeadStillAccountsCaughtRisk(t *testing.T) {
	f := newFixture(t)
	key := stripeKey()
	p := f.open(1, "alice", "u1", envFile("billing/charge.rb", "Stripe.api_key = '"+key+"'"))
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("PR check: %s", run.Conclusion)
	}
	moved := envFile("billing/charge.rb", "# billing", "Stripe.api_key = '"+key+"'")
	p.HeadSHA = sha("u2")
	f.register(p, moved) // no check of u2
	got := f.merge(p)
	if len(got) != 1 || got[0].Kind != store.EscapeAdvisory || got[0].PR != 1 || got[0].SHA != sha("u2") {
		t.Fatalf("merge of the unchecked head recorded %+v", got)
	}
	if _, err := f.svc.Pushed(f.ctx, f.pushEvent("main", sha("m0"), sha("m1"), moved)); err != nil {
		t.Fatal(err)
	}
	if esc := f.escapes(); len(esc) != 1 {
		t.Fatalf("escapes = %+v, want the merge's one", esc)
	}
}

func TestPushToProductionAccountsMissed(t *testing.T) {
	file := func(line string) gh.File {
		return gh.File{Filename: "billing/charge.rb", Status: "modified", Changes: 1,
			Patch: "@@ -3,2 +3,3 @@\n require 'stripe'\n+" + line + "\n Stripe::Charge"}
	}
	secret := "Stripe.api_key = '" + stripeKey() + "'"
	tests := []struct {
		name         string
		caughtOnPR   bool // the same secret was raised by a PR check first
		line         string
		ref          string
		before       string
		wantMissed   bool
		wantCompared bool
	}{
		{name: "direct push of a secret no PR saw", line: secret, ref: "refs/heads/main", before: sha("p1"), wantMissed: true, wantCompared: true},
		{name: "a secret a PR check caught, then pushed", caughtOnPR: true, line: secret, ref: "refs/heads/main", before: sha("p1"), wantCompared: true},
		{name: "a high finding is not a critical risk", line: highLine(), ref: "refs/heads/main", before: sha("p1"), wantCompared: true},
		{name: "push to a branch that is not production", line: secret, ref: "refs/heads/feature/x", before: sha("p1")},
		{name: "a tag", line: secret, ref: "refs/tags/v1.0.0", before: sha("p1")},
		{name: "the branch created", line: secret, ref: "refs/heads/main", before: zeroSHA},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.caughtOnPR {
				if out := f.check(f.prWith(1, envFile("billing/charge.rb", tc.line))); out.Conclusion != "failure" {
					t.Fatalf("PR check: %s", out.Conclusion)
				}
			}
			ev := f.pushEvent("main", tc.before, sha("p2"), file(tc.line))
			ev.Ref = tc.ref
			f.advance(time.Hour)
			f.gh.Calls = nil
			got, err := f.svc.Pushed(f.ctx, ev)
			if err != nil {
				t.Fatal(err)
			}
			if compared := len(f.gh.CallsTo("CompareCommits")) == 1; compared != tc.wantCompared {
				t.Fatalf("compared before...after: %v, want %v (calls %v)", compared, tc.wantCompared, f.gh.Methods())
			}
			// The same push handled again does not count twice.
			if again, err := f.svc.Pushed(f.ctx, ev); err != nil || len(again) != 0 {
				t.Fatalf("second push: %+v, %v", again, err)
			}
			esc := f.escapes()
			if !tc.wantMissed {
				if len(esc) != 0 || len(got) != 0 {
					t.Fatalf("want no escape, got %+v", esc)
				}
				return
			}
			if len(esc) != 1 || len(got) != 1 {
				t.Fatalf("want one escape, got %+v", esc)
			}
			x := esc[0]
			if x.Kind != store.EscapeMissed || x.SHA != sha("p2") || x.Path != "billing/charge.rb" || x.PR != 0 || x.Severity != "critical" ||
				!x.DetectedAt.Equal(f.now) || !x.At.Equal(f.now) || x.Fingerprint == "" {
				t.Fatalf("escape = %+v", x)
			}
		})
	}
}

// prWith registers PR n of acme/app at a head of its own with files.
func (f *fixture) prWith(n int, files ...gh.File) gate.PR {
	p := pr(n, "alice", fmt.Sprintf("c%d", n))
	f.register(p, files...)
	return p
}

func TestPushCompareFailureReturnsError(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("GitHub answered 502")
	f.gh.Fail["CompareCommits"] = boom
	ev := f.pushEvent("main", sha("p1"), sha("p2"), envFile("deploy/prod.env", criticalLine()))
	if _, err := f.svc.Pushed(f.ctx, ev); !errors.Is(err, boom) {
		t.Fatalf("error %v, want %v", err, boom)
	}
	if esc := f.escapes(); len(esc) != 0 {
		t.Fatalf("escapes = %+v", esc)
	}
}

// TestForcePushCountsOnlyWhatItAdds: a force push's before...after diffs from the merge
// base, so it also lists what the rewritten history already had; only what the new
// head adds over the old one reached production with it.
func TestForcePushCountsOnlyWhatItAdds(t *testing.T) {
	f := newFixture(t)
	old := envFile("billing/charge.rb", "Stripe.api_key = '"+stripeKey()+"'")
	ev := f.pushEvent("main", sha("f1"), sha("f2"), old, envFile("deploy/prod.env", criticalLine()))
	ev.Forced = true
	f.gh.Compares[ghfake.Compare{Repo: repoName, Base: sha("f2"), Head: sha("f1")}] = []gh.File{old}
	if _, err := f.svc.Pushed(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if esc := f.escapes(); len(esc) != 1 || esc[0].Path != "deploy/prod.env" || esc[0].Kind != store.EscapeMissed {
		t.Fatalf("escapes = %+v, want one missed in deploy/prod.env", esc)
	}
}

// TestProductionTriggers: with production.trigger release or deployment a merge does
// not reach production yet; its escapes wait until Ship records them, once.
func TestProductionTriggers(t *testing.T) {
	at := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		policy  string
		ship    gate.Shipped
		notShip []gate.Shipped
	}{
		{
			name:    "release",
			policy:  "production:\n  trigger: release\n",
			ship:    gate.Shipped{Trigger: gate.TriggerRelease, Tag: "v1.2.0", At: at},
			notShip: []gate.Shipped{{Trigger: gate.TriggerDeployment, Environment: "production", At: at}},
		},
		{
			name:   "deployment",
			policy: "production:\n  trigger: deployment\n  environments: [production]\n",
			ship:   gate.Shipped{Trigger: gate.TriggerDeployment, Environment: "production", At: at},
			notShip: []gate.Shipped{
				{Trigger: gate.TriggerDeployment, Environment: "staging", At: at},
				{Trigger: gate.TriggerRelease, Tag: "v1.2.0", At: at},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.orgPolicy(tc.policy)
			p := f.open(1, "alice", "m1", envFile("deploy/prod.env", criticalLine()))
			if got := f.merge(p); len(got) != 0 || len(f.escapes()) != 0 {
				t.Fatalf("escapes at the merge: %+v", f.escapes())
			}
			f.merge(p) // a redelivered merge adds nothing pending
			ship := func(s gate.Shipped) []store.Escape {
				t.Helper()
				s.Installation, s.Repo, s.DefaultBranch = inst, repo, "main"
				got, err := f.svc.Ship(f.ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			for _, s := range tc.notShip {
				if got := ship(s); len(got) != 0 || len(f.escapes()) != 0 {
					t.Fatalf("%s %s shipped %+v", s.Trigger, s.Environment, f.escapes())
				}
			}
			got := ship(tc.ship)
			esc := f.escapes()
			if len(got) != 1 || len(esc) != 1 || esc[0].Kind != store.EscapeAdvisory || !esc[0].At.Equal(at) || esc[0].PR != 1 {
				t.Fatalf("escapes after shipping: %+v", esc)
			}
			if got := ship(tc.ship); len(got) != 0 || len(f.escapes()) != 1 {
				t.Fatalf("shipping again recorded %+v", got)
			}
		})
	}
}

// TestReleaseIsRemembered: a published release is remembered whatever the trigger, and
// a late event of an older release does not move it back.
func TestReleaseIsRemembered(t *testing.T) {
	f := newFixture(t)
	at := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	for _, s := range []gate.Shipped{
		{Trigger: gate.TriggerRelease, Tag: "v1.2.0", At: at},
		{Trigger: gate.TriggerRelease, Tag: "v1.1.0", At: at.Add(-24 * time.Hour)},
	} {
		s.Installation, s.Repo, s.DefaultBranch = inst, repo, "main"
		if _, err := f.svc.Ship(f.ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	r, err := f.st.GetLastRelease(f.ctx, repoName)
	if err != nil || r.Tag != "v1.2.0" || !r.At.Equal(at) {
		t.Fatalf("last release = %+v, %v", r, err)
	}
}

// A file pushed to production without a patch is read whole: a critical risk in it is
// missed; one that cannot be read is counted unscanned (an unknown), never clean.
func TestPushOfFileWithoutPatch(t *testing.T) {
	f := newFixture(t)
	big := strings.Repeat("SETTING=value\n", 3999) + criticalLine() + "\n"
	f.gh.SetFile(repoName, sha("p2"), "config/prod.env", big)
	ev := f.pushEvent("main", sha("p1"), sha("p2"),
		gh.File{Filename: "config/prod.env", Status: "added", Changes: 4000},
		gh.File{Filename: "config/gone.env", Status: "added", Changes: 10})
	if _, err := f.svc.Pushed(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	esc := f.escapes()
	if len(esc) != 1 || esc[0].Kind != store.EscapeMissed || esc[0].Path != "config/prod.env" {
		t.Fatalf("escapes = %+v, want the big file's secret missed", esc)
	}
	var m dto.Metric
	if err := f.svc.Collectors()[0].(prometheus.Metric).Write(&m); err != nil {
		t.Fatal(err)
	}
	if n := m.GetCounter().GetValue(); n != 1 {
		t.Errorf("unscanned pushed files = %v, want 1", n)
	}
}
