package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakecreds"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/internal/testenv"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestServeEndToEnd runs the serve command as an operator would (config file plus an
// environment override, a fresh bbolt store, the app's private key) against the fake
// GitHub, delivers a signed webhook and waits for the check run; then it stops cleanly.
func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	key, keyPath := writeAppKey(t, dir)
	f := fakegithub.New()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 99, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddRepo("acme/app", "main")
	f.AddInstallation(5, "acme/app", "acme/.github", "acme/lib")
	head := strings.Repeat("c", 40)
	f.AddPull("acme/app", fakegithub.Pull{Number: 1, Author: "alice", HeadSHA: head, BaseSHA: strings.Repeat("0", 40),
		Files: []fakegithub.PullFile{{Filename: "app.env", Status: "added", Additions: 1, Patch: "@@ -0,0 +1 @@\n+TOKEN=" + fakecreds.FakeGitHubPAT()}}})

	addr := freeAddr(t)
	// A pull request opened while escapegate was down: its delivery failed, and the
	// sweep at start has GitHub redeliver it.
	f.SetHook("http://"+addr, []byte("from-env"))
	lib := events.Repo{ID: 2, FullName: "acme/lib", DefaultBranch: "main"}
	f.AddPull("acme/lib", fakegithub.Pull{Number: 7, Author: "bob", HeadSHA: strings.Repeat("d", 40), BaseSHA: strings.Repeat("0", 40),
		Files: []fakegithub.PullFile{{Filename: "README.md", Status: "modified", Additions: 1, Patch: "@@ -1 +1,2 @@\n # lib\n+more"}}})
	f.AddHookDelivery(fakegithub.HookDelivery{GUID: "0b5e0000-0000-4000-8000-000000000007", StatusCode: 0, Event: "pull_request",
		Payload: events.PullRequest(5, lib, "opened", events.PR{Number: 7, Author: "bob", HeadSHA: strings.Repeat("d", 40), BaseRef: "main"}, "bob")})
	cfg := fmt.Sprintf("listen: %s\ngithub:\n  v3_api_url: %s\n  app:\n    integration_id: 99\n    private_key_path: %s\n    webhook_secret: from-file\nstore: bolt:%s\n",
		addr, f.URL(), keyPath, filepath.Join(dir, "escapegate.db"))
	cfgPath := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ESCAPEGATE_GITHUB_APP_WEBHOOK_SECRET", "from-env")

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr testenv.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfgPath}, strings.NewReader(""), &stdout, &stderr)
	}()

	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	payload := events.PullRequest(5, events.Repo{ID: 1, FullName: "acme/app", DefaultBranch: "main"}, "opened",
		events.PR{Number: 1, Author: "alice", HeadSHA: head, BaseRef: "main"}, "alice")
	// The environment's secret wins over the file's: a delivery signed with the file's is refused.
	for _, tc := range []struct {
		secret string
		want   int
	}{{"from-file", http.StatusUnauthorized}, {"from-env", http.StatusOK}} {
		req, _ := fakegithub.NewWebhookRequest(ctx, "http://"+addr, []byte(tc.secret), "pull_request", "d-"+tc.secret, payload)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("signed with %s: %d, want %d", tc.secret, resp.StatusCode, tc.want)
		}
	}
	waitFor(t, func() bool {
		runs := f.CheckRuns("acme/app")
		return len(runs) == 1 && runs[0].Conclusion == "failure"
	})
	waitFor(t, func() bool {
		runs := f.CheckRuns("acme/lib")
		return len(runs) == 1 && runs[0].Conclusion == "success"
	})
	waitFor(t, func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return strings.Contains(string(b), `escapegate_recovery_redeliveries_total{outcome="requested"} 1`) &&
			strings.Contains(string(b), "escapegate_installations_listed 1")
	})
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("serve exited %d: %s", code, stderr.String())
	}
	if strings.Contains(stderr.String(), fakecreds.FakeGitHubPAT()) {
		t.Fatal("the log holds the raw token")
	}
}

// waitFor polls cond until it holds; the test's own deadline bounds it.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 1000; i++ {
		if cond() {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("condition not reached")
}

// writeAppKey makes a GitHub App private key and writes it to dir/app.pem (0600), as
// register saves it; the fake GitHub is given the public half.
func writeAppKey(t *testing.T, dir string) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "app.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), 0o600); err != nil {
		t.Fatal(err)
	}
	return key, path
}
