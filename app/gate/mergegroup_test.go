package gate_test

import (
	"strings"
	"testing"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/gh/ghfake"
)

func TestQueuePR(t *testing.T) {
	tests := []struct {
		ref  string
		want int
		ok   bool
	}{
		{"refs/heads/gh-readonly-queue/main/pr-104-929f8209d40f77f4abc622a499c93a83babdbe64", 104, true},
		{"refs/heads/gh-readonly-queue/release/1.2/pr-7-abc", 7, true},
		{"gh-readonly-queue/main/pr-3-abc", 3, true},
		// a base branch that itself looks like a queue entry: the last one names the PR
		{"refs/heads/gh-readonly-queue/pr-9-x/pr-12-abc", 12, true},
		{"refs/heads/main", 0, false},
		{"refs/heads/feature/pr-5-abc", 0, false},
		{"refs/heads/gh-readonly-queue/main/pr-x-abc", 0, false},
		{"refs/heads/gh-readonly-queue/main/pr-0-abc", 0, false},
		{"refs/heads/gh-readonly-queue/main/pr-5", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		got, ok := gate.QueuePR(tc.ref)
		if got != tc.want || ok != tc.ok {
			t.Errorf("QueuePR(%q) = %d, %v; want %d, %v", tc.ref, got, ok, tc.want, tc.ok)
		}
	}
}

// group makes the merge group of PR n whose commits are commits (the group's own last).
func (f *fixture) group(n int, head string, files []gh.File, commits ...string) gate.MergeGroup {
	g := gate.MergeGroup{Installation: inst, Repo: repo, RepoID: 42, DefaultBranch: "main",
		HeadSHA: sha(head), HeadRef: "refs/heads/gh-readonly-queue/main/pr-" + string(rune('0'+n)) + "-" + sha("qbase"),
		BaseSHA: sha("qbase"), BaseRef: "refs/heads/main"}
	k := ghfake.Compare{Repo: repoName, Base: g.BaseSHA, Head: g.HeadSHA}
	f.gh.Compares[k] = files
	f.gh.SetCommits(repoName, g.BaseSHA, g.HeadSHA, append(commits, g.HeadSHA)...)
	return g
}

func TestCheckMergeGroup(t *testing.T) {
	crit := envFile("deploy/prod.env", criticalLine())
	slack := envFile("config/slack.env", "SLACK_BOT_TOKEN="+slackToken())
	tests := []struct {
		name     string
		approve  []int // PRs whose check an admin accepts
		queue    [][]gh.File
		want     []string // conclusion of each group, in queue order
		wantPRs  string   // in the last group's summary
		wantNote bool     // the last group names a carried exception
	}{
		{name: "a secret fails", queue: [][]gh.File{{crit}}, want: []string{"failure"}, wantPRs: "of #1:"},
		{name: "an approved PR is neutral", approve: []int{1}, queue: [][]gh.File{{crit}}, want: []string{"neutral"}, wantPRs: "of #1:", wantNote: true},
		{name: "the PR ahead's exception is carried", approve: []int{1, 2}, queue: [][]gh.File{{crit}, {crit, slack}},
			want: []string{"neutral", "neutral"}, wantPRs: "of #2, #1:", wantNote: true},
		{name: "only the PR ahead is approved", approve: []int{1}, queue: [][]gh.File{{crit}, {crit, slack}},
			want: []string{"neutral", "failure"}, wantPRs: "of #2, #1:", wantNote: true},
		{name: "clean", queue: [][]gh.File{{envFile("README.md", "hi")}}, want: []string{"success"}, wantPRs: "of #1:"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.gh.Permissions[ghfake.Collaborator{Repo: repoName, User: "ada"}] = "admin"
			for i, files := range tc.queue {
				n := i + 1
				p := f.open(n, "alice", "h"+string(rune('0'+n)), files[len(files)-1])
				for _, a := range tc.approve {
					if a == n {
						if out := f.label(p, overrideLabel, "ada"); !out.Accepted {
							t.Fatalf("approval of #%d refused: %+v", n, out)
						}
					}
				}
			}
			var commits []string
			var last ghfake.CheckRun
			for i, files := range tc.queue {
				n := i + 1
				commits = append(commits, sha("c"+string(rune('0'+n))))
				g := f.group(n, "g"+string(rune('0'+n)), files, commits...)
				commits = append(commits, g.HeadSHA)
				out, err := f.svc.CheckMergeGroup(f.ctx, g)
				if err != nil {
					t.Fatal(err)
				}
				last = f.lastRun(g.HeadSHA)
				if out.Conclusion != tc.want[i] || last.Conclusion != tc.want[i] || last.Status != "completed" {
					t.Fatalf("group %d: %s (run %s %s %q), want %s", n, out.Conclusion, last.Status, last.Conclusion, last.Title, tc.want[i])
				}
				if runs := f.runsOn(g.HeadSHA); len(runs) != 1 {
					t.Fatalf("group %d: %d runs", n, len(runs))
				}
			}
			if !strings.Contains(last.Summary, tc.wantPRs) || strings.Contains(last.Summary, "Carried:") != tc.wantNote {
				t.Fatalf("last group's summary:\n%s", last.Summary)
			}
		})
	}
}

// TestCheckMergeGroupFailsClosed: a comparison GitHub cannot answer posts a failure
// on the group at once, and the error goes back for the delivery to be retried.
func TestCheckMergeGroupFailsClosed(t *testing.T) {
	f := newFixture(t)
	g := f.group(1, "g1", []gh.File{envFile("README.md", "hi")})
	f.gh.Fail["Compare"] = gh.ErrNotFound
	out, err := f.svc.CheckMergeGroup(f.ctx, g)
	if err == nil || out.Conclusion != "failure" {
		t.Fatalf("CheckMergeGroup = %+v, %v; want a failure and the error", out, err)
	}
	if run := f.lastRun(g.HeadSHA); run.Conclusion != "failure" || run.Status != "completed" {
		t.Fatalf("run = %s %s %q", run.Status, run.Conclusion, run.Title)
	}
}
