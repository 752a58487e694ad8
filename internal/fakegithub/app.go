package fakegithub

import (
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

const docApps = "https://docs.github.com/rest/apps/apps"

// appJWT checks the Bearer JWT of an app-authenticated request; the caller holds f.mu.
func (f *Server) appJWT(c *call) bool {
	tok, ok := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		writeError(c.w, http.StatusUnauthorized, "A JSON web token could not be decoded", docApps)
		return false
	}
	if f.appKey == nil {
		return true
	}
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(tok, claims, func(t *jwt.Token) (any, error) {
		if _, ok := t.Method.(*jwt.SigningMethodRSA); !ok {
			return nil, fmt.Errorf("unexpected signing method %v", t.Header["alg"])
		}
		return f.appKey, nil
	})
	if err != nil || claims.Issuer != strconv.FormatInt(f.app.ID, 10) {
		writeError(c.w, http.StatusUnauthorized, "'Issuer' claim ('iss') must be an Integer, or the JWT could not be verified", docApps)
		return false
	}
	return true
}

func (f *Server) getApp(c *call) {
	if !f.appJWT(c) {
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"id": f.app.ID, "slug": f.app.Slug, "name": f.app.Name, "node_id": fmt.Sprintf("A_%d", f.app.ID),
		"owner": user(f.app.Owner), "html_url": "https://github.com/apps/" + f.app.Slug,
		"permissions": map[string]string{"checks": "write", "contents": "read", "issues": "write", "pull_requests": "write", "members": "read", "metadata": "read"},
		"events":      []string{"check_run", "check_suite", "pull_request", "push", "release", "deployment_status"},
	})
}

func (f *Server) createToken(c *call) {
	if !f.appJWT(c) {
		return
	}
	id, err := strconv.ParseInt(c.segs[2], 10, 64)
	if err != nil {
		writeNotFound(c.w, docApps+"#create-an-installation-access-token-for-an-app")
		return
	}
	if _, ok := f.installations[id]; !ok && len(f.installations) > 0 {
		writeNotFound(c.w, docApps+"#create-an-installation-access-token-for-an-app")
		return
	}
	if in, ok := f.instInfo[id]; ok && in.suspended {
		writeError(c.w, http.StatusForbidden, "This installation has been suspended", docApps+"#create-an-installation-access-token-for-an-app")
		return
	}
	f.lastID++
	tok := fmt.Sprintf("ghs_fake%d_%d", id, f.lastID)
	f.tokens[tok] = id
	writeJSON(c.w, http.StatusCreated, map[string]any{
		"token": tok, "expires_at": f.now().Add(time.Hour).UTC().Format(time.RFC3339),
		"permissions":          map[string]string{"checks": "write", "contents": "read", "issues": "write", "pull_requests": "write"},
		"repository_selection": "selected",
	})
}

func (f *Server) installationRepos(c *call) {
	auth := c.r.Header.Get("Authorization")
	tok := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(auth, "token "), "Bearer "))
	id, ok := f.tokens[tok]
	if !ok {
		writeError(c.w, http.StatusUnauthorized, "Bad credentials", "https://docs.github.com/rest")
		return
	}
	names := append([]string(nil), f.installations[id]...)
	sort.Strings(names)
	from, to := c.page(len(names))
	repos := make([]map[string]any, 0, to-from)
	for _, n := range names[from:to] {
		repos = append(repos, f.repoJSON(f.repo(n)))
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"total_count": len(names), "repository_selection": "selected", "repositories": repos})
}
