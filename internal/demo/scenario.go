package demo

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// The demo's made-up credentials come from testenv: assembled at run time, so no
// source file holds a string that a secret scanner would flag.

const (
	inst      = int64(7)
	org       = "acme"
	repoName  = "acme/payments"
	policyOrg = `# acme's org policy: read by escapegate from acme/.github
fail_on: high
override:
  label: escapegate/accept-risk
  approvers:
    teams: [security]
    permission: ""
  expires_after_days: 30
summary:
  repository: security-reports
`
)

var (
	payments = events.Repo{ID: 1001, FullName: repoName, DefaultBranch: "main"}
	dotgh    = events.Repo{ID: 1002, FullName: org + "/.github", DefaultBranch: "main"}
	reports  = events.Repo{ID: 1003, FullName: org + "/security-reports", DefaultBranch: "main"}
)

func sha(c byte) string { return strings.Repeat(string(c), 40) }

func addedPatch(lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "@@ -0,0 +1,%d @@\n", len(lines))
	for _, l := range lines {
		b.WriteString("+" + l + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Run plays the scenario and prints what escapegate posted.
func Run(ctx context.Context, h *Harness, out io.Writer) error {
	p := &printer{w: out, h: h}
	f := h.GitHub
	f.AddRepo(repoName, "main")
	f.AddRepo(dotgh.FullName, "main")
	f.AddRepo(reports.FullName, "main")
	f.AddInstallation(inst, repoName, dotgh.FullName, reports.FullName)
	f.SetFile(dotgh.FullName, "", "escapegate.yml", []byte(policyOrg))
	f.AddTeamMember(org, "security", "sec-lead", "active")
	f.SetPermission(repoName, "bob", "write")
	f.SetPermission(repoName, "sec-lead", "write")
	// acme/payments requires the check in a ruleset; the other two do not (advisory only).
	f.RequireCheck(repoName, "main", fakegithub.Requirement{Context: "escapegate", Ruleset: "protect main"})
	f.SetTopics(repoName, "payments", "pci")                  // the dashboard filters by topics
	f.SetCustomProperty(repoName, "product-line", "checkout") // and custom properties
	f.SetCustomProperty(reports.FullName, "tier", "internal")

	p.step("acme installs escapegate on three repositories; the org policy lives in acme/.github; a ruleset requires the escapegate check on acme/payments' main")
	if err := p.send(ctx, "installation", events.InstallationCreated(inst, org, []events.Repo{payments, dotgh, reports}, "sec-lead")); err != nil {
		return err
	}

	// 1. A PR adds an AWS key, a GitHub token and an agent allowed to run any shell command.
	pr1 := events.PR{Number: 1, Title: "Add production config", Author: "alice", HeadSHA: sha('a'), HeadRef: "feature/config", BaseSHA: sha('0'), BaseRef: "main"}
	env := []string{"AWS_ACCESS_KEY_ID=" + fakecreds.FakeAWSKey(), "GITHUB_TOKEN=" + fakecreds.FakeGitHubPAT(), "LOG_LEVEL=info"}
	claude := "{\n  \"permissions\": {\n    \"allow\": [\"Bash(*)\", \"Read\"]\n  }\n}\n"
	f.AddPull(repoName, fakegithub.Pull{Number: 1, Title: pr1.Title, Author: "alice", HeadSHA: pr1.HeadSHA, HeadRef: pr1.HeadRef, BaseSHA: pr1.BaseSHA,
		Files: []fakegithub.PullFile{
			{Filename: "config/.env.production", Status: "added", Patch: addedPatch(env...), Additions: 3},
			{Filename: ".claude/settings.json", Status: "added", Patch: addedPatch(strings.Split(strings.TrimSuffix(claude, "\n"), "\n")...), Additions: 5},
		}})
	f.SetFile(repoName, pr1.HeadSHA, ".claude/settings.json", []byte(claude))
	p.step("alice opens PR #1: it adds an AWS key, a GitHub token and lets Claude Code run any shell command")
	if err := p.send(ctx, "pull_request", events.PullRequest(inst, payments, "opened", pr1, "alice")); err != nil {
		return err
	}
	p.checkRuns(pr1.HeadSHA)

	// 2. A new push removes them.
	pr1.HeadSHA = sha('b')
	safe := "{\n  \"permissions\": {\n    \"allow\": [\"Bash(npm run test:*)\", \"Read\"]\n  }\n}\n"
	f.SetPullFiles(repoName, 1, []fakegithub.PullFile{
		{Filename: "config/.env.production", Status: "added", Patch: addedPatch("AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID}", "LOG_LEVEL=info"), Additions: 2},
		{Filename: ".claude/settings.json", Status: "added", Patch: addedPatch(strings.Split(strings.TrimSuffix(safe, "\n"), "\n")...), Additions: 5},
	})
	f.SetFile(repoName, pr1.HeadSHA, ".claude/settings.json", []byte(safe))
	p.step("alice pushes a fix: credentials come from the environment, the agent may only run the tests")
	if err := p.send(ctx, "pull_request", events.PullRequest(inst, payments, "synchronize", pr1, "alice")); err != nil {
		return err
	}
	p.checkRuns(pr1.HeadSHA)

	// 3. Override: a non-approver is refused, an approver accepts.
	pr2 := events.PR{Number: 2, Title: "Notify ops channel", Author: "bob", HeadSHA: sha('c'), HeadRef: "feature/notify", BaseSHA: sha('0'), BaseRef: "main"}
	f.AddPull(repoName, fakegithub.Pull{Number: 2, Title: pr2.Title, Author: "bob", HeadSHA: pr2.HeadSHA, HeadRef: pr2.HeadRef, BaseSHA: pr2.BaseSHA,
		Files: []fakegithub.PullFile{{Filename: "scripts/notify.py", Status: "added", Additions: 2,
			Patch: addedPatch("import slack_sdk", "client = slack_sdk.WebClient(token=\""+fakecreds.FakeSlackBotToken()+"\")")}}})
	p.step("bob opens PR #2 with a Slack bot token in a script")
	if err := p.send(ctx, "pull_request", events.PullRequest(inst, payments, "opened", pr2, "bob")); err != nil {
		return err
	}
	p.checkRuns(pr2.HeadSHA)
	p.step("bob applies escapegate/accept-risk to his own PR")
	f.AddLabel(repoName, 2, "escapegate/accept-risk")
	if err := p.send(ctx, "pull_request", events.Labeled(inst, payments, "labeled", pr2, "escapegate/accept-risk", "bob")); err != nil {
		return err
	}
	p.comments(2)
	p.labels(2)
	p.step("bob clicks \"Request exception\" on the failing check: one comment asks acme/security")
	if err := p.send(ctx, "check_run", events.CheckRunRequestedAction(inst, payments, pr2, p.lastRunID(pr2.HeadSHA), gate.RequestExceptionAction, "bob")); err != nil {
		return err
	}
	p.newComments(2, 1)
	p.step("sec-lead (active member of acme/security) accepts the risk: fix later")
	f.AddLabel(repoName, 2, "escapegate/fix-later")
	f.AddLabel(repoName, 2, "escapegate/accept-risk")
	pr2.Labels = []string{"escapegate/fix-later"}
	if err := p.send(ctx, "pull_request", events.Labeled(inst, payments, "labeled", pr2, "escapegate/accept-risk", "sec-lead")); err != nil {
		return err
	}
	p.checkRuns(pr2.HeadSHA)

	// 3b. Both enter the merge queue: the group commits are checked, exceptions carried.
	queued1, _ := f.Pull(repoName, 1)
	queued2, _ := f.Pull(repoName, 2)
	if err := mergeQueue(ctx, p, queued1.Files, queued2.Files, map[string][]byte{".claude/settings.json": []byte(safe)}); err != nil {
		return err
	}

	// 4. A release PR gets the escape-rate comment.
	pr3 := events.PR{Number: 3, Title: "chore(main): release 2.4.0", Author: "release-please[bot]", HeadSHA: sha('r'),
		HeadRef: "release-please--branches--main", BaseSHA: sha('0'), BaseRef: "main", Labels: []string{"autorelease: pending"}}
	f.AddPull(repoName, fakegithub.Pull{Number: 3, Title: pr3.Title, Author: pr3.Author, HeadSHA: pr3.HeadSHA, HeadRef: pr3.HeadRef, BaseSHA: pr3.BaseSHA,
		Labels: pr3.Labels, Files: []fakegithub.PullFile{{Filename: "CHANGELOG.md", Status: "modified", Additions: 1, Patch: "@@ -1,1 +1,2 @@\n # Changelog\n+## 2.4.0"}}})
	p.step("release-please opens release PR #3")
	if err := p.send(ctx, "pull_request", events.PullRequest(inst, payments, "opened", pr3, pr3.Author)); err != nil {
		return err
	}
	p.comments(3)

	// 5. PR #2 merges under the exception: an overridden escape.
	pr2.Merged, pr2.State = true, "closed"
	p.step("PR #2 merges into main under the exception; the fix-later exception gets an issue, assigned to bob")
	if err := p.send(ctx, "pull_request", events.PullRequest(inst, payments, "closed", pr2, "sec-lead")); err != nil {
		return err
	}
	p.issues(repoName)

	// 6. A direct push to main adds a Stripe live key: a missed escape.
	f.SetCompare(repoName, sha('1'), sha('2'), []fakegithub.PullFile{{Filename: "billing/charge.rb", Status: "modified", Additions: 1,
		Patch: "@@ -3,2 +3,3 @@\n require 'stripe'\n+Stripe.api_key = '" + fakecreds.FakeStripeLiveKey() + "'\n Stripe::Charge"}})
	p.step("carol pushes straight to main, adding a Stripe live key (no PR check ever saw it)")
	if err := p.send(ctx, "push", events.Push(inst, payments, "main", sha('1'), sha('2'), []string{"billing/charge.rb"}, "carol")); err != nil {
		return err
	}
	p.step("the release PR's comment was edited in place with the new numbers")
	p.comments(3)

	// 7. The report and the monthly summary.
	p.step("escapegate report --repo acme/payments")
	if err := p.report(ctx); err != nil {
		return err
	}
	p.step("the monthly summary issue for acme")
	if err := p.summary(ctx, time.Now().UTC()); err != nil {
		return err
	}
	return p.err
}
