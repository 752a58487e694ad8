package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v62/github"
	"github.com/palantir/go-githubapp/githubapp"

	"github.com/escapegate/escapegate/app/dashboard"
	"github.com/escapegate/escapegate/app/gate"
	"github.com/escapegate/escapegate/store"
)

// mountUI serves the dashboard at /ui/ on the server's mux, with the server's store,
// GitHub clients, policy loader and inbox.
func (s *Server) mountUI(mux *http.ServeMux, o dashboard.Options, g *gate.Service, now func() time.Time) error {
	o.Store, o.Clients, o.Log = s.store, s.clients, s.log
	if o.Policy == nil {
		o.Policy = g.Policy
	}
	if o.Now == nil {
		o.Now = now
	}
	if s.inbox != nil && o.Inbox == nil {
		o.Inbox = inboxView{s.inbox}
	}
	d, err := dashboard.New(o)
	if err != nil {
		return err
	}
	mux.Handle(dashboard.Prefix, d.Handler())
	mux.Handle("GET /ui", http.RedirectHandler(dashboard.Prefix, http.StatusMovedPermanently))
	return nil
}

// inboxView is the dashboard's read-only view of the intake's inbox (bolt's or River's).
type inboxView struct{ in deliveryInbox }

func (v inboxView) CountDeliveries(ctx context.Context) (map[string]int, error) {
	return v.in.Count(ctx)
}
func (v inboxView) ListDeliveries(ctx context.Context, state string, n int) ([]store.Delivery, error) {
	return v.in.List(ctx, state, n)
}

// installationClients makes go-github clients for installations: with the app's
// credentials (cfg) or, for apiURL without them (the demo's fake GitHub), asking tokens
// as go-githubapp does.
func installationClients(cfg *githubapp.Config, apiURL, userAgent string) (func(ctx context.Context, inst int64) (*github.Client, error), error) {
	if cfg != nil {
		cc, err := githubapp.NewDefaultCachingClientCreator(*cfg, githubapp.WithClientUserAgent(userAgent), githubapp.WithClientTimeout(10*time.Second))
		if err != nil {
			return nil, fmt.Errorf("creating GitHub client creator: %w", err)
		}
		return func(_ context.Context, inst int64) (*github.Client, error) {
			c, err := cc.NewInstallationClient(inst)
			if err != nil {
				return nil, fmt.Errorf("installation %d client: %w", inst, err)
			}
			return c, nil
		}, nil
	}
	app, err := github.NewClient(&http.Client{Transport: bearer{token: "plain-app-jwt"}}).WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", apiURL, err)
	}
	return func(ctx context.Context, inst int64) (*github.Client, error) {
		tok, _, err := app.Apps.CreateInstallationToken(ctx, inst, nil)
		if err != nil {
			return nil, fmt.Errorf("installation %d token: %w", inst, err)
		}
		return github.NewClient(nil).WithAuthToken(tok.GetToken()).WithEnterpriseURLs(apiURL, apiURL)
	}, nil
}

// DashboardGitHub returns what the dashboard reads of GitHub as the app, beside the
// installation clients of the domain: each installation's rate limit (GET /rate_limit,
// which costs none of it) and its repositories' topics and custom property values
// (GET /installation/repositories, GET /orgs/{org}/properties/values). Both share one
// token cache.
func DashboardGitHub(cfg githubapp.Config, userAgent string) (
	limits func(ctx context.Context, inst int64) (dashboard.RateLimit, error),
	facets func(ctx context.Context, inst store.Installation) (map[string]dashboard.Facets, error), err error,
) {
	clients, err := installationClients(&cfg, "", userAgent)
	if err != nil {
		return nil, nil, err
	}
	return limitsWith(clients), facetsWith(clients), nil
}

// PlainDashboardGitHub is DashboardGitHub for apiURL without credentials (the demo's
// fake GitHub).
func PlainDashboardGitHub(apiURL string) (
	limits func(ctx context.Context, inst int64) (dashboard.RateLimit, error),
	facets func(ctx context.Context, inst store.Installation) (map[string]dashboard.Facets, error), err error,
) {
	clients, err := installationClients(nil, apiURL, "")
	if err != nil {
		return nil, nil, err
	}
	return limitsWith(clients), facetsWith(clients), nil
}

// facetsWith lists an installation's repositories' topics and custom property values.
// Without the organization_custom_properties permission (403) or on an account that is
// not an org (404) it returns the topics alone.
func facetsWith(clients func(ctx context.Context, inst int64) (*github.Client, error)) func(ctx context.Context, inst store.Installation) (map[string]dashboard.Facets, error) {
	return func(ctx context.Context, inst store.Installation) (map[string]dashboard.Facets, error) {
		c, err := clients(ctx, inst.ID)
		if err != nil {
			return nil, err
		}
		out := map[string]dashboard.Facets{}
		opt := &github.ListOptions{PerPage: 100}
		for {
			rs, resp, err := c.Apps.ListRepos(ctx, opt)
			if err != nil {
				return nil, fmt.Errorf("list repositories of installation %d: %w", inst.ID, err)
			}
			for _, r := range rs.Repositories {
				f := dashboard.Facets{Topics: r.Topics, Properties: map[string]string{}}
				for k, v := range r.CustomProperties {
					f.Properties[k] = v
				}
				out[strings.ToLower(r.GetFullName())] = f
			}
			if resp.NextPage == 0 {
				break
			}
			opt.Page = resp.NextPage
		}
		if inst.AccountType != "Organization" {
			return out, nil
		}
		opt = &github.ListOptions{PerPage: 100}
		for {
			vs, resp, err := c.Organizations.ListCustomPropertyValues(ctx, inst.Account, opt)
			var er *github.ErrorResponse
			if errors.As(err, &er) && er.Response != nil && (er.Response.StatusCode == http.StatusForbidden || er.Response.StatusCode == http.StatusNotFound) {
				return out, nil // no permission for custom properties: topics only
			}
			if err != nil {
				return nil, fmt.Errorf("custom property values of %s: %w", inst.Account, err)
			}
			for _, v := range vs {
				k := strings.ToLower(v.RepositoryFullName)
				f := out[k]
				if f.Properties == nil {
					f.Properties = map[string]string{}
				}
				for _, p := range v.Properties {
					if p.Value != nil && *p.Value != "" {
						f.Properties[p.PropertyName] = *p.Value
					}
				}
				out[k] = f
			}
			if resp.NextPage == 0 {
				return out, nil
			}
			opt.Page = resp.NextPage
		}
	}
}

func limitsWith(clients func(ctx context.Context, inst int64) (*github.Client, error)) func(ctx context.Context, inst int64) (dashboard.RateLimit, error) {
	return func(ctx context.Context, inst int64) (dashboard.RateLimit, error) {
		c, err := clients(ctx, inst)
		if err != nil {
			return dashboard.RateLimit{}, err
		}
		return rateLimit(ctx, c)
	}
}

func rateLimit(ctx context.Context, c *github.Client) (dashboard.RateLimit, error) {
	l, _, err := c.RateLimit.Get(ctx)
	if err != nil {
		return dashboard.RateLimit{}, fmt.Errorf("GET /rate_limit: %w", err)
	}
	core := l.GetCore()
	if core == nil {
		return dashboard.RateLimit{}, fmt.Errorf("GET /rate_limit: no core limit")
	}
	return dashboard.RateLimit{Limit: core.Limit, Remaining: core.Remaining, Reset: core.Reset.Time}, nil
}
