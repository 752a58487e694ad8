package handlers_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// withChanges adds a pull_request edited event's "changes" object to a payload.
func withChanges(t *testing.T, payload []byte, changes map[string]any) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	m["changes"] = changes
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A PR retargeted to another base has another diff: the lines it adds against the new
// base must be checked, or a PR opened against a branch that already holds a secret and
// then retargeted to main passes with the check it got against the old base.
func TestBaseChangedPRIsCheckedAgain(t *testing.T) {
	e := newEnv(t)
	pr := events.PR{Number: 7, Title: "feature", Author: "alice", HeadSHA: sha("r1"), HeadRef: "feature/7", BaseSHA: sha("dev"), BaseRef: "develop"}
	e.h.GitHub.AddPull(e.repo.FullName, fakegithub.Pull{Number: 7, Title: pr.Title, Author: "alice", HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef,
		BaseSHA: pr.BaseSHA, BaseRef: "develop", Files: []fakegithub.PullFile{envFile("README.md", "hello")}})
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "opened", pr, "alice"))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("against develop: %s %q", run.Conclusion, run.Title)
	}
	// Retargeted to main: against main the PR also adds develop's commit with a key.
	e.h.GitHub.SetPullFiles(e.repo.FullName, 7, []fakegithub.PullFile{envFile("README.md", "hello"), envFile("deploy/prod.env", criticalFinding())})
	pr.BaseRef, pr.BaseSHA = "main", sha("base")
	e.send("pull_request", withChanges(t, events.PullRequest(e.inst, e.repo, "edited", pr, "alice"),
		map[string]any{"base": map[string]any{"ref": map[string]any{"from": "develop"}, "sha": map[string]any{"from": sha("dev")}}}))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("after retargeting to main: %s %q", run.Conclusion, run.Title)
	}
	// A title edit does not re-check (it only refreshes a release comment).
	n := len(e.h.GitHub.CheckRuns(e.repo.FullName))
	e.send("pull_request", withChanges(t, events.PullRequest(e.inst, e.repo, "edited", pr, "alice"),
		map[string]any{"title": map[string]any{"from": "old"}}))
	if got := len(e.h.GitHub.CheckRuns(e.repo.FullName)); got != n {
		t.Fatalf("a title edit created %d check runs", got-n)
	}
}

// forced marks a push payload as a force push.
func forced(t *testing.T, payload []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	m["forced"] = true
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// A force push to production whose old head is not an ancestor of the new one: GitHub's
// compare of before...after then diffs from their merge base, so it also lists lines the
// rewritten history already had in production (possibly since before the install). Only
// what the new head adds over the old head reached production with this push.
func TestForcePushCountsOnlyWhatItAdds(t *testing.T) {
	e := newEnv(t)
	old, fresh := stripeKey(), "AWS_ACCESS_KEY_ID="+awsKey()
	before, after := sha("f1"), sha("f2")
	// merge base...after: the rewritten commit (old key) and a new commit (AWS key).
	e.h.GitHub.SetCompare(e.repo.FullName, before, after, []fakegithub.PullFile{
		envFile("billing/charge.rb", "Stripe.api_key = '"+old+"'"),
		envFile("deploy/prod.env", fresh),
	})
	// merge base...before: what the old head had over the merge base (the old key).
	e.h.GitHub.SetCompare(e.repo.FullName, after, before, []fakegithub.PullFile{
		envFile("billing/charge.rb", "Stripe.api_key = '"+old+"'"),
	})
	e.send("push", forced(t, events.Push(e.inst, e.repo, "main", before, after, []string{"billing/charge.rb", "deploy/prod.env"}, "carol")))
	esc := e.escapes()
	if len(esc) != 1 || esc[0].Path != "deploy/prod.env" {
		t.Fatalf("escapes = %+v", esc)
	}
}

// The override label is applied to the head the labeled event names; a push may land
// before escapegate handles the label. The exception covers the findings open at the
// labeled head only (a secret pushed later is not covered, DESIGN §1), and the newer
// head's check, which ran before the exception existed, is brought up to date.
func TestLabelRacingAPush(t *testing.T) {
	tests := []struct {
		name     string
		newLines []string // what the newer head adds
		want     string   // the newer head's conclusion once the label is handled
	}{
		{name: "push adds a new secret", newLines: []string{"AWS_ACCESS_KEY_ID=" + awsKey(), "GITHUB_TOKEN=" + githubToken()}, want: "failure"},
		{name: "push adds nothing new", newLines: []string{"# moved", "AWS_ACCESS_KEY_ID=" + awsKey()}, want: "neutral"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.withTeamPolicy()
			first := envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID="+awsKey())
			pr := e.openPR(1, "alice", "l1", first)
			e.h.GitHub.SetCompare(e.repo.FullName, pr.BaseSHA, pr.HeadSHA, []fakegithub.PullFile{first})
			// sec-lead labels head l1; before escapegate sees it, alice pushes l2.
			e.h.GitHub.AddLabel(e.repo.FullName, pr.Number, overrideLabel)
			labeled := events.Labeled(e.inst, e.repo, "labeled", pr, overrideLabel, "sec-lead")
			next := e.push(pr, "l2", envFile("deploy/prod.env", tc.newLines...))
			if run := e.lastRun(next.HeadSHA); run.Conclusion != "failure" {
				t.Fatalf("l2 before the label: %s %q", run.Conclusion, run.Title)
			}
			e.send("pull_request", labeled)
			excs := e.exceptions(pr.Number)
			if len(excs) != 1 || excs[0].HeadSHA != pr.HeadSHA || len(excs[0].Fingerprints) != 1 {
				t.Fatalf("exception = %+v (want one covering l1's one finding)", excs)
			}
			if run := e.lastRun(pr.HeadSHA); run.Conclusion != "neutral" {
				t.Errorf("l1 after the label: %s %q", run.Conclusion, run.Title)
			}
			if run := e.lastRun(next.HeadSHA); run.Conclusion != tc.want {
				t.Errorf("l2 after the label: %s %q, want %s", run.Conclusion, run.Title, tc.want)
			}
		})
	}
}

// A PR whose last head was never checked (its synchronize failed or was still queued, or
// the merge came first) merges a secret that an earlier head's check raised. The push to
// main skips it (a PR check raised it: "its merge accounts it"), so the merge must.
func TestMergeOfUncheckedHeadStillAccountsCaughtRisk(t *testing.T) {
	e := newEnv(t)
	key := stripeKey()
	file := envFile("billing/charge.rb", "Stripe.api_key = '"+key+"'")
	pr := e.openPR(1, "alice", "u1", file)
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("PR check: %s %q", run.Conclusion, run.Title)
	}
	// alice pushes u2 (the key moved down a line); its synchronize is never handled.
	moved := envFile("billing/charge.rb", "# billing", "Stripe.api_key = '"+key+"'")
	pr.HeadSHA = sha("u2")
	e.movePull(pr.Number, pr.HeadSHA, moved)
	e.merge(pr, "alice")
	before, after := sha("m0"), sha("m1")
	e.h.GitHub.SetCompare(e.repo.FullName, before, after, []fakegithub.PullFile{moved})
	e.send("push", events.Push(e.inst, e.repo, "main", before, after, []string{"billing/charge.rb"}, "alice"))
	esc := e.escapes()
	if len(esc) != 1 || esc[0].Kind != "advisory" || esc[0].PR != pr.Number {
		t.Fatalf("escapes = %+v, want one advisory escape of #1", esc)
	}
}

// Re-running the check of an older head rescans that head (DESIGN §3), not the PR's
// newer files under the older head's SHA.
func TestRerunOfAnOlderHeadScansThatHead(t *testing.T) {
	e := newEnv(t)
	leaky := envFile("deploy/prod.env", criticalFinding())
	pr := e.openPR(1, "alice", "o1", leaky)
	old := e.lastRun(pr.HeadSHA)
	if old.Conclusion != "failure" {
		t.Fatalf("o1: %s %q", old.Conclusion, old.Title)
	}
	e.h.GitHub.SetCompare(e.repo.FullName, pr.BaseSHA, pr.HeadSHA, []fakegithub.PullFile{leaky})
	next := e.push(pr, "o2", envFile("README.md", "clean"))
	if run := e.lastRun(next.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("o2: %s %q", run.Conclusion, run.Title)
	}
	// GitHub's payload names the PR as it stands (head o2) beside the re-run commit o1.
	e.send("check_run", events.CheckRunRerequestedOn(e.inst, e.repo, next, pr.HeadSHA, old.ID, "alice"))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("o1 re-run: %s %q (the key is still in o1)", run.Conclusion, run.Title)
	}
}

// A push that deletes the org policy file drops the cached policy at once, as one that
// edits it does (the built-in strict defaults apply again).
func TestPushDeletingPolicyDropsCachedPolicy(t *testing.T) {
	e, _ := newEnvOpts(t, demo.Options{PolicyTTL: time.Hour})
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("fail_on: critical\n"))
	pr := e.openPR(1, "alice", "d1", envFile("deploy/prod.env", highFinding()))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("under fail_on critical: %s %q", run.Conclusion, run.Title)
	}
	e.h.GitHub.DeleteFile("acme/.github", "", "escapegate.yml")
	gh := events.Repo{ID: 43, FullName: "acme/.github", DefaultBranch: "main"}
	var m map[string]any
	if err := json.Unmarshal(events.Push(e.inst, gh, "main", sha("g1"), sha("g2"), nil, "sec-lead"), &m); err != nil {
		t.Fatal(err)
	}
	m["commits"] = []map[string]any{{"id": sha("g2"), "message": "drop policy", "removed": []string{"escapegate.yml"}}}
	payload, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	e.send("push", payload)
	next := e.push(pr, "d2", envFile("deploy/prod.env", highFinding()))
	if run := e.lastRun(next.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("after the org policy was deleted: %s %q", run.Conclusion, run.Title)
	}
}

// TestRerunOfAForkPullRequest: GitHub names no pull request in a check run's or check
// suite's payload when the pull request's head is in a fork; the run's external id says
// which it checked, so a re-run checks it again (the pull request read from GitHub). A
// merge group's run, a run whose external id names another repository and a suite on a
// commit without escapegate's run are left alone.
func TestRerunOfAForkPullRequest(t *testing.T) {
	e := newEnv(t)
	pr := e.openPR(1, "alice", "f1", envFile("deploy/prod.env", criticalFinding()))
	old := e.lastRun(pr.HeadSHA)
	if old.Conclusion != "failure" {
		t.Fatalf("f1: %s %q", old.Conclusion, old.Title)
	}
	runs := len(e.h.GitHub.CheckRuns(e.repo.FullName))
	e.h.GitHub.ResetRequests()
	e.send("check_run", events.CheckRunRerequestedFromFork(e.inst, e.repo, pr, old.ID, "alice"))
	if got := len(e.h.GitHub.CheckRuns(e.repo.FullName)); got != runs+1 {
		t.Fatalf("%d check runs after the re-run, want %d", got, runs+1)
	}
	if run := e.lastRun(pr.HeadSHA); run.ID == old.ID || run.Conclusion != "failure" {
		t.Fatalf("re-run: run %d (was %d) %s %q", run.ID, old.ID, run.Conclusion, run.Title)
	}
	read := false
	for _, r := range e.h.GitHub.Requests() {
		read = read || (r.Method == "GET" && strings.HasSuffix(r.Path, "/repos/acme/app/pulls/1"))
	}
	if !read {
		t.Fatal("the pull request the payload does not name was not read")
	}
	// "Re-run all checks": the suite names no pull request either, nor has an external
	// id; its newest escapegate run has.
	runs = len(e.h.GitHub.CheckRuns(e.repo.FullName))
	e.send("check_suite", events.CheckSuiteRerequestedFromFork(e.inst, e.repo, pr, "alice"))
	if got := len(e.h.GitHub.CheckRuns(e.repo.FullName)); got != runs+1 {
		t.Fatalf("%d check runs after the suite's re-run, want %d", got, runs+1)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("suite re-run: %s %q", run.Conclusion, run.Title)
	}
	for name, payload := range map[string][]byte{
		"a suite on a commit without escapegate's run": rerunWith(t, events.CheckSuiteRerequestedFromFork(e.inst, e.repo, pr, "alice"),
			"check_suite.head_sha", sha("no-run")),
		"merge group": rerunWith(t, events.CheckRunRerequestedFromFork(e.inst, e.repo, pr, old.ID, "alice"),
			"check_run.check_suite.head_branch", "gh-readonly-queue/main/pr-1-"+pr.BaseSHA),
		"another repository": rerunWith(t, events.CheckRunRerequestedFromFork(e.inst, e.repo, pr, old.ID, "alice"),
			"check_run.external_id", "other/app#1"),
	} {
		runs := len(e.h.GitHub.CheckRuns(e.repo.FullName))
		e.send("check_run", payload)
		if got := len(e.h.GitHub.CheckRuns(e.repo.FullName)); got != runs {
			t.Fatalf("%s: %d check runs, want %d (nothing to check)", name, got, runs)
		}
	}
}

// rerunWith sets the field at path (dot-separated) of a JSON payload to value.
func rerunWith(t *testing.T, payload []byte, path, value string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	keys := strings.Split(path, ".")
	cur := m
	for _, k := range keys[:len(keys)-1] {
		cur = cur[k].(map[string]any)
	}
	cur[keys[len(keys)-1]] = value
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
