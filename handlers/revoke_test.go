package handlers_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

const revokePolicy = teamPolicy + `secrets:
  revoke_github_tokens: true
`

// TestGitHubTokenRevokedOnce: with secrets.revoke_github_tokens, a GitHub token a PR adds
// is sent to GitHub's revocation API once (unauthenticated, as GitHub requires), across
// redeliveries and later pushes; the check says so; the store never holds the token. A
// failed revocation is said on the check and tried again on the next check; without the
// policy key nothing is sent.
func TestGitHubTokenRevokedOnce(t *testing.T) {
	token := githubToken()
	t.Run("revoked once", func(t *testing.T) {
		e, dir := newEnvOpts(t, demo.Options{})
		e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(revokePolicy))
		pr := e.openPR(1, "alice", "t1", envFile("ci/deploy.env", "GITHUB_TOKEN="+token, "AWS_ACCESS_KEY_ID="+awsKey()))
		run := e.lastRun(pr.HeadSHA)
		if run.Conclusion != "failure" || !strings.Contains(run.Summary, "**Revoked.**") || !strings.Contains(run.Summary, "ghp_…") {
			t.Fatalf("check: %s\n%s", run.Conclusion, run.Summary)
		}
		if strings.Contains(run.Summary, token) {
			t.Fatal("the check run shows the token")
		}
		got, calls := e.h.GitHub.Revoked()
		if calls != 1 || len(got) != 1 || got[0] != token {
			t.Fatalf("revoked %d tokens in %d requests, want the PR's token once", len(got), calls)
		}
		e.send("pull_request", events.PullRequest(e.inst, e.repo, "reopened", pr, "alice")) // a second delivery for the same head
		pr = e.push(pr, "t2", envFile("ci/deploy.env", "GITHUB_TOKEN="+token, "AWS_ACCESS_KEY_ID="+awsKey(), "LOG=debug"))
		if _, calls := e.h.GitHub.Revoked(); calls != 1 {
			t.Fatalf("%d revocation requests after a redelivery and a push, want 1", calls)
		}
		if run := e.lastRun(pr.HeadSHA); !strings.Contains(run.Summary, "**Revoked.**") {
			t.Fatalf("the later check no longer says the token was revoked:\n%s", run.Summary)
		}
		e.h.Close()
		raw, err := os.ReadFile(filepath.Join(dir, "escapegate.db"))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(token)) || bytes.Contains(raw, []byte(token[4:])) {
			t.Fatal("the store holds the revoked token")
		}
	})
	t.Run("GitHub fails, the next check retries", func(t *testing.T) {
		e := newEnv(t)
		e.h.GitHub.SetFile("acme/.github", "", "escapegate.yml", []byte(revokePolicy))
		e.h.GitHub.InjectFault(fakegithub.Fault{Method: "POST", Path: "/credentials/revoke", Kind: fakegithub.ServerError, Times: 10})
		pr := e.openPR(1, "alice", "u1", envFile("ci/deploy.env", "GITHUB_TOKEN="+token))
		if run := e.lastRun(pr.HeadSHA); run.Conclusion != "failure" || !strings.Contains(run.Summary, "Not revoked yet") {
			t.Fatalf("check after a failed revocation: %s\n%s", run.Conclusion, run.Summary)
		}
		e.h.GitHub.ClearFaults()
		pr = e.push(pr, "u2", envFile("ci/deploy.env", "GITHUB_TOKEN="+token, "X=1"))
		if got, _ := e.h.GitHub.Revoked(); len(got) != 1 {
			t.Fatalf("revoked %d tokens after GitHub recovered, want 1", len(got))
		}
		if run := e.lastRun(pr.HeadSHA); !strings.Contains(run.Summary, "**Revoked.**") {
			t.Fatalf("check after the retry:\n%s", run.Summary)
		}
	})
	t.Run("off by default", func(t *testing.T) {
		e := newEnv(t)
		e.withTeamPolicy()
		e.openPR(1, "alice", "v1", envFile("ci/deploy.env", "GITHUB_TOKEN="+token))
		if got, calls := e.h.GitHub.Revoked(); calls != 0 || len(got) != 0 {
			t.Fatalf("revoked without the policy key: %d", calls)
		}
		e.checkAPI()
	})
}
