package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
)

// runMainEnv makes the test binary run escapegate's main instead of the tests, so that a
// test can start `escapegate serve` as a process of its own and kill it.
const runMainEnv = "ESCAPEGATE_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// serveProcess is `escapegate serve` run as a child process.
type serveProcess struct {
	cmd  *exec.Cmd
	logs bytes.Buffer
	mu   sync.Mutex
}

func startServe(t *testing.T, cfgPath, addr string) *serveProcess {
	t.Helper()
	p := &serveProcess{cmd: exec.Command(os.Args[0], "serve", "--config", cfgPath)}
	p.cmd.Env = append(os.Environ(), runMainEnv+"=1")
	p.cmd.Stdout, p.cmd.Stderr = &lockedWriter{p: p}, &lockedWriter{p: p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.cmd.Process.Kill(); _ = p.cmd.Wait() })
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

type lockedWriter struct{ p *serveProcess }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	return w.p.logs.Write(b)
}

func (p *serveProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Wait()
}

// TestServeSurvivesSIGKILL streams signed pull_request deliveries at `escapegate serve`,
// kills it with SIGKILL mid-stream and starts it again on the same bbolt store: every
// delivery it acknowledged gets exactly one completed check run, and the exceptions of
// acknowledged override labels exist once.
func TestServeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a process twice")
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyPath := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	f := fakegithub.New()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 99, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddRepo("acme/app", "main")
	f.AddRepo("acme/.github", "main")
	f.AddInstallation(5, "acme/app", "acme/.github")
	f.SetFile("acme/.github", "", "escapegate.yml", []byte("override:\n  approvers:\n    permission: admin\n"))
	f.SetPermission("acme/app", "sec-lead", "admin")
	const prs = 40
	repo := events.Repo{ID: 1, FullName: "acme/app", DefaultBranch: "main"}
	heads := map[int]string{}
	for n := 1; n <= prs; n++ {
		heads[n] = fmt.Sprintf("%040x", n)
		f.AddPull("acme/app", fakegithub.Pull{Number: n, Author: "alice", HeadSHA: heads[n], BaseSHA: strings.Repeat("0", 40), BaseRef: "main",
			Files: []fakegithub.PullFile{{Filename: fmt.Sprintf("svc%d.env", n), Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+TOKEN=" + fakecreds.FakeGitHubPAT()}}})
	}

	addr := freeAddr(t)
	cfgPath := filepath.Join(dir, "config.yml")
	cfg := fmt.Sprintf("listen: %s\ngithub:\n  v3_api_url: %s\n  app:\n    integration_id: 99\n    private_key_path: %s\n    webhook_secret: s3cret\nstore: bolt:%s\nretry: {base_backoff: 10ms, max_backoff: 50ms}\n",
		addr, f.URL(), keyPath, filepath.Join(dir, "escapegate.db"))
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}

	// The stream: each PR is opened, then labeled by an approver.
	type delivery struct {
		id, event string
		payload   []byte
		pr        int
		label     bool
	}
	var stream []delivery
	for n := 1; n <= prs; n++ {
		pr := events.PR{Number: n, Author: "alice", HeadSHA: heads[n], BaseRef: "main", BaseSHA: strings.Repeat("0", 40)}
		stream = append(stream, delivery{fmt.Sprintf("open-%d", n), "pull_request", events.PullRequest(5, repo, "opened", pr, "alice"), n, false})
		stream = append(stream, delivery{fmt.Sprintf("label-%d", n), "pull_request", events.Labeled(5, repo, "labeled", pr, "escapegate/accept-risk", "sec-lead"), n, true})
	}
	send := func(d delivery) (int, error) {
		if d.label {
			f.AddLabel("acme/app", d.pr, "escapegate/accept-risk")
		}
		req, err := fakegithub.NewWebhookRequest(context.Background(), "http://"+addr, []byte("s3cret"), d.event, d.id, d.payload)
		if err != nil {
			return 0, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	first := startServe(t, cfgPath, addr)
	acked := map[string]bool{}
	var refused []delivery
	for i, d := range stream {
		if i == len(stream)/2 {
			first.kill(t) // mid-stream: some acknowledged deliveries are still queued or running
		}
		code, err := send(d)
		if err == nil && code == http.StatusOK {
			acked[d.id] = true
		} else {
			refused = append(refused, d) // GitHub records these as failed deliveries
		}
	}
	if len(acked) < len(stream)/4 || len(refused) == 0 {
		t.Fatalf("acknowledged %d, refused %d: the kill did not land mid-stream", len(acked), len(refused))
	}

	second := startServe(t, cfgPath, addr)
	// What GitHub's delivery log would hold as failed is sent again (redelivery keeps the id).
	for _, d := range refused {
		if code, err := send(d); err != nil || code != http.StatusOK {
			t.Fatalf("redelivery of %s: %d %v", d.id, code, err)
		}
		acked[d.id] = true
	}
	// Every PR: one check run on its head, completed, neutral (its exception covers the token).
	waitFor(t, func() bool {
		runs := f.CheckRuns("acme/app")
		done := map[string]int{}
		for _, r := range runs {
			if r.Status == "completed" && r.Conclusion == "neutral" {
				done[r.HeadSHA]++
			}
		}
		return len(done) == prs
	})
	time.Sleep(200 * time.Millisecond) // anything doubled would show up by now
	byHead := map[string][]fakegithub.CheckRun{}
	for _, r := range f.CheckRuns("acme/app") {
		byHead[r.HeadSHA] = append(byHead[r.HeadSHA], r)
	}
	for n := 1; n <= prs; n++ {
		runs := byHead[heads[n]]
		// One run for the opened delivery (failure) and one the label posted (neutral).
		if len(runs) != 2 || runs[0].Status != "completed" || runs[1].Status != "completed" || runs[1].Conclusion != "neutral" {
			var got []string
			for _, r := range runs {
				got = append(got, r.Status+"/"+r.Conclusion)
			}
			t.Errorf("PR #%d has check runs %v, want completed/failure then completed/neutral", n, got)
		}
	}
	second.kill(t)

	st, err := bolt.Open(filepath.Join(dir, "escapegate.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for n := 1; n <= prs; n++ {
		exc, err := st.ListExceptions(context.Background(), "acme/app", n, store.Window{To: time.Now().Add(time.Hour)})
		if err != nil || len(exc) != 1 {
			t.Errorf("PR #%d has %d exceptions (%v), want 1", n, len(exc), err)
		}
	}
	if n, err := st.CountDeliveries(context.Background()); err != nil || n[store.DeliveryPending] != 0 || n[store.DeliveryDead] != 0 {
		t.Errorf("inbox left %v (%v)", n, err)
	}
}
