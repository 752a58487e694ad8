// Package fakegithub is an in-memory GitHub REST server on httptest. It serves
// the endpoints escapegate calls, answering as GitHub does (status codes, JSON
// field names, Link pagination, ETag and 304, 404 and 422 shapes), keeps state
// that tests set up and read back, records every request, and can inject rate
// limits and server errors. It is used by tests and by `escapegate demo`.
package fakegithub

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/go-github/v62/github"
)

// maxBody bounds a request body; GitHub refuses far smaller ones too.
const maxBody = 32 << 20

// Request is one recorded request: the path as sent (escaped, with its query) and the body as JSON.
type Request struct {
	Method string          `json:"method"`
	Path   string          `json:"path"`
	Body   json.RawMessage `json:"body"`
}

// FaultKind says how an injected fault answers.
type FaultKind int

const (
	// PrimaryRateLimit answers 403 with x-ratelimit-remaining: 0 and x-ratelimit-reset.
	PrimaryRateLimit FaultKind = iota + 1
	// SecondaryRateLimit answers 429 with retry-after.
	SecondaryRateLimit
	// ServerError answers 500.
	ServerError
	// BadGateway answers 502, as GitHub's front end does when the API behind it fails.
	BadGateway
	// SecondaryRateLimitForbidden answers 403 with retry-after and a body naming the
	// secondary rate limit (GitHub answers secondary limits with 403 as well as 429).
	SecondaryRateLimitForbidden
	// Disconnect closes the connection without answering.
	Disconnect
)

// Fault makes matching requests fail the next Times times.
type Fault struct {
	Method string // "" matches any method
	Path   string // prefix of the unescaped path (without /api/v3); "" matches any
	Kind   FaultKind
	Times  int
	// Wait is the reset (primary) or retry-after (secondary) delay; whole seconds are sent.
	Wait time.Duration
	// Apply carries the request out before answering with the fault, as when GitHub did
	// the work but its answer was lost (a 5xx or a dropped connection after a write).
	Apply bool
}

// App describes the GitHub App that the fake hosts.
type App struct {
	ID   int64
	Slug string
	Name string
	// Owner is the login of the account that owns the app.
	Owner string
}

// Server is the fake GitHub. Its methods are safe for concurrent use.
type Server struct {
	ts  *httptest.Server
	now func() time.Time

	mu            sync.Mutex
	lastID        int64
	repos         map[string]*repoState
	teams         map[string]map[string]string
	requests      []Request
	faults        []*Fault
	app           App
	appKey        *rsa.PublicKey
	installations map[int64][]string // installation id -> repositories
	manifestCodes map[string]*manifestCode
	manifestApps  []ManifestApp
	instInfo      map[int64]*installation
	tokens        map[string]int64 // installation token -> installation id
	hooks         hooks
	onCompleted   func(repo, headSHA, conclusion string)
	revoked       []string // credentials sent to POST /credentials/revoke (the fake keeps them; the app must not)
	revokeCalls   int

	issueNow  func() time.Time // stamps issues and pulls (issues.go)
	searchLag int              // requests before search finds a new issue; < 0: never (issues.go)

	enterprise atomic.Bool // see NewEnterprise (enterprise.go)
	oauthS     *oauthState // web sign-in (oauth.go)
}

// New starts a fake GitHub; Close stops it.
func New() *Server {
	f := &Server{
		now:           time.Now,
		issueNow:      time.Now,
		repos:         map[string]*repoState{},
		teams:         map[string]map[string]string{},
		app:           App{ID: 1, Slug: "escapegate", Name: "escapegate", Owner: "escapegate"},
		installations: map[int64][]string{},
		tokens:        map[string]int64{},
	}
	f.ts = httptest.NewServer(http.HandlerFunc(f.serve))
	return f
}

// Close shuts the server down.
func (f *Server) Close() { f.ts.Close() }

// URL is the REST API's base URL, with a trailing slash (serve it as github.v3_api_url).
// Paths under /api/v3/ are served too, as GitHub Enterprise Server does.
func (f *Server) URL() string {
	if f.enterprise.Load() {
		return f.ts.URL + "/api/v3/"
	}
	return f.ts.URL + "/"
}

// HTTPClient returns an HTTP client for the server.
func (f *Server) HTTPClient() *http.Client { return f.ts.Client() }

// GitHubClient returns a go-github client that talks to the fake.
func (f *Server) GitHubClient() *github.Client {
	c := github.NewClient(f.ts.Client())
	c, err := c.WithEnterpriseURLs(f.URL(), f.URL())
	if err != nil { // cannot happen: URL() is a valid httptest URL
		return github.NewClient(f.ts.Client())
	}
	return c
}

// App returns the app the fake GitHub serves.
func (f *Server) App() App {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.app
}

// SetApp sets the app that GET /app describes.
func (f *Server) SetApp(a App) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.app = a
}

// SetAppKey makes POST /app/installations/{id}/access_tokens and GET /app verify
// the JWT (RS256, iss = the app id) against key; without a key any Bearer token is accepted.
func (f *Server) SetAppKey(key *rsa.PublicKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.appKey = key
}

// AddInstallation makes repositories ("owner/name") visible to installation id.
func (f *Server) AddInstallation(id int64, repos ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range repos {
		f.repo(r)
	}
	f.installations[id] = append(f.installations[id], repos...)
}

// InjectFault makes the next ft.Times matching requests fail as ft.Kind says.
func (f *Server) InjectFault(ft Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft.Times <= 0 {
		ft.Times = 1
	}
	f.faults = append(f.faults, &ft)
}

// ClearFaults forgets every injected fault not used up yet.
func (f *Server) ClearFaults() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = nil
}

// PendingFaults counts the injected faults' times not used up yet.
func (f *Server) PendingFaults() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, ft := range f.faults {
		n += ft.Times
	}
	return n
}

// CallsByEndpoint counts the requests received so far by endpoint (Endpoint).
func (f *Server) CallsByEndpoint() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, r := range f.requests {
		out[Endpoint(r.Method, r.Path)]++
	}
	return out
}

// Endpoint names a request by its method and path with numbers and commit ids as {n}
// ("GET /repos/acme/app/pulls/{n}/files"), query and /api/v3 left out.
func Endpoint(method, path string) string {
	p, _, _ := strings.Cut(path, "?")
	p = strings.TrimPrefix(p, "/api/v3")
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if isNumberOrSHA(s) {
			segs[i] = "{n}"
		}
	}
	return method + " " + strings.Join(segs, "/")
}

func isNumberOrSHA(s string) bool {
	if s == "" {
		return false
	}
	digits, hexes := true, len(s) == 40
	for _, c := range s {
		digits = digits && c >= '0' && c <= '9'
		hexes = hexes && (c >= '0' && c <= '9' || c >= 'a' && c <= 'f')
	}
	return digits || hexes
}

// Requests returns every request received so far, in order.
func (f *Server) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.requests...)
}

// ResetRequests forgets the recorded requests.
func (f *Server) ResetRequests() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = nil
}

// WriteTranscript writes the recorded requests as JSON lines {"method","path","body"}.
func (f *Server) WriteTranscript(w io.Writer) error {
	enc := json.NewEncoder(w)
	for _, r := range f.Requests() {
		if err := enc.Encode(r); err != nil {
			return fmt.Errorf("write transcript: %w", err)
		}
	}
	return nil
}

// bodyJSON is the body as a JSON value: itself when it is JSON, a JSON string otherwise, null when empty.
func bodyJSON(b []byte) json.RawMessage {
	t := bytes.TrimSpace(b)
	if len(t) == 0 {
		return json.RawMessage("null")
	}
	if json.Valid(t) {
		var buf bytes.Buffer
		if json.Compact(&buf, t) == nil {
			return buf.Bytes()
		}
	}
	s, _ := json.Marshal(string(b))
	return s
}

// serve records the request, applies faults, and routes it.
func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// Never let a bad request take the server down.
		if v := recover(); v != nil {
			writeError(w, http.StatusInternalServerError, fmt.Sprintf("fake github: internal error: %v", v), "")
		}
	}()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "Request body too large", "")
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, Request{Method: r.Method, Path: r.URL.RequestURI(), Body: bodyJSON(body)})

	if f.enterprisePath(w, r) {
		return
	}
	escaped := strings.TrimPrefix(r.URL.EscapedPath(), "/api/v3")
	segs, ok := splitPath(escaped)
	if !ok {
		writeNotFound(w, "")
		return
	}
	if !f.enterprise.Load() {
		f.rateHeaders(w)
	}
	ft := f.takeFault(r.Method, "/"+strings.Join(segs, "/"))
	if ft != nil && !ft.Apply {
		f.writeFault(w, *ft)
		return
	}
	c := &call{w: w, r: r, segs: segs, body: body, f: f}
	if ft == nil && r.Method == http.MethodGet {
		// GitHub gives every GET answer an ETag and answers If-None-Match with 304.
		e := &etagged{h: w.Header()}
		c.w = e
		f.route(c)
		e.flush(w, r)
		return
	}
	if ft == nil {
		f.route(c)
		return
	}
	c.w = &discard{h: http.Header{}}
	f.route(c)
	f.writeFault(w, *ft)
}

// etagged holds a GET's answer until it is complete, to give it an ETag (unless the
// endpoint set its own) and answer a matching If-None-Match with 304, as GitHub does.
type etagged struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (e *etagged) Header() http.Header { return e.h }
func (e *etagged) Write(b []byte) (int, error) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	return e.body.Write(b)
}
func (e *etagged) WriteHeader(status int) {
	if e.status == 0 {
		e.status = status
	}
}

func (e *etagged) flush(w http.ResponseWriter, r *http.Request) {
	if e.status == 0 {
		e.status = http.StatusOK
	}
	if e.status == http.StatusOK {
		etag := e.h.Get("ETag")
		if etag == "" {
			sum := sha256.Sum256(e.body.Bytes())
			etag = `W/"` + hex.EncodeToString(sum[:16]) + `"`
			e.h.Set("ETag", etag)
		}
		if inm := r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, strings.TrimPrefix(etag, "W/")) {
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(e.body.Bytes())
}

// discard is a ResponseWriter that drops the answer (of a request carried out under a fault).
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(b []byte) (int, error) { return len(b), nil }
func (d *discard) WriteHeader(int)             {}

// splitPath unescapes each segment, so that an escaped '/' stays inside its segment.
func splitPath(escaped string) ([]string, bool) {
	raw := strings.Split(strings.Trim(escaped, "/"), "/")
	out := make([]string, 0, len(raw))
	for _, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, false
		}
		out = append(out, u)
	}
	return out, true
}

func (f *Server) rateHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("X-RateLimit-Limit", "5000")
	h.Set("X-RateLimit-Remaining", "4999")
	h.Set("X-RateLimit-Used", "1")
	h.Set("X-RateLimit-Reset", fmt.Sprint(f.now().Add(time.Hour).Unix()))
	h.Set("X-RateLimit-Resource", "core")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
}

// takeFault returns the first injected fault that matches, using one of its times, or
// nil; the caller holds f.mu.
func (f *Server) takeFault(method, path string) *Fault {
	for i, ft := range f.faults {
		if (ft.Method != "" && !strings.EqualFold(ft.Method, method)) || !strings.HasPrefix(path, ft.Path) {
			continue
		}
		ft.Times--
		if ft.Times <= 0 {
			f.faults = append(f.faults[:i], f.faults[i+1:]...)
		}
		return ft
	}
	return nil
}

// writeFault answers as ft says; the caller holds f.mu.
func (f *Server) writeFault(w http.ResponseWriter, ft Fault) {
	secs := int64((ft.Wait + time.Second - 1) / time.Second)
	const secondaryDoc = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"
	switch ft.Kind {
	case PrimaryRateLimit:
		h := w.Header()
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Used", "5000")
		h.Set("X-RateLimit-Reset", fmt.Sprint(f.now().Unix()+secs))
		writeError(w, http.StatusForbidden, "API rate limit exceeded for installation.",
			"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting")
	case SecondaryRateLimit:
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		writeError(w, http.StatusTooManyRequests, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", secondaryDoc)
	case SecondaryRateLimitForbidden:
		w.Header().Set("Retry-After", fmt.Sprint(secs))
		writeError(w, http.StatusForbidden, "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", secondaryDoc)
	case BadGateway:
		writeError(w, http.StatusBadGateway, "Server Error", "")
	case Disconnect:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		writeError(w, http.StatusInternalServerError, "Server Error", "")
	default:
		writeError(w, http.StatusInternalServerError, "Server Error", "")
	}
}

// call is one request being answered.
type call struct {
	w    http.ResponseWriter
	r    *http.Request
	segs []string
	body []byte
	f    *Server
}

// is reports whether the method matches and the path has the given shape ("*" matches any one segment).
func (c *call) is(method string, shape ...string) bool {
	if c.r.Method != method || len(c.segs) != len(shape) {
		return false
	}
	for i, s := range shape {
		if s != "*" && s != c.segs[i] {
			return false
		}
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "fake github: encode response: "+err.Error(), "")
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, msg, doc string) {
	if doc == "" {
		doc = "https://docs.github.com/rest"
	}
	b, _ := json.Marshal(map[string]any{"message": msg, "documentation_url": doc})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeNotFound(w http.ResponseWriter, doc string) {
	writeError(w, http.StatusNotFound, "Not Found", doc)
}

// fieldError is one entry of a 422 "Validation Failed" answer.
type fieldError struct {
	Resource string `json:"resource"`
	Field    string `json:"field"`
	Code     string `json:"code"`
	Message  string `json:"message,omitempty"`
}

func writeValidation(w http.ResponseWriter, doc string, errs []fieldError) {
	b, _ := json.Marshal(map[string]any{"message": "Validation Failed", "errors": errs, "documentation_url": doc})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusUnprocessableEntity)
	_, _ = w.Write(b)
}
