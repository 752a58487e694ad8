package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/escapegate/escapegate/app/seal"
	"github.com/escapegate/escapegate/internal/demo"
	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
)

// env is escapegate's real HTTP handler in front of the fake GitHub, with one
// installed organization "acme" and repository "acme/app".
type env struct {
	t    *testing.T
	h    *demo.Harness
	ctx  context.Context
	repo events.Repo
	inst int64
	// waits are the retry waits escapegate's GitHub clients asked for (not slept).
	waits *waitLog
}

// waitLog records the waits of the retry transport instead of sleeping them.
type waitLog struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waitLog) sleep(_ context.Context, d time.Duration) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.d = append(w.d, d)
	return nil
}

func (w *waitLog) all() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e, _ := newEnvOpts(t, demo.Options{})
	return e
}

// send delivers a signed event and fails the test unless escapegate answered 2xx.
func (e *env) send(event string, payload []byte) {
	e.t.Helper()
	status, err := e.h.Send(e.ctx, event, payload)
	if err != nil {
		e.t.Fatal(err)
	}
	if status < 200 || status > 299 {
		e.t.Fatalf("%s webhook answered %d", event, status)
	}
}

// sha makes a 40-character commit id from a short tag.
func sha(tag string) string { return fmt.Sprintf("%040s", tag) }

// patch makes a GitHub file patch that adds lines to a new file.
func addedPatch(lines ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "@@ -0,0 +1,%d @@", len(lines))
	for _, l := range lines {
		b.WriteString("\n+" + l)
	}
	return b.String()
}

// openPR registers PR n with files on the fake GitHub and delivers pull_request opened.
func (e *env) openPR(n int, author, head string, files ...fakegithub.PullFile) events.PR {
	e.t.Helper()
	pr := events.PR{Number: n, Title: fmt.Sprintf("change %d", n), Author: author, HeadSHA: sha(head), HeadRef: fmt.Sprintf("feature/%d", n), BaseSHA: sha("base"), BaseRef: "main"}
	e.h.GitHub.AddPull(e.repo.FullName, fakegithub.Pull{Number: n, Title: pr.Title, Author: author, HeadSHA: pr.HeadSHA, HeadRef: pr.HeadRef, BaseSHA: pr.BaseSHA, BaseRef: "main", Files: files})
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "opened", pr, author))
	return pr
}

// push moves PR to a new head with new files and delivers synchronize.
func (e *env) push(pr events.PR, head string, files ...fakegithub.PullFile) events.PR {
	e.t.Helper()
	pr.HeadSHA = sha(head)
	e.movePull(pr.Number, pr.HeadSHA, files...)
	e.send("pull_request", events.PullRequest(e.inst, e.repo, "synchronize", pr, pr.Author))
	return pr
}

// movePull moves PR n on the fake GitHub to a new head with new files, delivering nothing.
func (e *env) movePull(n int, head string, files ...fakegithub.PullFile) {
	e.t.Helper()
	p, ok := e.h.GitHub.Pull(e.repo.FullName, n)
	if !ok {
		e.t.Fatalf("no pull request #%d", n)
	}
	p.HeadSHA, p.Files = head, files
	e.h.GitHub.AddPull(e.repo.FullName, p)
}

// lastRun returns the newest escapegate check run on sha.
func (e *env) lastRun(head string) fakegithub.CheckRun {
	e.t.Helper()
	runs := e.h.GitHub.CheckRuns(e.repo.FullName)
	for i := len(runs) - 1; i >= 0; i-- {
		if runs[i].HeadSHA == head && runs[i].Name == "escapegate" {
			return runs[i]
		}
	}
	e.t.Fatalf("no escapegate check run on %s", head)
	return fakegithub.CheckRun{}
}

// requestsHold reports whether any request escapegate sent to GitHub contains s.
func (e *env) requestsHold(s string) bool {
	for _, r := range e.h.GitHub.Requests() {
		b, _ := json.Marshal(r)
		if strings.Contains(string(b), s) || strings.Contains(string(r.Body), s) || strings.Contains(r.Path, s) {
			return true
		}
	}
	return false
}

// Made-up credentials, assembled at run time so that this file holds none.
func awsKey() string      { return fakecreds.FakeAWSKey() }
func githubToken() string { return fakecreds.FakeGitHubPAT() }
func slackToken() string  { return fakecreds.FakeSlackBotToken() }

// cachedPolicy reads the policy loader's cache entry under key, which the store keeps sealed.
func (e *env) cachedPolicy(key string) []byte {
	e.t.Helper()
	raw, err := e.h.Store.GetSetting(e.ctx, key)
	if err != nil {
		e.t.Fatal(err)
	}
	s, err := seal.New(e.h.FingerprintKey, seal.PolicyCache)
	if err != nil {
		e.t.Fatal(err)
	}
	plain, err := s.Open(raw, key)
	if err != nil {
		e.t.Fatal(err)
	}
	if string(plain) == string(raw) {
		e.t.Fatalf("the policy cache entry %s is not sealed", key)
	}
	return plain
}
