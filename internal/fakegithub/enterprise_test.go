package fakegithub_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/internal/fakegithub"
)

func TestEnterpriseServesTheAPIUnderV3Only(t *testing.T) {
	f := fakegithub.NewEnterprise()
	defer f.Close()
	f.AddRepo("acme/app", "main")
	if !strings.HasSuffix(f.URL(), "/api/v3/") {
		t.Fatalf("URL() = %s, want the /api/v3/ prefix", f.URL())
	}
	root := strings.TrimSuffix(f.URL(), "api/v3/")
	tests := []struct {
		url       string
		status    int
		rateLimit bool // X-RateLimit-Limit sent
	}{
		{f.URL() + "repos/acme/app", http.StatusOK, false},
		{root + "repos/acme/app", http.StatusNotFound, false},
		{f.URL() + "rate_limit", http.StatusNotFound, false},
	}
	for _, tc := range tests {
		resp, err := f.HTTPClient().Get(tc.url)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status || (resp.Header.Get("X-RateLimit-Limit") != "") != tc.rateLimit {
			t.Errorf("GET %s: %d (rate limit %q), want %d", tc.url, resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"), tc.status)
		}
	}
	// github.com's fake serves both forms and sends rate limits.
	g := fakegithub.New()
	defer g.Close()
	g.AddRepo("acme/app", "main")
	for _, u := range []string{g.URL() + "repos/acme/app", g.URL() + "api/v3/repos/acme/app"} {
		resp, err := g.HTTPClient().Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("X-RateLimit-Limit") == "" {
			t.Errorf("GET %s: %d (rate limit %q)", u, resp.StatusCode, resp.Header.Get("X-RateLimit-Limit"))
		}
	}
}
