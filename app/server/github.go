package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/escapegate/escapegate/app/gh"
)

// AppClients returns a factory of installation clients authenticated as the GitHub App
// (JWT → installation token through ghinstallation, tokens cached by go-githubapp). Each
// client retries transient GitHub faults (gh.RetryTransport, gh.DefaultRetryPolicy unless
// opts say otherwise; its per-attempt timeout bounds every request) and knows the app's id,
// so it finds the app's own check runs and comments only.
func AppClients(cfg githubapp.Config, userAgent string, opts ...gh.Option) (gh.Factory, error) {
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg,
		githubapp.WithClientUserAgent(userAgent),
		githubapp.WithTransport(apiTransport()),
	)
	if err != nil {
		return nil, fmt.Errorf("creating GitHub client creator: %w", err)
	}
	opts = append([]gh.Option{gh.WithAppID(cfg.App.IntegrationID)}, opts...)
	return func(inst int64) (gh.Client, error) {
		c, err := cc.NewInstallationClient(inst)
		if err != nil {
			return nil, fmt.Errorf("installation %d client: %w", inst, err)
		}
		return gh.New(c, opts...), nil
	}, nil
}

// apiTransport is the connection pool of escapegate's GitHub clients. Every request goes
// to one host, and http.DefaultTransport keeps 2 idle connections per host: with the
// inbox's workers each making requests, the rest were closed after every answer and
// dialled (and, on github.com, TLS-handshaken) again for the next.
func apiTransport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	return t
}

// PlainClients returns a factory of unauthenticated clients for apiURL (the demo's fake
// GitHub), retrying as AppClients' do.
func PlainClients(apiURL string, opts ...gh.Option) (gh.Factory, error) {
	c, err := github.NewClient(nil).WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", apiURL, err)
	}
	// WithEnterpriseURLs appends api/v3/ to bare hosts; the fake serves both forms.
	return func(int64) (gh.Client, error) { return gh.New(c, opts...), nil }, nil
}

// GitHubApp returns what escapegate asks GitHub as the app itself: go-githubapp's app
// client (the app's JWT) for the delivery log, redeliveries and installations, and its
// installation clients for each installation's repositories.
func GitHubApp(cfg githubapp.Config, userAgent string) (gh.App, error) {
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg,
		githubapp.WithClientUserAgent(userAgent),
		githubapp.WithClientTimeout(30*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("creating GitHub client creator: %w", err)
	}
	app, err := cc.NewAppClient()
	if err != nil {
		return nil, fmt.Errorf("GitHub app client: %w", err)
	}
	return gh.NewApp(app, cc.NewInstallationClient), nil
}

// PlainApp returns the app's GitHub access for apiURL without credentials (the demo's
// fake GitHub): a placeholder app token, and installation tokens asked of apiURL the
// way go-githubapp asks GitHub.
func PlainApp(apiURL string) (gh.App, error) {
	app, err := github.NewClient(&http.Client{Transport: bearer{token: "plain-app-jwt"}}).WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", apiURL, err)
	}
	installation := func(id int64) (*github.Client, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		tok, _, err := app.Apps.CreateInstallationToken(ctx, id, nil)
		if err != nil {
			return nil, fmt.Errorf("installation %d token: %w", id, err)
		}
		return github.NewClient(nil).WithAuthToken(tok.GetToken()).WithEnterpriseURLs(apiURL, apiURL)
	}
	return gh.NewApp(app, installation), nil
}

// bearer sends a fixed Bearer token.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}
