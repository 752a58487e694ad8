package server

import (
	"fmt"

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
