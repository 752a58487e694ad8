package fakegithub

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const (
	maxListedPullFiles = 3000
	maxOutputChars     = 65535
	maxAnnotations     = 50
	docChecks          = "https://docs.github.com/rest/checks/runs"
)

// route dispatches to the endpoint; the caller holds f.mu.
func (f *Server) route(c *call) {
	s := c.segs
	if f.routeOAuth(c) {
		return
	}
	switch {
	case c.is("GET", "app"):
		f.getApp(c)
	case c.is("POST", "app", "installations", "*", "access_tokens"):
		f.createToken(c)
	case c.is("GET", "installation", "repositories"):
		f.installationRepos(c)
	case c.is("GET", "app", "installations"):
		f.listInstallations(c)
	case c.is("GET", "app", "hook", "deliveries"):
		f.listHookDeliveries(c)
	case c.is("POST", "app", "hook", "deliveries", "*", "attempts"):
		f.redeliverHook(c)
	case c.is("POST", "settings", "apps", "new"):
		f.newAppFromManifest(c, "")
	case c.is("POST", "organizations", "*", "settings", "apps", "new"):
		f.newAppFromManifest(c, s[1])
	case c.is("POST", "app-manifests", "*", "conversions"):
		f.convertManifest(c)
	case c.is("GET", "search", "issues"):
		f.searchIssues(c)
	case c.is("GET", "orgs", "*", "teams", "*", "memberships", "*"):
		f.teamMembership(c)
	case c.is("POST", "credentials", "revoke"):
		f.revokeCredentials(c)
	case len(s) >= 3 && s[0] == "repos":
		r, ok := f.lookup(s[1], s[2])
		if !ok {
			writeNotFound(c.w, "https://docs.github.com/rest/repos/repos#get-a-repository")
			return
		}
		f.routeRepo(c, r)
	default:
		writeNotFound(c.w, "")
	}
}

func (f *Server) routeRepo(c *call, r *repoState) {
	s := c.segs
	switch {
	case c.is("GET", "repos", "*", "*"):
		writeJSON(c.w, http.StatusOK, f.repoJSON(r))
	case c.is("GET", "repos", "*", "*", "pulls"):
		f.listPulls(c, r)
	case c.is("GET", "repos", "*", "*", "pulls", "*"):
		if p, ok := pullNumber(r, s[4]); ok {
			writeJSON(c.w, http.StatusOK, f.pullJSON(r, p))
			return
		}
		writeNotFound(c.w, "https://docs.github.com/rest/pulls/pulls#get-a-pull-request")
	case c.is("GET", "repos", "*", "*", "pulls", "*", "files"):
		f.pullFiles(c, r)
	case c.is("GET", "repos", "*", "*", "compare", "*"):
		f.compare(c, r)
	case c.is("POST", "repos", "*", "*", "check-runs"):
		f.createCheckRun(c, r)
	case c.is("PATCH", "repos", "*", "*", "check-runs", "*"):
		f.updateCheckRun(c, r)
	case c.is("GET", "repos", "*", "*", "commits", "*", "check-runs"):
		f.listCheckRunsForRef(c, r, s[4])
	case c.is("GET", "repos", "*", "*", "check-runs", "*"):
		if cr := findRun(r, s[4]); cr != nil {
			writeJSON(c.w, http.StatusOK, f.checkRunJSON(r, cr))
			return
		}
		writeNotFound(c.w, docChecks+"#get-a-check-run")
	case c.r.Method == "GET" && len(s) >= 5 && s[3] == "contents":
		f.getContent(c, r, strings.Join(s[4:], "/"))
	case c.is("GET", "repos", "*", "*", "collaborators", "*", "permission"):
		f.permission(c, r)
	case c.is("GET", "repos", "*", "*", "issues", "*", "labels"):
		f.listLabels(c, r)
	case c.is("POST", "repos", "*", "*", "issues", "*", "labels"):
		f.addLabels(c, r)
	case c.is("DELETE", "repos", "*", "*", "issues", "*", "labels", "*"):
		f.removeLabel(c, r)
	case c.is("GET", "repos", "*", "*", "issues", "*", "comments"):
		f.listComments(c, r)
	case c.is("POST", "repos", "*", "*", "issues", "*", "comments"):
		f.createComment(c, r)
	case c.is("PATCH", "repos", "*", "*", "issues", "comments", "*"):
		f.editComment(c, r)
	case c.is("GET", "repos", "*", "*", "issues"):
		f.listIssues(c, r)
	case c.is("POST", "repos", "*", "*", "issues"):
		f.createIssue(c, r)
	case c.is("GET", "repos", "*", "*", "issues", "*"):
		f.getIssue(c, r)
	case c.is("GET", "repos", "*", "*", "rules", "branches", "*"):
		f.branchRules(c, r, s[5])
	case c.is("GET", "repos", "*", "*", "branches", "*"):
		f.getBranch(c, r, s[4])
	default:
		writeNotFound(c.w, "")
	}
}

// page reads per_page (default 30, at most 100) and page (from 1), and writes the Link header for total items.
func (c *call) page(total int) (from, to int) {
	q := c.r.URL.Query()
	per, err := strconv.Atoi(q.Get("per_page"))
	if err != nil || per <= 0 {
		per = 30
	}
	if per > 100 {
		per = 100
	}
	pg, err := strconv.Atoi(q.Get("page"))
	if err != nil || pg <= 0 {
		pg = 1
	}
	last := (total + per - 1) / per
	if last < 1 {
		last = 1
	}
	link := func(p int, rel string) string {
		u := url.URL{Scheme: "http", Host: c.r.Host, Path: c.r.URL.Path, RawPath: c.r.URL.RawPath}
		qq := c.r.URL.Query()
		qq.Set("page", strconv.Itoa(p))
		u.RawQuery = qq.Encode()
		return fmt.Sprintf("<%s>; rel=%q", u.String(), rel)
	}
	var links []string
	if pg < last {
		links = append(links, link(pg+1, "next"), link(last, "last"))
	}
	if pg > 1 {
		links = append(links, link(1, "first"), link(min(pg-1, last), "prev"))
	}
	if len(links) > 0 {
		c.w.Header().Set("Link", strings.Join(links, ", "))
	}
	if pg > total/per+1 || pg > (1<<31)/per {
		return total, total
	}
	from = (pg - 1) * per
	to = min(from+per, total)
	if from > total {
		from = total
	}
	return from, to
}

// decode reads the JSON body into v, answering 400 as GitHub does when it is not JSON.
func (c *call) decode(v any) bool {
	if err := json.Unmarshal(c.body, v); err != nil {
		writeError(c.w, http.StatusBadRequest, "Problems parsing JSON", "https://docs.github.com/rest")
		return false
	}
	return true
}

func user(login string) map[string]any {
	typ := "User"
	if strings.HasSuffix(login, "[bot]") {
		typ = "Bot"
	}
	return map[string]any{"login": login, "id": len(login), "type": typ, "site_admin": false}
}

func (f *Server) base() string { return f.ts.URL }

func (f *Server) repoJSON(r *repoState) map[string]any {
	m := map[string]any{
		"id": r.id, "node_id": fmt.Sprintf("R_%d", r.id), "name": r.name, "full_name": r.fullName(),
		"private": r.private, "owner": user(r.owner), "default_branch": r.defaultBranch,
		"html_url": "https://github.com/" + r.fullName(), "url": f.base() + "/repos/" + r.fullName(),
	}
	f.addFacets(m, r.fullName())
	return m
}

func pullNumber(r *repoState, s string) (*Pull, bool) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return nil, false
	}
	p, ok := r.pulls[n]
	return p, ok
}

func labelsJSON(ls []string) []map[string]any {
	out := make([]map[string]any, 0, len(ls))
	for i, l := range ls {
		out = append(out, map[string]any{"id": i + 1, "name": l, "color": "ededed", "default": false, "description": nil})
	}
	return out
}

func changedFiles(p *Pull) int {
	if p.ChangedFiles > 0 {
		return p.ChangedFiles
	}
	return len(p.Files)
}

func (f *Server) pullJSON(r *repoState, p *Pull) map[string]any {
	add, del := 0, 0
	for _, fl := range p.Files {
		add += fl.Additions
		del += fl.Deletions
	}
	ref := func(name, sha string) map[string]any {
		return map[string]any{"label": r.owner + ":" + name, "ref": name, "sha": sha, "user": user(r.owner), "repo": f.repoJSON(r)}
	}
	state := p.State
	if p.Merged {
		state = "closed"
	}
	return map[string]any{
		"id": int64(p.Number) + r.id*100000, "number": p.Number, "state": state, "title": p.Title, "body": p.Body,
		"user": user(p.Author), "labels": labelsJSON(p.Labels), "draft": p.Draft, "merged": p.Merged,
		"head": ref(p.HeadRef, p.HeadSHA), "base": ref(p.BaseRef, p.BaseSHA),
		"changed_files": changedFiles(p), "additions": add, "deletions": del,
		"html_url": fmt.Sprintf("https://github.com/%s/pull/%d", r.fullName(), p.Number),
		"url":      fmt.Sprintf("%s/repos/%s/pulls/%d", f.base(), r.fullName(), p.Number),
	}
}

func (f *Server) listPulls(c *call, r *repoState) {
	state := c.r.URL.Query().Get("state")
	if state == "" {
		state = "open"
	}
	var ps []*Pull
	for _, p := range r.pulls {
		st := p.State
		if p.Merged {
			st = "closed"
		}
		if state == "all" || st == state {
			ps = append(ps, p)
		}
	}
	sort.Slice(ps, func(a, b int) bool { return ps[a].Number > ps[b].Number })
	from, to := c.page(len(ps))
	out := make([]map[string]any, 0, to-from)
	for _, p := range ps[from:to] {
		out = append(out, f.pullJSON(r, p))
	}
	writeJSON(c.w, http.StatusOK, out)
}

func filesJSON(fs []PullFile) []map[string]any {
	out := make([]map[string]any, 0, len(fs))
	for _, fl := range fs {
		st := fl.Status
		if st == "" {
			st = "modified"
		}
		m := map[string]any{
			"sha": fmt.Sprintf("%x", sha1.Sum([]byte(fl.Filename+fl.Patch))), "filename": fl.Filename, "status": st,
			"additions": fl.Additions, "deletions": fl.Deletions, "changes": fl.Additions + fl.Deletions,
		}
		if fl.Patch != "" {
			m["patch"] = fl.Patch
		}
		if fl.PreviousFilename != "" {
			m["previous_filename"] = fl.PreviousFilename
		}
		out = append(out, m)
	}
	return out
}

func (f *Server) pullFiles(c *call, r *repoState) {
	p, ok := pullNumber(r, c.segs[4])
	if !ok {
		writeNotFound(c.w, "https://docs.github.com/rest/pulls/pulls#list-pull-requests-files")
		return
	}
	files := p.Files
	if len(files) > maxListedPullFiles {
		files = files[:maxListedPullFiles]
	}
	from, to := c.page(len(files))
	writeJSON(c.w, http.StatusOK, filesJSON(files[from:to]))
}

func (f *Server) compare(c *call, r *repoState) {
	files, ok := r.compares[c.segs[4]]
	if !ok {
		writeNotFound(c.w, "https://docs.github.com/rest/commits/commits#compare-two-commits")
		return
	}
	from, to := c.page(len(files))
	writeJSON(c.w, http.StatusOK, map[string]any{
		"status": "ahead", "ahead_by": 1, "behind_by": 0, "total_commits": 1, "commits": f.commitsJSON(c, r, c.segs[4]),
		"files": filesJSON(files[from:to]),
	})
}

func etagOf(b []byte) string {
	s := sha1.Sum(b)
	return `"` + hex.EncodeToString(s[:]) + `"`
}

func (f *Server) getContent(c *call, r *repoState, path string) {
	ref := c.r.URL.Query().Get("ref")
	if ref == "" {
		ref = r.defaultBranch
	}
	files := r.files[ref]
	data, ok := files[path]
	if !ok {
		f.getDir(c, r, ref, path, files)
		return
	}
	etag := etagOf(data)
	c.w.Header().Set("ETag", etag)
	c.w.Header().Set("Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT")
	if inm := c.r.Header.Get("If-None-Match"); inm != "" && etagMatch(inm, etag) {
		c.w.WriteHeader(http.StatusNotModified)
		return
	}
	if strings.Contains(c.r.Header.Get("Accept"), "raw") {
		c.w.Header().Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
		c.w.WriteHeader(http.StatusOK)
		_, _ = c.w.Write(data)
		return
	}
	sum := sha1.Sum(data)
	// As GitHub: the JSON answer of a file over 1 MB has no content (encoding "none");
	// only the raw media type returns its bytes (up to 100 MB).
	encoding, content := "base64", wrap60(base64.StdEncoding.EncodeToString(data))
	if len(data) > 1<<20 {
		encoding, content = "none", ""
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"type": "file", "encoding": encoding, "size": len(data), "name": path[strings.LastIndexByte(path, '/')+1:],
		"path": path, "content": content, "sha": hex.EncodeToString(sum[:]),
		"url": f.base() + "/repos/" + r.fullName() + "/contents/" + path + "?ref=" + url.QueryEscape(ref),
	})
}

// getDir lists a directory, or answers 404.
func (f *Server) getDir(c *call, r *repoState, ref, path string, files map[string][]byte) {
	prefix := path + "/"
	if path == "" {
		prefix = ""
	}
	seen := map[string]bool{}
	var out []map[string]any
	for p := range files {
		if !strings.HasPrefix(p, prefix) {
			continue
		}
		name, _, isDir := strings.Cut(strings.TrimPrefix(p, prefix), "/")
		if seen[name] {
			continue
		}
		seen[name] = true
		typ := "file"
		if isDir {
			typ = "dir"
		}
		out = append(out, map[string]any{"type": typ, "name": name, "path": prefix + name})
	}
	if len(out) == 0 {
		writeNotFound(c.w, "https://docs.github.com/rest/repos/contents#get-repository-content")
		return
	}
	sort.Slice(out, func(a, b int) bool { return out[a]["name"].(string) < out[b]["name"].(string) })
	writeJSON(c.w, http.StatusOK, out)
}

func etagMatch(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}

// wrap60 breaks base64 into 60-character lines with a trailing newline, as GitHub sends it.
func wrap60(s string) string {
	var b strings.Builder
	for len(s) > 60 {
		b.WriteString(s[:60])
		b.WriteByte('\n')
		s = s[60:]
	}
	b.WriteString(s)
	b.WriteByte('\n')
	return b.String()
}

func (f *Server) teamMembership(c *call) {
	state, ok := f.teams[strings.ToLower(c.segs[1]+"/"+c.segs[3])][strings.ToLower(c.segs[5])]
	if !ok {
		writeNotFound(c.w, "https://docs.github.com/rest/teams/members#get-team-membership-for-a-user")
		return
	}
	writeJSON(c.w, http.StatusOK, map[string]any{
		"url":  fmt.Sprintf("%s/organizations/1/team/1/memberships/%s", f.base(), c.segs[5]),
		"role": "member", "state": state,
	})
}

func (f *Server) permission(c *call, r *repoState) {
	if strings.HasSuffix(c.segs[4], "[bot]") {
		// An app's bot account is no user: GitHub answers 404.
		writeNotFound(c.w, "https://docs.github.com/rest/collaborators/collaborators#get-repository-permissions-for-a-user")
		return
	}
	role, ok := r.perms[strings.ToLower(c.segs[4])]
	if !ok {
		role = "none"
	}
	perm := role
	switch role {
	case "maintain":
		perm = "write"
	case "triage":
		perm = "read"
	}
	writeJSON(c.w, http.StatusOK, map[string]any{"permission": perm, "role_name": role, "user": user(c.segs[4])})
}

func (f *Server) listLabels(c *call, r *repoState) {
	n, _ := strconv.Atoi(c.segs[4])
	ls, ok := r.labelsOf(n)
	if !ok {
		writeNotFound(c.w, "https://docs.github.com/rest/issues/labels#list-labels-for-an-issue")
		return
	}
	from, to := c.page(len(*ls))
	writeJSON(c.w, http.StatusOK, labelsJSON((*ls)[from:to]))
}

func (f *Server) addLabels(c *call, r *repoState) {
	n, _ := strconv.Atoi(c.segs[4])
	ls, ok := r.labelsOf(n)
	if !ok {
		writeNotFound(c.w, "https://docs.github.com/rest/issues/labels#add-labels-to-an-issue")
		return
	}
	var in struct {
		Labels []string `json:"labels"`
	}
	if !c.decode(&in) {
		return
	}
	for _, l := range in.Labels {
		if !contains(*ls, l) {
			*ls = append(*ls, l)
		}
	}
	f.touch(r, n)
	writeJSON(c.w, http.StatusOK, labelsJSON(*ls))
}

func contains(ls []string, s string) bool {
	for _, l := range ls {
		if l == s {
			return true
		}
	}
	return false
}

func (f *Server) removeLabel(c *call, r *repoState) {
	n, _ := strconv.Atoi(c.segs[4])
	ls, ok := r.labelsOf(n)
	const doc = "https://docs.github.com/rest/issues/labels#remove-a-label-from-an-issue"
	if !ok {
		writeNotFound(c.w, doc)
		return
	}
	for i, l := range *ls {
		if l == c.segs[6] {
			*ls = append((*ls)[:i], (*ls)[i+1:]...)
			f.touch(r, n)
			writeJSON(c.w, http.StatusOK, labelsJSON(*ls))
			return
		}
	}
	writeError(c.w, http.StatusNotFound, "Label does not exist", doc)
}

func (f *Server) commentJSON(r *repoState, cm *Comment) map[string]any {
	return map[string]any{
		"id": cm.ID, "node_id": fmt.Sprintf("IC_%d", cm.ID), "body": cm.Body, "user": user(cm.Author),
		"url":                      fmt.Sprintf("%s/repos/%s/issues/comments/%d", f.base(), r.fullName(), cm.ID),
		"issue_url":                fmt.Sprintf("%s/repos/%s/issues/%d", f.base(), r.fullName(), cm.Issue),
		"performed_via_github_app": f.appOf(cm.Author),
	}
}

// appOf is the app that a bot account belongs to (this fake's own for its bot, another
// app for any other "[bot]" login), nil for a user.
func (f *Server) appOf(login string) any {
	slug, ok := strings.CutSuffix(login, "[bot]")
	if !ok {
		return nil
	}
	if login == f.bot() {
		return map[string]any{"id": f.app.ID, "slug": f.app.Slug, "name": f.app.Name}
	}
	return map[string]any{"id": 1000 + int64(len(slug)), "slug": slug, "name": slug}
}

func (f *Server) listComments(c *call, r *repoState) {
	n, _ := strconv.Atoi(c.segs[4])
	if _, ok := r.labelsOf(n); !ok {
		writeNotFound(c.w, "https://docs.github.com/rest/issues/comments#list-issue-comments")
		return
	}
	var cs []*Comment
	for _, cm := range r.comments {
		if cm.Issue == n {
			cs = append(cs, cm)
		}
	}
	from, to := c.page(len(cs))
	out := make([]map[string]any, 0, to-from)
	for _, cm := range cs[from:to] {
		out = append(out, f.commentJSON(r, cm))
	}
	writeJSON(c.w, http.StatusOK, out)
}

// bot is the login of the app's bot user, the author of what the app posts.
func (f *Server) bot() string { return f.app.Slug + "[bot]" }

func (f *Server) createComment(c *call, r *repoState) {
	n, _ := strconv.Atoi(c.segs[4])
	const doc = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
	if _, ok := r.labelsOf(n); !ok {
		writeNotFound(c.w, doc)
		return
	}
	body, ok := commentBody(c, doc)
	if !ok {
		return
	}
	f.lastID++
	cm := &Comment{ID: f.lastID, Issue: n, Body: body, Author: f.bot()}
	r.comments = append(r.comments, cm)
	f.touch(r, n)
	writeJSON(c.w, http.StatusCreated, f.commentJSON(r, cm))
}

// commentBody reads an issue comment's body from the request; when it is missing,
// too long or the request is not valid JSON it writes the error response and
// returns false.
func commentBody(c *call, doc string) (string, bool) {
	var in struct {
		Body *string `json:"body"`
	}
	if !c.decode(&in) {
		return "", false
	}
	if errs := checkBody(in.Body, "IssueComment"); errs != nil {
		writeValidation(c.w, doc, errs)
		return "", false
	}
	return *in.Body, true
}

// checkBody checks a comment body: present and within GitHub's 65,536 characters.
func checkBody(b *string, resource string) []fieldError {
	if b == nil {
		return []fieldError{{Resource: resource, Field: "body", Code: "missing_field"}}
	}
	if utf8.RuneCountInString(*b) > 65536 {
		return []fieldError{{Resource: resource, Field: "body", Code: "custom", Message: "body is too long (maximum is 65536 characters)"}}
	}
	return nil
}

func (f *Server) editComment(c *call, r *repoState) {
	id, _ := strconv.ParseInt(c.segs[5], 10, 64)
	const doc = "https://docs.github.com/rest/issues/comments#update-an-issue-comment"
	for _, cm := range r.comments {
		if cm.ID != id {
			continue
		}
		body, ok := commentBody(c, doc)
		if !ok {
			return
		}
		cm.Body = body
		writeJSON(c.w, http.StatusOK, f.commentJSON(r, cm))
		return
	}
	writeNotFound(c.w, doc)
}

func (f *Server) issueJSON(r *repoState, i *Issue) map[string]any {
	return map[string]any{
		"id": int64(i.Number) + r.id*100000, "number": i.Number, "title": i.Title, "body": i.Body, "state": i.State,
		"user": user(i.Author), "labels": labelsJSON(i.Labels), "performed_via_github_app": f.appOf(i.Author),
		"assignees":  assigneesJSON(i.Assignees),
		"created_at": i.CreatedAt.UTC().Format(time.RFC3339), "updated_at": i.UpdatedAt.UTC().Format(time.RFC3339),
		"html_url": fmt.Sprintf("https://github.com/%s/issues/%d", r.fullName(), i.Number),
		"url":      fmt.Sprintf("%s/repos/%s/issues/%d", f.base(), r.fullName(), i.Number),
	}
}

// pullAsIssueJSON is a pull request as the issues endpoints list it.
func (f *Server) pullAsIssueJSON(r *repoState, p *Pull) map[string]any {
	st := p.State
	if p.Merged {
		st = "closed"
	}
	m := f.issueJSON(r, &Issue{Number: p.Number, Title: p.Title, Body: p.Body, State: st, Author: p.Author, Labels: p.Labels,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt})
	m["pull_request"] = map[string]any{"url": fmt.Sprintf("%s/repos/%s/pulls/%d", f.base(), r.fullName(), p.Number)}
	return m
}

// issuesAndPulls lists issues and pull requests newest first, filtered by state.
func (f *Server) issuesAndPulls(r *repoState, state string, keep func(i *Issue, isPull bool) bool) []map[string]any {
	nums := make([]int, 0, len(r.issues)+len(r.pulls))
	for n := range r.issues {
		nums = append(nums, n)
	}
	for n := range r.pulls {
		nums = append(nums, n)
	}
	sort.Sort(sort.Reverse(sort.IntSlice(nums)))
	var out []map[string]any
	for _, n := range nums {
		var m map[string]any
		if i, ok := r.issues[n]; ok {
			if !keep(i, false) {
				continue
			}
			m = f.issueJSON(r, i)
		} else {
			p := r.pulls[n]
			if !keep(&Issue{Title: p.Title, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}, true) {
				continue
			}
			m = f.pullAsIssueJSON(r, p)
		}
		if state != "all" && m["state"] != state {
			continue
		}
		out = append(out, m)
	}
	return out
}

func (f *Server) getIssue(c *call, r *repoState) {
	n, _ := strconv.Atoi(c.segs[4])
	if i, ok := r.issues[n]; ok {
		writeJSON(c.w, http.StatusOK, f.issueJSON(r, i))
		return
	}
	if p, ok := r.pulls[n]; ok {
		writeJSON(c.w, http.StatusOK, f.pullAsIssueJSON(r, p))
		return
	}
	writeNotFound(c.w, "https://docs.github.com/rest/issues/issues#get-an-issue")
}

func (f *Server) createIssue(c *call, r *repoState) {
	var in struct {
		Title     *json.RawMessage `json:"title"`
		Body      *string          `json:"body"`
		Labels    []string         `json:"labels"`
		Assignees []string         `json:"assignees"`
	}
	if !c.decode(&in) {
		return
	}
	const doc = "https://docs.github.com/rest/issues/issues#create-an-issue"
	var title string
	if in.Title == nil || json.Unmarshal(*in.Title, &title) != nil || title == "" {
		writeValidation(c.w, doc, []fieldError{{Resource: "Issue", Field: "title", Code: "missing_field"}})
		return
	}
	if in.Body != nil {
		if errs := checkBody(in.Body, "Issue"); errs != nil {
			writeValidation(c.w, doc, errs)
			return
		}
	}
	for _, a := range in.Assignees {
		if _, ok := r.perms[strings.ToLower(a)]; !ok && !strings.EqualFold(a, r.owner) {
			// GitHub refuses an assignee who cannot be assigned in the repository.
			writeValidation(c.w, doc, []fieldError{{Resource: "Issue", Field: "assignees", Code: "invalid", Message: a + " cannot be assigned"}})
			return
		}
	}
	i := &Issue{Number: r.nextNumber(), Title: title, State: "open", Author: f.bot(), Labels: in.Labels, Assignees: in.Assignees}
	f.stamp(&i.CreatedAt, &i.UpdatedAt)
	f.indexLater(i)
	if in.Body != nil {
		i.Body = *in.Body
	}
	r.issues[i.Number] = i
	writeJSON(c.w, http.StatusCreated, f.issueJSON(r, i))
}

// searchIssues understands repo:, in:title, type:/is: issue|pr, state:, quoted phrases and words.
func (f *Server) searchIssues(c *call) {
	q := c.r.URL.Query().Get("q")
	if strings.TrimSpace(q) == "" {
		writeValidation(c.w, "https://docs.github.com/rest/search/search#search-issues-and-pull-requests",
			[]fieldError{{Resource: "Search", Field: "q", Code: "missing"}})
		return
	}
	var repo, kind, state string
	var terms []string
	for _, tok := range searchTokens(q) {
		k, v, ok := strings.Cut(tok, ":")
		switch {
		case ok && k == "repo":
			repo = v
		case ok && (k == "type" || k == "is") && (v == "issue" || v == "pr"):
			kind = v
		case ok && (k == "state" || k == "is") && (v == "open" || v == "closed"):
			state = v
		case ok && k == "in":
		default:
			terms = append(terms, strings.ToLower(tok))
		}
	}
	var items []map[string]any
	if r, ok := f.repos[strings.ToLower(repo)]; ok {
		if state == "" {
			state = "all"
		}
		items = f.issuesAndPulls(r, state, func(i *Issue, isPull bool) bool {
			if (kind == "issue" && isPull) || (kind == "pr" && !isPull) || !f.searchable(i) {
				return false
			}
			lt := strings.ToLower(i.Title)
			for _, t := range terms {
				if !strings.Contains(lt, t) {
					return false
				}
			}
			return true
		})
	}
	from, to := c.page(len(items))
	writeJSON(c.w, http.StatusOK, map[string]any{
		"total_count": len(items), "incomplete_results": false, "items": append([]map[string]any{}, items[from:to]...),
	})
}

// searchTokens splits a search query at spaces, keeping "quoted phrases" whole (without quotes).
func searchTokens(q string) []string {
	var out []string
	for q = strings.TrimSpace(q); q != ""; q = strings.TrimSpace(q) {
		if q[0] == '"' {
			end := strings.IndexByte(q[1:], '"')
			if end < 0 {
				out = append(out, q[1:])
				break
			}
			if end > 0 {
				out = append(out, q[1:end+1])
			}
			q = q[end+2:]
			continue
		}
		i := strings.IndexAny(q, " \t")
		if i < 0 {
			out = append(out, q)
			break
		}
		out = append(out, q[:i])
		q = q[i:]
	}
	return out
}

func assigneesJSON(logins []string) []map[string]any {
	out := []map[string]any{}
	for _, l := range logins {
		out = append(out, user(l))
	}
	return out
}
