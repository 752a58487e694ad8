// Package demo runs escapegate end to end against the in-process fake GitHub:
// the real HTTP handler, signed webhooks, a temporary store. The demo command and
// the end-to-end tests share its Harness.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/config"
	"github.com/escapegate/escapegate/app/dashboard"
	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/recovery"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/checks/secrets"
	"github.com/escapegate/escapegate/handlers"
	"github.com/escapegate/escapegate/internal/fakegithub"
	"github.com/escapegate/escapegate/store"
	"github.com/escapegate/escapegate/store/bolt"
)

// Harness is escapegate's real webhook handler served over HTTP, wired to a fake GitHub.
type Harness struct {
	GitHub *fakegithub.Server
	Server *server.Server
	Store  store.Store
	Secret []byte
	// FingerprintKey is the key of the findings' fingerprints (outside the store).
	FingerprintKey []byte
	URL            string // escapegate's base URL

	http     *httptest.Server
	delivery atomic.Int64
}

// Options configures NewHarness.
type Options struct {
	Dir       string // where the bbolt file goes (a temporary folder)
	Store     store.Store
	Log       io.Writer // nil: discard
	Now       func() time.Time
	QueueSize int
	Workers   int
	// Durable makes the bbolt store fsync every commit, as serve's does; the demo and
	// tests skip it because their store is thrown away.
	Durable bool
	// PolicyTTL is serve's policy_ttl; 0 re-validates policy files on every event.
	PolicyTTL time.Duration
	// Retry is serve's retry block; zero fields take a millisecond backoff (not serve's
	// seconds), so that a delivery failed by an injected fault is retried before Send returns.
	Retry config.Retry
	// GitHub configures escapegate's GitHub clients, e.g. gh.WithSleep so that tests
	// do not wait out the retries of the faults they inject.
	GitHub []gh.Option
	// FingerprintKey is serve's fingerprint_key; nil: a file in Dir, else a temporary key.
	FingerprintKey []byte
	// Enterprise serves the fake as GitHub Enterprise Server does (fakegithub.NewEnterprise:
	// the API under /api/v3/ only, no rate limits), and escapegate's clients use that URL.
	Enterprise bool
	// UI serves the dashboard at URL + /ui/, signing in through the fake GitHub's OAuth
	// (client DemoClientID); UITeams replaces the policy's approver teams.
	UI      bool
	UITeams []string
	// InProgressAfter is server.Options.InProgressAfter (negative: every check run is
	// created in progress first, as for a slow scan).
	InProgressAfter time.Duration
}

// The demo app's OAuth client, registered with the fake GitHub when Options.UI is set.
const (
	DemoClientID     = "Iv1.demo0dashboard"
	demoClientSecret = "demo-oauth-client-secret"
)

// sharedEngine compiles the default secret rules once per process: the tests start a
// hundred harnesses, and compiling costs half a second under the race detector.
var sharedEngine = sync.OnceValues(func() (*secrets.Engine, error) { return secrets.New(secrets.Options{}) })

// FastRetry is the retry block of the demo and the tests: serve's attempts, millisecond waits.
func FastRetry(r config.Retry) config.Retry {
	if r.BaseBackoff == 0 {
		r.BaseBackoff = time.Millisecond
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = 5 * time.Millisecond
	}
	return r
}

// NewHarness starts a fake GitHub and escapegate in front of it.
func NewHarness(ctx context.Context, o Options) (*Harness, error) {
	st := o.Store
	if st == nil {
		var err error
		st, err = bolt.Open(filepath.Join(o.Dir, "escapegate.db"), bolt.Options{NoSync: !o.Durable})
		if err != nil {
			return nil, fmt.Errorf("opening demo store: %w", err)
		}
		if err := st.Migrate(ctx); err != nil {
			return nil, fmt.Errorf("migrating demo store: %w", err)
		}
	}
	logw := o.Log
	if logw == nil {
		logw = io.Discard
	}
	newFake := fakegithub.New
	if o.Enterprise {
		newFake = fakegithub.NewEnterprise
	}
	fake := newFake()
	if o.Now != nil {
		fake.SetIssueClock(o.Now) // issues' times agree with escapegate's clock
	}
	clients, err := server.PlainClients(fake.URL(), o.GitHub...)
	if err != nil {
		fake.Close()
		return nil, err
	}
	// The demo's key: a file next to its bbolt file when it has a folder (kept across
	// restarts on the same folder), else a temporary one; never in the store.
	ko := server.KeyOptions{Key: string(o.FingerprintKey)}
	if o.Dir != "" {
		ko.DefaultPath = filepath.Join(o.Dir, "escapegate.db.fingerprint-key")
	} else if ko.Key == "" {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			fake.Close()
			return nil, err
		}
		ko.Key = hex.EncodeToString(buf)
	}
	key, err := server.FingerprintKey(ctx, st, ko)
	if err != nil {
		fake.Close()
		return nil, err
	}
	secret := []byte("demo-webhook-secret")
	eng, err := sharedEngine()
	if err != nil {
		fake.Close()
		return nil, err
	}
	revoker, err := gh.NewRevoker(fake.URL(), nil)
	if err != nil {
		fake.Close()
		return nil, err
	}
	// Unstarted, so that its address is known for the dashboard's OAuth callback.
	hs := httptest.NewUnstartedServer(nil)
	base := "http://" + hs.Listener.Addr().String()
	var ui *dashboard.Options
	if o.UI {
		if ui, err = demoUI(fake, key, base, o.UITeams); err != nil {
			hs.Close()
			fake.Close()
			return nil, err
		}
	}
	srv, err := server.New(server.Options{
		Secrets: eng,
		Store:   st, Clients: clients, WebhookSecret: string(secret), FingerprintKey: key,
		Logger: zerolog.New(logw).With().Timestamp().Logger(), Now: o.Now,
		QueueSize: o.QueueSize, Workers: o.Workers, PublicURL: "https://escapegate.example.com", PolicyTTL: o.PolicyTTL,
		Retry: FastRetry(o.Retry), AppID: fake.App().ID, Revoker: revoker, UI: ui, InProgressAfter: o.InProgressAfter,
	})
	if err != nil {
		hs.Close()
		fake.Close()
		return nil, err
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	fake.SetHook(hs.URL, secret) // the app's webhook URL: redeliveries come here
	return &Harness{GitHub: fake, Server: srv, Store: st, Secret: secret, FingerprintKey: key, URL: hs.URL, http: hs}, nil
}

// demoUI is the dashboard's configuration against the fake GitHub: its web sign-in and
// API, a session key derived from the fingerprint key, figures refreshed every second.
func demoUI(fake *fakegithub.Server, fingerprintKey []byte, base string, teams []string) (*dashboard.Options, error) {
	fake.SetOAuthClient(DemoClientID, demoClientSecret)
	key, err := dashboard.SessionKey("", "", fingerprintKey)
	if err != nil {
		return nil, err
	}
	limits, facets, err := server.PlainDashboardGitHub(fake.URL())
	if err != nil {
		return nil, err
	}
	web := strings.TrimRight(fake.URL(), "/")
	return &dashboard.Options{ClientID: DemoClientID, ClientSecret: demoClientSecret, WebURL: web, APIURL: fake.URL(),
		BaseURL: base, SessionKey: key, Refresh: time.Second, Teams: teams, RateLimits: limits, RepoFacets: facets}, nil
}

// Close stops both servers and closes the store.
// Recovery is a delivery-log recovery service on the harness's store and gate, whose
// GitHub is at githubURL (the harness's fake or another), with no wait between requests.
func (h *Harness) Recovery(githubURL string) (*recovery.Service, error) {
	app, err := server.PlainApp(githubURL)
	if err != nil {
		return nil, err
	}
	return recovery.New(recovery.Options{App: app, Store: h.Store, Gate: h.Server.Gate(), Log: zerolog.Nop(),
		Events: handlers.Events(), Sleep: func(context.Context, time.Duration) error { return nil }})
}

func (h *Harness) Close() {
	h.GitHub.WaitWebhooks()
	h.http.Close()
	h.Server.Wait()
	h.GitHub.Close()
	_ = h.Store.Close()
}

// Send delivers a signed webhook, waits until escapegate has handled it, and returns
// the HTTP status escapegate answered.
func (h *Harness) Send(ctx context.Context, event string, payload []byte) (int, error) {
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", h.delivery.Add(1))
	return h.SendDelivery(ctx, event, id, payload)
}

// SendDelivery is Send with a chosen delivery id (to replay one). The fake GitHub sends
// it, so that its delivery log has it as GitHub's would.
func (h *Harness) SendDelivery(ctx context.Context, event, deliveryID string, payload []byte) (int, error) {
	d, err := h.GitHub.Deliver(ctx, event, deliveryID, payload)
	if err != nil {
		return 0, err
	}
	h.Server.Wait()
	return d.StatusCode, nil
}
