package fakegithub

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"
)

// installation is what the fake knows of an installation besides its repositories.
type installation struct {
	account     string
	accountType string
	createdAt   time.Time
	suspended   bool
}

// SetInstallationAccount names the account an installation belongs to (by default the
// owner of its first repository, an Organization).
func (f *Server) SetInstallationAccount(id int64, account, accountType string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.installation(id)
	in.account, in.accountType = account, accountType
}

// SuspendInstallation suspends (or unsuspends) an installation: it is listed with
// suspended_at, and it gets no installation token.
func (f *Server) SuspendInstallation(id int64, suspended bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.installation(id).suspended = suspended
}

// RemoveInstallation uninstalls the app from an installation's account.
func (f *Server) RemoveInstallation(id int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.installations, id)
	delete(f.instInfo, id)
}

// RemoveInstallationRepos takes repositories out of an installation.
func (f *Server) RemoveInstallationRepos(id int64, repos ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	kept := f.installations[id][:0]
	for _, r := range f.installations[id] {
		drop := false
		for _, x := range repos {
			drop = drop || strings.EqualFold(r, x)
		}
		if !drop {
			kept = append(kept, r)
		}
	}
	f.installations[id] = kept
}

// installation returns the details of installation id, creating them; the caller holds f.mu.
func (f *Server) installation(id int64) *installation {
	if f.instInfo == nil {
		f.instInfo = map[int64]*installation{}
	}
	in, ok := f.instInfo[id]
	if !ok {
		in = &installation{accountType: "Organization", createdAt: f.now().UTC().Truncate(time.Second)}
		f.instInfo[id] = in
	}
	if in.account == "" {
		if rs := f.installations[id]; len(rs) > 0 {
			in.account, _, _ = strings.Cut(rs[0], "/")
		}
	}
	return in
}

func (f *Server) installationJSON(id int64) map[string]any {
	in := f.installation(id)
	var suspendedAt, suspendedBy any
	if in.suspended {
		suspendedAt, suspendedBy = in.createdAt.Add(time.Hour).Format(time.RFC3339), user(in.account)
	}
	acct := user(in.account)
	acct["type"] = in.accountType
	target := "Organization"
	if in.accountType == "User" {
		target = "User"
	}
	return map[string]any{
		"id": id, "account": acct, "app_id": f.app.ID, "app_slug": f.app.Slug, "target_id": len(in.account), "target_type": target,
		"repository_selection": "selected", "single_file_name": nil,
		"access_tokens_url": fmt.Sprintf("%s/app/installations/%d/access_tokens", f.base(), id),
		"repositories_url":  f.base() + "/installation/repositories",
		"html_url":          fmt.Sprintf("https://github.com/organizations/%s/settings/installations/%d", in.account, id),
		"permissions":       map[string]string{"checks": "write", "contents": "read", "issues": "write", "pull_requests": "write", "members": "read", "metadata": "read"},
		"events":            []string{"check_run", "check_suite", "pull_request", "push", "release", "deployment_status"},
		"created_at":        in.createdAt.Format(time.RFC3339), "updated_at": in.createdAt.Format(time.RFC3339),
		"suspended_at": suspendedAt, "suspended_by": suspendedBy,
	}
}

// listInstallations serves GET /app/installations (page pagination, by id).
func (f *Server) listInstallations(c *call) {
	if !f.appJWT(c) {
		return
	}
	ids := make([]int64, 0, len(f.installations))
	for id := range f.installations {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	from, to := c.page(len(ids))
	out := make([]map[string]any, 0, to-from)
	for _, id := range ids[from:to] {
		out = append(out, f.installationJSON(id))
	}
	writeJSON(c.w, http.StatusOK, out)
}
