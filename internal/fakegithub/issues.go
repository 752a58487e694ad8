package fakegithub

import (
	"net/http"
	"sort"
	"strconv"
	"time"
)

// SetIssueClock sets the clock that stamps issues and pull requests (created_at,
// updated_at; default time.Now), so that a test's clock and GitHub's agree. Other
// times the fake sends (token expiry, rate-limit resets) keep the real clock.
func (f *Server) SetIssueClock(now func() time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	f.issueNow = now
}

// SetSearchLag makes search slow to find new issues, as GitHub's search index is: an
// issue created (or added) from now on is found by search only after n further
// requests to the fake; n < 0: never. 0 (the default) finds it at once. The issues
// list finds an issue at once whatever the lag, as GitHub's does.
func (f *Server) SetSearchLag(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.searchLag = n
}

// stamp sets unset created and updated times to now on the issue clock, to the second
// as GitHub keeps them. The caller holds f.mu.
func (f *Server) stamp(created, updated *time.Time) {
	now := f.issueNow().UTC().Truncate(time.Second)
	if created.IsZero() {
		*created = now
	}
	if updated.IsZero() {
		*updated = *created
	}
}

// indexLater applies the search lag to a new issue. The caller holds f.mu.
func (f *Server) indexLater(i *Issue) {
	i.neverSearchable = f.searchLag < 0
	i.searchableAfter = len(f.requests) + f.searchLag
}

// searchable reports whether search finds i yet. The caller holds f.mu.
func (f *Server) searchable(i *Issue) bool {
	return !i.neverSearchable && len(f.requests) > i.searchableAfter
}

// touch moves the updated time of issue or pull n, as a comment or a label does on
// GitHub. The caller holds f.mu.
func (f *Server) touch(r *repoState, n int) {
	now := f.issueNow().UTC().Truncate(time.Second)
	if i, ok := r.issues[n]; ok && now.After(i.UpdatedAt) {
		i.UpdatedAt = now
	}
	if p, ok := r.pulls[n]; ok && now.After(p.UpdatedAt) {
		p.UpdatedAt = now
	}
}

// listIssues is GET /repos/{owner}/{repo}/issues with state, since (updated at or
// after, ISO 8601), sort (created, updated, comments) and direction (asc, desc), whose
// defaults and refusals are GitHub's. Unlike search it sees every write at once.
func (f *Server) listIssues(c *call, r *repoState) {
	const doc = "https://docs.github.com/rest/issues/issues#list-repository-issues"
	q := c.r.URL.Query()
	state := q.Get("state")
	if state == "" {
		state = "open"
	}
	key := q.Get("sort")
	if key == "" {
		key = "created"
	}
	dir := q.Get("direction")
	if dir == "" {
		dir = "desc"
	}
	var since time.Time
	if s := q.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			writeValidation(c.w, doc, []fieldError{{Resource: "Issue", Field: "since", Code: "invalid", Message: "since must be an ISO 8601 timestamp"}})
			return
		}
		since = t
	}
	if (state != "open" && state != "closed" && state != "all") || (key != "created" && key != "updated" && key != "comments") || (dir != "asc" && dir != "desc") {
		writeValidation(c.w, doc, []fieldError{{Resource: "Issue", Field: "state, sort or direction", Code: "invalid"}})
		return
	}
	all := f.issuesAndPulls(r, state, func(i *Issue, _ bool) bool { return !i.UpdatedAt.Before(since) })
	comments := map[int]int{}
	for _, cm := range r.comments {
		comments[cm.Issue]++
	}
	sortKey := func(m map[string]any) string {
		switch key {
		case "updated":
			return m["updated_at"].(string)
		case "comments":
			return strconv.FormatInt(int64(comments[m["number"].(int)])+1e12, 10) // fixed width: sorts as text
		}
		return m["created_at"].(string)
	}
	// all is newest number first: ties keep that order descending, the reverse ascending.
	if dir == "asc" {
		for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
			all[i], all[j] = all[j], all[i]
		}
	}
	sort.SliceStable(all, func(a, b int) bool {
		if dir == "asc" {
			return sortKey(all[a]) < sortKey(all[b])
		}
		return sortKey(all[a]) > sortKey(all[b])
	})
	from, to := c.page(len(all))
	writeJSON(c.w, http.StatusOK, append([]map[string]any{}, all[from:to]...))
}
