package handlers_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
)

// Made-up findings of each severity, assembled at run time.
// highFinding is caught by escapegate-url-credentials (high).
func highFinding() string {
	return "MIRROR=https://deploy:" + "Xk9p2Lq7Wz4m" + "@mirror.example.com/repo"
}

func mediumFinding() string {
	return "STRIPE_KEY=" + "sk_test_" + "51Hx9Qm2Rt7Wk4Pn8Lz3Vb6Jc1" + "Fd5Gs0Ya7Ue2" // stripe test key
}
func criticalFinding() string { return "AWS_ACCESS_KEY_ID=" + awsKey() }

const repoPolicyPath = ".github/escapegate.yml"

func TestPolicyDecidesConclusion(t *testing.T) {
	tests := []struct {
		name       string
		org, repo  string // "" leaves the file absent
		line       string
		want       string
		inSummary  []string
		notSummary []string
	}{
		{name: "built-in defaults: high fails", line: highFinding(), want: "failure"},
		{name: "org fail_on critical: high passes", org: "fail_on: critical\n", line: highFinding(), want: "success"},
		{name: "org fail_on critical: critical fails", org: "fail_on: critical\n", line: criticalFinding(), want: "failure"},
		{name: "built-in defaults: medium passes", line: mediumFinding(), want: "success"},
		{name: "repo tightens to medium: medium fails", repo: "fail_on: medium\n", line: mediumFinding(), want: "failure"},
		{name: "repo tightens below the org: medium fails", org: "fail_on: critical\n", repo: "fail_on: medium\n", line: mediumFinding(), want: "failure"},
		{
			name: "repo loosening fail_on is refused", org: "fail_on: high\n", repo: "# loosen\nfail_on: critical\n", line: highFinding(), want: "failure",
			inSummary: []string{"`.github/escapegate.yml` line 2", "fail_on: critical", "loosen"},
		},
		{
			name: "broken repo file names file and line; strict defaults apply", repo: "fail_on: high\noverride:\n  lable: x\n", line: highFinding(), want: "failure",
			inSummary: []string{"`.github/escapegate.yml` line 3", "unknown key"},
		},
		{
			name: "broken org file names file and line", org: "fail_on: critical\nescape_rate:\n  severity: critical\n  windw_days: 30\n", line: criticalFinding(), want: "failure",
			inSummary: []string{"`acme/.github/escapegate.yml` line 4", "unknown key"},
		},
		{
			name: "invalid YAML on the default branch", repo: "fail_on: [high\n", line: highFinding(), want: "failure",
			inSummary: []string{"`.github/escapegate.yml` line"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			if tc.org != "" {
				e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(tc.org))
			}
			if tc.repo != "" {
				e.h.GitHub.SetFile(e.repo.FullName, "", repoPolicyPath, []byte(tc.repo))
			}
			pr := e.openPR(1, "alice", "f1", envFile("deploy/prod.env", tc.line))
			run := e.lastRun(pr.HeadSHA)
			if run.Conclusion != tc.want {
				t.Fatalf("conclusion %s, want %s (%q)\n%s", run.Conclusion, tc.want, run.Title, run.Summary)
			}
			for _, s := range tc.inSummary {
				if !strings.Contains(run.Summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, run.Summary)
				}
			}
		})
	}
}

func TestLastValidOrgPolicyApplies(t *testing.T) {
	e := newEnv(t)
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("fail_on: critical\n"))
	pr := e.openPR(1, "alice", "v1", envFile("deploy/prod.env", highFinding()))
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("valid org policy: %s %q", run.Conclusion, run.Title)
	}
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("fail_on: critical\nfail_when: always\n"))
	pr = e.push(pr, "v2", envFile("deploy/prod.env", highFinding()))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "success" {
		t.Fatalf("broken org policy: %s %q; the last valid one (fail_on: critical) should apply\n%s", run.Conclusion, run.Title, run.Summary)
	}
	if !strings.Contains(run.Summary, "`acme/.github/escapegate.yml` line 2") {
		t.Fatalf("summary does not name the broken file and line:\n%s", run.Summary)
	}
}

func TestRepoCannotLoosenAllowAuthor(t *testing.T) {
	e := newEnv(t)
	e.withTeamPolicy()
	e.h.GitHub.SetFile(e.repo.FullName, "", repoPolicyPath, []byte("override:\n  allow_author: true\n"))
	pr := e.openPR(1, "sec-lead", "l1", envFile("deploy/prod.env", criticalFinding()))
	run := e.lastRun(pr.HeadSHA)
	if run.Conclusion != "failure" {
		t.Fatalf("conclusion %s", run.Conclusion)
	}
	for _, s := range []string{"`.github/escapegate.yml` line 2", "override.allow_author"} {
		if !strings.Contains(run.Summary, s) {
			t.Errorf("summary does not report the refused key (%q):\n%s", s, run.Summary)
		}
	}
	e.label(pr, overrideLabel, "sec-lead")
	if n := len(e.exceptions(pr.Number)); n != 0 {
		t.Fatalf("the author approved their own PR through a refused repository key (%d exceptions)", n)
	}
	if ref := e.refused(); len(ref) != 1 || !strings.Contains(ref[0].Why, "author") {
		t.Fatalf("refused = %+v", ref)
	}
}

func TestPolicyEditedInPRDoesNotApply(t *testing.T) {
	tests := []struct {
		name      string
		head      string // the PR's version of .github/escapegate.yml
		line      string
		want      string
		inSummary []string
	}{
		{name: "loosening head cannot pass a high finding", head: "fail_on: critical\n", line: highFinding(), want: "failure",
			inSummary: []string{"`.github/escapegate.yml` line 1"}},
		{name: "tightening head does not apply before it merges", head: "fail_on: medium\n", line: mediumFinding(), want: "success"},
		{name: "invalid head is reported", head: "fail_on: high\nfail_on_everything: true\n", line: "A=1", want: "failure",
			inSummary: []string{"`.github/escapegate.yml` line 2", "unknown key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			headLines := strings.Split(strings.TrimSuffix(tc.head, "\n"), "\n")
			e.h.GitHub.SetFile(e.repo.FullName, "", repoPolicyPath, []byte("fail_on: high\n"))
			e.h.GitHub.SetFile(e.repo.FullName, sha("e1"), repoPolicyPath, []byte(tc.head))
			pr := e.openPR(1, "alice", "e1",
				fakegithub.PullFile{Filename: repoPolicyPath, Status: "modified", Additions: len(headLines), Deletions: 1,
					Patch: fmt.Sprintf("@@ -1 +1,%d @@\n-fail_on: high\n+%s", len(headLines), strings.Join(headLines, "\n+"))},
				envFile("deploy/prod.env", tc.line))
			run := e.lastRun(pr.HeadSHA)
			if run.Conclusion != tc.want {
				t.Fatalf("conclusion %s, want %s (%q)\n%s", run.Conclusion, tc.want, run.Title, run.Summary)
			}
			for _, s := range tc.inSummary {
				if !strings.Contains(run.Summary, s) {
					t.Errorf("summary lacks %q:\n%s", s, run.Summary)
				}
			}
			// The PR head's file was read only to validate it, never as the policy in force.
			cached := e.cachedPolicy("policy/acme/app/.github/escapegate.yml")
			var cf struct{ Content []byte }
			if err := json.Unmarshal(cached, &cf); err != nil {
				t.Fatal(err)
			}
			if string(cf.Content) != "fail_on: high\n" {
				t.Fatalf("policy in force is %q, not the default branch's", cf.Content)
			}
		})
	}
}

// clock is a manual clock for the harness.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestUnchangedPolicyCostsA304 checks the conditional reads of the org policy. The
// harness sets no PolicyTTL (0), so every event re-validates the file with GitHub:
// an unchanged file is answered 304 and neither re-parsed nor re-written to the store
// (its cache entry keeps the time it was last read in full); a changed one is read again.
func TestUnchangedPolicyCostsA304(t *testing.T) {
	clk := &clock{t: time.Now().UTC()}
	e, _ := newEnvOpts(t, demo.Options{Now: clk.Now})
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("fail_on: critical\n"))
	const key = "policy/acme/.github/escapegate.yml"
	type cached struct {
		ETag      string    `json:"etag"`
		Content   []byte    `json:"content"`
		CheckedAt time.Time `json:"checked_at"`
	}
	read := func() cached {
		t.Helper()
		raw := e.cachedPolicy(key)
		var c cached
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		return c
	}
	policyReads := func() int {
		n := 0
		for _, r := range e.h.GitHub.Requests() {
			if r.Method == "GET" && strings.Contains(r.Path, "/repos/acme/.github/contents/escapegate.yml") {
				n++
			}
		}
		return n
	}

	pr := e.openPR(1, "alice", "c1", envFile("deploy/prod.env", highFinding()))
	first := read()
	if first.ETag == "" || string(first.Content) != "fail_on: critical\n" || policyReads() != 1 {
		t.Fatalf("first read: %+v, %d requests", first, policyReads())
	}

	clk.Advance(time.Minute)
	e.h.GitHub.ResetRequests()
	pr = e.push(pr, "c2", envFile("deploy/prod.env", highFinding()))
	if n := policyReads(); n != 1 {
		t.Fatalf("with PolicyTTL 0 the org policy is re-validated once per event; got %d reads", n)
	}
	if again := read(); !again.CheckedAt.Equal(first.CheckedAt) || again.ETag != first.ETag {
		t.Fatalf("unchanged policy was read in full (cache %+v, before %+v): no 304", again, first)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("policy from the 304 not applied: %s %q", run.Conclusion, run.Title)
	}

	// A changed file is read in full and applies at once.
	clk.Advance(time.Minute)
	e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte("fail_on: high\n"))
	pr = e.push(pr, "c3", envFile("deploy/prod.env", highFinding()))
	changed := read()
	if changed.ETag == first.ETag || string(changed.Content) != "fail_on: high\n" || !changed.CheckedAt.After(first.CheckedAt) {
		t.Fatalf("changed policy not read again: %+v", changed)
	}
	if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("changed policy not applied: %s %q", run.Conclusion, run.Title)
	}
}
