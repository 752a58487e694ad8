package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/escapegate/escapegate/app/gh"
	"github.com/escapegate/escapegate/app/policy"
	"github.com/escapegate/escapegate/store"
)

// login is the one page served without a session.
func (d *Dashboard) login(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.URL.Query().Get("next"))
	data := map[string]any{"Start": "/ui/auth/start?next=" + url.QueryEscape(next), "Configured": d.o.ClientID != "" && d.o.ClientSecret != ""}
	d.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Data: data})
}

// safeNext keeps a return path inside the dashboard (no open redirect).
func safeNext(n string) string {
	path, _, _ := strings.Cut(n, "?")
	if !strings.HasPrefix(n, Prefix) || strings.HasPrefix(n, "//") || strings.ContainsAny(n, "\\\r\n") || strings.Contains(path, "/..") || strings.Contains(path, "%") {
		return Prefix
	}
	return n
}

// start sends the browser to GitHub's authorize page with a fresh state, kept in a
// signed flow cookie: the callback takes only the state this browser was given.
func (d *Dashboard) start(w http.ResponseWriter, r *http.Request) {
	if d.o.ClientID == "" || d.o.ClientSecret == "" {
		d.fail(w, r, nil, http.StatusServiceUnavailable, "Sign-in is not configured: set github.oauth.client_id and github.oauth.client_secret (escapegate register saves them).")
		return
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		d.fail(w, r, nil, http.StatusInternalServerError, "no randomness for the sign-in state")
		return
	}
	f := flow{State: hex.EncodeToString(b[:]), Next: safeNext(r.URL.Query().Get("next")), Expires: d.now().Add(flowTTL).Unix()}
	v, err := d.signer.sign("flow", f)
	if err != nil {
		d.fail(w, r, nil, http.StatusInternalServerError, "sign-in could not start")
		return
	}
	http.SetCookie(w, d.cookie(flowCookie, v, flowTTL))
	q := url.Values{"client_id": {d.o.ClientID}, "redirect_uri": {d.callbackURL()}, "state": {f.State}, "allow_signup": {"false"}}
	http.Redirect(w, r, strings.TrimRight(d.o.WebURL, "/")+"/login/oauth/authorize?"+q.Encode(), http.StatusFound)
}

func (d *Dashboard) callbackURL() string { return d.o.BaseURL + "/ui/auth/callback" }

// callback checks the state against the flow cookie, exchanges the code for a user
// token, asks GitHub who the user is, and decides which orgs they may see. The user
// token is used for GET /user only and is not kept.
func (d *Dashboard) callback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var f flow
	c, err := r.Cookie(flowCookie)
	if err != nil || d.signer.verify("flow", c.Value, d.now(), &f, func() int64 { return f.Expires }) != nil ||
		subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(f.State)) != 1 || f.State == "" {
		d.fail(w, r, nil, http.StatusBadRequest, "This sign-in was not started here, or took too long. Start again from the login page.")
		return
	}
	http.SetCookie(w, d.cookie(flowCookie, "", 0)) // one use
	if e := q.Get("error"); e != "" {
		d.fail(w, r, nil, http.StatusForbidden, "GitHub did not sign you in: "+e)
		return
	}
	ctx := r.Context()
	token, err := d.exchange(ctx, q.Get("code"))
	if err != nil {
		d.o.Log.Warn().Err(err).Msg("dashboard sign-in: code exchange failed")
		d.fail(w, r, nil, http.StatusBadGateway, "GitHub did not accept the sign-in code. Start again from the login page.")
		return
	}
	login, err := d.user(ctx, token)
	if err != nil {
		d.o.Log.Warn().Err(err).Msg("dashboard sign-in: GET /user failed")
		d.fail(w, r, nil, http.StatusBadGateway, "GitHub did not say who you are. Start again from the login page.")
		return
	}
	acc, err := d.visibleOrgs(ctx, login)
	if err != nil {
		d.o.Log.Warn().Err(err).Str("user", login).Msg("dashboard sign-in: membership check failed")
		d.fail(w, r, nil, http.StatusBadGateway, "escapegate could not check your team membership on GitHub. Try again later.")
		return
	}
	if len(acc.orgs) == 0 && len(acc.repoPerms) == 0 {
		d.o.Log.Info().Str("user", login).Msg("dashboard sign-in refused: not an active member of an approver team")
		d.fail(w, r, nil, http.StatusForbidden, fmt.Sprintf("@%s is not an active member of a team that may see an organization's escape rate (the org policy's override.approvers.teams, or ui.teams).", login))
		return
	}
	s := Session{Login: login, Orgs: acc.orgs, RepoPerms: acc.repoPerms, Expires: d.now().Add(d.o.SessionTTL).Unix()}
	v, err := d.signer.sign("session", s)
	if err != nil {
		d.fail(w, r, nil, http.StatusInternalServerError, "the session could not be made")
		return
	}
	d.o.Log.Info().Str("user", login).Strs("orgs", acc.orgs).Msg("dashboard sign-in")
	http.SetCookie(w, d.cookie(sessionCookie, v, d.o.SessionTTL))
	http.Redirect(w, r, f.Next, http.StatusSeeOther)
}

func (d *Dashboard) logout(w http.ResponseWriter, r *http.Request) {
	// SameSite=Lax keeps other sites' forms from sending the cookie; a logout needs none.
	http.SetCookie(w, d.cookie(sessionCookie, "", 0))
	http.Redirect(w, r, "/ui/login", http.StatusSeeOther)
}

// exchange trades the callback's code for a user access token.
func (d *Dashboard) exchange(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", errors.New("no code")
	}
	form := url.Values{"client_id": {d.o.ClientID}, "client_secret": {d.o.ClientSecret}, "code": {code}, "redirect_uri": {d.callbackURL()}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(d.o.WebURL, "/")+"/login/oauth/access_token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	var out struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	if err := d.doJSON(req, &out); err != nil {
		return "", fmt.Errorf("access token: %w", err)
	}
	if out.Error != "" || out.AccessToken == "" {
		// GitHub answers 200 with an error field (bad_verification_code, ...).
		return "", fmt.Errorf("access token: GitHub answered %q", out.Error)
	}
	return out.AccessToken, nil
}

// user asks GitHub whose token it is.
func (d *Dashboard) user(ctx context.Context, token string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(d.o.APIURL, "/")+"/user", nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json")
	var u struct {
		Login string `json:"login"`
	}
	if err := d.doJSON(req, &u); err != nil {
		return "", fmt.Errorf("GET /user: %w", err)
	}
	if u.Login == "" {
		return "", errors.New("GET /user: no login")
	}
	return u.Login, nil
}

func (d *Dashboard) doJSON(req *http.Request, v any) error {
	resp, err := d.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GitHub answered %s", resp.Status)
	}
	return json.Unmarshal(body, v)
}

// access is what a sign-in may see: whole orgs (an active member of a viewer team:
// ui.teams, else the org policy's override.approvers.teams), and, in orgs whose policy
// lets a repository permission approve (override.approvers.permission), the pages of
// the repositories where the user has that permission, checked when one is opened.
// These are the people who may accept a risk there (gate.Approver's rule).
type access struct {
	orgs      []string
	repoPerms map[string]string // lower-case org -> the permission that opens a repository
}

// visibleOrgs decides access for login over every live organization installation,
// asking GitHub with the app's installation token.
func (d *Dashboard) visibleOrgs(ctx context.Context, login string) (access, error) {
	insts, err := d.o.Store.ListInstallations(ctx)
	if err != nil {
		return access{}, fmt.Errorf("listing installations: %w", err)
	}
	a := access{repoPerms: map[string]string{}}
	for _, in := range insts {
		if !in.DeletedAt.IsZero() || in.AccountType != "Organization" {
			continue
		}
		c, err := d.o.Clients(in.ID)
		if err != nil {
			return access{}, fmt.Errorf("installation %d client: %w", in.ID, err)
		}
		teams, perm := d.o.Teams, ""
		if d.o.Policy != nil {
			res, err := d.o.Policy(ctx, c, gh.Repo{Owner: in.Account, Name: policy.OrgRepo}, "")
			if err != nil {
				return access{}, fmt.Errorf("policy of %s: %w", in.Account, err)
			}
			if len(teams) == 0 {
				teams = res.Policy.Override.Approvers.Teams
			}
			perm = res.Policy.Override.Approvers.Permission
		}
		member := false
		for _, t := range teams {
			org, slug, _ := strings.Cut(teamRef(in.Account, t), "/")
			st, err := c.TeamMembershipState(ctx, org, slug, login)
			if err != nil && !errors.Is(err, gh.ErrNotFound) {
				return access{}, fmt.Errorf("membership of %s in %s/%s: %w", login, org, slug, err)
			}
			if st == "active" {
				member = true
				break
			}
		}
		switch {
		case member:
			a.orgs = append(a.orgs, in.Account)
		case perm != "":
			a.repoPerms[strings.ToLower(in.Account)] = perm
		}
	}
	slices.SortFunc(a.orgs, func(x, y string) int { return strings.Compare(strings.ToLower(x), strings.ToLower(y)) })
	a.orgs = slices.Compact(a.orgs)
	return a, nil
}

// teamRef names a team as org/slug whether policy wrote "slug", "org/slug" or
// "@org/slug", as the override check reads it.
func teamRef(owner, t string) string {
	t = strings.TrimPrefix(strings.TrimSpace(t), "@")
	if strings.Contains(t, "/") {
		return t
	}
	return owner + "/" + t
}

// permCacheTTL is how long a repository permission read at a page view is trusted.
const permCacheTTL = 5 * time.Minute

// repoAllowed reports whether s may open repo's page without seeing its whole org: the
// org's policy lets permission approve, and GitHub says login has it on repo.
func (d *Dashboard) repoAllowed(ctx context.Context, s Session, inst store.Installation, repo string) (bool, error) {
	want, ok := s.RepoPerms[strings.ToLower(inst.Account)]
	if !ok || want == "" {
		return false, nil
	}
	key := strings.ToLower(s.Login + "\x00" + repo)
	d.permMu.Lock()
	if p, ok := d.perms[key]; ok && d.now().Sub(p.at) < permCacheTTL {
		d.permMu.Unlock()
		return policy.PermissionRank(p.got) >= policy.PermissionRank(want), nil
	}
	d.permMu.Unlock()
	c, err := d.o.Clients(inst.ID)
	if err != nil {
		return false, fmt.Errorf("installation %d client: %w", inst.ID, err)
	}
	r, err := gh.ParseRepo(repo)
	if err != nil {
		return false, err
	}
	got, err := c.Permission(ctx, r, s.Login)
	if errors.Is(err, gh.ErrNotFound) {
		got, err = "none", nil
	}
	if err != nil {
		return false, fmt.Errorf("permission of %s on %s: %w", s.Login, repo, err)
	}
	d.permMu.Lock()
	if len(d.perms) > 10_000 { // bounded: forget everything rather than grow
		d.perms = map[string]permEntry{}
	}
	d.perms[key] = permEntry{got: got, at: d.now()}
	d.permMu.Unlock()
	return policy.PermissionRank(got) >= policy.PermissionRank(want), nil
}

type permEntry struct {
	got string
	at  time.Time
}
