package fakegithub

import (
	"strings"
)

// SetCompareCommits sets the commits (SHAs, oldest first) that base...head holds, as a
// merge queue's group holds the commits of the pull requests ahead of it. The compare
// endpoint lists them on its first page (the fake's comparisons are short).
func (f *Server) SetCompareCommits(repo, base, head string, shas ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.repo(repo)
	if r.compareCommits == nil {
		r.compareCommits = map[string][]string{}
	}
	r.compareCommits[base+"..."+head] = append([]string(nil), shas...)
}

// commitsJSON is the "commits" of a compare answer, as GitHub's commit objects (the
// fields a client reads); the caller holds f.mu.
func (f *Server) commitsJSON(c *call, r *repoState, basehead string) []any {
	out := []any{}
	if p := c.r.URL.Query().Get("page"); p != "" && p != "1" {
		return out
	}
	api := strings.TrimSuffix(f.URL(), "/")
	for _, sha := range r.compareCommits[basehead] {
		out = append(out, map[string]any{
			"sha": sha, "node_id": "C_" + sha,
			"url":      api + "/repos/" + r.fullName() + "/commits/" + sha,
			"html_url": "https://github.com/" + r.fullName() + "/commit/" + sha,
			"commit": map[string]any{
				"message":   "commit " + sha,
				"author":    map[string]any{"name": "octocat", "email": "octocat@example.com", "date": "2024-01-01T00:00:00Z"},
				"committer": map[string]any{"name": "GitHub", "email": "noreply@github.com", "date": "2024-01-01T00:00:00Z"},
				"tree":      map[string]any{"sha": sha, "url": api + "/repos/" + r.fullName() + "/git/trees/" + sha},
			},
			"parents": []any{},
		})
	}
	return out
}
