package gh_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/escapegate/escapegate/app/gh"
)

// TestCompare lists a comparison's files over their pages and its commits, as a merge
// group's check needs both.
func TestCompare(t *testing.T) {
	tests := []struct {
		name    string
		files   int
		commits int
		pages   int
		tooMany bool
	}{
		{name: "one page", files: 3, commits: 4, pages: 1},
		{name: "files over two pages", files: 150, commits: 2, pages: 2},
		{name: "no files", files: 0, commits: 1, pages: 1},
		{name: "past GitHub's listing", files: gh.MaxPullFiles + 1, commits: 1, pages: 31, tooMany: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, c, _ := setup(t)
			var shas []string
			for i := 0; i < tc.commits; i++ {
				shas = append(shas, fmt.Sprintf("%040d", i+1))
			}
			f.SetCompare(repoName, "base", "head", files(tc.files))
			f.SetCompareCommits(repoName, "base", "head", shas...)
			got, err := c.Compare(context.Background(), acme, "base", "head")
			if tc.tooMany != errors.Is(err, gh.ErrTooManyFiles) || (!tc.tooMany && err != nil) {
				t.Fatalf("error = %v", err)
			}
			wantFiles := min(tc.files, gh.MaxPullFiles)
			if len(got.Files) != wantFiles || !slices.Equal(got.Commits, shas) {
				t.Fatalf("got %d files and commits %v, want %d and %v", len(got.Files), got.Commits, wantFiles, shas)
			}
			if n := countPaths(f, "/compare/base...head?"); n != tc.pages {
				t.Errorf("%d pages asked, want %d", n, tc.pages)
			}
		})
	}
}
