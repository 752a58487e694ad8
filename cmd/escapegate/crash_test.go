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
	"github.com/escapegate/escapegate/store/postgres"
	"github.com/escapegate/escapegate/store/postgres/pgtest"
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

// world is a fake GitHub with prs pull requests that each add the same token, and the
// stream of deliveries GitHub would send for them: each PR opened, then labeled by an
// approver (so each ends with a failing and then a neutral check run).
type world struct {
	f      *fakegithub.Server
	key    *rsa.PrivateKey
	dir    string
	heads  map[int]string
	prs    int
	stream []streamed
}

type streamed struct {
	id, event string
	payload   []byte
	pr        int
	label     bool
}

func newWorld(t *testing.T, prs int) *world {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{f: fakegithub.New(), key: key, dir: t.TempDir(), heads: map[int]string{}, prs: prs}
	t.Cleanup(w.f.Close)
	f := w.f
	f.SetApp(fakegithub.App{ID: 99, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddRepo("acme/app", "main")
	f.AddRepo("acme/.github", "main")
	f.AddRepo("acme/security-reports", "main")
	f.AddInstallation(5, "acme/app", "acme/.github", "acme/security-reports")
	f.SetFile("acme/.github", "", "escapegate.yml", []byte("override:\n  approvers:\n    permission: admin\nsummary:\n  repository: security-reports\n"))
	f.SetPermission("acme/app", "sec-lead", "admin")
	repo := events.Repo{ID: 1, FullName: "acme/app", DefaultBranch: "main"}
	for n := 1; n <= prs; n++ {
		w.heads[n] = fmt.Sprintf("%040x", n)
		f.AddPull("acme/app", fakegithub.Pull{Number: n, Author: "alice", HeadSHA: w.heads[n], BaseSHA: strings.Repeat("0", 40), BaseRef: "main",
			Files: []fakegithub.PullFile{{Filename: fmt.Sprintf("svc%d.env", n), Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+TOKEN=" + fakecreds.FakeGitHubPAT()}}})
		pr := events.PR{Number: n, Author: "alice", HeadSHA: w.heads[n], BaseRef: "main", BaseSHA: strings.Repeat("0", 40)}
		w.stream = append(w.stream,
			streamed{fmt.Sprintf("open-%d", n), "pull_request", events.PullRequest(5, repo, "opened", pr, "alice"), n, false},
			streamed{fmt.Sprintf("label-%d", n), "pull_request", events.Labeled(5, repo, "labeled", pr, "escapegate/accept-risk", "sec-lead"), n, true})
	}
	return w
}

// config writes a serve configuration listening on addr with store (a store URL).
func (w *world) config(t *testing.T, name, addr, st string, recover bool) string {
	t.Helper()
	keyPath := filepath.Join(w.dir, "app.pem")
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(w.key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	fpKey := filepath.Join(w.dir, "fingerprint-key") // one key for every replica, outside the store
	if err := os.WriteFile(fpKey, []byte("crash-world-fingerprint-key-0123456789"), 0o600); err != nil {
		t.Fatal(err)
	}
	sweep := "0s" // off: the test sends everything itself
	if recover {
		sweep = "500ms"
	}
	cfg := fmt.Sprintf("listen: %s\ngithub:\n  v3_api_url: %s\n  app:\n    integration_id: 99\n    private_key_path: %s\n    webhook_secret: s3cret\nstore: %q\nfingerprint_key_path: %s\n"+
		"retry: {base_backoff: 10ms, max_backoff: 50ms, stuck_after: 2s}\nrecovery: {interval: %s, pace: 1ms, installations_interval: 0s, expiry_interval: 0s}\n",
		addr, w.f.URL(), keyPath, st, fpKey, sweep)
	p := filepath.Join(w.dir, name+".yml")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// send delivers one streamed event to addr the way GitHub does, through the fake's
// sender, which logs every attempt in the app's delivery log (a refused connection as a
// failed delivery, status 0).
func (w *world) send(addr string, d streamed) (int, error) {
	if d.label {
		w.f.AddLabel("acme/app", d.pr, "escapegate/accept-risk")
	}
	w.f.SetHook("http://"+addr, []byte("s3cret"))
	got, err := w.f.Deliver(context.Background(), d.event, d.id, d.payload)
	return got.StatusCode, err
}

// settled says whether every PR shows its neutral check run.
func (w *world) settled() bool {
	done := map[string]bool{}
	for _, r := range w.f.CheckRuns("acme/app") {
		if r.Status == "completed" && r.Conclusion == "neutral" {
			done[r.HeadSHA] = true
		}
	}
	return len(done) == w.prs
}

// verify checks that nothing was lost or doubled: per PR two completed check runs
// (the opened delivery's failure, then the label's neutral one) and one exception.
func (w *world) verify(t *testing.T, st store.Store) {
	t.Helper()
	time.Sleep(200 * time.Millisecond) // anything doubled would show up by now
	byHead := map[string][]fakegithub.CheckRun{}
	for _, r := range w.f.CheckRuns("acme/app") {
		byHead[r.HeadSHA] = append(byHead[r.HeadSHA], r)
	}
	for n := 1; n <= w.prs; n++ {
		runs := byHead[w.heads[n]]
		if len(runs) != 2 || runs[0].Status != "completed" || runs[1].Status != "completed" || runs[1].Conclusion != "neutral" {
			var got []string
			for _, r := range runs {
				got = append(got, r.Status+"/"+r.Conclusion)
			}
			t.Errorf("PR #%d has check runs %v, want completed/failure then completed/neutral", n, got)
		}
		exc, err := st.ListExceptions(context.Background(), "acme/app", n, store.Window{To: time.Now().Add(time.Hour)})
		if err != nil || len(exc) != 1 {
			t.Errorf("PR #%d has %d exceptions (%v), want 1", n, len(exc), err)
		}
	}
}

// waitWithin polls cond until it holds or d has passed.
func waitWithin(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("not reached within %s", d)
}

// TestServeSurvivesSIGKILL streams signed pull_request deliveries at `escapegate serve`,
// kills it with SIGKILL mid-stream and starts it again on the same bbolt store: every
// delivery it acknowledged gets handled, nothing is doubled, and what was refused while
// it was down (GitHub's failed deliveries, redelivered) is handled too.
func TestServeSurvivesSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a process twice")
	}
	w := newWorld(t, 40)
	addr := freeAddr(t)
	dbPath := filepath.Join(w.dir, "escapegate.db")
	first := startServe(t, w.config(t, "serve", addr, "bolt:"+dbPath, false), addr)
	acked := 0
	var refused []streamed
	for i, d := range w.stream {
		if i == len(w.stream)/2 {
			first.kill(t) // mid-stream: some acknowledged deliveries are still queued or running
		}
		if code, err := w.send(addr, d); err == nil && code == http.StatusOK {
			acked++
		} else {
			refused = append(refused, d)
		}
	}
	if acked < len(w.stream)/4 || len(refused) == 0 {
		t.Fatalf("acknowledged %d, refused %d: the kill did not land mid-stream", acked, len(refused))
	}
	// Started again with its recovery sweep on: what was refused while it was down is
	// failed in the app's delivery log, and the sweep asks GitHub to redeliver it.
	second := startServe(t, w.config(t, "serve", addr, "bolt:"+dbPath, true), addr)
	waitWithin(t, 30*time.Second, w.settled)
	var redelivered int
	for _, d := range w.f.HookDeliveries() {
		if d.Redelivery && d.StatusCode == http.StatusOK {
			redelivered++
		}
	}
	if redelivered != len(refused) {
		t.Errorf("%d redeliveries answered 200, want the %d refused deliveries", redelivered, len(refused))
	}
	// The last check runs are posted just before their deliveries are marked done.
	waitWithin(t, 10*time.Second, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), "ok (0 pending)")
	})
	second.kill(t)
	st, err := bolt.Open(dbPath, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w.verify(t, st)
	if n, err := st.CountDeliveries(context.Background()); err != nil || n[store.DeliveryPending] != 0 || n[store.DeliveryDead] != 0 {
		t.Errorf("inbox left %v (%v)", n, err)
	}
}

// TestReplicasOnPostgres runs two `escapegate serve` replicas on one PostgreSQL schema,
// spreads the deliveries across both and kills one with SIGKILL mid-stream: the other
// finishes what the dead one had taken (River rescues its jobs), the dead one comes back
// on the same store, nothing is lost or doubled, and the month's summary issue is posted
// once although both replicas ran the monthly job.
func TestReplicasOnPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a process three times and waits for River's rescuer")
	}
	dsn := pgtest.FreshSchema(t)
	w := newWorld(t, 30)
	addrA, addrB := freeAddr(t), freeAddr(t)
	cfgA, cfgB := w.config(t, "a", addrA, dsn, false), w.config(t, "b", addrB, dsn, false)
	// The org installed the app two months ago: both replicas' monthly jobs find last
	// month's summary due at start.
	seed, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := seed.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := seed.PutInstallation(context.Background(), store.Installation{ID: 5, Account: "acme", AccountType: "Organization", CreatedAt: time.Now().AddDate(0, -2, 0)}); err != nil {
		t.Fatal(err)
	}
	seed.Close()
	a := startServe(t, cfgA, addrA)
	b := startServe(t, cfgB, addrB)
	_ = b
	killedAt := len(w.stream) / 2
	for i, d := range w.stream {
		if i == killedAt {
			a.kill(t)
		}
		to := addrA
		if i%2 == 1 || i >= killedAt {
			to = addrB // once A is dead the load balancer sends everything to B
		}
		if code, err := w.send(to, d); err != nil || code != http.StatusOK {
			t.Fatalf("delivery %s to %s: %d %v", d.id, to, code, err)
		}
	}
	startServe(t, cfgA, addrA) // A comes back on the same store
	waitWithin(t, 90*time.Second, w.settled)
	st, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	w.verify(t, st)
	// River records a job's completion shortly after its handler returned (it batches
	// them), so the last check runs may be posted before their jobs read completed.
	var left int
	waitWithin(t, 10*time.Second, func() bool {
		err := st.Pool().QueryRow(context.Background(), `SELECT count(*) FROM river_job WHERE state NOT IN ('completed')`).Scan(&left)
		return err == nil && left == 0
	})
	waitWithin(t, 10*time.Second, func() bool { return len(w.f.Issues("acme/security-reports")) >= 1 })
	if issues := w.f.Issues("acme/security-reports"); len(issues) != 1 {
		t.Errorf("%d summary issues, want one: %+v", len(issues), issues)
	}
}
