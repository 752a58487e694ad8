package server_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/internal/fakegithub/events"
	"github.com/escapegate/escapegate/store/bolt"
)

const secret = "s3cret"

// newServer builds escapegate with a client factory that blocks until release is closed,
// so that tests control when queued work finishes.
func newServer(t *testing.T, size, workers int, release <-chan struct{}) (*server.Server, *httptest.Server) {
	return newServerBytes(t, size, workers, 0, release)
}

func newServerBytes(t *testing.T, size, workers int, maxBytes int64, release <-chan struct{}) (*server.Server, *httptest.Server) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "s.db"), bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clients := func(int64) (gh.Client, error) {
		<-release
		return nil, errors.New("no GitHub in this test")
	}
	srv, err := server.New(server.Options{Store: st, Clients: clients, WebhookSecret: secret, FingerprintKey: []byte("k"),
		Logger: zerolog.Nop(), QueueSize: size, Workers: workers, QueueBytes: maxBytes,
		Retry: config.Retry{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return srv, hs
}

func post(t *testing.T, url, id string, payload []byte) *http.Response {
	t.Helper()
	req, err := fakegithub.NewWebhookRequest(context.Background(), url, []byte(secret), "pull_request", id, payload)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestFullQueueAnswers503(t *testing.T) {
	release := make(chan struct{})
	srv, hs := newServer(t, 1, 1, release)
	payload := events.PullRequest(1, events.Repo{ID: 1, FullName: "o/r"}, "opened", events.PR{Number: 1, Author: "a", HeadSHA: strings.Repeat("a", 40)}, "a")
	var statuses []int
	var sawRetryAfter bool
	// One delivery occupies the worker, one waits in the queue; the rest find it full.
	for i := 0; i < 6; i++ {
		resp := post(t, hs.URL, "d"+string(rune('0'+i)), payload)
		statuses = append(statuses, resp.StatusCode)
		if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
			sawRetryAfter = true
		}
		if i == 0 {
			time.Sleep(50 * time.Millisecond) // let the worker take the first one (not an assertion on time)
		}
	}
	close(release)
	srv.Wait()
	ok, full := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusServiceUnavailable:
			full++
		default:
			t.Fatalf("unexpected status %d in %v", s, statuses)
		}
	}
	if ok < 1 || ok > 2 || full < 4 || !sawRetryAfter {
		t.Fatalf("statuses %v: want 1–2 accepted and the rest 503 with Retry-After", statuses)
	}
}

func TestOperationalEndpoints(t *testing.T) {
	release := make(chan struct{})
	close(release)
	_, hs := newServer(t, 10, 1, release)
	tests := []struct {
		path   string
		status int
		holds  string
	}{
		{"/healthz", 200, "ok"},
		{"/readyz", 200, `"ready":true`},
		{"/metrics", 200, "escapegate_queue_depth"},
		{"/api/report?repo=o/r", 400, "not found"},
		{"/api/report", 400, "--repo"},
		{"/nope", 404, ""},
	}
	for _, tc := range tests {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := http.Get(hs.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.status || !strings.Contains(string(body), tc.holds) {
				t.Fatalf("%s: %d %q", tc.path, resp.StatusCode, body)
			}
		})
	}
}

func TestUnhandledEventsAreAccepted(t *testing.T) {
	release := make(chan struct{})
	close(release)
	_, hs := newServer(t, 10, 1, release)
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	for _, ev := range []string{"ping", "star"} {
		req, _ := fakegithub.NewWebhookRequest(context.Background(), hs.URL, []byte(secret), ev, "x-"+ev, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("%s answered %d", ev, resp.StatusCode)
		}
	}
}

func TestOversizedPayloadRefused(t *testing.T) {
	release := make(chan struct{})
	close(release)
	_, hs := newServer(t, 10, 1, release)
	big := make([]byte, server.MaxPayloadBytes+1)
	resp := post(t, hs.URL, "big", big)
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d, want 413", resp.StatusCode)
	}
}

func TestQueueBoundedByBytes(t *testing.T) {
	release := make(chan struct{})
	payload := events.PullRequest(1, events.Repo{ID: 1, FullName: "o/r"}, "opened", events.PR{Number: 1, Author: "a", HeadSHA: strings.Repeat("a", 40)}, "a")
	// Room for two payloads in bytes although the queue has room for a hundred events.
	// The inbox counts a payload as it keeps it: sealed (nonce, tag, base64, a JSON string).
	sealed := 2 + len("egs1:") + base64.StdEncoding.EncodedLen(len(payload)+12+16)
	srv, hs := newServerBytes(t, 100, 1, int64(2*sealed+10), release)
	var statuses []int
	for i := 0; i < 5; i++ {
		statuses = append(statuses, post(t, hs.URL, "b"+string(rune('0'+i)), payload).StatusCode)
	}
	close(release)
	srv.Wait()
	want := []int{200, 200, 503, 503, 503}
	for i := range want {
		if statuses[i] != want[i] {
			t.Fatalf("statuses %v, want %v", statuses, want)
		}
	}
	// Once the work is done the budget is free again.
	if s := post(t, hs.URL, "after", payload).StatusCode; s != 200 {
		t.Fatalf("after draining: %d", s)
	}
	srv.Wait()
}

// Behind a reverse proxy or a service-mesh sidecar on the same host every request comes
// from loopback: a request that a proxy forwarded is not the local operator's.
func TestReportEndpointRefusesProxiedRequests(t *testing.T) {
	release := make(chan struct{})
	close(release)
	_, hs := newServer(t, 10, 1, release)
	for _, h := range []string{"X-Forwarded-For", "Forwarded", "X-Real-Ip", "X-Forwarded-Host"} {
		req, err := http.NewRequest(http.MethodGet, hs.URL+"/api/report?repo=o/r", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(h, "203.0.113.9")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("with %s: %d, want 403", h, resp.StatusCode)
		}
	}
}

// TestSHA1OnlySignatureRefused: a delivery signed only with the SHA-1 X-Hub-Signature
// (which go-github's validation would accept when X-Hub-Signature-256 is absent) is
// refused with 401 before it is read, and nothing is queued; the same payload signed
// with SHA-256 is accepted.
func TestSHA1OnlySignatureRefused(t *testing.T) {
	release := make(chan struct{})
	close(release)
	srv, hs := newServer(t, 10, 1, release)
	payload := events.PullRequest(1, events.Repo{ID: 1, FullName: "o/r"}, "opened", events.PR{Number: 1, Author: "a", HeadSHA: strings.Repeat("a", 40)}, "a")
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write(payload)
	req, err := http.NewRequest(http.MethodPost, hs.URL+server.HookPath, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", "sha1-only")
	req.Header.Set("X-Hub-Signature", "sha1="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("SHA-1-only delivery: %d, want 401", resp.StatusCode)
	}
	if s := post(t, hs.URL, "sha256", payload).StatusCode; s != http.StatusOK {
		t.Fatalf("SHA-256 delivery: %d", s)
	}
	srv.Wait()
}

// TestLoopbackAPIRefusesOtherHosts: the loopback API answers only a Host of localhost
// or a loopback address (a DNS-rebinding page's Host is its own name).
func TestLoopbackAPIRefusesOtherHosts(t *testing.T) {
	release := make(chan struct{})
	close(release)
	_, hs := newServer(t, 10, 1, release)
	for _, tc := range []struct {
		host string
		want int
	}{{"attacker.example", 403}, {"escapegate.example.com:8080", 403}, {"10.0.0.5", 403}, {"localhost", 0}, {"127.0.0.1:9", 0}} {
		for _, path := range []string{"/api/report?repo=o/r", "/api/deliveries"} {
			req, _ := http.NewRequest(http.MethodGet, hs.URL+path, nil)
			req.Host = tc.host
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if tc.want != 0 && resp.StatusCode != tc.want || tc.want == 0 && resp.StatusCode == http.StatusForbidden {
				t.Errorf("Host %q %s: %d", tc.host, path, resp.StatusCode)
			}
		}
	}
}
