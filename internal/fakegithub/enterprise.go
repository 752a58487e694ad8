package fakegithub

import (
	"net/http"
	"strings"
)

// NewEnterprise starts a fake GitHub Enterprise Server: the REST API is served only
// under /api/v3/ (URL says so; a path outside it answers 404, as GHES's web server
// would for an API call), answers carry no rate-limit headers and GET /rate_limit
// answers 404 (GHES ships with rate limits off), and the web pages of the manifest flow
// stay at the root, where GHES serves them.
func NewEnterprise() *Server {
	f := New()
	f.enterprise.Store(true)
	return f
}

// Enterprise reports whether f is a fake GitHub Enterprise Server (NewEnterprise).
func (f *Server) Enterprise() bool { return f.enterprise.Load() }

// enterprisePath answers a request GHES would not serve as the API and reports
// whether it did; the caller holds f.mu.
func (f *Server) enterprisePath(w http.ResponseWriter, r *http.Request) bool {
	if !f.enterprise.Load() {
		return false
	}
	p := r.URL.EscapedPath()
	web := r.Method == http.MethodPost && (p == "/settings/apps/new" ||
		(strings.HasPrefix(p, "/organizations/") && strings.HasSuffix(p, "/settings/apps/new")))
	switch {
	case web:
		return false
	case !strings.HasPrefix(p, "/api/v3/"):
		writeNotFound(w, "")
		return true
	case p == "/api/v3/rate_limit":
		writeError(w, http.StatusNotFound, "Rate limiting is not enabled.", "https://docs.github.com/enterprise-server@3.19/rest/rate-limit/rate-limit#get-rate-limit-status-for-the-authenticated-user")
		return true
	}
	return false
}
