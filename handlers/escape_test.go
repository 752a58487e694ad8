package handlers_test

import (
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/internal/testenv"
	"github.com/escapegate/escapegate/store"
)

func stripeKey() string { return fakecreds.FakeStripeLiveKey() }

func TestMergeAccountsEscapes(t *testing.T) {
	tests := []struct {
		name     string
		lines    []string
		approve  bool
		base     string // "" is main
		wantKind string // "" wants no escape
	}{
		{name: "merged under an exception", lines: []string{"AWS_ACCESS_KEY_ID=" + awsKey()}, approve: true, wantKind: store.EscapeOverridden},
		{name: "merged while failing, no exception", lines: []string{"AWS_ACCESS_KEY_ID=" + awsKey()}, wantKind: store.EscapeAdvisory},
		{name: "merged clean", lines: []string{"AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}"}},
		{name: "merged into a branch that is not production", lines: []string{"AWS_ACCESS_KEY_ID=" + awsKey()}, base: "develop"},
		{name: "high-only finding is not a critical risk", lines: []string{"MIRROR=https://deploy:" + "Xk9p2Lq7Wz4m" + "@mirror.example.com/repo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.withTeamPolicy()
			pr := events.PR{Number: 1, Title: "change", Author: "alice", HeadSHA: sha("m1"), HeadRef: "feature/1", BaseSHA: sha("base"), BaseRef: "main"}
			if tc.base != "" {
				pr.BaseRef = tc.base
			}
			e.h.GitHub.AddPull(e.repo.FullName, fakegithub.Pull{Number: 1, Title: pr.Title, Author: pr.Author, HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef,
				BaseSHA: pr.BaseSHA, BaseRef: pr.BaseRef, Files: []fakegithub.PullFile{envFile("deploy/prod.env", tc.lines...)}})
			e.send("pull_request", events.PullRequest(e.inst, e.repo, "opened", pr, pr.Author))
			if tc.approve {
				e.label(pr, overrideLabel, "sec-lead")
				if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
					t.Fatalf("approval: %s %q", run.Conclusion, run.Title)
				}
			}
			e.merge(pr, "sec-lead")
			// A second merge event (GitHub redelivers with a new id) must not count twice.
			e.merge(pr, "sec-lead")
			esc := e.escapes()
			if tc.wantKind == "" {
				if len(esc) != 0 {
					t.Fatalf("want no escape, got %+v", esc)
				}
				return
			}
			if len(esc) != 1 {
				t.Fatalf("want exactly one escape, got %+v", esc)
			}
			x := esc[0]
			if x.Kind != tc.wantKind || x.PR != 1 || x.SHA != pr.HeadSHA || x.Path != "deploy/prod.env" || x.Fingerprint == "" {
				t.Fatalf("escape = %+v", x)
			}
			if tc.approve {
				excs := e.exceptions(1)
				if len(excs) != 1 || x.ExceptionID != excs[0].ID || x.Approver != "sec-lead" {
					t.Fatalf("overridden escape %+v does not name exception %+v", x, excs)
				}
				if excs[0].State != store.ExceptionMerged {
					t.Errorf("exception state after merge = %s, want %s", excs[0].State, store.ExceptionMerged)
				}
			}
		})
	}
}

func TestMergeAfterNewSecretSplitsKinds(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	pr := e.openPR(1, "alice", "k1", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey()))
	e.label(pr, overrideLabel, "sec-lead")
	pr = e.push(pr, "k2", envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey(), "GITHUB_TOKEN="+githubToken()))
	e.merge(pr, "alice")
	kinds := map[string]string{}
	for _, x := range e.escapes() {
		kinds[x.Rule] = x.Kind
	}
	if len(kinds) != 2 || kinds["aws-access-token"] != store.EscapeOverridden || kinds["github-pat"] != store.EscapeAdvisory {
		t.Fatalf("escapes by rule = %v", kinds)
	}
}

func TestPushToProductionAccountsMissed(t *testing.T) {
	tests := []struct {
		name       string
		caughtOnPR bool   // the same secret was raised by a PR check first
		branch     string // pushed branch
		wantMissed bool
	}{
		{name: "direct push of a secret no PR saw", branch: "main", wantMissed: true},
		{name: "secret a PR check caught, then pushed", caughtOnPR: true, branch: "main"},
		{name: "push to a branch that is not production", branch: "feature/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			key := stripeKey()
			if tc.caughtOnPR {
				pr := e.openPR(1, "alice", "q1", envFile("billing/charge.rb", "Stripe.api_key = '"+key+"'"))
				if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
					t.Fatalf("PR check: %s %q", run.Conclusion, run.Title)
				}
			}
			before, after := sha("p1"), sha("p2")
			e.h.GitHub.SetCompare(e.repo.FullName, before, after, []fakegithub.PullFile{{Filename: "billing/charge.rb", Status: "modified", Additions: 1,
				Patch: "@@ -3,2 +3,3 @@\n require 'stripe'\n+Stripe.api_key = '" + key + "'\n Stripe::Charge"}})
			e.send("push", events.Push(e.inst, e.repo, tc.branch, before, after, []string{"billing/charge.rb"}, "carol"))
			esc := e.escapes()
			if !tc.wantMissed {
				if len(esc) != 0 {
					t.Fatalf("want no escape, got %+v", esc)
				}
				return
			}
			if len(esc) != 1 || esc[0].Kind != store.EscapeMissed || esc[0].SHA != after || esc[0].Path != "billing/charge.rb" || esc[0].PR != 0 {
				t.Fatalf("escapes = %+v", esc)
			}
			// The same push delivered again (new delivery id) does not count twice.
			e.send("push", events.Push(e.inst, e.repo, tc.branch, before, after, []string{"billing/charge.rb"}, "carol"))
			if n := len(e.escapes()); n != 1 {
				t.Fatalf("escapes after a repeated push: %d", n)
			}
		})
	}
}

// TestNoRawSecretAnywhere plays the whole flow with four made-up credentials and
// then searches every request to GitHub, every store record, the bbolt file itself
// and escapegate's log for their raw values.
func TestNoRawSecretAnywhere(t *testing.T) {
	logs := &testenv.Buffer{}
	e, dir := newEnvOpts(t, demo.Options{Log: logs})
	e.withTeamPolicy()
	secrets := map[string]string{"aws": awsKey(), "github": githubToken(), "slack": slackToken(), "stripe": stripeKey()}

	pr := e.openPR(1, "alice", "s1", envFile("config/.env.production", "AWS_ACCESS_KEY_ID="+secrets["aws"], "LOG=info"))
	e.label(pr, overrideLabel, "mallory") // refused: comment, audit record
	e.label(pr, overrideLabel, "sec-lead")
	pr = e.push(pr, "s2", envFile("config/.env.production", "AWS_ACCESS_KEY_ID="+secrets["aws"], "GITHUB_TOKEN="+secrets["github"]))
	e.merge(pr, "sec-lead")

	pr2 := e.openPR(2, "bob", "s3", envFile("scripts/notify.py", "client = slack_sdk.WebClient(token=\""+secrets["slack"]+"\")"))
	e.merge(pr2, "bob")

	e.h.GitHub.SetCompare(e.repo.FullName, sha("s4"), sha("s5"), []fakegithub.PullFile{envFile("billing/charge.rb", "Stripe.api_key = '"+secrets["stripe"]+"'")})
	e.send("push", events.Push(e.inst, e.repo, "main", sha("s4"), sha("s5"), []string{"billing/charge.rb"}, "carol"))

	// The flow did what it should, so the searches below look at real output.
	kinds := map[string]int{}
	for _, x := range e.escapes() {
		kinds[x.Kind]++
	}
	if kinds[store.EscapeOverridden] != 1 || kinds[store.EscapeAdvisory] != 2 || kinds[store.EscapeMissed] != 1 {
		t.Fatalf("escape kinds = %v", kinds)
	}
	dump := e.storeJSON(sha("s1"), sha("s2"), sha("s3"))
	if !strings.Contains(dump, "AKIA…") {
		t.Fatalf("the store dump holds no redacted finding, so searching it proves nothing:\n%s", dump)
	}
	if !strings.Contains(logs.String(), "critical risk reached production") {
		t.Fatalf("the log holds no escape line, so searching it proves nothing:\n%s", logs.String())
	}
	for name, raw := range secrets {
		if e.requestsHold(raw) {
			t.Errorf("a request to GitHub holds the raw %s secret", name)
		}
		if strings.Contains(dump, raw) {
			t.Errorf("a store record holds the raw %s secret", name)
		}
		if rawStoreHolds(t, dir, raw) {
			t.Errorf("the bbolt file holds the raw %s secret", name)
		}
		if strings.Contains(logs.String(), raw) {
			t.Errorf("the log holds the raw %s secret", name)
		}
	}
}
