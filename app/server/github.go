package server

import (
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/escapegate/escapegate/app/gh"
)

// AppClients returns a factory of installation clients authenticated as the GitHub App
// (JWT → installation token through ghinstallation, tokens cached by go-githubapp).
func AppClients(cfg githubapp.Config, userAgent string) (gh.Factory, error) {
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg,
		githubapp.WithClientUserAgent(userAgent),
		githubapp.WithClientTimeout(30*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("creating GitHub client creator: %w", err)
	}
	return func(inst int64) (gh.Client, error) {
		c, err := cc.NewInstallationClient(inst)
		if err != nil {
			return nil, fmt.Errorf("installation %d client: %w", inst, err)
		}
		return gh.New(c), nil
	}, nil
}

// PlainClients returns a factory of unauthenticated clients for apiURL (the demo's fake GitHub).
func PlainClients(apiURL string) (gh.Factory, error) {
	c, err := github.NewClient(nil).WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", apiURL, err)
	}
	// WithEnterpriseURLs appends api/v3/ to bare hosts; the fake serves both forms.
	return func(int64) (gh.Client, error) { return gh.New(c), nil }, nil
}
