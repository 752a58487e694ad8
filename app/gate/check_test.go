package gate_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/delivery"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
)

// annotation is where a failure annotation must be.
type annotation struct {
	path string
	line int
}

func TestCheckPullRequest(t *testing.T) {
	key := awsKey()
	tests := []struct {
		name  string
		files []gh.File
		want  string
		rules []string    // failing rules, most severe first
		at    *annotation // a failure annotation the run must carry
	}{
		{
			name: "adds an AWS key to a modified file",
			files: []gh.File{{Filename: "deploy/settings.env", Status: "modified", Additions: 1, Changes: 1,
				Patch: "@@ -10,3 +10,4 @@ # deploy\n REGION=eu-west-1\n+AWS_ACCESS_KEY_ID=" + key + "\n BUCKET=assets\n LOG=info"}},
			want: "failure", rules: []string{"aws-access-token"}, at: &annotation{"deploy/settings.env", 11},
		},
		{
			name:  "adds a GitHub token to a new file",
			files: []gh.File{envFile("README.md", "hello"), envFile("ci/token.env", "# ci", "T="+githubToken())},
			want:  "failure", rules: []string{"github-pat"}, at: &annotation{"ci/token.env", 2},
		},
		{
			name:  "clean change",
			files: []gh.File{envFile("README.md", "hello"), envFile("deploy/prod.env", "AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}")},
			want:  "success",
		},
		{
			name:  "key on a removed line",
			files: []gh.File{{Filename: "app.env", Status: "modified", Changes: 1, Patch: "@@ -1,3 +1,2 @@\n A=1\n-AWS_ACCESS_KEY_ID=" + key + "\n B=2"}},
			want:  "success",
		},
		{
			name:  "key on a context line",
			files: []gh.File{{Filename: "app.env", Status: "modified", Changes: 1, Patch: "@@ -1,3 +1,4 @@\n A=1\n AWS_ACCESS_KEY_ID=" + key + "\n+C=3\n B=2"}},
			want:  "success",
		},
	}
	// A scan done within InProgressAfter creates its run completed (one write); a slower
	// one creates it in progress, then completes it.
	modes := []struct {
		name  string
		after time.Duration
		sent  []string // the statuses sent, create first
	}{
		{"fast scan", time.Hour, []string{"completed"}},
		{"slow scan", -1, []string{"in_progress", "completed"}},
	}
	for _, mode := range modes {
		for _, tc := range tests {
			t.Run(mode.name+"/"+tc.name, func(t *testing.T) {
				checkOne(t, mode.after, mode.sent, tc.files, tc.want, tc.rules, tc.at)
			})
		}
	}
}

// checkOne checks one PR of files with the given InProgressAfter and asserts the check
// run's writes (sent: the statuses, create first), its result and the stored scan.
func checkOne(t *testing.T, after time.Duration, sent []string, files []gh.File, want string, wantRules []string, at *annotation) {
	t.Helper()
	tc := struct {
		files []gh.File
		want  string
		rules []string
		at    *annotation
	}{files, want, wantRules, at}
	f := newFixtureWith(t, func(o *gate.Options) { o.InProgressAfter = after })
	p := pr(1, "alice", "a1")
	f.register(p, tc.files...)
	out := f.check(p)

	if len(f.gh.CheckRuns) != 1 {
		t.Fatalf("want one check run, got %d", len(f.gh.CheckRuns))
	}
	run := f.gh.CheckRuns[0]
	var statuses []string
	for _, c := range run.Sent {
		statuses = append(statuses, c.Status)
	}
	if fmt.Sprint(statuses) != fmt.Sprint(sent) || !run.Sent[0].StartedAt.Equal(start) {
		t.Fatalf("want %v sent, got %+v", sent, run.Sent)
	}
	if run.Name != gate.CheckName || run.HeadSHA != p.HeadSHA || run.ExternalID != "acme/app#1" ||
		run.Status != "completed" || run.Conclusion != tc.want || !run.CompletedAt.Equal(start) {
		t.Fatalf("check run = %s %s/%s on %s (%s), want completed/%s", run.Name, run.Status, run.Conclusion, run.HeadSHA, run.ExternalID, tc.want)
	}
	if out.CheckRunID != run.ID || out.Conclusion != tc.want {
		t.Fatalf("outcome = %+v, want run %d %s", out, run.ID, tc.want)
	}
	var rules []string
	for _, fd := range out.Failing {
		rules = append(rules, fd.Rule)
	}
	if fmt.Sprint(rules) != fmt.Sprint(tc.rules) {
		t.Fatalf("failing rules %v, want %v", rules, tc.rules)
	}
	if tc.at != nil {
		found := false
		for _, a := range run.Annotations {
			if a.Path == tc.at.path && a.StartLine == tc.at.line && a.Level == "failure" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no failure annotation at %s:%d in %+v", tc.at.path, tc.at.line, run.Annotations)
		}
	} else if len(run.Annotations) != 0 {
		t.Fatalf("a passing check has annotations: %+v", run.Annotations)
	}

	// The store keeps this head's conclusion and the critical risks it caught.
	sc, err := f.st.GetScan(f.ctx, repoName, p.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Conclusion != tc.want || sc.CheckRunID != run.ID || sc.PR != 1 || len(sc.Findings) != len(tc.rules) {
		t.Fatalf("stored scan = %+v", sc)
	}
	for _, fd := range out.Failing {
		if caught, err := f.st.WasCaught(f.ctx, repoName, fd.Fingerprint); err != nil || !caught {
			t.Errorf("%s not recorded as caught (%v)", fd.Rule, err)
		}
	}
}

// TestNoRawSecretReachesGitHubOrTheStore checks PRs adding four made-up credentials,
// refuses and accepts an override and merges, then searches every call made to
// GitHub and every store record for the raw values.
func TestNoRawSecretReachesGitHubOrTheStore(t *testing.T) {
	f := newFixture(t)
	f.withTeamPolicy()
	raw := map[string]string{"aws": awsKey(), "github": githubToken(), "slack": slackToken(), "stripe": stripeKey()}
	p := f.open(1, "alice", "s1",
		envFile("config/.env.production", "AWS_ACCESS_KEY_ID="+raw["aws"], "GITHUB_TOKEN="+raw["github"]),
		envFile("scripts/notify.py", "client = slack_sdk.WebClient(token=\""+raw["slack"]+"\")"),
		envFile("billing/charge.rb", "Stripe.api_key = '"+raw["stripe"]+"'"))
	f.label(p, overrideLabel, "mallory") // refused: a comment
	f.label(p, overrideLabel, "sec-lead")
	if _, err := f.svc.Merged(f.ctx, p); err != nil {
		t.Fatal(err)
	}

	run := f.lastRun(p.HeadSHA)
	if run.Conclusion != "neutral" || !strings.Contains(run.Summary, "AKIA…") || len(f.gh.Posted) != 1 || len(f.escapes()) != 4 {
		t.Fatalf("the flow did not run as expected (check %s, %d comments, %d escapes), so the search below proves nothing:\n%s",
			run.Conclusion, len(f.gh.Posted), len(f.escapes()), run.Summary)
	}
	var calls strings.Builder
	for _, c := range f.gh.Calls {
		fmt.Fprintf(&calls, "%+v\n", c)
	}
	sc, err := f.st.GetScan(f.ctx, repoName, p.HeadSHA)
	if err != nil {
		t.Fatal(err)
	}
	caught, err := f.st.ListCaught(f.ctx, repoName, everything)
	if err != nil {
		t.Fatal(err)
	}
	records, err := json.Marshal([]any{sc, caught, f.exceptions(0), f.refused(), f.escapes()})
	if err != nil {
		t.Fatal(err)
	}
	for name, secret := range raw {
		if strings.Contains(calls.String(), secret) {
			t.Errorf("a call to GitHub holds the raw %s secret", name)
		}
		if strings.Contains(string(records), secret) {
			t.Errorf("a store record holds the raw %s secret", name)
		}
	}
}

func TestFileWithoutPatchIsReadWhole(t *testing.T) {
	f := newFixture(t)
	p := pr(1, "alice", "b1")
	f.gh.SetFile(repoName, p.HeadSHA, "assets/logo.png", "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01")
	f.gh.SetFile(repoName, p.HeadSHA, "db/dump.sql", strings.Repeat("INSERT INTO t VALUES (1);\n", 40000))
	f.gh.SetFile(repoName, p.HeadSHA, "bin/run.sh", "#!/bin/sh\necho hi\n")
	f.gh.SetFile(repoName, p.HeadSHA, "broken.txt", "a\nb\n")
	f.register(p,
		envFile("README.md", "hello"),
		gh.File{Filename: "assets/logo.png", Status: "added"},                                         // binary
		gh.File{Filename: "db/dump.sql", Status: "modified", Changes: 40000},                          // too large for a diff
		gh.File{Filename: "old/config.env", Status: "removed", Changes: 3},                            // gone: nothing added
		gh.File{Filename: "moved/a.txt", PreviousFilename: "a.txt", Status: "renamed"},                // moved as it was
		gh.File{Filename: "bin/run.sh", Status: "modified", Changes: 0},                               // mode change (or binary)
		gh.File{Filename: "broken.txt", Status: "modified", Changes: 2, Patch: "@@ -1 +1 @@\n+a\n+b"}, // more lines than its header says
	)
	f.check(p)
	run := f.lastRun(p.HeadSHA)
	if run.Conclusion != "success" {
		t.Fatalf("conclusion %s (%q)\n%s", run.Conclusion, run.Title, run.Summary)
	}
	for _, want := range []string{"1 file was not scanned", "**Not scanned**", "assets/logo.png: image (PNG)", "it does not fail this check"} {
		if !strings.Contains(run.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, run.Summary)
		}
	}
	for _, not := range []string{"old/config.env", "bin/run.sh", "README.md", "db/dump.sql", "broken.txt", "moved/a.txt"} {
		if strings.Contains(run.Summary, not) {
			t.Errorf("summary lists %s as not scanned:\n%s", not, run.Summary)
		}
	}
	// One read per file without a usable patch; none for README.md, the removed or the moved file.
	var read []string
	for _, c := range f.gh.CallsTo("GetContent") {
		if ref := c.Args[2]; ref == p.HeadSHA || ref == p.BaseSHA {
			read = append(read, fmt.Sprint(c.Args[1], "@", ref == p.HeadSHA))
		}
	}
	if want := "assets/logo.png@true db/dump.sql@true bin/run.sh@true broken.txt@true"; strings.Join(read, " ") != want {
		t.Errorf("read %v, want %s", read, want)
	}
}

func TestUnreadableFileFailsTheCheck(t *testing.T) {
	f := newFixture(t)
	p := f.open(1, "alice", "u1", gh.File{Filename: "config/gone.env", Status: "added", Changes: 4000}) // not at head
	run := f.lastRun(p.HeadSHA)
	if run.Conclusion != "failure" || !strings.Contains(run.Title, "config/gone.env") || !strings.Contains(run.Summary, "not found at the head commit") {
		t.Fatalf("check run %s %q\n%s", run.Conclusion, run.Title, run.Summary)
	}
}

func TestMoreFilesThanGitHubListsFailsClosed(t *testing.T) {
	f := newFixture(t)
	files := make([]gh.File, gh.MaxPullFiles+1)
	for i := range files {
		files[i] = envFile(fmt.Sprintf("gen/f%04d.txt", i), "x")
	}
	p := pr(1, "alice", "t1")
	f.register(p, files...)
	out := f.check(p)
	run := f.lastRun(p.HeadSHA)
	if out.Conclusion != "failure" || run.Status != "completed" || run.Conclusion != "failure" || run.Title != "Not scanned: more than 3,000 changed files" {
		t.Fatalf("outcome %s, check run %s/%s %q", out.Conclusion, run.Status, run.Conclusion, run.Title)
	}
	if sc, err := f.st.GetScan(f.ctx, repoName, p.HeadSHA); err != nil || sc.Conclusion != "failure" {
		t.Fatalf("stored scan = %+v, %v", sc, err)
	}
}

// TestCheckFailsClosed: when the scan cannot run, the check completes as failure
// (never left in progress, never passing) and the error goes back to the caller, so
// the delivery fails and can be redelivered.
func TestCheckFailsClosed(t *testing.T) {
	boom := errors.New("GitHub answered 502")
	tests := []struct {
		name    string
		fail    func(*ghfake.Client)
		wantRun bool // a check run exists (completed as failure)
	}{
		{"listing the files fails", func(c *ghfake.Client) { c.Fail["ListPullRequestFiles"] = boom }, true},
		{"the org policy cannot be read", func(c *ghfake.Client) {
			c.Hook = func(call ghfake.Call) error {
				if call.Method == "GetContent" && call.Args[1] == "escapegate.yml" {
					return boom
				}
				return nil
			}
		}, true},
		{"an agent configuration cannot be read", func(c *ghfake.Client) {
			c.Hook = func(call ghfake.Call) error {
				if call.Method == "GetContent" && call.Args[1] == ".claude/settings.json" {
					return boom
				}
				return nil
			}
		}, true},
		{"the check run cannot be created", func(c *ghfake.Client) { c.Fail["CreateCheckRun"] = boom }, false},
	}
	for _, slow := range []bool{false, true} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("%s/slow scan=%v", tc.name, slow), func(t *testing.T) {
				failsClosed(t, slow, tc.fail, tc.wantRun, boom)
			})
		}
	}
}

// failsClosed checks a PR with GitHub failing as fail says, the run created completed
// at the end (slow: in progress first), and asserts what TestCheckFailsClosed says.
func failsClosed(t *testing.T, slow bool, fail func(*ghfake.Client), wantRun bool, boom error) {
	t.Helper()
	f := newFixtureWith(t, func(o *gate.Options) {
		if slow {
			o.InProgressAfter = -1
		}
	})
	p := pr(1, "alice", "e1")
	f.register(p, envFile(".claude/settings.json", `{"permissions": {"allow": ["Read"]}}`))
	fail(f.gh)
	_, err := f.svc.CheckPullRequest(f.ctx, p)
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want one wrapping %v", err, boom)
	}
	if !wantRun {
		if len(f.gh.CheckRuns) != 0 {
			t.Fatalf("a check run exists though none could be created: %v", f.gh.Methods())
		}
		if slow && len(f.gh.CallsTo("ListPullRequestFiles")) != 0 {
			t.Fatalf("went on after the check run could not be created: %v", f.gh.Methods())
		}
		if _, err := f.st.GetScan(f.ctx, repoName, p.HeadSHA); err == nil {
			t.Fatal("a scan whose check run could not be posted was recorded")
		}
		return
	}
	runs := f.runsOn(p.HeadSHA)
	if len(runs) != 1 {
		t.Fatalf("want one check run, got %d", len(runs))
	}
	run := runs[0]
	if run.Status != "completed" || run.Conclusion != "failure" || run.Title != "escapegate could not scan this pull request" ||
		!strings.Contains(run.Summary, boom.Error()) {
		t.Fatalf("check run = %s/%s %q\n%s", run.Status, run.Conclusion, run.Title, run.Summary)
	}
	if _, err := f.st.GetScan(f.ctx, repoName, p.HeadSHA); err == nil {
		t.Fatal("a scan that did not run was recorded")
	}
}

func TestAgentConfigurationAgainstBase(t *testing.T) {
	const path = ".claude/settings.json"
	tests := []struct {
		name, base, head, patch string
		want                    string
		level                   string // the annotation's level, "" none
		line                    int
	}{
		{
			name:  "widened: adds Bash(*)",
			base:  "{\n  \"permissions\": {\n    \"allow\": [\"Read\"]\n  }\n}\n",
			head:  "{\n  \"permissions\": {\n    \"allow\": [\n      \"Read\",\n      \"Bash(*)\"\n    ]\n  }\n}\n",
			patch: "@@ -1,5 +1,8 @@\n {\n   \"permissions\": {\n-    \"allow\": [\"Read\"]\n+    \"allow\": [\n+      \"Read\",\n+      \"Bash(*)\"\n+    ]\n   }\n }",
			want:  "failure", level: "failure", line: 5,
		},
		{
			name:  "unchanged: Bash(*) already on the base",
			base:  "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\", \"Read\"]\n  }\n}\n",
			head:  "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\", \"Read\", \"Grep\"]\n  }\n}\n",
			patch: "@@ -1,5 +1,5 @@\n {\n   \"permissions\": {\n-    \"allow\": [\"Bash(*)\", \"Read\"]\n+    \"allow\": [\"Bash(*)\", \"Read\", \"Grep\"]\n   }\n }",
			want:  "success", level: "notice", line: 3,
		},
		{
			name:  "narrowed: Bash(*) replaced by one command",
			base:  "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\", \"Read\"]\n  }\n}\n",
			head:  "{\n  \"permissions\": {\n    \"allow\": [\"Bash(npm test)\", \"Read\"]\n  }\n}\n",
			patch: "@@ -1,5 +1,5 @@\n {\n   \"permissions\": {\n-    \"allow\": [\"Bash(*)\", \"Read\"]\n+    \"allow\": [\"Bash(npm test)\", \"Read\"]\n   }\n }",
			want:  "success",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.gh.SetFile(repoName, sha("base"), path, tc.base)
			f.gh.SetFile(repoName, sha("h1"), path, tc.head)
			p := f.open(1, "alice", "h1", gh.File{Filename: path, Status: "modified", Changes: 3, Patch: tc.patch})
			run := f.lastRun(p.HeadSHA)
			if run.Conclusion != tc.want {
				t.Fatalf("conclusion %s, want %s (%q)\n%s", run.Conclusion, tc.want, run.Title, run.Summary)
			}
			if tc.level == "" {
				if len(run.Annotations) != 0 {
					t.Fatalf("annotations %+v, want none", run.Annotations)
				}
				return
			}
			if len(run.Annotations) != 1 || run.Annotations[0].Path != path || run.Annotations[0].StartLine != tc.line || run.Annotations[0].Level != tc.level {
				t.Fatalf("annotations %+v, want one %s at line %d", run.Annotations, tc.level, tc.line)
			}
			if tc.level == "notice" && !strings.Contains(run.Text, "Already on the base branch (1, not failing)") {
				t.Fatalf("the existing finding is not listed as on the base branch:\n%s", run.Text)
			}
		})
	}
}

func TestPolicyFromTheDefaultBranch(t *testing.T) {
	tests := []struct {
		name      string
		org       string            // acme/.github escapegate.yml on its default branch
		repoFiles map[string]string // ref → acme/app .github/escapegate.yml
		line      string
		want      string
	}{
		{name: "built-in defaults: high fails", line: highLine(), want: "failure"},
		{name: "built-in defaults: medium passes", line: mediumLine(), want: "success"},
		{name: "org fail_on critical: high passes", org: "fail_on: critical\n", line: highLine(), want: "success"},
		{name: "org fail_on critical: critical fails", org: "fail_on: critical\n", line: criticalLine(), want: "failure"},
		{name: "repo file on main tightens to medium", repoFiles: map[string]string{"main": "fail_on: medium\n"}, line: mediumLine(), want: "failure"},
		{name: "repo file on the PR head only does not apply", repoFiles: map[string]string{sha("f1"): "fail_on: medium\n"}, line: mediumLine(), want: "success"},
		{name: "repo file cannot loosen the org", org: "fail_on: high\n", repoFiles: map[string]string{"main": "fail_on: critical\n"}, line: highLine(), want: "failure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.org != "" {
				f.orgPolicy(tc.org)
			}
			for ref, content := range tc.repoFiles {
				f.gh.SetFile(repoName, ref, ".github/escapegate.yml", content)
			}
			p := f.open(1, "alice", "f1", envFile("deploy/prod.env", tc.line))
			if run := f.lastRun(p.HeadSHA); run.Conclusion != tc.want {
				t.Fatalf("conclusion %s, want %s (%q)\n%s", run.Conclusion, tc.want, run.Title, run.Summary)
			}
		})
	}
}

// TestPolicyFilesAreReadWhereDocumented: the org file is escapegate.yml of <org>/.github
// at its default branch (no ref), the repository file .github/escapegate.yml at the
// repository's default branch; an unchanged file is re-validated with its ETag.
func TestPolicyFilesAreReadWhereDocumented(t *testing.T) {
	f := newFixture(t)
	const org = "fail_on: critical\n"
	f.orgPolicy(org)
	p := f.open(1, "alice", "g1", envFile("deploy/prod.env", highLine()))
	type read struct{ repo, path, ref, etag string }
	reads := func() []read {
		var out []read
		for _, c := range f.gh.CallsTo("GetContent") {
			out = append(out, read{fmt.Sprint(c.Args[0]), c.Args[1].(string), c.Args[2].(string), c.Args[3].(string)})
		}
		f.gh.Calls = nil
		return out
	}
	want := []read{{orgRepo, "escapegate.yml", "", ""}, {repoName, ".github/escapegate.yml", "main", ""}}
	if got := reads(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("policy reads %+v, want %+v", got, want)
	}
	p = f.push(p, "g2", envFile("deploy/prod.env", highLine()))
	want[0].etag = ghfake.ETag(org)
	if got := reads(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("second event's policy reads %+v, want %+v (a conditional read of the org file)", got, want)
	}
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "success" {
		t.Fatalf("the policy re-validated by ETag was not applied: %s %q", run.Conclusion, run.Title)
	}
	f.orgPolicy("fail_on: high\n")
	p = f.push(p, "g3", envFile("deploy/prod.env", highLine()))
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "failure" {
		t.Fatalf("the changed org policy was not applied: %s %q", run.Conclusion, run.Title)
	}
}

// TestRecheck: a re-requested check of the PR's current head lists the PR's files; one
// of an older head rescans that head from the compare of base...that head. A delivery
// handled as it is sent is taken at its word (its minimal pull request's head.sha is the
// PR's head); a retry, a redelivery or a payload without that head reads the PR first.
func TestRecheck(t *testing.T) {
	leaky := envFile("deploy/prod.env", criticalLine())
	bg := context.Background()
	tests := []struct {
		name        string
		ctx         context.Context
		head        string // the commit whose check is re-run
		prHead      string // the payload's pull_requests[].head.sha ("": not sent)
		noDefault   bool   // the payload's repository has no default_branch
		want        string
		wantCompare bool
		wantReads   int  // GetPullRequest
		sameRun     bool // a retry finds the run it would post already there (o1's verdict)
	}{
		{name: "current head from the payload", ctx: bg, head: "o2", prHead: "o2", want: "success"},
		{name: "older head from the payload", ctx: bg, head: "o1", prHead: "o2", want: "failure", wantCompare: true},
		{name: "current head, payload without head.sha", ctx: bg, head: "o2", want: "success", wantReads: 1},
		{name: "older head, payload without head.sha", ctx: bg, head: "o1", want: "failure", wantCompare: true, wantReads: 1},
		// The payload's head is o1, as when the event was sent; the PR has moved on to o2 since.
		{name: "stale retry", ctx: delivery.WithAttempt(bg, 2), head: "o1", prHead: "o1", want: "failure", wantCompare: true, wantReads: 1, sameRun: true},
		{name: "stale redelivery", ctx: delivery.WithRedelivered(bg), head: "o1", prHead: "o1", want: "failure", wantCompare: true, wantReads: 1},
		{name: "redelivery of the current head", ctx: delivery.WithRedelivered(bg), head: "o2", prHead: "o2", want: "success", wantReads: 1},
		{name: "default branch not in the payload", ctx: bg, head: "o2", prHead: "o2", noDefault: true, want: "success"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			old := f.open(1, "alice", "o1", leaky)
			f.gh.Compares[ghfake.Compare{Repo: repoName, Base: sha("base"), Head: old.HeadSHA}] = []gh.File{leaky}
			f.push(old, "o2", envFile("README.md", "clean"))
			f.gh.Calls = nil
			// The payload's pull request is minimal: number, head and base.
			stub := gate.PR{Installation: inst, Repo: repo, RepoID: 42, DefaultBranch: "main", Number: 1, HeadSHA: sha(tc.head),
				HeadRef: "feature/1", BaseSHA: sha("base"), BaseRef: "main"}
			if tc.noDefault {
				stub.DefaultBranch = ""
			}
			prHead := ""
			if tc.prHead != "" {
				prHead = sha(tc.prHead)
			}
			if err := f.svc.Recheck(tc.ctx, stub, prHead); err != nil {
				t.Fatal(err)
			}
			runs := 2
			if tc.sameRun {
				runs = 1
			}
			if run := f.lastRun(sha(tc.head)); run.Conclusion != tc.want || len(f.runsOn(sha(tc.head))) != runs {
				t.Fatalf("re-run of %s: %s %q (%d runs)", tc.head, run.Conclusion, run.Title, len(f.runsOn(sha(tc.head))))
			}
			compares, lists := f.gh.CallsTo("CompareCommits"), f.gh.CallsTo("ListPullRequestFiles")
			if tc.wantCompare {
				if len(compares) != 1 || compares[0].Args[1] != sha("base") || compares[0].Args[2] != sha(tc.head) || len(lists) != 0 {
					t.Fatalf("compares %v, file listings %d: want one compare of base...%s", compares, len(lists), tc.head)
				}
			} else if len(compares) != 0 || len(lists) != 1 {
				t.Fatalf("compares %v, file listings %d: want the PR's files listed", compares, len(lists))
			}
			if n := len(f.gh.CallsTo("GetPullRequest")); n != tc.wantReads {
				t.Fatalf("pull request read %d times, want %d", n, tc.wantReads)
			}
			wantRepo := 0
			if tc.noDefault {
				wantRepo = 1
			}
			if n := len(f.gh.CallsTo("GetRepository")); n != wantRepo {
				t.Fatalf("default branch read %d times, want %d", n, wantRepo)
			}
		})
	}
}

// TestRecheckReleaseComment: a re-run from the payload, which has no labels or title,
// refreshes the release comment of a PR that a label made a release PR (the store
// remembers its comment) and posts none on a PR that never had one; neither reads the PR.
func TestRecheckReleaseComment(t *testing.T) {
	for _, tc := range []struct {
		name   string
		labels []string
		edits  int
	}{
		{"release PR by its label", []string{"release"}, 1},
		{"ordinary PR", nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			rel := releasePR(func(p *gate.PR) { p.Labels = tc.labels })
			f.register(rel, changelog)
			f.check(rel)
			f.gh.Calls = nil
			stub := gate.PR{Installation: inst, Repo: repo, RepoID: 42, DefaultBranch: "main", Number: rel.Number, HeadSHA: rel.HeadSHA,
				HeadRef: rel.HeadRef, BaseSHA: rel.BaseSHA, BaseRef: rel.BaseRef}
			if err := f.svc.Recheck(f.ctx, stub, rel.HeadSHA); err != nil {
				t.Fatal(err)
			}
			if f.count("EditComment") != tc.edits || f.count("CreateComment") != 0 || f.count("ListComments") != 0 || f.count("GetPullRequest") != 0 {
				t.Fatalf("calls %v: want %d edit of the release comment and no PR read", f.gh.Methods(), tc.edits)
			}
		})
	}
}

// TestPolicyFileChangedByThePR: a PR editing a policy file gets that file validated at
// its head (the policy in force stays the default branch's); an invalid one fails.
func TestPolicyFileChangedByThePR(t *testing.T) {
	tests := []struct {
		name, content, want string
	}{
		{name: "valid", content: "fail_on: medium\n", want: "success"},
		{name: "unknown key", content: "fail_on: high\noverride:\n  lable: x\n", want: "failure"},
		{name: "loosens the org policy", content: "fail_on: critical\n", want: "failure"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.gh.SetFile(repoName, sha("y1"), ".github/escapegate.yml", tc.content)
			p := f.open(1, "alice", "y1", envFile(".github/escapegate.yml", strings.Split(strings.TrimSpace(tc.content), "\n")...))
			run := f.lastRun(p.HeadSHA)
			if run.Conclusion != tc.want {
				t.Fatalf("conclusion %s, want %s (%q)\n%s", run.Conclusion, tc.want, run.Title, run.Summary)
			}
			if tc.want == "failure" && run.Title != "Invalid policy file in this pull request" {
				t.Fatalf("title %q", run.Title)
			}
			if n := len(f.gh.CallsTo("GetContent")); n != 3 { // org and repository policy, then the changed file at head
				t.Fatalf("%d content reads, want 3", n)
			}
		})
	}
}

// TestOrgSecretRulesFile: the org policy's secrets.rules_file (in <org>/.github) adds
// rules; while GitHub cannot serve it the copy read before applies; a missing one is
// reported and the default rules apply.
func TestOrgSecretRulesFile(t *testing.T) {
	const rules = "[[rules]]\nid = \"acme-internal-token\"\ndescription = \"Acme internal token\"\nregex = '''acme_tok_[a-z0-9]{24}'''\nkeywords = [\"acme_tok_\"]\n"
	token := "ACME_TOKEN=acme_tok_" + "q7w2e9r4t6y1u8i3o5p0a2s4"
	rulesOf := func(out gate.CheckOutcome) string {
		var ids []string
		for _, fd := range out.Failing {
			ids = append(ids, fd.Rule)
		}
		return strings.Join(ids, ",")
	}

	f := newFixture(t)
	f.orgPolicy("secrets:\n  rules_file: escapegate-rules.toml\n")
	f.gh.SetFile(orgRepo, "", "escapegate-rules.toml", rules)
	p := pr(1, "alice", "k1")
	f.register(p, envFile("config/acme.env", token))
	if out := f.check(p); out.Conclusion != "failure" || rulesOf(out) != "acme-internal-token" {
		t.Fatalf("with the org rule: %s, failing %q", out.Conclusion, rulesOf(out))
	}
	f.gh.Hook = func(c ghfake.Call) error {
		if c.Method == "GetContent" && c.Args[1] == "escapegate-rules.toml" {
			return errors.New("GitHub answered 502")
		}
		return nil
	}
	p = f.push(p, "k2", envFile("config/acme.env", "# moved", token))
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "failure" || !strings.Contains(run.Summary, "acme-internal-token") {
		t.Fatalf("with the cached org rule: %s\n%s", run.Conclusion, run.Summary)
	}
	if c := f.gh.CallsTo("GetContent"); c[len(c)-1].Args[1] != "escapegate-rules.toml" || c[len(c)-1].Args[3] != ghfake.ETag(rules) {
		t.Fatalf("the rules file was not re-validated with its ETag: %v", c[len(c)-1])
	}

	f = newFixture(t)
	f.orgPolicy("secrets:\n  rules_file: escapegate-rules.toml\n")
	p = f.open(1, "alice", "k1", envFile("config/acme.env", token, criticalLine()))
	run := f.lastRun(p.HeadSHA)
	if run.Conclusion != "failure" || !strings.Contains(run.Summary, "secrets.rules_file escapegate-rules.toml") || strings.Contains(run.Summary, "acme-internal-token") {
		t.Fatalf("with the rules file missing: %s\n%s", run.Conclusion, run.Summary)
	}
}

// A patch with a line over diff.MaxLineBytes is not cut: the file is read whole and a
// secret after the first megabyte of that line is found.
func TestPatchWithHugeLineIsReadWhole(t *testing.T) {
	f := newFixture(t)
	p := pr(1, "alice", "h1")
	line := strings.Repeat("a=1;", 300000) + "AWS=" + awsKey()
	f.gh.SetFile(repoName, p.HeadSHA, "dist/app.min.js", line+"\n")
	f.register(p, gh.File{Filename: "dist/app.min.js", Status: "added", Changes: 1, Additions: 1, Patch: "@@ -0,0 +1 @@\n+" + line})
	f.check(p)
	if run := f.lastRun(p.HeadSHA); run.Conclusion != "failure" || len(run.Annotations) != 1 || run.Annotations[0].StartLine != 1 {
		t.Fatalf("conclusion %s %q", run.Conclusion, run.Title)
	}
}

// slowList is a GitHub client whose files listing does not answer until a check run was
// created: a scan that outlasts any InProgressAfter.
type slowList struct {
	gh.Client
	created chan struct{}
	once    sync.Once
}

func (s *slowList) CreateCheckRun(ctx context.Context, r gh.Repo, c gh.CheckRun) (int64, error) {
	id, err := s.Client.CreateCheckRun(ctx, r, c)
	s.once.Do(func() { close(s.created) })
	return id, err
}

func (s *slowList) ListPullRequestFiles(ctx context.Context, r gh.Repo, n int) ([]gh.File, error) {
	<-s.created
	return s.Client.ListPullRequestFiles(ctx, r, n)
}

// TestSlowScanShowsInProgress: a scan still running when InProgressAfter ends gets its
// run created in progress meanwhile, and that run is completed at the end: one run, two
// writes.
func TestSlowScanShowsInProgress(t *testing.T) {
	slow := &slowList{created: make(chan struct{})}
	f := newFixtureWith(t, func(o *gate.Options) {
		o.InProgressAfter = time.Millisecond
		o.Clients = func(int64) (gh.Client, error) { return slow, nil }
	})
	slow.Client = f.gh
	p := pr(1, "alice", "a1")
	f.register(p, envFile("ci/token.env", "T="+githubToken()))
	out := f.check(p)
	if len(f.gh.CheckRuns) != 1 {
		t.Fatalf("want one check run, got %d", len(f.gh.CheckRuns))
	}
	run := f.gh.CheckRuns[0]
	if len(run.Sent) != 2 || run.Sent[0].Status != "in_progress" || run.Sent[1].Status != "completed" {
		t.Fatalf("want a create in progress then one completing update, got %+v", run.Sent)
	}
	if run.Conclusion != "failure" || out.CheckRunID != run.ID {
		t.Fatalf("run %s/%s (%d), outcome %+v", run.Status, run.Conclusion, run.ID, out)
	}
}

// TestTooManyFilesFromThePayload: a pull request whose payload says it changes more files
// than GitHub lists gets the same check as one whose listing hit the cap, without the
// 30 pages of listing.
func TestTooManyFilesFromThePayload(t *testing.T) {
	files := make([]gh.File, gh.MaxPullFiles+1)
	for i := range files {
		files[i] = envFile(fmt.Sprintf("src/f%d.txt", i), "x")
	}
	listed := newFixture(t)
	p := pr(1, "alice", "m1")
	listed.register(p, files...)
	want := listed.check(p)

	known := newFixture(t)
	p.ChangedFiles = len(files)
	known.register(p)
	got := known.check(p)
	if n := len(known.gh.CallsTo("ListPullRequestFiles")); n != 0 {
		t.Errorf("listed the files %d times though the payload says %d", n, p.ChangedFiles)
	}
	a, b := listed.gh.CheckRuns[0], known.gh.CheckRuns[0]
	if got.Conclusion != want.Conclusion || a.Title != b.Title || a.Summary != b.Summary {
		t.Errorf("check from the payload %s %q, from the listing %s %q", got.Conclusion, b.Title, want.Conclusion, a.Title)
	}
}
