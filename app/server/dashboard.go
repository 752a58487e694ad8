package server

import (
	"context"
	"fmt"
	"net/http"
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

// RateLimits reads each installation's REST rate limit (GET /rate_limit, which costs
// none of it) with the app's installation tokens, for the dashboard's operations page.
func RateLimits(cfg githubapp.Config, userAgent string) (func(ctx context.Context, inst int64) (dashboard.RateLimit, error), error) {
	cc, err := githubapp.NewDefaultCachingClientCreator(cfg, githubapp.WithClientUserAgent(userAgent), githubapp.WithClientTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("creating GitHub client creator: %w", err)
	}
	return func(ctx context.Context, inst int64) (dashboard.RateLimit, error) {
		c, err := cc.NewInstallationClient(inst)
		if err != nil {
			return dashboard.RateLimit{}, fmt.Errorf("installation %d client: %w", inst, err)
		}
		return rateLimit(ctx, c)
	}, nil
}

// PlainRateLimits is RateLimits for apiURL without credentials (the demo's fake GitHub),
// asking installation tokens as go-githubapp does.
func PlainRateLimits(apiURL string) (func(ctx context.Context, inst int64) (dashboard.RateLimit, error), error) {
	app, err := github.NewClient(&http.Client{Transport: bearer{token: "plain-app-jwt"}}).WithEnterpriseURLs(apiURL, apiURL)
	if err != nil {
		return nil, fmt.Errorf("GitHub client for %s: %w", apiURL, err)
	}
	return func(ctx context.Context, inst int64) (dashboard.RateLimit, error) {
		tok, _, err := app.Apps.CreateInstallationToken(ctx, inst, nil)
		if err != nil {
			return dashboard.RateLimit{}, fmt.Errorf("installation %d token: %w", inst, err)
		}
		c, err := github.NewClient(nil).WithAuthToken(tok.GetToken()).WithEnterpriseURLs(apiURL, apiURL)
		if err != nil {
			return dashboard.RateLimit{}, err
		}
		return rateLimit(ctx, c)
	}, nil
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
