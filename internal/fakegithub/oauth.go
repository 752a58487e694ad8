package fakegithub

import (
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// GitHub's web sign-in for apps (the dashboard's "Sign in with GitHub"): the authorize
// page, the code exchange and GET /user with the user's token.
const docOAuth = "https://docs.github.com/apps/creating-github-apps/authenticating-with-a-github-app/generating-a-user-access-token-for-a-github-app"

type oauthState struct {
	clients  map[string]string // client id -> secret
	user     string            // who is signed in to the fake's web UI ("" asks)
	codes    map[string]*oauthCode
	tokens   map[string]string // user token -> login
	limits   map[int64]int     // installation -> remaining
	codeLife time.Duration
	topics   map[string][]string          // lower-case repository -> topics
	props    map[string]map[string]string // lower-case repository -> custom property values
	noProps  bool                         // GET /orgs/{org}/properties/values answers 403
}

type oauthCode struct {
	client, redirect, login string
	at                      time.Time
	used                    bool
}

func (f *Server) oauth() *oauthState {
	if f.oauthS == nil {
		f.oauthS = &oauthState{clients: map[string]string{}, codes: map[string]*oauthCode{}, tokens: map[string]string{}, limits: map[int64]int{}, codeLife: 10 * time.Minute,
			topics: map[string][]string{}, props: map[string]map[string]string{}}
	}
	return f.oauthS
}

// SetOAuthClient registers an app's OAuth client id and secret.
func (f *Server) SetOAuthClient(id, secret string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth().clients[id] = secret
}

// SetWebUser says who is signed in to GitHub in "the browser": the authorize page then
// redirects at once, as GitHub does for a user who authorized the app before. With ""
// it shows a form that asks for a login.
func (f *Server) SetWebUser(login string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth().user = login
}

// SetRateRemaining makes GET /rate_limit report remaining calls for an installation's token.
func (f *Server) SetRateRemaining(installation int64, remaining int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth().limits[installation] = remaining
}

// SetTopics sets a repository's topics (listed with the repository, as GitHub does).
func (f *Server) SetTopics(repo string, topics ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth().topics[strings.ToLower(repo)] = topics
}

// SetCustomProperty sets a repository's custom property value (GET /orgs/{org}/properties/values).
func (f *Server) SetCustomProperty(repo, name, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o := f.oauth()
	k := strings.ToLower(repo)
	if o.props[k] == nil {
		o.props[k] = map[string]string{}
	}
	o.props[k][name] = value
}

// DenyCustomProperties makes GET /orgs/{org}/properties/values answer 403, as for an app
// without the organization_custom_properties permission.
func (f *Server) DenyCustomProperties(deny bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.oauth().noProps = deny
}

// addFacets adds a repository's topics to its JSON; the caller holds f.mu.
func (f *Server) addFacets(m map[string]any, repo string) {
	if f.oauthS == nil {
		return
	}
	if t := f.oauthS.topics[strings.ToLower(repo)]; len(t) > 0 {
		m["topics"] = t
	}
}

// propertyValues is GET /orgs/{org}/properties/values: the org's repositories that have
// custom property values, paged.
func (f *Server) propertyValues(c *call) {
	o := f.oauth()
	const doc = "https://docs.github.com/rest/orgs/custom-properties#list-custom-property-values-for-organization-repositories"
	if o.noProps {
		writeError(c.w, http.StatusForbidden, "Resource not accessible by integration", doc)
		return
	}
	var names []string
	for k := range o.props {
		if strings.HasPrefix(k, strings.ToLower(c.segs[1])+"/") {
			names = append(names, k)
		}
	}
	sort.Strings(names)
	from, to := c.page(len(names))
	out := make([]map[string]any, 0, to-from)
	for _, k := range names[from:to] {
		r := f.repo(k)
		var ps []map[string]any
		keys := make([]string, 0, len(o.props[k]))
		for p := range o.props[k] {
			keys = append(keys, p)
		}
		sort.Strings(keys)
		for _, p := range keys {
			ps = append(ps, map[string]any{"property_name": p, "value": o.props[k][p]})
		}
		out = append(out, map[string]any{"repository_id": r.id, "repository_name": r.name, "repository_full_name": r.fullName(), "properties": ps})
	}
	writeJSON(c.w, http.StatusOK, out)
}

// routeOAuth serves the web sign-in and the user endpoints; false when c is none of them.
// The caller holds f.mu.
func (f *Server) routeOAuth(c *call) bool {
	switch {
	case c.is("GET", "login", "oauth", "authorize"):
		f.authorize(c, c.r.URL.Query())
	case c.is("POST", "login", "oauth", "authorize"):
		form, _ := url.ParseQuery(string(c.body))
		f.authorize(c, form)
	case c.is("POST", "login", "oauth", "access_token"):
		f.accessToken(c)
	case c.is("GET", "user"):
		f.getUser(c)
	case c.is("GET", "rate_limit"):
		f.rateLimit(c)
	case c.is("GET", "orgs", "*", "properties", "values"):
		f.propertyValues(c)
	default:
		return false
	}
	return true
}

var authorizePage = template.Must(template.New("a").Parse(`<!doctype html><html><body>
<h1>Sign in to the fake GitHub</h1><p>to continue to the app {{.Client}}</p>
<form method="post" action="/login/oauth/authorize">
<input type="hidden" name="client_id" value="{{.Client}}"><input type="hidden" name="redirect_uri" value="{{.Redirect}}"><input type="hidden" name="state" value="{{.State}}">
<label>Username <input name="login" autofocus></label> <button type="submit">Sign in and authorize</button></form>
<p>Demo users: sec-lead (member of acme/security), bob (not a member).</p></body></html>`))

func (f *Server) authorize(c *call, q url.Values) {
	o := f.oauth()
	client, redirect := q.Get("client_id"), q.Get("redirect_uri")
	if _, ok := o.clients[client]; !ok {
		http.Error(c.w, "The client_id is not known to this fake GitHub.", http.StatusNotFound)
		return
	}
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme == "" || ru.Host == "" {
		http.Error(c.w, "The redirect_uri MUST match the registered callback URL for this application.", http.StatusBadRequest)
		return
	}
	login := o.user
	if c.r.Method == http.MethodPost {
		login = strings.TrimSpace(q.Get("login"))
	}
	if login == "" {
		c.w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = authorizePage.Execute(c.w, map[string]string{"Client": client, "Redirect": redirect, "State": q.Get("state")})
		return
	}
	code := randHex(10)
	o.codes[code] = &oauthCode{client: client, redirect: redirect, login: login, at: f.now()}
	rq := ru.Query()
	rq.Set("code", code)
	if st := q.Get("state"); st != "" {
		rq.Set("state", st)
	}
	ru.RawQuery = rq.Encode()
	http.Redirect(c.w, c.r, ru.String(), http.StatusFound)
}

// accessToken answers as GitHub does: 200 with an error field for a bad code or client.
func (f *Server) accessToken(c *call) {
	o := f.oauth()
	form, _ := url.ParseQuery(string(c.body))
	fail := func(e string) {
		writeJSON(c.w, http.StatusOK, map[string]any{"error": e, "error_description": e, "error_uri": docOAuth})
	}
	if secret, ok := o.clients[form.Get("client_id")]; !ok || secret != form.Get("client_secret") {
		fail("incorrect_client_credentials")
		return
	}
	code, ok := o.codes[form.Get("code")]
	if !ok || code.used || code.client != form.Get("client_id") || f.now().Sub(code.at) > o.codeLife {
		fail("bad_verification_code")
		return
	}
	if r := form.Get("redirect_uri"); r != "" && r != code.redirect {
		fail("redirect_uri_mismatch")
		return
	}
	code.used = true
	tok := "ghu_" + randHex(18)
	o.tokens[tok] = code.login
	writeJSON(c.w, http.StatusOK, map[string]any{"access_token": tok, "token_type": "bearer", "scope": "", "expires_in": 28800})
}

func (f *Server) getUser(c *call) {
	tok := strings.TrimPrefix(strings.TrimPrefix(c.r.Header.Get("Authorization"), "Bearer "), "token ")
	login, ok := f.oauth().tokens[tok]
	if !ok {
		writeError(c.w, http.StatusUnauthorized, "Requires authentication", "https://docs.github.com/rest/users/users#get-the-authenticated-user")
		return
	}
	u := user(login)
	u["name"] = login
	writeJSON(c.w, http.StatusOK, u)
}

// rateLimit is GET /rate_limit for an installation token (any other caller gets the
// defaults); it does not count against the limit, as on GitHub.
func (f *Server) rateLimit(c *call) {
	remaining := 4999
	tok := strings.TrimPrefix(strings.TrimPrefix(c.r.Header.Get("Authorization"), "Bearer "), "token ")
	if id, ok := f.tokens[tok]; ok {
		if n, ok := f.oauth().limits[id]; ok {
			remaining = n
		}
	}
	reset := f.now().Add(time.Hour).Unix()
	core := map[string]any{"limit": 5000, "remaining": remaining, "used": 5000 - remaining, "reset": reset, "resource": "core"}
	writeJSON(c.w, http.StatusOK, map[string]any{"resources": map[string]any{"core": core}, "rate": core})
}
