package server_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	"github.com/palantir/go-githubapp/githubapp"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/server"
	"github.com/escapegate/escapegate/internal/fakegithub"
)

// TestAppClientsAuthenticateAsInstallation runs serve's real client path (go-githubapp's
// client creator, ghinstallation's app JWT, an installation token) against the fake GitHub,
// which verifies the JWT with the app's public key.
func TestAppClientsAuthenticateAsInstallation(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	f := fakegithub.New()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 4242, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddRepo("acme/app", "trunk")
	f.AddInstallation(77, "acme/app")

	var cfg githubapp.Config
	cfg.V3APIURL = f.URL()
	cfg.App.IntegrationID = 4242
	cfg.App.PrivateKey = string(pemKey)
	clients, err := server.AppClients(cfg, "escapegate/test")
	if err != nil {
		t.Fatal(err)
	}
	c, err := clients(77)
	if err != nil {
		t.Fatal(err)
	}
	branch, err := c.GetRepository(context.Background(), gh.Repo{Owner: "acme", Name: "app"})
	if err != nil || branch != "trunk" {
		t.Fatalf("GetRepository = %q, %v", branch, err)
	}
	var sawToken bool
	for _, r := range f.Requests() {
		if r.Method == "POST" && strings.HasSuffix(r.Path, "/app/installations/77/access_tokens") {
			sawToken = true
		}
	}
	if !sawToken {
		t.Fatalf("no installation token was requested: %+v", f.Requests())
	}

	// The installation clients retry GitHub's transient faults, with the sleep given, and
	// look for the app's own check runs only.
	var waits []time.Duration
	clients, err = server.AppClients(cfg, "escapegate/test", gh.WithSleep(func(_ context.Context, d time.Duration) error {
		waits = append(waits, d)
		return nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c, err = clients(77); err != nil {
		t.Fatal(err)
	}
	f.InjectFault(fakegithub.Fault{Method: "GET", Path: "/repos/acme/app", Kind: fakegithub.BadGateway})
	f.InjectFault(fakegithub.Fault{Method: "GET", Path: "/repos/acme/app", Kind: fakegithub.SecondaryRateLimitForbidden, Wait: time.Second})
	if branch, err := c.GetRepository(context.Background(), gh.Repo{Owner: "acme", Name: "app"}); err != nil || branch != "trunk" {
		t.Fatalf("GetRepository through a 502 and a secondary limit = %q, %v", branch, err)
	}
	if len(waits) != 2 || waits[1] != time.Second {
		t.Errorf("waits %v, want a backoff and the 1 s GitHub asked for", waits)
	}
	f.ResetRequests()
	if _, _, err := c.FindCheckRun(context.Background(), gh.Repo{Owner: "acme", Name: "app"}, "abc", "escapegate", "acme/app#1"); err != nil {
		t.Fatal(err)
	}
	if rs := f.Requests(); len(rs) == 0 || !strings.Contains(rs[len(rs)-1].Path, "app_id=4242") {
		t.Errorf("FindCheckRun does not ask for the app's own runs: %+v", rs)
	}

	// A key that is not the app's is refused by the fake, and the error reaches the caller.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cfg.App.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
	bad, err := server.AppClients(cfg, "escapegate/test")
	if err != nil {
		t.Fatal(err)
	}
	c, err = bad(77)
	if err == nil {
		_, err = c.GetRepository(context.Background(), gh.Repo{Owner: "acme", Name: "app"})
	}
	if err == nil {
		t.Fatal("a wrong app key authenticated")
	}
}

// TestGitHubAppAuthenticatesAsApp runs serve's app-level path (go-githubapp's app client
// with the app's JWT, installation tokens for the repositories) against the fake GitHub,
// which verifies the JWT; PlainApp reaches the same endpoints without credentials.
func TestGitHubAppAuthenticatesAsApp(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := fakegithub.New()
	defer f.Close()
	f.SetApp(fakegithub.App{ID: 4242, Slug: "escapegate", Name: "escapegate"})
	f.SetAppKey(&key.PublicKey)
	f.AddInstallation(77, "acme/app", "acme/web")
	f.AddHookDelivery(fakegithub.HookDelivery{GUID: "g-1", StatusCode: 502, Event: "push", Payload: []byte(`{}`)})

	var cfg githubapp.Config
	cfg.V3APIURL = f.URL()
	cfg.App.IntegrationID = 4242
	cfg.App.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	app, err := server.GitHubApp(cfg, "escapegate/test")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	check := func(app gh.App) {
		t.Helper()
		is, err := app.ListInstallations(ctx)
		if err != nil || len(is) != 1 || is[0].ID != 77 || is[0].Account != "acme" {
			t.Fatalf("ListInstallations = %+v, %v", is, err)
		}
		rs, err := app.ListInstallationRepositories(ctx, 77)
		if err != nil || len(rs) != 2 {
			t.Fatalf("ListInstallationRepositories = %+v, %v", rs, err)
		}
		ds, next, err := app.ListHookDeliveries(ctx, "", 100)
		if err != nil || len(ds) != 1 || ds[0].GUID != "g-1" || next != "" {
			t.Fatalf("ListHookDeliveries = %+v, %q, %v", ds, next, err)
		}
	}
	check(app)

	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	cfg.App.PrivateKey = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)}))
	bad, err := server.GitHubApp(cfg, "escapegate/test")
	if err == nil {
		_, err = bad.ListInstallations(ctx)
	}
	if err == nil {
		t.Fatal("a wrong app key listed the installations")
	}

	f.SetAppKey(nil)
	plain, err := server.PlainApp(f.URL())
	if err != nil {
		t.Fatal(err)
	}
	check(plain)
}
