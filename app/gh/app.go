package gh

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v62/github"
)

// HookDelivery is one entry of the app's webhook delivery log. A redelivery is an
// entry of its own, with Redelivery set and the GUID of the delivery it repeats.
type HookDelivery struct {
	ID          int64
	GUID        string // X-GitHub-Delivery, shared by a delivery and its redeliveries
	DeliveredAt time.Time
	Redelivery  bool
	// StatusCode is the HTTP status escapegate answered; 0 when there was no answer
	// (connection refused, timed out).
	StatusCode     int
	Status         string // GitHub's words: "OK", "failed to connect", "Invalid HTTP Response: 503"
	Event          string
	Action         string
	InstallationID int64
	RepositoryID   int64
}

// OK reports whether the delivery reached escapegate and was accepted (a 2xx answer).
func (d HookDelivery) OK() bool { return d.StatusCode >= 200 && d.StatusCode < 300 }

// Installation is an installation of the app as GitHub lists it.
type Installation struct {
	ID          int64
	Account     string // org or user login
	AccountType string // Organization or User
	CreatedAt   time.Time
	Suspended   bool
}

// InstallationRepo is a repository an installation can access.
type InstallationRepo struct {
	ID            int64
	FullName      string
	DefaultBranch string
}

// App is what escapegate asks GitHub as the app itself (its JWT), rather than as one
// installation: its webhook delivery log, redeliveries, and its installations.
type App interface {
	// ListHookDeliveries lists one page of the delivery log, newest first, from cursor
	// ("" for the newest); next is the cursor of the following page, "" after the last.
	ListHookDeliveries(ctx context.Context, cursor string, perPage int) (ds []HookDelivery, next string, err error)
	// Redeliver asks GitHub to deliver a logged delivery again (GitHub answers 202 and
	// delivers it with the same GUID, as an entry of its own).
	Redeliver(ctx context.Context, id int64) error
	// ListInstallations lists every installation of the app (all pages).
	ListInstallations(ctx context.Context) ([]Installation, error)
	// ListInstallationRepositories lists the repositories installation id can access
	// (all pages), authenticated as that installation.
	ListInstallationRepositories(ctx context.Context, installationID int64) ([]InstallationRepo, error)
}

// InstallationClients returns a go-github client authenticated as one installation
// (go-githubapp's ClientCreator.NewInstallationClient is one).
type InstallationClients func(installationID int64) (*github.Client, error)

type appClient struct {
	gh   *github.Client
	inst InstallationClients
	opts []Option
}

// NewApp returns an App backed by go-github v62: app is authenticated with the app's
// JWT (go-githubapp's ClientCreator.NewAppClient), installation gives clients acting
// as one installation. Both go through the rate-limit RetryTransport, as New's do.
func NewApp(app *github.Client, installation InstallationClients, opts ...Option) App {
	return &appClient{gh: withRetry(app, opts), inst: installation, opts: opts}
}

// withRetry returns a copy of c whose HTTP client waits out short rate limits.
func withRetry(c *github.Client, opts []Option) *github.Client {
	st := settings{retry: DefaultRetryPolicy()}
	for _, o := range opts {
		o(&st)
	}
	hc := c.Client() // a copy: c itself is left unchanged
	hc.Transport = NewRetryTransport(hc.Transport, st.retry)
	g := github.NewClient(hc)
	g.BaseURL, g.UploadURL, g.UserAgent = c.BaseURL, c.UploadURL, c.UserAgent
	return g
}

func (a *appClient) ListHookDeliveries(ctx context.Context, cursor string, n int) ([]HookDelivery, string, error) {
	if n <= 0 || n > perPage {
		n = perPage
	}
	ds, resp, err := a.gh.Apps.ListHookDeliveries(ctx, &github.ListCursorOptions{Cursor: cursor, PerPage: n})
	if err != nil {
		return nil, "", wrap(err, "list webhook deliveries", Repo{})
	}
	out := make([]HookDelivery, 0, len(ds))
	for _, d := range ds {
		out = append(out, HookDelivery{
			ID: d.GetID(), GUID: d.GetGUID(), DeliveredAt: d.GetDeliveredAt().Time, Redelivery: d.GetRedelivery(),
			StatusCode: d.GetStatusCode(), Status: d.GetStatus(), Event: d.GetEvent(), Action: d.GetAction(),
			InstallationID: d.GetInstallationID(), RepositoryID: d.GetRepositoryID(),
		})
	}
	next := ""
	if resp != nil && len(ds) > 0 {
		next = resp.Cursor
	}
	return out, next, nil
}

func (a *appClient) Redeliver(ctx context.Context, id int64) error {
	_, _, err := a.gh.Apps.RedeliverHookDelivery(ctx, id)
	var acc *github.AcceptedError
	if err == nil || errors.As(err, &acc) { // GitHub answers 202 Accepted
		return nil
	}
	return wrap(err, fmt.Sprintf("redeliver webhook delivery %d", id), Repo{})
}

func (a *appClient) ListInstallations(ctx context.Context) ([]Installation, error) {
	var out []Installation
	opt := &github.ListOptions{PerPage: perPage}
	for {
		is, resp, err := a.gh.Apps.ListInstallations(ctx, opt)
		if err != nil {
			return nil, wrap(err, "list installations", Repo{})
		}
		for _, in := range is {
			out = append(out, Installation{
				ID: in.GetID(), Account: in.GetAccount().GetLogin(), AccountType: in.GetAccount().GetType(),
				CreatedAt: in.GetCreatedAt().Time, Suspended: in.SuspendedAt != nil,
			})
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

func (a *appClient) ListInstallationRepositories(ctx context.Context, id int64) ([]InstallationRepo, error) {
	c, err := a.inst(id)
	if err != nil {
		return nil, fmt.Errorf("installation %d client: %w", id, err)
	}
	c = withRetry(c, a.opts)
	var out []InstallationRepo
	opt := &github.ListOptions{PerPage: perPage}
	for {
		rs, resp, err := c.Apps.ListRepos(ctx, opt)
		if err != nil {
			return nil, wrap(err, fmt.Sprintf("list repositories of installation %d", id), Repo{})
		}
		if rs == nil {
			return out, nil
		}
		for _, r := range rs.Repositories {
			out = append(out, InstallationRepo{ID: r.GetID(), FullName: r.GetFullName(), DefaultBranch: r.GetDefaultBranch()})
		}
		if resp == nil || resp.NextPage == 0 {
			return out, nil
		}
		opt.Page = resp.NextPage
	}
}

// IsRateLimit reports whether err is GitHub's primary or secondary rate limit (one
// that the retry transport did not wait out).
func IsRateLimit(err error) bool {
	var rl *github.RateLimitError
	var ab *github.AbuseRateLimitError
	return errors.As(err, &rl) || errors.As(err, &ab)
}
