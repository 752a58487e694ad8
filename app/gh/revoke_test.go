package gh_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/internal/fakegithub"
)

// withAuth adds a token to every request, as an installation client would.
type withAuth struct{ http.RoundTripper }

func (a withAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "token ghs_installation")
	return a.RoundTripper.RoundTrip(r)
}

func TestRevokeCredentials(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	r, err := gh.NewRevoker(f.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := make([]string, 2500)
	for i := range creds {
		creds[i] = fmt.Sprintf("ghp_%036d", i)
	}
	if err := r.RevokeCredentials(context.Background(), creds); err != nil {
		t.Fatal(err)
	}
	got, calls := f.Revoked()
	if len(got) != 2500 || calls != 3 {
		t.Fatalf("revoked %d in %d requests, want 2500 in 3 (at most 1000 each)", len(got), calls)
	}
	for _, req := range f.Requests() {
		if strings.Contains(string(req.Body), creds[0][4:]) {
			t.Fatal("the fake's transcript keeps a credential")
		}
	}

	authed, err := gh.NewRevoker(f.URL(), &http.Client{Transport: withAuth{http.DefaultTransport}})
	if err != nil {
		t.Fatal(err)
	}
	err = authed.RevokeCredentials(context.Background(), creds[:1])
	if err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("an authenticated revocation: %v, want GitHub's 403", err)
	}
	if strings.Contains(err.Error(), creds[0]) {
		t.Fatal("the error shows the credential")
	}
}
