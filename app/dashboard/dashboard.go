// Package dashboard serves escapegate's read-only web dashboard at /ui: the org's
// Critical Risk Escape Rate over time, repositories side by side, one repository's
// escapes and exceptions, and the operations of the inbox, behind GitHub sign-in.
//
// Every figure comes from app/escaperate, the code behind `escapegate report` and the
// monthly summary (Compute per repository, OrgMonth per org): the dashboard renders,
// it never counts. Pages are server-rendered html/template with SVG charts, embedded
// in the binary with the stylesheet: no script, no CDN, no build step, so it works on
// GitHub Enterprise Server behind a firewall.
package dashboard

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/render"
	"github.com/escapegate/escapegate/app/summary"
	"github.com/escapegate/escapegate/store"
)

// Prefix is where the dashboard is mounted.
const Prefix = "/ui/"

//go:embed templates/*.html templates/style.css
var files embed.FS

// Inbox is what the operations page reads of the durable inbox (bolt's and
// memstore's store.Inbox, or serve's view of River's queue).
type Inbox interface {
	CountDeliveries(ctx context.Context) (map[string]int, error)
	ListDeliveries(ctx context.Context, state string, n int) ([]store.Delivery, error)
}

// RateLimit is an installation's REST rate limit as GitHub reports it (GET /rate_limit,
// which does not count against it).
type RateLimit struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset"`
}

// Facets are what GitHub says of a repository that the org groups repositories by: its
// topics and its custom property values (product line, tier, ...).
type Facets struct {
	Topics     []string          `json:"topics,omitempty"`
	Properties map[string]string `json:"properties,omitempty"`
}

// Options configures New.
type Options struct {
	Store store.Store
	// Clients act as an installation: team membership and permission reads at sign-in.
	Clients gh.Factory
	// Policy loads an org's policy (its override.approvers say who sees the org).
	Policy summary.PolicyFunc
	// Teams, when set, replace the policy's approver teams (ui.teams).
	Teams []string

	// OAuth: the app's own client (github.oauth.client_id and client_secret).
	ClientID, ClientSecret string
	WebURL                 string // github.web_url: /login/oauth/authorize and access_token
	APIURL                 string // github.v3_api_url: GET /user
	HTTPClient             *http.Client

	// BaseURL is where browsers reach escapegate (public_url); the OAuth callback is
	// BaseURL + /ui/auth/callback, and an https BaseURL makes cookies Secure.
	BaseURL    string
	SessionKey []byte
	SessionTTL time.Duration
	// Refresh is how old an org's figures may get before they are computed again.
	Refresh time.Duration

	// RepoFacets lists the topics and custom property values of an installation's
	// repositories (the repositories table filters by them); nil: no such filter.
	RepoFacets func(ctx context.Context, inst store.Installation) (map[string]Facets, error)

	// Inbox and RateLimits feed the operations page; nil leaves their part out.
	Inbox      Inbox
	RateLimits func(ctx context.Context, installationID int64) (RateLimit, error)

	Now func() time.Time
	Log zerolog.Logger
}

// Dashboard is the /ui handler.
type Dashboard struct {
	o      Options
	signer signer
	secure bool
	pages  map[string]*template.Template
	cache  *cache
	mux    *http.ServeMux

	permMu sync.Mutex
	perms  map[string]permEntry // login and repository -> permission read, for repoAllowed
}

// New builds the dashboard.
func New(o Options) (*Dashboard, error) {
	if o.Store == nil || o.Clients == nil {
		return nil, errors.New("dashboard: a store and GitHub clients are required")
	}
	if len(o.SessionKey) < 16 {
		return nil, errors.New("dashboard: a session key of at least 16 bytes is required")
	}
	if o.BaseURL == "" {
		return nil, errors.New("dashboard: the base URL (public_url) is required for GitHub's callback")
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = 8 * time.Hour
	}
	if o.Refresh <= 0 {
		o.Refresh = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	o.BaseURL = strings.TrimRight(o.BaseURL, "/")
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	d := &Dashboard{o: o, signer: signer{key: o.SessionKey}, secure: strings.HasPrefix(o.BaseURL, "https://"), pages: pages, perms: map[string]permEntry{}}
	d.cache = newCache(o.Store, o.RepoFacets, o.Refresh, o.Now, o.Log)
	d.routes()
	return d, nil
}

func (d *Dashboard) now() time.Time { return d.o.Now().UTC() }

// Handler serves everything under Prefix.
func (d *Dashboard) Handler() http.Handler { return headers(d.mux) }

func (d *Dashboard) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /ui/{$}", d.authed(d.home))
	m.HandleFunc("GET /ui/login", d.login)
	m.HandleFunc("GET /ui/auth/start", d.start)
	m.HandleFunc("GET /ui/auth/callback", d.callback)
	m.HandleFunc("POST /ui/logout", d.logout)
	m.HandleFunc("GET /ui/style.css", d.style)
	m.HandleFunc("GET /ui/org/{org}", d.authed(d.orgPage))
	m.HandleFunc("GET /ui/org/{org}/ops", d.authed(d.opsPage))
	m.HandleFunc("GET /ui/org/{org}/ops/{table}", d.authed(d.opsExport))
	m.HandleFunc("GET /ui/org/{org}/export/{table}", d.authed(d.orgExport))
	m.HandleFunc("GET /ui/go", d.authed(d.goRepo))
	m.HandleFunc("GET /ui/repo/{owner}/{name}", d.authed(d.repoPage))
	m.HandleFunc("GET /ui/repo/{owner}/{name}/export/{table}", d.authed(d.repoExport))
	d.mux = m
}

// headers are the dashboard's answer headers: nothing may run, be framed or be
// cached; the only style sheet is the embedded one.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if r.URL.Path != "/ui/style.css" {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// authed lets a request with a valid session through; anyone else goes to the login
// page, which is all there is without a session.
func (d *Dashboard) authed(next func(http.ResponseWriter, *http.Request, Session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s, ok := d.session(r)
		if !ok {
			http.Redirect(w, r, "/ui/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next(w, r, s)
	}
}

func (d *Dashboard) style(w http.ResponseWriter, _ *http.Request) {
	b, err := files.ReadFile("templates/style.css")
	if err != nil {
		http.Error(w, "style sheet missing", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(b)
}

// home sends a user who sees one org to it, and lists the orgs otherwise.
func (d *Dashboard) home(w http.ResponseWriter, r *http.Request, s Session) {
	if len(s.Orgs) == 1 && len(s.RepoPerms) == 0 {
		http.Redirect(w, r, "/ui/org/"+url.PathEscape(s.Orgs[0]), http.StatusSeeOther)
		return
	}
	d.render(w, r, http.StatusOK, "home", page{Title: "escapegate", Session: &s, Data: s})
}

// goRepo opens the page of the repository named in the form (owner/name).
func (d *Dashboard) goRepo(w http.ResponseWriter, r *http.Request, _ Session) {
	rp, err := gh.ParseRepo(strings.TrimSpace(r.URL.Query().Get("repo")))
	if err != nil {
		http.Redirect(w, r, Prefix, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/ui/repo/"+url.PathEscape(rp.Owner)+"/"+url.PathEscape(rp.Name), http.StatusSeeOther)
}

// page is what every template gets.
type page struct {
	Title   string
	Session *Session
	Org     string
	AsOf    time.Time
	Data    any
}

func (d *Dashboard) render(w http.ResponseWriter, r *http.Request, status int, name string, p page) {
	t, ok := d.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		d.o.Log.Error().Err(err).Str("page", name).Msg("dashboard page failed")
		http.Error(w, "the page could not be rendered", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail renders an error page; what the user sees never holds more than err's text, and
// errors here name repositories and GitHub answers, never a secret (none is stored).
func (d *Dashboard) fail(w http.ResponseWriter, r *http.Request, s *Session, status int, msg string) {
	d.render(w, r, status, "error", page{Title: http.StatusText(status), Session: s, Data: msg})
}

// parsePages parses each page with the shared layout and table templates.
func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"export": func(base, format string) string {
			if strings.Contains(base, "?") {
				return base + "&format=" + format
			}
			return base + "?format=" + format
		},
		"pct":      render.Percent,
		"interval": render.Interval,
		"xofn":     render.XOfN,
		"date":     render.Date,
		"arrow":    render.TrendArrow,
		"stamp":    stamp,
		"pathesc":  url.PathEscape,
	}
	out := map[string]*template.Template{}
	for _, name := range []string{"login", "home", "org", "repo", "ops", "error"} {
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/table.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("dashboard template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// installation finds the live installation of org in the store.
func (d *Dashboard) installation(ctx context.Context, org string) (store.Installation, error) {
	in, err := summary.FindInstallation(ctx, d.o.Store, org)
	if err != nil {
		return store.Installation{}, fmt.Errorf("org %s: %w", org, err)
	}
	return in, nil
}
