package fakegithub_test

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/escapegate/escapegate/internal/fakegithub"
)

// listNumbers GETs path and returns the status and the numbers of the issues listed.
func listNumbers(t *testing.T, f *fakegithub.Server, path string) (int, []int) {
	t.Helper()
	resp, err := f.HTTPClient().Get(strings.TrimSuffix(f.URL(), "/") + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var items []struct {
		Number int `json:"number"`
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(b, &items); err != nil {
		var res struct {
			Items []struct {
				Number int `json:"number"`
			} `json:"items"`
		}
		if err := json.Unmarshal(b, &res); err != nil {
			t.Fatalf("%s: %v: %s", path, err, b)
		}
		items = res.Items
	}
	var out []int
	for _, i := range items {
		out = append(out, i.Number)
	}
	return resp.StatusCode, out
}

// TestListIssuesSinceSortDirection: the issues list filters by updated time and sorts as
// GitHub does; a comment moves an issue's updated time; a bad parameter is refused.
func TestListIssuesSinceSortDirection(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f.AddIssue("o/r", fakegithub.Issue{Title: "old", CreatedAt: t0.Add(-48 * time.Hour)})                                  // 1
	f.AddPull("o/r", fakegithub.Pull{Title: "pr", CreatedAt: t0.Add(-time.Hour), UpdatedAt: t0})                           // 2
	f.AddIssue("o/r", fakegithub.Issue{Title: "new", CreatedAt: t0.Add(time.Hour), State: "closed"})                       // 3
	f.AddIssue("o/r", fakegithub.Issue{Title: "mid", CreatedAt: t0.Add(-2 * time.Hour), UpdatedAt: t0.Add(2 * time.Hour)}) // 4
	f.AddComment("o/r", 1, "alice", "x")                                                                                   // a stored comment: no request, no update
	tests := []struct {
		query string
		want  []int
		code  int
	}{
		{"state=all", []int{3, 2, 4, 1}, 200},
		{"", []int{2, 4, 1}, 200},
		{"state=all&since=" + t0.Format(time.RFC3339), []int{3, 2, 4}, 200},
		{"state=all&since=" + t0.Add(time.Second).Format(time.RFC3339), []int{3, 4}, 200},
		{"state=all&direction=asc", []int{1, 4, 2, 3}, 200},
		{"state=all&sort=updated", []int{4, 3, 2, 1}, 200},
		{"state=all&sort=comments&direction=desc", []int{1, 4, 3, 2}, 200},
		{"state=all&since=yesterday", nil, 422},
		{"state=all&sort=size", nil, 422},
		{"direction=up", nil, 422},
	}
	for _, tt := range tests {
		code, got := listNumbers(t, f, "/repos/o/r/issues?"+tt.query)
		if code != tt.code || !slices.Equal(got, tt.want) {
			t.Errorf("%s: %d %v, want %d %v", tt.query, code, got, tt.code, tt.want)
		}
	}
}

// TestSearchLag: with a lag a new issue is searchable only after that many further
// requests (never with a negative lag), while the issues list has it at once.
func TestSearchLag(t *testing.T) {
	f := fakegithub.New()
	defer f.Close()
	f.AddRepo("o/r", "")
	search := "/search/issues?q=repo:o/r+lagged"
	for _, lag := range []int{2, -1} {
		f.SetSearchLag(lag)
		n := f.AddIssue("o/r", fakegithub.Issue{Title: "lagged"})
		seen := -1
		for i := range 4 {
			if _, got := listNumbers(t, f, search); slices.Contains(got, n) {
				seen = i
				break
			}
		}
		if want := map[int]int{2: 2, -1: -1}[lag]; seen != want {
			t.Errorf("lag %d: searchable after %d requests, want %d", lag, seen, want)
		}
		if _, got := listNumbers(t, f, "/repos/o/r/issues?state=all"); !slices.Contains(got, n) {
			t.Errorf("lag %d: the list lacks #%d", lag, n)
		}
	}
}
